import {
  type AxisTake,
  type ComponentState,
  defineSolver,
  type JsonObject,
  type OptimizerConfig,
  resolveOptimizerConfig,
  type Solver,
  type SolverStepResult,
  type StepProblem,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { SolverError, throwIfIssues } from '../errors.js';
import { BoundOptimizer } from '../internal/bound-optimizer.js';
import { simplexSchema } from '../internal/config.js';
import {
  checkGradientNorm,
  checkProblem,
  checkValues,
  disposeGradients,
  gradientsOf,
  squaredNorm,
} from '../internal/gradients.js';
import { checkStateType, nestState, unnestState } from '../internal/state.js';

/** Registry type of {@link createWeightedSumSolver}. */
export const WEIGHTED_SUM = 'weighted-sum';

/** Config of the weighted-sum solver. */
export interface WeightedSumConfig {
  readonly type: 'weighted-sum';
  /** λ on the simplex, one per objective (λ_i ≥ 0, Σλ_i = 1). */
  readonly weights: readonly number[];
  /** The optimizer applied to ∇(Σ λ_i f_i) (core's `createOptimizer`). @default { type: 'adam', lr: 0.001 } */
  readonly optimizer?: OptimizerConfig;
}

/** The schema of a weighted-sum config (besides `type`). */
export const weightedSumConfigSchema = s.object({
  weights: simplexSchema,
  optimizer: s.optimizer().optional(),
});

class WeightedSumSolver implements Solver {
  readonly name = WEIGHTED_SUM;
  readonly config: JsonObject;
  learningRate: number;
  private readonly weights: number[];
  private readonly opt: BoundOptimizer;

  constructor(weights: number[], optimizer: OptimizerConfig) {
    const resolved = resolveOptimizerConfig(optimizer);
    this.weights = weights;
    this.config = { type: WEIGHTED_SUM, weights: [...weights], optimizer: { ...resolved } };
    this.learningRate = resolved.lr;
    this.opt = new BoundOptimizer(resolved);
  }

  step(problem: StepProblem): SolverStepResult {
    checkProblem(problem);
    if (problem.m !== this.weights.length) {
      throw new SolverError(
        'OBJECTIVE_COUNT_MISMATCH',
        `the weighted-sum solver has ${this.weights.length} weights but the problem has ${problem.m} objectives`,
      );
    }
    const variables = problem.variables;
    this.opt.bind(variables);
    let values: number[] = [];
    const w = this.weights;
    // One backward pass of Σ λ_i f_i: the gradient is Σ λ_i ∇f_i by linearity.
    const grads = gradientsOf(
      problem,
      variables,
      (fs) => tf.addN(fs.map((f, i) => tf.mul(f, w[i]!))) as tf.Scalar,
      (v) => {
        values = v;
      },
    );
    try {
      checkValues(values);
      const normSquared = squaredNorm(grads);
      checkGradientNorm(normSquared);
      this.opt.apply(variables, grads, this.learningRate);
      return { values, weights: [...w], extra: { gradientNorm: Math.sqrt(normSquared) } };
    } finally {
      disposeGradients([grads]);
    }
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
    const json: JsonObject = { type: WEIGHTED_SUM, learningRate: this.learningRate };
    const arrays = {};
    nestState('optimizer', this.opt.state(), json, arrays);
    return { json, arrays };
  }

  load(state: ComponentState): void {
    checkStateType(state, WEIGHTED_SUM);
    this.opt.load(unnestState('optimizer', state));
    if (typeof state.json.learningRate === 'number') this.learningRate = state.json.learningRate;
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/**
 * The weighted-sum scalarization: minimizes Σ λ_i f_i with one backward pass
 * per step and any of core's optimizers (Adam in Reiners et al. 2020).
 * Logs the (fixed) weights every step and the combined gradient's norm in `extra.gradientNorm`.
 * @throws SolverError `WEIGHTS_OFF_SIMPLEX`, `EMPTY_OBJECTIVES` or `INVALID_CONFIG` naming the bad field.
 */
export function createWeightedSumSolver(config: WeightedSumConfig | JsonObject): Solver {
  const c = config as JsonObject;
  throwIfIssues('weighted-sum solver config', weightedSumSolver.validate(c));
  return new WeightedSumSolver(
    [...(c.weights as number[])],
    (c.optimizer as OptimizerConfig | undefined) ?? { type: 'adam', lr: 0.001 },
  );
}

/** The `weighted-sum` solver, registered: `{ "type": "weighted-sum", … }` configs build it. */
export const weightedSumSolver = defineSolver({
  name: WEIGHTED_SUM,
  description: 'Weighted sum Σλ_i f_i (λ on the simplex), one backward pass, any core optimizer',
  configSchema: weightedSumConfigSchema,
  create: (c) => createWeightedSumSolver(c),
});
