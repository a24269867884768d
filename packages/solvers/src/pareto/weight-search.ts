import { Rng } from '@moprune/core';
import { type CodedIssue, SolverError, throwIfIssues } from '../errors.js';
import type { WeightedResult } from './knee.js';
import { nonDominatedIndices, type ObjectivePoint } from './points.js';

/**
 * An ask-tell search over scalarization weights λ: an experiment (or a sweep
 * runner) asks for the next λ, trains one candidate with it, and tells the
 * search the candidate's objective values.
 *
 * ```ts
 * for (let lambda = search.next(); lambda; lambda = search.next()) {
 *   search.tell(lambda, await trainCandidate(lambda));
 * }
 * ```
 *
 * `next()` returns `undefined` when no λ can be proposed until outstanding
 * ones are told, or when the search is over (`done`). Searches are
 * deterministic functions of the told values (the stochastic dichotomic
 * search also of its seed), so a runner resumes an interrupted search by
 * creating it again and replaying `next()`/`tell()` with the saved values.
 */
export interface WeightSearch {
  /** The next λ to evaluate (on the simplex), or undefined (see above). */
  next(): number[] | undefined;
  /** Reports the objective values of the candidate trained with `lambda` (one returned by `next`). */
  tell(lambda: readonly number[], f: ObjectivePoint): void;
  /** True when the search will propose nothing more and nothing is outstanding. */
  readonly done: boolean;
  /** Every told candidate, in the order told. */
  readonly results: readonly WeightedResult[];
}

const SAME = 1e-12;

function sameLambda(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= SAME);
}

function simplexIssues(lambda: readonly number[], path: string, m?: number): CodedIssue[] {
  if (lambda.length === 0) return [{ path, message: 'needs at least one weight', code: 'EMPTY_OBJECTIVES' }];
  if (m !== undefined && lambda.length !== m) {
    return [{ path, message: `needs ${m} weights, got ${lambda.length}`, code: 'OBJECTIVE_COUNT_MISMATCH' }];
  }
  if (lambda.some((v) => !Number.isFinite(v) || v < 0)) {
    return [
      {
        path,
        message: `weights must be finite and ≥ 0, got [${lambda.join(', ')}]`,
        code: 'WEIGHTS_OFF_SIMPLEX',
      },
    ];
  }
  const sum = lambda.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) {
    return [{ path, message: `weights must sum to 1, got ${sum}`, code: 'WEIGHTS_OFF_SIMPLEX' }];
  }
  return [];
}

/** Shared bookkeeping: queue of proposals, outstanding asks, told results, evaluation cap. */
abstract class AskTellSearch implements WeightSearch {
  protected readonly queue: number[][] = [];
  private readonly outstanding: number[][] = [];
  private readonly told: WeightedResult[] = [];
  private readonly tried: number[][] = [];
  private asked = 0;
  private exhausted = false;

  protected constructor(
    initial: readonly (readonly number[])[],
    protected readonly maxEvaluations: number,
    protected readonly m: number,
  ) {
    for (const l of initial) this.enqueue([...l]);
  }

  get results(): readonly WeightedResult[] {
    return this.told;
  }

  get done(): boolean {
    if (this.outstanding.length > 0) return false;
    if (this.asked >= this.maxEvaluations) return true;
    if (this.queue.length > 0) return false;
    if (!this.exhausted) this.refill();
    return this.queue.length === 0;
  }

  next(): number[] | undefined {
    if (this.asked >= this.maxEvaluations) return undefined;
    if (this.queue.length === 0 && this.outstanding.length === 0 && !this.exhausted) this.refill();
    const lambda = this.queue.shift();
    if (!lambda) return undefined;
    this.asked++;
    this.outstanding.push(lambda);
    return [...lambda];
  }

  tell(lambda: readonly number[], f: ObjectivePoint): void {
    const k = this.outstanding.findIndex((l) => sameLambda(l, lambda));
    if (k < 0) {
      throw new SolverError(
        'INVALID_ARGUMENT',
        `tell(): λ = [${lambda.join(', ')}] was not handed out by next()`,
      );
    }
    if (f.length !== this.m) {
      throw new SolverError(
        'OBJECTIVE_COUNT_MISMATCH',
        `tell(): expected ${this.m} objective values, got ${f.length}`,
      );
    }
    f.forEach((v, j) => {
      if (!Number.isFinite(v))
        throw new SolverError('NON_FINITE_VALUE', `tell(): f[${j}] is not finite (${v})`);
    });
    const [l] = this.outstanding.splice(k, 1);
    this.told.push({ lambda: l!, f: [...f] });
  }

