import type * as tf from '@tensorflow/tfjs-core';
import type { JsonObject } from './json.js';
import type { AxisTake } from './network/compact.js';
import type { Network } from './network-types.js';
import type { Rng } from './rng.js';

// ───────────────────────────── Datasets ─────────────────────────────

/** The three standard splits. */
export type SplitName = 'train' | 'validation' | 'test';

/** One mini-batch. Tensors are owned by the batch: call `dispose()` when done. */
export interface Batch {
  /** Inputs, `[n, ...inputShape]` float32 (already normalized). */
  readonly x: tf.Tensor;
  /** Labels: one tensor per task (`[n]` int32 sparse or `[n, classes]` one-hot float32). */
  readonly y: readonly tf.Tensor[];
  /** Number of samples in this batch. */
  readonly size: number;
  /** Disposes x and y. */
  dispose(): void;
}

/** Options of {@link Dataset.batches}. */
export interface BatchOptions {
  readonly batchSize: number;
  /** Seed of the shuffle; the order of epoch e is a function of (seed, e) only. @default 0 */
  readonly seed?: number;
  /** Epoch number (for the shuffle and for resuming). @default 0 */
  readonly epoch?: number;
  /** Shuffle the split. @default true for 'train', false otherwise */
  readonly shuffle?: boolean;
  /** Skip this many batches (resume mid-epoch). @default 0 */
  readonly startBatch?: number;
  /** Label format. @default 'sparse' */
  readonly labels?: 'sparse' | 'onehot';
  /** Input layout: `'image'` gives `[n, H, W, C]`, `'flat'` gives `[n, H·W·C]`. @default 'image' */
  readonly layout?: 'image' | 'flat';
  /** Drop a last, smaller batch. @default false */
  readonly dropLast?: boolean;
  /** Use only the first `limit` samples of the split (after the fixed split, before shuffling). */
  readonly limit?: number;
}

/** Static facts about a dataset. */
export interface DatasetInfo {
  readonly name: string;
  /** Per-sample image shape `[H, W, C]`. */
  readonly inputShape: readonly [number, number, number];
  /** Classes per task (one entry per task). */
  readonly classes: readonly number[];
  /** Samples per split. */
  readonly sizes: Readonly<Record<SplitName, number>>;
}

/**
 * A dataset: fixed, seeded splits held in typed arrays; batches are
 * materialized as tensors one at a time.
 */
export interface Dataset {
  readonly info: DatasetInfo;
  /** The batches of one epoch of a split, in a deterministic order. */
  batches(split: SplitName, options: BatchOptions): Iterable<Batch>;
  /** Number of batches `batches(split, options)` yields. */
  batchCount(split: SplitName, options: BatchOptions): number;
}

// ───────────────────────────── Objectives ─────────────────────────────

/** What an objective sees when asked for its value. */
export interface ObjectiveContext {
  readonly net: Network;
  /** The network outputs for this batch (one per spec output). */
  readonly outputs: readonly tf.Tensor[];
  readonly batch: Batch;
  /** Gate keep-probabilities by gate site id, from pruners that have gates. */
  readonly gateProbabilities: Readonly<Record<string, tf.Tensor>>;
  readonly training: boolean;
}

/** What {@link Objective.prepare} may use before the step's forward pass. */
export interface PrepareContext {
  readonly net: Network;
  readonly batch: Batch;
  /**
   * Gradients of the data objective (objective 0) w.r.t. the trainable
   * variables by parameter name, from one forward and backward pass that is
   * computed at most once per step and disposed by the loop after the step.
   * That pass is the step's own: it sees the batch, weights, dropout masks and
   * gate samples the solver's passes see, so the step reuses its value and
   * gradients for objective 0 (see {@link StepProblem.evaluate}) and its
   * BatchNorm updates — asking for them costs no extra pass when the other
   * objectives read only parameters.
   */
  dataGradients(): ReadonlyMap<string, tf.Tensor>;
}

/** What {@link Objective.afterUpdate} gets. */
export interface UpdateContext {
  readonly net: Network;
  /** The learning rate the step used. */
  readonly learningRate: number;
}

/**
 * One objective f_i: a scalar to minimize. Data terms read `outputs`,
 * parameter terms read `net.params`, complexity terms read gate probabilities.
 * `value` runs inside a gradient tape and must be pure.
 */
