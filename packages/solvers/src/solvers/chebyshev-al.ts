import {
  type AxisTake,
  type ComponentState,
  defineSolver,
  type JsonObject,
  joinPath,
  type OptimizerConfig,
  resolveOptimizerConfig,
  type Solver,
  type SolverStepResult,
  type StepProblem,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CodedIssue, SolverError, throwIfIssues } from '../errors.js';
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
import { checkStateType, nestState, stateNumber, stateNumbers, unnestState } from '../internal/state.js';
import { assignScalar, variableFrom } from '../internal/tensors.js';

/** Registry type of {@link createChebyshevAlSolver}. */
export const CHEBYSHEV_AL = 'chebyshev-al';

/**
 * Config of the weighted Chebyshev + augmented Lagrangian solver (Hotegni et al. 2023).
 * The defaults of μ0, ρ and `outerEvery` are generic choices that make the
 * penalty matter for objectives of order 1; the paper's MultiMNIST values are
 * `mu0: 2.5e-8, rho: 2, outerEvery: 3, form: 'reference'`, Adam lr 2.5e-3 with `lrDecay: 0.5`.
 */
export interface ChebyshevAlConfig {
  readonly type: 'chebyshev-al';
  /** Preference k on the simplex, one entry per objective. */
  readonly preference: readonly number[];
  /** Reference point a. @default all zeros */
  readonly reference?: readonly number[];
  /** ε of the modified (augmented) Chebyshev term k_i·[(f_i − a_i) + ε·Σ_j (f_j − a_j)]. @default 1e-4 */
  readonly epsilon?: number;
  /** Initial multipliers λ. @default 1/m each */
  readonly lambda0?: readonly number[];
  /** Initial penalty μ0 > 0. @default 1 */
  readonly mu0?: number;
  /** Penalty growth μ ← ρμ at every outer update. @default 2 */
  readonly rho?: number;
  /** Epochs per outer iteration (λ, μ and the lr factor update every `outerEvery` epochs). @default 3 */
  readonly outerEvery?: number;
  /** Learning-rate factor applied at every outer update (multiplies the loop's rate). @default 1 */
  readonly lrDecay?: number;
  /**
   * `'textbook'` (default): inequality-constrained AL, ψ(c, λ, μ) = λc + μ/2·c² if
   * c ≥ −λ/μ else −λ²/(2μ), and λ ← max(0, λ + μ·c̄).
   * `'reference'`: the authors' code, L = t + λᵀc + μ/2·‖c‖² and λ ← λ + μ·c̄ (no projection).
   * @default 'textbook'
   */
  readonly form?: 'textbook' | 'reference';
  /** Optimizer over the network variables and t (core's `createOptimizer`). @default { type: 'adam', lr: 0.001 } */
  readonly optimizer?: OptimizerConfig;
  /**
   * Initial t. When omitted, t starts at max_i k_i·[(f_i − a_i) + ε·Σ_j (f_j − a_j)]
   * on the first batch (one extra forward pass), so every constraint starts feasible and one is active.
   */
  readonly t0?: number;
}

const numbers = s.array(s.number());

/**
 * The schema of a Chebyshev-AL config (besides `type`): `reference` and
 * `lambda0` need one entry per objective of `preference`.
 */
export const chebyshevAlConfigSchema = s
  .object({
    preference: simplexSchema,
    reference: numbers.optional(),
    epsilon: s.number({ min: 0 }).optional(),
    lambda0: numbers.optional(),
    mu0: s.number({ gt: 0 }).optional(),
    rho: s.number({ gt: 0 }).optional(),
    outerEvery: s.integer({ min: 1 }).optional(),
    lrDecay: s.number({ gt: 0 }).optional(),
    form: s.oneOf(['textbook', 'reference']).optional(),
    optimizer: s.optimizer().optional(),
    t0: s.number().optional(),
  })
  .refine((c, path) => {
    const issues: CodedIssue[] = [];
    for (const key of ['reference', 'lambda0'] as const) {
      const list = c[key];
      if (list !== undefined && list.length !== c.preference.length) {
        issues.push({
          path: joinPath(path, key),
          message: `needs ${c.preference.length} entries (one per objective), got ${list.length}`,
          code: 'OBJECTIVE_COUNT_MISMATCH',
        });
      }
    }
    return issues;
  })
  .refine((c, path) =>
    c.lambda0?.some((l) => l < 0)
      ? [{ path: joinPath(path, 'lambda0'), message: 'multipliers of inequality constraints must be ≥ 0' }]
      : undefined,
  );

class ChebyshevAlSolver implements Solver {
  readonly name = CHEBYSHEV_AL;
  readonly config: JsonObject;
  learningRate: number;
  private readonly k: number[];
  private readonly a: number[];
  private readonly eps: number;
  private readonly rho: number;
  private readonly outerEvery: number;
  private readonly lrDecay: number;
  private readonly textbook: boolean;
  private readonly opt: BoundOptimizer;
  /** The scalar t of the epigraph form, a trainable variable the solver owns. */
  private readonly t: tf.Variable;
  private tInitialized: boolean;
  private lambda: number[];
  private mu: number;
  private lrFactor = 1;
  private epochsSinceOuter = 0;
  private constraintSum: number[];
  private constraintCount = 0;
  private outerIterations = 0;

