import {
  type AxisTake,
  type ComponentState,
  defineSolver,
  type JsonObject,
  type Solver,
  type SolverStepResult,
  type StepProblem,
  schema as s,
} from '@moprune/core';
import type * as tf from '@tensorflow/tfjs-core';
import { SolverError, throwIfIssues } from '../errors.js';
import { BoundOptimizer } from '../internal/bound-optimizer.js';
import { frankWolfeSchema } from '../internal/config.js';
import { checkProblem, disposeGradients } from '../internal/gradients.js';
import { checkStateType, nestState, stateNumber, unnestState } from '../internal/state.js';
import type { MinNormOptions } from '../min-norm.js';
import { combineGradients, multiGradientStep } from './multi-gradient.js';

/** Registry type of {@link createSmgdSolver}. */
export const SMGD = 'smgd';

/** Config of stochastic multi-gradient descent with momentum. */
export interface SmgdConfig {
  readonly type: 'smgd';
  /** Initial learning rate (the loop's schedule may set it). @default 0.01 */
  readonly lr?: number;
  /** Momentum μ of v ← μv − lr·d, w ← w + v. @default 0.9 (Reiners et al. 2020) */
  readonly momentum?: number;
  /**
   * Keras-style inverse-time decay: the step uses lr/(1 + decay·k), k = updates
   * so far. Reiners et al. (2020) use decay = lr/epochs. @default 0
   */
  readonly decay?: number;
  /** Frank–Wolfe settings for m > 2. @default { maxIterations: 250, tolerance: 1e-10 } */
  readonly frankWolfe?: MinNormOptions;
  /**
   * Beyond Reiners et al. (opt-in): scale each objective's gradient before the
   * min-norm step, as MGDA-UB does (Sener & Koltun 2018) — `'l2'` g_i/‖g_i‖,
   * `'loss'` g_i/f_i, `'loss+'` g_i/(f_i·‖g_i‖). The direction is
   * d = Σ c_i·g_i/s_i with c the min-norm weights of the scaled gradients, so
   * an objective whose gradient is far larger (the ℓ1 term's ‖sign(w)‖ ≈
   * √(non-zero weights) against a cross-entropy gradient of norm ≈ 1) no longer
   * decides d alone. A vanishing (or non-finite) scale leaves that gradient as it is.
   * `weights` logs c; `extra.scale<i>` logs s_i. @default 'none' (the paper's SMGD)
   */
  readonly normalize?: GradientNormalization;
  /**
   * The min-norm weights from these parameters' gradients only — MGDA's shared parameters (Sener &
   * Koltun 2018; the MGDA-UB baseline of Hotegni et al. 2023 takes them over the shared trunk). Each
   * entry is a prefix of a network parameter name (`'shared.'` matches `shared.conv1/kernel`; a
   * variable's name is read after its network's `net<k>/` prefix). The step still moves every
   * variable along Σ c_i·g_i. A first step where no variable matches throws `INVALID_CONFIG`.
   * @default every variable (the paper's SMGD)
   */
  readonly minNormOver?: readonly string[];
}

/** How {@link SmgdConfig.normalize} scales each objective's gradient before the min-norm step. */
export type GradientNormalization = 'none' | 'l2' | 'loss' | 'loss+';

/** The smallest scale {@link gradientScales} divides by. */
export const MIN_GRADIENT_SCALE = 1e-12;

/** The values of {@link GradientNormalization}. */
export const GRADIENT_NORMALIZATIONS: readonly GradientNormalization[] = ['none', 'l2', 'loss', 'loss+'];

/**
 * The scale s_i of each objective's gradient under `mode` (1 for `'none'`),
 * from the objective values and the diagonal of the gradients' Gram matrix.
 * A scale below {@link MIN_GRADIENT_SCALE} (a vanishing gradient or loss) or not
 * finite is replaced by 1: dividing by it would only blow up rounding noise.
 */
export function gradientScales(
  mode: GradientNormalization,
  values: readonly number[],
  gram: readonly (readonly number[])[],
): number[] {
  return values.map((f, i) => {
    const norm = Math.sqrt(Math.max(0, gram[i]![i]!));
    const s = mode === 'l2' ? norm : mode === 'loss' ? f : mode === 'loss+' ? f * norm : 1;
    return Number.isFinite(s) && s >= MIN_GRADIENT_SCALE ? s : 1;
  });
}

/** The schema of an SMGD config (besides `type`). */
export const smgdConfigSchema = s.object({
  lr: s.number({ min: 0 }).optional(),
  momentum: s.number({ min: 0, lt: 1 }).optional(),
  decay: s.number({ min: 0 }).optional(),
  frankWolfe: frankWolfeSchema.optional(),
  normalize: s.oneOf(GRADIENT_NORMALIZATIONS).optional(),
  minNormOver: s.array(s.string(), { minLength: 1 }).optional(),
});

/** A variable's parameter name: its tfjs name after the owning network's `net<k>/` prefix. */
const paramName = (v: tf.Variable) => v.name.slice(v.name.indexOf('/') + 1);

/** Resolved Frank–Wolfe options (defaults filled in) as JSON. */
export function resolveFrankWolfe(fw: JsonObject | undefined): { maxIterations: number; tolerance: number } {
  return {
    maxIterations: (fw?.maxIterations as number | undefined) ?? 250,
    tolerance: (fw?.tolerance as number | undefined) ?? 1e-10,
  };
}