export interface Objective {
  readonly name: string;
  /** The JSON config this objective was made from (`{ type, ... }`). */
  readonly config: JsonObject;
  /** Optional work before the step (e.g. relevance from a first backward pass); store only tensors you dispose. */
  prepare?(ctx: PrepareContext): void;
  value(ctx: ObjectiveContext): tf.Scalar;
  /**
   * Changes a numeric hyperparameter at run time (e.g. the selective
   * weight-decay γ that a relevance pruner decays and resets). Throws for
   * unknown names.
   */
  setParameter?(name: string, value: number): void;
  /**
   * A decoupled update, applied by the loop right after the optimizer step
   * (before masks are re-applied and pruners run): what the objective does to
   * the weights directly instead of through the gradient the optimizer sees —
   * e.g. LOBSTER's w ← w − λ·s(w)·w, or AdamW-style decoupled weight decay.
   * Reads what `prepare` computed for this step.
   */
  afterUpdate?(ctx: UpdateContext): void;
  /** Frees tensors held by the objective. */
  dispose?(): void;
}

// ───────────────────────────── Solvers ─────────────────────────────

/** One step's problem, as the training loop hands it to a solver. */
export interface StepProblem {
  /** The variables to update (network parameters plus any pruner variables), fixed order. */
  readonly variables: readonly tf.Variable[];
  /** Number of objectives m. */
  readonly m: number;
  /**
   * Runs the forward pass and returns the m objective values (scalars). Pure;
   * call it inside `tf.variableGrads`/`tf.grads` as often as you need
   * (once per backward pass).
   *
   * Evaluate before changing any variable: when an objective's `prepare` asked
   * for {@link PrepareContext.dataGradients}, objective 0 comes from that pass —
   * its value, and its gradient through a custom-gradient op over the
   * variables — without running the network again (only the float rounding of
   * how a combination scales it can differ from a fresh pass).
   */
  evaluate(): tf.Scalar[];
  /**
   * Objective `i` alone, as `evaluate()[i]` would compute it — for a solver that takes one
   * objective's gradient at a time. The forward pass runs only if that objective reads the
   * network's outputs, so a penalty of the parameters alone (ℓ1, ℓ2) costs no forward pass.
   * Optional: a problem without it is evaluated whole. Throws `INVALID_ARGUMENT` for an index
   * outside [0, m).
   */
  evaluateOne?(i: number): tf.Scalar;
  readonly step: number;
  readonly epoch: number;
}

/** What a solver reports after a step (logged to metrics.jsonl). */
export interface SolverStepResult {
  /** The m objective values at the start of the step. */
  readonly values: readonly number[];
  /** The weights it combined the objectives with (on the simplex for convex combinations). */
  readonly weights: readonly number[];
  /** Anything else worth logging (e.g. Frank–Wolfe iterations, t, λ). */
  readonly extra?: Readonly<Record<string, number>>;
}

/** A solver's serializable state: JSON plus named float arrays (moments). */
export interface ComponentState {
  readonly json: JsonObject;
  readonly arrays: Readonly<
    Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>
  >;
}

/**
 * Turns m objectives into one update and applies it. A solver owns its
 * optimizer state (momentum, per-objective Adam moments, Lagrange multipliers).
 */