  constructor(c: JsonObject) {
    this.k = [...(c.preference as number[])];
    const m = this.k.length;
    this.a = [...((c.reference as number[] | undefined) ?? new Array<number>(m).fill(0))];
    this.eps = (c.epsilon as number | undefined) ?? 1e-4;
    this.lambda = [...((c.lambda0 as number[] | undefined) ?? new Array<number>(m).fill(1 / m))];
    this.mu = (c.mu0 as number | undefined) ?? 1;
    this.rho = (c.rho as number | undefined) ?? 2;
    this.outerEvery = (c.outerEvery as number | undefined) ?? 3;
    this.lrDecay = (c.lrDecay as number | undefined) ?? 1;
    const form = (c.form as 'textbook' | 'reference' | undefined) ?? 'textbook';
    this.textbook = form === 'textbook';
    const optimizer = resolveOptimizerConfig(
      (c.optimizer as OptimizerConfig | undefined) ?? { type: 'adam', lr: 0.001 },
    );
    this.config = {
      type: CHEBYSHEV_AL,
      preference: [...this.k],
      reference: [...this.a],
      epsilon: this.eps,
      lambda0: [...this.lambda],
      mu0: this.mu,
      rho: this.rho,
      outerEvery: this.outerEvery,
      lrDecay: this.lrDecay,
      form,
      optimizer: { ...optimizer },
      ...(c.t0 === undefined ? {} : { t0: c.t0 as number }),
    };
    this.learningRate = optimizer.lr;
    this.opt = new BoundOptimizer(optimizer);
    this.tInitialized = c.t0 !== undefined;
    this.t = variableFrom(tf.scalar((c.t0 as number | undefined) ?? 0), true);
    this.constraintSum = new Array<number>(m).fill(0);
  }

  /** k_i·[(f_i − a_i) + ε·Σ_j (f_j − a_j)] as numbers. */
  private scaled(values: readonly number[]): number[] {
    const shifted = values.map((f, i) => f - this.a[i]!);
    const total = shifted.reduce((s, v) => s + v, 0);
    return shifted.map((d, i) => this.k[i]! * (d + this.eps * total));
  }

  private lagrangian(fs: tf.Scalar[]): tf.Scalar {
    const { k, a, eps, mu, lambda } = this;
    const shifted = fs.map((f, i) => tf.sub(f, a[i]!));
    const total = tf.addN(shifted);
    const terms = shifted.map((d, i) => {
      const c = tf.sub(tf.mul(tf.add(d, tf.mul(total, eps)), k[i]!), this.t);
      const l = lambda[i]!;
      const quadratic = tf.add(tf.mul(c, l), tf.mul(tf.square(c), mu / 2));
      if (!this.textbook) return quadratic;
      // Below −λ/μ the constraint is inactive and ψ is the constant −λ²/(2μ).
      return tf.where(tf.greaterEqual(c, -l / mu), quadratic, tf.scalar(-(l * l) / (2 * mu)));
    });
    return tf.add(this.t, tf.addN(terms)) as tf.Scalar;
  }

  step(problem: StepProblem): SolverStepResult {
    checkProblem(problem);
    const m = this.k.length;
    if (problem.m !== m) {
      throw new SolverError(
        'OBJECTIVE_COUNT_MISMATCH',
        `the Chebyshev-AL solver has a preference for ${m} objectives but the problem has ${problem.m}`,
      );
    }
    const variables = [...problem.variables, this.t];
    this.opt.bind(variables);
    if (!this.tInitialized) {
      const values = tf.tidy(() => problem.evaluate().map((v) => v.dataSync()[0]!));
      checkValues(values);
      assignScalar(this.t, Math.max(...this.scaled(values)));
      this.tInitialized = true;
    }
    const tBefore = this.t.dataSync()[0]!;
    let values: number[] = [];
    const grads = gradientsOf(
      problem,
      variables,
      (fs) => this.lagrangian(fs),
      (v) => {
        values = v;
      },
    );
    try {
      checkValues(values);
      checkGradientNorm(squaredNorm(grads));
      const c = this.scaled(values).map((s) => s - tBefore);
      // dL/dψ_i = ψ'(c_i): max(0, λ_i + μc_i) in the textbook form, λ_i + μc_i in the reference form.
      const slope = c.map((ci, i) => {
        const s = this.lambda[i]! + this.mu * ci;
        return this.textbook ? Math.max(0, s) : s;
      });
      // dL/df_j = Σ_i ψ'(c_i)·k_i·(δ_ij + ε): the weights the step effectively gives the objectives.
      const weights = values.map((_, j) =>
        slope.reduce((s, p, i) => s + p * this.k[i]! * ((i === j ? 1 : 0) + this.eps), 0),
      );
      this.opt.apply(variables, grads, this.learningRate * this.lrFactor);
      c.forEach((ci, i) => {
        this.constraintSum[i] = this.constraintSum[i]! + ci;
      });
      this.constraintCount++;
      const extra: Record<string, number> = { t: tBefore, mu: this.mu, maxConstraint: Math.max(...c) };
      this.lambda.forEach((l, i) => {
        extra[`lambda_${i}`] = l;
      });
      return { values, weights, extra };
    } finally {
      disposeGradients([grads]);
    }
  }

