/**
 * An example contributor solver, written in one file against public entry points only
 * (`@moprune/core`, the helpers of `@moprune/solvers/kit`, `@moprune/solvers/testing` in its test).
 *
 * The gradient-normalized sum: each objective's gradient is scaled to unit length before they are
 * added, so an objective with large gradients (the ℓ1 term of an unscaled network, say) cannot
 * drown the others; the reported weights are the resulting convex combination
 * w_i = (1/‖∇f_i‖) / Σ_j (1/‖∇f_j‖), so the step is −lr·Σ w_i ∇f_i through any core optimizer.
 */
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
import {
  BoundOptimizer,
  checkGradientNorm,
  checkProblem,
  checkStateType,
  checkValues,
  disposeGradients,
  gradientsOf,
  nestState,
  squaredNorm,
  unnestState,
  type VariableGradients,
} from '@moprune/solvers/kit';
import * as tf from '@tensorflow/tfjs-core';

const TYPE = 'normalized-sum';

/** Config of the normalized-sum solver. */
export interface NormalizedSumConfig {
  readonly type: 'normalized-sum';
  /** The optimizer applied to the combined gradient. @default { type: 'sgd', lr: 0.01 } */
  readonly optimizer?: OptimizerConfig;
}

/** Its config fields besides `type`. */
export const normalizedSumConfigSchema = s.object({ optimizer: s.optimizer().optional() });

class NormalizedSumSolver implements Solver {
  readonly name = TYPE;
  readonly config: JsonObject;
  learningRate: number;
  private readonly opt: BoundOptimizer;

  constructor(optimizer: OptimizerConfig) {
    const resolved = resolveOptimizerConfig(optimizer);
    this.config = { type: TYPE, optimizer: { ...resolved } };
    this.learningRate = resolved.lr;
    this.opt = new BoundOptimizer(resolved);
  }

  step(problem: StepProblem): SolverStepResult {
    checkProblem(problem);
    const variables = problem.variables;
    this.opt.bind(variables);
    const grads: VariableGradients[] = [];
    try {
      let values: number[] = [];
      // One backward pass per objective: f_i alone.
      for (let i = 0; i < problem.m; i++) {
        grads.push(
          gradientsOf(
            problem,
            variables,
            (fs) => fs[i]!,
            (v) => {
              if (i === 0) values = v;
            },
          ),
        );
      }
      checkValues(values);
      const inverse = grads.map((g, i) => {
        const n2 = squaredNorm(g);
        checkGradientNorm(n2, i);
        return 1 / Math.max(Math.sqrt(n2), 1e-12);
      });
      const total = inverse.reduce((a, b) => a + b, 0);
      const weights = inverse.map((x) => x / total);
      const combined: VariableGradients = variables.map((_, k) => {
        if (grads.every((g) => g[k] === null)) return null;
        return tf.tidy(() => tf.addN(grads.flatMap((g, i) => (g[k] ? [tf.mul(g[k]!, weights[i]!)] : []))));
      });
      try {
        this.opt.apply(variables, combined, this.learningRate);
      } finally {
        disposeGradients([combined]);
      }
      return { values, weights };
    } finally {
      disposeGradients(grads);
    }
  }

  resetVariables(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    this.opt.reset(variables, previous, takes);
  }

  state(): ComponentState {
    const json: JsonObject = { type: TYPE, learningRate: this.learningRate };
    const arrays = {};
    nestState('optimizer', this.opt.state(), json, arrays);
    return { json, arrays };
  }

  load(state: ComponentState): void {
    checkStateType(state, TYPE);
    this.opt.load(unnestState('optimizer', state));
    if (typeof state.json.learningRate === 'number') this.learningRate = state.json.learningRate;
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/** Builds the solver (configs are checked by the registry; this factory trusts its input). */
export function createNormalizedSumSolver(config: NormalizedSumConfig | JsonObject): Solver {
  return new NormalizedSumSolver(
    ((config as JsonObject).optimizer as OptimizerConfig | undefined) ?? { type: 'sgd', lr: 0.01 },
  );
}

/** `{ "type": "normalized-sum", … }` configs build it: defined, and so registered, when this module loads. */
export const normalizedSumSolver = defineSolver({
  name: TYPE,
  description: 'Example contributor solver: the sum of the unit-length gradients of the objectives',
  configSchema: normalizedSumConfigSchema,
  create: (c) => createNormalizedSumSolver(c),
});
