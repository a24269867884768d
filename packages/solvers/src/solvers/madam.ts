import type { ComponentState, JsonObject, Solver, SolverStepResult, StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CodedIssue, SolverError, throwIfIssues } from '../errors.js';
import { checkFrankWolfe, checkKnownKeys, checkNumber, checkType } from '../internal/config.js';
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

/** Every problem with a MAdam config (empty when valid). */
export function validateMadamConfig(config: JsonObject): CodedIssue[] {
  const issues: CodedIssue[] = [];
  checkType(config, MADAM, issues);
  checkKnownKeys(config, ['type', 'lr', 'beta1', 'beta2', 'epsilon', 'decay', 'frankWolfe'], issues);
  checkNumber(config, 'lr', { optional: true, min: 0 }, issues);
  checkNumber(config, 'beta1', { optional: true, min: 0, lt: 1 }, issues);
  checkNumber(config, 'beta2', { optional: true, min: 0, lt: 1 }, issues);
  checkNumber(config, 'epsilon', { optional: true, gt: 0 }, issues);
  checkNumber(config, 'decay', { optional: true, min: 0 }, issues);
  checkFrankWolfe(config, issues);
  return issues;
}

type Shape = readonly number[];

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Per-objective Adam moments m_i, v_i for every variable, with explicit
 * tensor state. Bound lazily to the first step's variables and m.
 */
class Moments {
  /** moments[i][v] = [m, v] of objective i, variable v. */
  private moments: [tf.Variable, tf.Variable][][] = [];
  private shapes: Shape[] | undefined;

  get bound(): boolean {
    return this.shapes !== undefined;
  }

  get objectives(): number {
    return this.moments.length;
  }

  /** Zero moments for m objectives and these shapes, or moments from saved arrays. */
  init(m: number, shapes: readonly Shape[], arrays?: ComponentState['arrays']): void {
    const fresh: [tf.Variable, tf.Variable][][] = [];
    try {
      for (let i = 0; i < m; i++) {
        fresh.push(
          shapes.map((shape, v) => {
            const make = (kind: 'm' | 'v') => {
              const a = arrays?.[`${kind}/${i}/${v}`];
              if (!arrays) return variableFrom(tf.zeros([...shape]));
              if (!a || !sameShape(a.shape, shape) || a.data.length !== shape.reduce((p, d) => p * d, 1)) {
                throw new SolverError(
                  'STATE_MISMATCH',
                  `MAdam state array '${kind}/${i}/${v}' is missing or has the wrong shape`,
                );
              }
              return variableFrom(tf.tensor(a.data, [...shape], 'float32'));
            };
            return [make('m'), make('v')];
          }),
        );
      }
    } catch (e) {
      for (const row of fresh) for (const pair of row) tf.dispose(pair);
      throw e;
    }
    this.dispose();
    this.moments = fresh;
    this.shapes = shapes.map((s) => [...s]);
  }

  /** @throws SolverError `STATE_MISMATCH` when m or the shapes differ from the bound ones. */
  check(m: number, variables: readonly tf.Variable[]): void {
    const shapes = this.shapes!;
    if (m !== this.moments.length) {
      throw new SolverError(
        'STATE_MISMATCH',
        `MAdam holds moments for ${this.moments.length} objectives, the problem has ${m}`,
      );
    }
    if (shapes.length !== variables.length || !variables.every((v, i) => sameShape(v.shape, shapes[i]!))) {
      throw new SolverError(
        'STATE_MISMATCH',
        'the variable list changed shape since the moments were created; call resetVariables() after physical removal',
      );
    }
  }

  get(i: number, v: number): [tf.Variable, tf.Variable] {
    return this.moments[i]![v]!;
  }

  shapesJson(): number[][] {
    return (this.shapes ?? []).map((s) => [...s]);
  }

  arrays(): ComponentState['arrays'] {
    const out: Record<string, ComponentState['arrays'][string]> = {};
    for (const [i, row] of this.moments.entries()) {
      for (const [k, [m, v]] of row.entries()) {
        out[`m/${i}/${k}`] = { shape: [...m.shape], data: Float32Array.from(m.dataSync()) };
        out[`v/${i}/${k}`] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
      }
    }
    return out;
  }

  dispose(): void {
    for (const row of this.moments) for (const pair of row) tf.dispose(pair);
    this.moments = [];
    this.shapes = undefined;
  }
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
  private readonly moments = new Moments();
  /** Adam's step count t (bias correction); restarts with the moments. */
  private t = 0;
  /** Updates so far (for the inverse-time decay); survives resetVariables. */
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

  step(problem: StepProblem): SolverStepResult {
    checkProblem(problem);
    const variables = problem.variables;
    if (this.moments.bound) this.moments.check(problem.m, variables);
    else {
      this.moments.init(
        problem.m,
        variables.map((v) => v.shape),
      );
      this.t = 0;
    }
    const { values, grads, minNorm } = multiGradientStep(problem, variables, this.fw);
    try {
      const c = minNorm.weights;
      const t = this.t + 1;
      const { beta1: b1, beta2: b2, epsilon: eps } = this;
      const lr = this.learningRate / (1 + this.decay * this.updates);
      // Keras form: lr_t = lr·√(1 − β2^t)/(1 − β1^t), ε added to the raw √v.
      const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      variables.forEach((variable, k) => {
        tf.tidy(() => {
          let step: tf.Tensor | null = null;
          for (let i = 0; i < problem.m; i++) {
            const [m, v] = this.moments.get(i, k);
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
      });
      this.t = t;
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

  /** Physical removal: the moments are re-initialized to zero for the new shapes (and t restarts). */
  resetVariables(variables: readonly tf.Variable[]): void {
    const m = this.moments.objectives;
    if (m === 0) return;
    this.moments.init(
      m,
      variables.map((v) => v.shape),
    );
    this.t = 0;
  }

  state(): ComponentState {
    return {
      json: {
        type: MADAM,
        learningRate: this.learningRate,
        t: this.t,
        updates: this.updates,
        objectives: this.moments.objectives,
        shapes: this.moments.shapesJson(),
      },
      arrays: this.moments.arrays(),
    };
  }

  load(state: ComponentState): void {
    checkStateType(state, MADAM);
    const t = stateNumber(state, 't');
    const updates = stateNumber(state, 'updates');
    const learningRate = stateNumber(state, 'learningRate');
    const m = stateNumber(state, 'objectives');
    const shapes = state.json.shapes;
    if (
      !Array.isArray(shapes) ||
      !shapes.every((s) => Array.isArray(s) && s.every((d) => Number.isInteger(d)))
    ) {
      throw new SolverError('STATE_MISMATCH', "MAdam state field 'shapes' must be a list of shapes");
    }
    if (m === 0) this.moments.dispose();
    else this.moments.init(m, shapes as number[][], state.arrays);
    this.t = t;
    this.updates = updates;
    this.learningRate = learningRate;
  }

  dispose(): void {
    this.moments.dispose();
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
  throwIfIssues('madam solver config', validateMadamConfig(c));
  return new MadamSolver(c);
}