  /**
   * Outer update every `outerEvery` epochs, with c̄ the mean constraint value
   * over the batches since the last outer update (the stochastic stand-in for
   * c at the current iterate): λ ← max(0, λ + μc̄) (textbook) or λ + μc̄
   * (reference), then μ ← ρμ and the lr factor times `lrDecay`.
   */
  endEpoch(_epoch: number): void {
    this.epochsSinceOuter++;
    if (this.epochsSinceOuter < this.outerEvery || this.constraintCount === 0) return;
    this.lambda = this.lambda.map((l, i) => {
      const next = l + (this.mu * this.constraintSum[i]!) / this.constraintCount;
      return this.textbook ? Math.max(0, next) : next;
    });
    this.mu *= this.rho;
    this.lrFactor *= this.lrDecay;
    this.epochsSinceOuter = 0;
    this.constraintSum = this.constraintSum.map(() => 0);
    this.constraintCount = 0;
    this.outerIterations++;
  }

  /** Optimizer state is kept for t and for variables of unchanged shape (matched through `previous`). */
  resetVariables(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    this.opt.reset(
      [...variables, this.t],
      previous ? [...previous, this.t] : undefined,
      takes ? [...takes, undefined] : undefined,
    );
  }

  state(): ComponentState {
    const json: JsonObject = {
      type: CHEBYSHEV_AL,
      learningRate: this.learningRate,
      t: this.t.dataSync()[0]!,
      tInitialized: this.tInitialized,
      lambda: [...this.lambda],
      mu: this.mu,
      lrFactor: this.lrFactor,
      epochsSinceOuter: this.epochsSinceOuter,
      constraintSum: [...this.constraintSum],
      constraintCount: this.constraintCount,
      outerIterations: this.outerIterations,
    };
    const arrays = {};
    nestState('optimizer', this.opt.state(), json, arrays);
    return { json, arrays };
  }

  load(state: ComponentState): void {
    checkStateType(state, CHEBYSHEV_AL);
    const m = this.k.length;
    const t = stateNumber(state, 't');
    const lambda = stateNumbers(state, 'lambda', m);
    const constraintSum = stateNumbers(state, 'constraintSum', m);
    const numbers = [
      'learningRate',
      'mu',
      'lrFactor',
      'epochsSinceOuter',
      'constraintCount',
      'outerIterations',
    ].map((key) => stateNumber(state, key));
    if (typeof state.json.tInitialized !== 'boolean') {
      throw new SolverError('STATE_MISMATCH', "solver state field 'tInitialized' must be a boolean");
    }
    this.opt.load(unnestState('optimizer', state));
    [
      this.learningRate,
      this.mu,
      this.lrFactor,
      this.epochsSinceOuter,
      this.constraintCount,
      this.outerIterations,
    ] = numbers as [number, number, number, number, number, number];
    this.lambda = lambda;
    this.constraintSum = constraintSum;
    this.tInitialized = state.json.tInitialized;
    assignScalar(this.t, t);
  }

  dispose(): void {
    this.opt.dispose();
    this.t.dispose();
  }
}

/**
 * Weighted Chebyshev scalarization solved by an augmented Lagrangian
 * (Hotegni et al. 2023): minimize t subject to
 * c_i = k_i·[(f_i − a_i) + ε·Σ_j (f_j − a_j)] − t ≤ 0. Each step takes one
 * backward pass of L = t + Σ_i ψ(c_i, λ_i, μ) over the network variables and
 * t (a scalar variable the solver owns) and applies the optimizer (Adam by
 * default); {@link Solver.endEpoch} performs the outer updates. The default
 * `form` is the textbook inequality AL; `form: 'reference'` reproduces the
 * authors' code. Logs the effective objective weights dL/df (`weights`),
 * t, μ, λ (`lambda_0` …) and the largest constraint value (`extra`).
 * @throws SolverError `WEIGHTS_OFF_SIMPLEX` or `INVALID_CONFIG` naming the bad field.
 */
export function createChebyshevAlSolver(config: ChebyshevAlConfig | JsonObject): Solver {
  const c = config as JsonObject;
  throwIfIssues('chebyshev-al solver config', chebyshevAlSolver.validate(c));
  return new ChebyshevAlSolver(c);
}

/** The `chebyshev-al` solver, registered: `{ "type": "chebyshev-al", … }` configs build it. */
export const chebyshevAlSolver = defineSolver({
  name: CHEBYSHEV_AL,
  description: 'Weighted Chebyshev scalarization via augmented Lagrangian (Hotegni et al. 2023)',
  configSchema: chebyshevAlConfigSchema,
  create: (c) => createChebyshevAlSolver(c),
});