  /** True when λ has been queued before (asked or not). */
  protected wasTried(lambda: readonly number[]): boolean {
    return this.tried.some((l) => sameLambda(l, lambda));
  }

  /** Queues λ unless it was tried before; returns whether it was queued. */
  protected enqueue(lambda: number[]): boolean {
    if (this.wasTried(lambda)) return false;
    this.tried.push(lambda);
    this.queue.push(lambda);
    return true;
  }

  /** The told non-dominated candidates sorted by f2 ascending (ties by f1). */
  protected front(): WeightedResult[] {
    return nonDominatedIndices(this.told.map((r) => r.f))
      .map((i) => this.told[i]!)
      .sort((a, b) => a.f[1]! - b.f[1]! || a.f[0]! - b.f[0]!);
  }

  private refill(): void {
    this.propose();
    if (this.queue.length === 0) this.exhausted = true;
  }

  /** Adds the next generation of proposals to the queue (nothing = the search is over). */
  protected abstract propose(): void;
}

/** The λ2 values of the weighted-sum grid of Reiners et al. (2020); λ1 = 1 − λ2. */
export const REINERS2020_LAMBDA2_GRID: readonly number[] = Object.freeze([
  0, 1e-5, 3e-5, 5e-5, 7e-5, 9e-5, 1e-4, 3e-4, 5e-4, 7e-4, 9e-4, 1e-3, 3e-3, 5e-3, 7e-3, 9e-3, 0.01, 0.015,
  0.02, 0.025, 0.03, 0.035, 0.05, 0.07, 0.09, 0.1,
]);

/** Options of {@link gridSearch}. */
export interface GridSearchOptions {
  /** The weight vectors to try, in order (each on the simplex, all of one length). */
  readonly lambdas: readonly (readonly number[])[];
}

class GridSearch extends AskTellSearch {
  constructor(lambdas: readonly (readonly number[])[]) {
    super(lambdas, lambdas.length, lambdas[0]!.length);
  }
  protected propose(): void {}
}

/**
 * A fixed grid of weight vectors, handed out in order (duplicates once).
 * @throws SolverError `WEIGHTS_OFF_SIMPLEX`, `EMPTY_OBJECTIVES` or `INVALID_CONFIG` naming the bad entry.
 */
export function gridSearch(options: GridSearchOptions): WeightSearch {
  const { lambdas } = options;
  if (lambdas.length === 0)
    throwIfIssues('grid search', [{ path: 'lambdas', message: 'needs at least one λ' }]);
  const m = lambdas[0]!.length;
  throwIfIssues(
    'grid search',
    lambdas.flatMap((l, i) => simplexIssues(l, `lambdas[${i}]`, m)),
  );
  return new GridSearch(lambdas);
}

/**
 * The biobjective grid of Reiners et al. (2020): λ = (1 − λ2, λ2) for each λ2 in
 * {@link REINERS2020_LAMBDA2_GRID} (26 candidates), or for the given λ2 list.
 */
export function lambda2Grid(lambda2: readonly number[] = REINERS2020_LAMBDA2_GRID): WeightSearch {
  return gridSearch({ lambdas: lambda2.map((l2) => [1 - l2, l2]) });
}

/** Options shared by the adaptive biobjective searches. */
export interface AdaptiveSearchOptions {
  /** The first weight vectors to evaluate. @default [[1, 0], [0.9, 0.1]] (Reiners et al. 2020) */
  readonly initial?: readonly (readonly number[])[];
  /** Evaluation cap (candidates handed out, including the initial ones). @default 20 */
  readonly maxEvaluations?: number;
}

const DEFAULT_INITIAL: readonly (readonly number[])[] = [
  [1, 0],
  [0.9, 0.1],
];

function adaptiveIssues(what: string, options: AdaptiveSearchOptions): void {
  const issues: CodedIssue[] = [];
  const initial = options.initial ?? DEFAULT_INITIAL;
  if (initial.length === 0) issues.push({ path: 'initial', message: 'needs at least one λ' });
  issues.push(...initial.flatMap((l, i) => simplexIssues(l, `initial[${i}]`, 2)));
  const cap = options.maxEvaluations ?? 20;
  if (!Number.isInteger(cap) || cap < 1) {
    issues.push({ path: 'maxEvaluations', message: `must be an integer ≥ 1, got ${cap}` });
  }
  throwIfIssues(what, issues);
}

