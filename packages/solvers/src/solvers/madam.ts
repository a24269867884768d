import {
  type AxisTake,
  type ComponentState,
  defineSolver,
  type JsonObject,
  type Solver,
  type SolverStepResult,
  type StepProblem,
  schema as s,
  takenShape,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { SolverError, throwIfIssues } from '../errors.js';
import { frankWolfeSchema } from '../internal/config.js';
import { checkProblem, disposeGradients } from '../internal/gradients.js';
import { checkStateType, stateNumber } from '../internal/state.js';
import { variableFrom } from '../internal/tensors.js';
import type { MinNormOptions } from '../min-norm.js';
import { multiGradientStep } from './multi-gradient.js';
import { resolveFrankWolfe } from './smgd.js';

/** Registry type of {@link createMadamSolver}. */
export const MADAM = 'madam';

/** Config of MAdam: min-norm weights with per-objective Adam moments. */
export interface MadamConfig {
  readonly type: 'madam';
  /** Initial learning rate. @default 0.001 */
  readonly lr?: number;
  /** @default 0.9 */
  readonly beta1?: number;
  /** @default 0.999 */
  readonly beta2?: number;
  /** ε added to √v (Keras placement, as in the reference's Keras setting). @default 1e-7 */
  readonly epsilon?: number;
  /** Keras-style inverse-time decay lr/(1 + decay·k), k = updates so far. @default 0 */
  readonly decay?: number;
  /** Frank–Wolfe settings for m > 2. @default { maxIterations: 250, tolerance: 1e-10 } */
  readonly frankWolfe?: MinNormOptions;
}

/** The schema of a MAdam config (besides `type`). */
export const madamConfigSchema = s.object({
  lr: s.number({ min: 0 }).optional(),
  beta1: s.number({ min: 0, lt: 1 }).optional(),
  beta2: s.number({ min: 0, lt: 1 }).optional(),
  epsilon: s.number({ gt: 0 }).optional(),
  decay: s.number({ min: 0 }).optional(),
  frankWolfe: frankWolfeSchema.optional(),
});

type Shape = readonly number[];

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Adam state of one variable: one (m, v) pair per objective and its own step count t. */
interface Slot {
  /** The variable this slot belongs to (undefined for a slot loaded before the first step). */
  owner: tf.Variable | undefined;
  readonly shape: Shape;
  /** Bias-correction step count, per variable (as core's Adam) so re-initialized slots restart correctly. */
  t: number;
  readonly moments: [tf.Variable, tf.Variable][];
}

function zeroSlot(m: number, shape: Shape, owner?: tf.Variable): Slot {
  return {
    owner,
    shape: [...shape],
    t: 0,
    moments: Array.from({ length: m }, () => [
      variableFrom(tf.zeros([...shape])),
      variableFrom(tf.zeros([...shape])),
    ]),
  };
}

/** A slot for `owner` holding `slot`'s moments sliced by the takes (in order), with its t. */
function slicedSlot(slot: Slot, takes: readonly AxisTake[], owner: tf.Variable): Slot {
  const cut = (x: tf.Variable) =>
    tf.tidy(() => {
      let y: tf.Tensor = x;
      for (const t of takes) y = tf.gather(y, tf.tensor1d([...t.indices], 'int32'), t.axis);
      return variableFrom(y);
    });
  return {
    owner,
    shape: [...owner.shape],
    t: slot.t,
    moments: slot.moments.map(([m, v]) => [cut(m), cut(v)]),
  };
}

function disposeSlot(slot: Slot): void {
  for (const pair of slot.moments) tf.dispose(pair);
}

class MadamSolver implements Solver {
  readonly name = MADAM;
  readonly config: JsonObject;
  learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly decay: number;
  private readonly fw: MinNormOptions;
  /** Number of objectives the moments are for (0 until the first step or load). */
  private m = 0;
  /** One slot per variable, in the problem's variable order. */
  private slots: Slot[] = [];
  /** Updates so far (for the inverse-time decay). */
  private updates = 0;

  constructor(c: JsonObject) {
    const lr = (c.lr as number | undefined) ?? 0.001;
    this.beta1 = (c.beta1 as number | undefined) ?? 0.9;
    this.beta2 = (c.beta2 as number | undefined) ?? 0.999;
    this.epsilon = (c.epsilon as number | undefined) ?? 1e-7;
    this.decay = (c.decay as number | undefined) ?? 0;
    const frankWolfe = resolveFrankWolfe(c.frankWolfe as JsonObject | undefined);
    this.fw = frankWolfe;
    this.config = {
      type: MADAM,
      lr,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      decay: this.decay,
      frankWolfe,
    };
    this.learningRate = lr;
  }

  /** Creates the slots on first use; later checks that m and the shapes still match. */
  private bind(m: number, variables: readonly tf.Variable[]): void {
    if (this.m === 0) {
      this.m = m;
      this.slots = variables.map((v) => zeroSlot(m, v.shape, v));
      return;
    }
    if (m !== this.m) {
      throw new SolverError(
        'STATE_MISMATCH',
        `MAdam holds moments for ${this.m} objectives, the problem has ${m}`,
      );
    }
    if (
      this.slots.length !== variables.length ||
      !variables.every((v, i) => sameShape(v.shape, this.slots[i]!.shape))
    ) {
      throw new SolverError(
        'STATE_MISMATCH',
        'the variable list changed shape since the moments were created; call resetVariables() after physical removal',
      );
    }
    variables.forEach((v, i) => {
      this.slots[i]!.owner = v;
    });
  }

  step(problem: StepProblem): SolverStepResult {
    checkProblem(problem);
    const variables = problem.variables;
    this.bind(problem.m, variables);
    const { values, grads, minNorm } = multiGradientStep(problem, variables, this.fw);
    try {
      const c = minNorm.weights;
      const { beta1: b1, beta2: b2, epsilon: eps } = this;
      const lr = this.learningRate / (1 + this.decay * this.updates);
      variables.forEach((variable, k) => {
        const slot = this.slots[k]!;
        const t = slot.t + 1;
        // Keras form: lr_t = lr·√(1 − β2^t)/(1 − β1^t), ε added to the raw √v.
        const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
        tf.tidy(() => {
          let step: tf.Tensor | null = null;
          for (let i = 0; i < this.m; i++) {
            const [m, v] = slot.moments[i]!;
            const g = grads[i]![k];
            // A missing gradient is a zero gradient: the moments decay.
            const mNew = g ? tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)) : tf.mul(m, b1);
            const vNew = g ? tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)) : tf.mul(v, b2);
            m.assign(mNew);
            v.assign(vNew);
            if (c[i]! !== 0) {
              const term = tf.mul(tf.div(mNew, tf.add(tf.sqrt(vNew), eps)), c[i]!);
              step = step ? tf.add(step, term) : term;
            }
          }
          if (step) variable.assign(tf.sub(variable, tf.mul(step, lrT)));
        });
        slot.t = t;
      });
      this.updates++;
      return {
        values,
        weights: c,
        extra: { directionNorm: Math.sqrt(minNorm.normSquared), frankWolfeIterations: minNorm.iterations },
      };
    } finally {
      disposeGradients(grads);
    }
  }

  /**
   * Rebinds to a new variable list: variable i keeps the moments and t of
   * `previous[i]` (default: itself) when that variable had the same shape, or
   * takes them sliced by `takes[i]` (with t) when that slicing gives its shape;
   * otherwise its moments restart at zero with t = 0. Before the first step
   * (nothing bound yet) there is nothing to rebuild.
   */
  resetVariables(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    if (this.m === 0) return;
    const used = new Set<Slot>();
    const next = variables.map((v, i) => {
      const before = previous ? previous[i] : v;
      // A slot loaded but not yet bound to a variable binds by index.
      const old =
        (before === undefined ? undefined : this.slots.find((s) => s.owner === before)) ??
        (this.slots[i]?.owner === undefined ? this.slots[i] : undefined);
      if (old && !used.has(old) && sameShape(old.shape, v.shape)) {
        used.add(old);
        old.owner = v;
        return old;
      }
      const take = takes?.[i];
      if (old && take !== undefined && take.length > 0 && sameShape(takenShape(old.shape, take), v.shape)) {
        return slicedSlot(old, take, v);
      }
      return zeroSlot(this.m, v.shape, v);
    });
    for (const s of this.slots) if (!used.has(s)) disposeSlot(s);
    this.slots = next;
  }

  state(): ComponentState {
    const arrays: Record<string, ComponentState['arrays'][string]> = {};
    for (const [k, slot] of this.slots.entries()) {
      for (const [i, [m, v]] of slot.moments.entries()) {
        arrays[`m/${i}/${k}`] = { shape: [...m.shape], data: Float32Array.from(m.dataSync()) };
        arrays[`v/${i}/${k}`] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
      }
    }
    return {
      json: {
        type: MADAM,
        learningRate: this.learningRate,
        updates: this.updates,
        objectives: this.m,
        slots: this.slots.map((s) => ({ shape: [...s.shape], t: s.t })),
      },
      arrays,
    };
  }

  load(state: ComponentState): void {
    checkStateType(state, MADAM);
    const updates = stateNumber(state, 'updates');
    const learningRate = stateNumber(state, 'learningRate');
    const m = stateNumber(state, 'objectives');
    const entries = state.json.slots;
    const valid =
      Array.isArray(entries) &&
      entries.every(
        (e) =>
          typeof e === 'object' &&
          e !== null &&
          !Array.isArray(e) &&
          typeof e.t === 'number' &&
          Array.isArray(e.shape) &&
          e.shape.every((d) => Number.isInteger(d)),
      );
    if (!valid || !Number.isInteger(m) || m < 0) {
      throw new SolverError(
        'STATE_MISMATCH',
        "MAdam state needs 'objectives' and a list of 'slots' { shape, t }",
      );
    }
    const specs = (entries as { shape: number[]; t: number }[]).map((e) => ({ shape: e.shape, t: e.t }));
    // Read every array before replacing anything, so a failed load leaves the solver as it was.
    const data = specs.map((spec, k) =>
      Array.from({ length: m }, (_, i) =>
        (['m', 'v'] as const).map((kind) => {
          const a = state.arrays[`${kind}/${i}/${k}`];
          const size = spec.shape.reduce((p, d) => p * d, 1);
          if (!a || !sameShape(a.shape, spec.shape) || a.data.length !== size) {
            throw new SolverError(
              'STATE_MISMATCH',
              `MAdam state array '${kind}/${i}/${k}' is missing or has the wrong shape`,
            );
          }
          return a.data;
        }),
      ),
    );
    // Slots bind to the variables by index; owners are set on the next step.
    const current = this.slots;
    this.slots = specs.map((spec, k) => ({
      owner: current[k]?.owner,
      shape: [...spec.shape],
      t: spec.t,
      moments: data[k]!.map(
        ([mData, vData]) =>
          [
            variableFrom(tf.tensor(mData!, [...spec.shape], 'float32')),
            variableFrom(tf.tensor(vData!, [...spec.shape], 'float32')),
          ] as [tf.Variable, tf.Variable],
      ),
    }));
    for (const s of current) disposeSlot(s);
    this.m = m;
    this.updates = updates;
    this.learningRate = learningRate;
  }

  dispose(): void {
    for (const s of this.slots) disposeSlot(s);
    this.slots = [];
    this.m = 0;
  }
}

/**
 * MAdam (Reiners et al. 2020): the min-norm weights c are computed from the
 * raw per-objective gradients as in SMGD, but every objective keeps its own
 * Adam moments, and w ← w − lr_t·Σ_i c_i·m_i/(√v_i + ε). Because each term is
 * normalized by its own second moment, the update is not a multiple of the
 * min-norm direction: it does not vanish at Pareto-stationary points and does
 * not carry SMGD's first-order descent guarantee. Logs c every step.
 * @throws SolverError `INVALID_CONFIG` naming the bad field.
 */
export function createMadamSolver(config: MadamConfig | JsonObject = { type: MADAM }): Solver {
  const c = config as JsonObject;
  throwIfIssues('madam solver config', madamSolver.validate(c));
  return new MadamSolver(c);
}

/** The `madam` solver, registered: `{ "type": "madam", … }` configs build it. */
export const madamSolver = defineSolver({
  name: MADAM,
  description: 'MAdam: min-norm weights with per-objective Adam moments (Reiners et al. 2020)',
  configSchema: madamConfigSchema,
  create: (c) => createMadamSolver(c),
});