class SmgdSolver implements Solver {
  readonly name = SMGD;
  readonly config: JsonObject;
  learningRate: number;
  private readonly decay: number;
  private readonly fw: MinNormOptions;
  private readonly opt: BoundOptimizer;
  private readonly normalize: GradientNormalization;
  private readonly minNormOver: readonly string[] | undefined;
  private updates = 0;

  constructor(c: JsonObject) {
    const lr = (c.lr as number | undefined) ?? 0.01;
    const momentum = (c.momentum as number | undefined) ?? 0.9;
    this.decay = (c.decay as number | undefined) ?? 0;
    const frankWolfe = resolveFrankWolfe(c.frankWolfe as JsonObject | undefined);
    this.fw = frankWolfe;
    this.normalize = (c.normalize as GradientNormalization | undefined) ?? 'none';
    this.minNormOver = c.minNormOver === undefined ? undefined : [...(c.minNormOver as string[])];
    this.config = {
      type: SMGD,
      lr,
      momentum,
      decay: this.decay,
      frankWolfe,
      ...(this.normalize === 'none' ? {} : { normalize: this.normalize }),
      ...(this.minNormOver === undefined ? {} : { minNormOver: [...this.minNormOver] }),
    };
    this.learningRate = lr;
    this.opt = new BoundOptimizer({ type: 'sgd', lr, momentum, momentumStyle: 'keras' });
  }

  step(problem: StepProblem): SolverStepResult {
    checkProblem(problem);
    const variables = problem.variables;
    this.opt.bind(variables);
    const { values, grads, minNorm, gram } = multiGradientStep(
      problem,
      variables,
      this.fw,
      this.normalize === 'none' ? undefined : (v, g) => gradientScales(this.normalize, v, g),
      this.gramOver(variables),
    );
    try {
      const direction = combineGradients(
        grads,
        minNorm.weights.map((c, i) => c / minNorm.scales[i]!),
      );
      try {
        const lr = this.learningRate / (1 + this.decay * this.updates);
        this.opt.apply(variables, direction, lr);
      } finally {
        for (const d of direction) d?.dispose();
      }
      this.updates++;
      return {
        values,
        weights: minNorm.weights,
        extra: {
          directionNorm: Math.sqrt(minNorm.normSquared),
          frankWolfeIterations: minNorm.iterations,
          // Two objectives: the Gram matrix behind c (c2 = (G11 − G12)/(G11 − 2G12 + G22), clipped to [0, 1]).
          ...(gram.length === 2 ? { gram11: gram[0]![0]!, gram12: gram[0]![1]!, gram22: gram[1]![1]! } : {}),
          ...(this.normalize === 'none'
            ? {}
            : Object.fromEntries(minNorm.scales.map((x, i) => [`scale${i}`, x]))),
        },
      };
    } finally {
      disposeGradients(grads);
    }
  }

  /** Which variables' gradients enter the Gram matrix (undefined: all of them). */
  private gramOver(variables: readonly tf.Variable[]): boolean[] | undefined {
    const prefixes = this.minNormOver;
    if (prefixes === undefined) return undefined;
    const flags = variables.map((v) => prefixes.some((p) => paramName(v).startsWith(p)));
    if (!flags.includes(true)) {
      throw new SolverError(
        'INVALID_CONFIG',
        `smgd minNormOver [${prefixes.join(', ')}] matches none of the ${variables.length} variables (${variables
          .slice(0, 8)
          .map(paramName)
          .join(', ')}${variables.length > 8 ? ', …' : ''})`,
        { issues: [{ path: 'minNormOver', message: 'matches no variable' }] },
      );
    }
    return flags;
  }

  /** Optimizer state is kept for variables of unchanged shape (matched through `previous`) or sliced by `takes`, else re-initialized. */
  resetVariables(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    this.opt.reset(variables, previous, takes);
  }

  state(): ComponentState {
    const json: JsonObject = { type: SMGD, learningRate: this.learningRate, updates: this.updates };
    const arrays = {};
    nestState('optimizer', this.opt.state(), json, arrays);
    return { json, arrays };
  }

  load(state: ComponentState): void {
    checkStateType(state, SMGD);
    const updates = stateNumber(state, 'updates');
    const learningRate = stateNumber(state, 'learningRate');
    this.opt.load(unnestState('optimizer', state));
    this.updates = updates;
    this.learningRate = learningRate;
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/**
 * Stochastic multi-gradient descent (Reiners et al. 2020; Liu & Vicente): per
 * step the m per-objective gradients over all variables, their min-norm convex
 * combination d = Σ c_i g_i (closed form for 2 objectives, Frank–Wolfe for
 * more), and a Keras-style momentum step v ← μv − lr·d, w ← w + v. Since
 * g_i·d ≥ ‖d‖² for every i, no objective increases to first order, and d = 0
 * at Pareto-stationary points. Logs c every step (`weights`), ‖d‖, the
 * Frank–Wolfe iterations and, for two objectives, the Gram matrix
 * (`extra.gram11`, `gram12`, `gram22`: g1·g1, g1·g2, g2·g2).
 * @throws SolverError `INVALID_CONFIG` naming the bad field.
 */
export function createSmgdSolver(config: SmgdConfig | JsonObject = { type: SMGD }): Solver {
  const c = config as JsonObject;
  throwIfIssues('smgd solver config', smgdSolver.validate(c));
  return new SmgdSolver(c);
}

/** The `smgd` solver, registered: `{ "type": "smgd", … }` configs build it. */
export const smgdSolver = defineSolver({
  name: SMGD,
  description:
    'Stochastic multi-gradient descent: min-norm convex combination + momentum (Reiners et al. 2020)',
  configSchema: smgdConfigSchema,
  create: (c) => createSmgdSolver(c),
});