class BisectionSearch extends AskTellSearch {
  constructor(options: AdaptiveSearchOptions) {
    super(options.initial ?? DEFAULT_INITIAL, options.maxEvaluations ?? 20, 2);
  }
  protected propose(): void {
    const front = this.front();
    for (let k = 0; k + 1 < front.length; k++) {
      const a = front[k]!.lambda;
      const b = front[k + 1]!.lambda;
      this.enqueue([(a[0]! + b[0]!) / 2, (a[1]! + b[1]!) / 2]);
    }
  }
}

/**
 * Bisection over λ for two objectives (Reiners et al. 2020): evaluate the
 * initial λs; then, over the non-dominated candidates sorted by f2, propose
 * the midpoint λ of every pair of neighbours not tried yet; dominated
 * candidates drop out of the neighbour list. Ends when no new midpoint exists
 * or after `maxEvaluations` candidates.
 */
export function bisectionSearch(options: AdaptiveSearchOptions = {}): WeightSearch {
  adaptiveIssues('bisection search', options);
  return new BisectionSearch(options);
}

/** Options of {@link dichotomicSearch}. */
export interface DichotomicSearchOptions extends AdaptiveSearchOptions {
  /**
   * Seed of the stochastic variant: when a normal-vector λ repeats, λ1 is
   * drawn uniformly from [0.9·λ1, λ1] (λ2 = 1 − λ1) instead of dropping the
   * pair. Without a seed the search is deterministic and a repeated λ closes its pair.
   */
  readonly seed?: number;
}

class DichotomicSearch extends AskTellSearch {
  private readonly rng: Rng | undefined;
  constructor(options: DichotomicSearchOptions) {
    super(options.initial ?? DEFAULT_INITIAL, options.maxEvaluations ?? 20, 2);
    this.rng = options.seed === undefined ? undefined : Rng.fromSeed(options.seed);
  }
  protected propose(): void {
    const front = this.front();
    for (let k = 0; k + 1 < front.length; k++) {
      const a = front[k]!.f;
      const b = front[k + 1]!.f;
      const d1 = b[0]! - a[0]!;
      const d2 = b[1]! - a[1]!;
      // Sorted by f2 and mutually non-dominated: d1 < 0 < d2 unless the points coincide.
      if (!(d1 < 0 && d2 > 0)) continue;
      const lambda = [d2 / (d2 - d1), -d1 / (d2 - d1)];
      if (this.enqueue(lambda) || !this.rng) continue;
      const l1 = this.rng.uniform(0.9 * lambda[0]!, lambda[0]!);
      this.enqueue([l1, 1 - l1]);
    }
  }
}

/**
 * Dichotomic (normal-vector) search for two objectives (Reiners et al. 2020):
 * for neighbouring non-dominated candidates A, B (sorted by f2) with
 * d = f(B) − f(A), the next λ = (d2, −d1)/‖d‖₁ — the normal of the segment AB,
 * whose weighted-sum minimizer lies beyond the segment if the front bulges
 * there. A λ that repeats closes its pair (deterministic) or is perturbed
 * (stochastic variant, `seed` given). Ends when nothing new is proposed or
 * after `maxEvaluations` candidates.
 */
export function dichotomicSearch(options: DichotomicSearchOptions = {}): WeightSearch {
  adaptiveIssues('dichotomic search', options);
  if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0)) {
    throwIfIssues('dichotomic search', [
      { path: 'seed', message: `must be a non-negative integer, got ${options.seed}` },
    ]);
  }
  return new DichotomicSearch(options);
}

/**
 * Drives a search to the end, evaluating one candidate at a time:
 * `evaluate(λ)` trains a candidate and resolves to its objective values.
 * @returns every told candidate, in order.
 */
export async function runWeightSearch(
  search: WeightSearch,
  evaluate: (lambda: number[]) => ObjectivePoint | Promise<ObjectivePoint>,
): Promise<readonly WeightedResult[]> {
  for (let lambda = search.next(); lambda; lambda = search.next()) {
    search.tell(lambda, await evaluate(lambda));
  }
  return search.results;
}