export interface Solver {
  readonly name: string;
  readonly config: JsonObject;
  step(problem: StepProblem): SolverStepResult;
  /** Current learning rate; the loop's schedule sets it. */
  learningRate: number;
  /** Called at the end of every epoch (e.g. an augmented-Lagrangian outer update). */
  endEpoch?(epoch: number): void;
  /**
   * Called when the variable list changes (physical removal); must rebuild state for the new shapes.
   * `previous[i]`, when given, is the variable that `variables[i]` replaces (same parameter name in
   * the old network, or what the pruner said it replaces), so state of unchanged shapes can be kept;
   * `takes[i]`, when given, slices `previous[i]` into `variables[i]` (the entries that survived a
   * removal), so per-entry state can be sliced the same way (see core's `Optimizer.resetVariables`).
   */
  resetVariables?(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void;
  state(): ComponentState;
  load(state: ComponentState): void;
  dispose(): void;
}

// ───────────────────────────── Pruners ─────────────────────────────

/** What a pruner gets at init. */
export interface PrunerInitContext {
  readonly net: Network;
  readonly rng: Rng;
  /** Total optimizer steps of the run (for schedules). */
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
}

/** What a pruner gets after each optimizer step. */
export interface PrunerStepContext {
  readonly net: Network;
  /** 0-based global step that just finished. */
  readonly step: number;
  readonly epoch: number;
  /**
   * 0-based index of that step's batch within its epoch (the epoch's own
   * count, as a PyTorch loop's `i` in `for i, batch in enumerate(loader)`);
   * in `afterEpoch`, the epoch's batch count.
   */
  readonly batch: number;
  /** Batches of this epoch. */
  readonly batchesPerEpoch: number;
  readonly rng: Rng;
  /** The run's objectives, so a pruner can drive their parameters (see {@link Objective.setParameter}). */
  readonly objectives?: readonly Objective[];
  /** Evaluates a split (validation by default) — for pruners gated by a validation floor. */
  evaluate(split?: 'validation' | 'test'): Promise<{ accuracy: number; loss: number }>;
  /**
   * Runs `fn` with the network's parameters at the values {@link PrunerStepContext.evaluate} sees — with
   * the run's `averaging`, the moving averages (masks applied), otherwise the trained values — and puts
   * the trained values back after it. For a pruner that keeps a copy of the network it evaluated, so the
   * copy is the network whose figures it logged. Absent (a context made outside core's loop): the
   * trained values are the evaluated ones.
   */
  withEvaluatedValues?<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * Tells the run that the pruner wrote the network's parameter values outright (e.g. put a kept copy
   * back in place): with `averaging`, the averages restart from the values now in the network, so what
   * is evaluated next, and what the run returns, is that network. Call it after the write, outside
   * {@link PrunerStepContext.withEvaluatedValues} (inside it, the trained values put back afterwards
   * would replace what was written).
   */
  valuesWritten?(): void;
  /**
   * Appends a record to the run's log (`metrics.jsonl`) as
   * `{ type: 'pruner', pruner, step, epoch, batch, …record }` — e.g. a
   * validation check and what the pruner decided. A no-op without a run directory.
   */
  log(record: JsonObject): void;
}

/** What {@link Pruner.afterStep} may ask the loop to do. */
export interface PrunerStepResult {
  /**
   * A replacement network (physical removal); the loop swaps it in and rebuilds solver state. A
   * network made by core's `compact` says which entries of each parameter survived
   * (`compactionTakes`), and the solver's per-entry state is sliced along.
   */
  readonly replaceNetwork?: Network;
  /**
   * With `replaceNetwork`: the pruner's own variables (from `variables()`) that replace earlier ones —
   * e.g. gate parameters sliced along with the network: the solver's state of `previous` carries
   * over to `variable`, sliced by `takes` (omitted: same shape).
   */
  readonly replacedVariables?: readonly {
    readonly variable: tf.Variable;
    readonly previous: tf.Variable;
    readonly takes?: readonly AxisTake[];
  }[];
}

/**
 * A pruner: maintains masks and/or gates on a network. The loop calls
 * `gates` before the forward pass and `afterStep` after every optimizer step.
 */
export interface Pruner {
  readonly name: string;
  readonly config: JsonObject;
  init(ctx: PrunerInitContext): void;
  /** Extra trainable variables (e.g. gate parameters θ), optimized with the network. */
  variables?(): tf.Variable[];
  /**
   * Gate values for this forward pass (sampled in training), keyed by gate site. Caller disposes.
   * `rng` is the step's gate stream (the same state for every forward pass of one step); `batch`,
   * the number of examples of the pass, is given in training so a pruner may return per-example
   * gates (`[batch, units]` for a unit site, `[batch]` for a layer site).
   */
  gates?(training: boolean, rng: Rng, batch?: number): Record<string, tf.Tensor>;
  /** Gate keep-probabilities (for expected-complexity objectives), keyed by gate site. Caller disposes. */
  gateProbabilities?(): Record<string, tf.Tensor>;
  afterStep(ctx: PrunerStepContext): PrunerStepResult | undefined | Promise<PrunerStepResult | undefined>;
  /** Names of the parameters this pruner masks (for metrics and the conformance suite). */
  targets?(): readonly string[];
  /**
   * Figures to log (e.g. `sparsity`, `zeros`, `total` over {@link Pruner.targets}, live units, mean θ).
   * `sparsity` must equal the counted zeros of the targets divided by their size.
   */
  metrics?(): Readonly<Record<string, number>>;
  /** Called at the end of every epoch. */
  afterEpoch?(ctx: PrunerStepContext): PrunerStepResult | undefined | Promise<PrunerStepResult | undefined>;
  /** Serializable state (masks live in the network and are checkpointed with it). */
  state(): ComponentState;
  load(state: ComponentState): void;
  dispose?(): void;
}
