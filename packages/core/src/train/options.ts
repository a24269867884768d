// The options of `train`, what it returns, and their checks: the public shape of the training loop.

import type { CoreError, Issue } from '../errors.js';
import type { BatchOptions, Dataset, Objective, Pruner, Solver } from '../interfaces.js';
import type { Network } from '../network-types.js';
import { throwIfIssues } from '../registry.js';
import { Rng, type RngState } from '../rng.js';
import { anyOf, integer, literal, number, object, oneOf } from '../schema.js';
import type { TrainCallback } from './callbacks.js';
import type { EvaluationResult } from './evaluate.js';
import { type LrScheduleConfig, validateLrSchedule } from './schedules.js';
import type { RunStore } from './store.js';

/** Batch options of the training split that the loop forwards to {@link Dataset.batches}. */
export interface TrainDataOptions {
  readonly layout?: BatchOptions['layout'];
  readonly labels?: BatchOptions['labels'];
  /** Use only the first `limit` training samples. */
  readonly limit?: number;
  /** @default false */
  readonly dropLast?: boolean;
}

/** When and on what to evaluate during training. */
export interface ValidationOptions {
  /** @default 'validation' */
  readonly split?: 'validation' | 'test';
  /** Evaluate every this many epochs (and after the last). @default 1 */
  readonly everyEpochs?: number;
  /** @default 256 */
  readonly batchSize?: number;
  /** Evaluate only the first `limit` samples. */
  readonly limit?: number;
}

/** Checkpoint cadence. */
export interface CheckpointOptions {
  /** Also checkpoint every this many steps (0 = only at epoch ends). @default 0 */
  readonly everySteps?: number;
  /** Checkpoint every this many epochs (the end of training is always checkpointed). @default 1 */
  readonly everyEpochs?: number;
  /** Checkpoint directories kept. @default 2 */
  readonly keep?: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /**
   * The network to train. The loop may replace it (pruner compaction, or a
   * resumed run whose checkpointed spec differs); every network it replaces,
   * this one included, is disposed by the loop. Use {@link TrainResult.net}.
   * When `train` throws, networks the loop built are disposed and this one is
   * left to the caller (`Network.dispose` is idempotent).
   */
  readonly net: Network;
  readonly dataset: Dataset;
  /** The objectives f_1..f_m. The first is the data objective {@link PrepareContext.dataGradients} refers to. */
  readonly objectives: readonly Objective[];
  /** The one solver that turns the objectives into an update. */
  readonly solver: Solver;
  /**
   * Pruners, called in order. Each gets its own persistent random stream, the
   * `rng` of every `afterStep`/`afterEpoch` context; a resumed run hands them a
   * new stream object continuing the checkpointed state, so pruners must draw
   * from the context's `rng`, not keep the one `init` received.
   * @default []
   */
  readonly pruners?: readonly Pruner[];
  /** Epochs to train (≥ 1). */
  readonly epochs: number;
  /**
   * Training batch size (integer ≥ 1), or a function of the epoch giving it — a
   * growing-batch schedule such as `growingBatchSchedule` of @moprune/solvers
   * (Liu & Vicente's SMG). The function must be pure: a resumed run calls it again.
   */
  readonly batchSize: number | ((epoch: number) => number);
  /** The run's one seed; every random stream is forked from it by name (see {@link streamSeeds}). */
  readonly seed: number;
  /**
   * Learning-rate schedule; the loop sets `solver.learningRate` before every
   * step. Without one the loop never touches the solver's rate.
   */
  readonly lrSchedule?: LrScheduleConfig;
  /** Base rate of the schedule. @default the solver's `learningRate` when the run starts */
  readonly baseLearningRate?: number;
  readonly data?: TrainDataOptions;
  /** Periodic evaluation; `false` disables it. @default { split: 'validation', everyEpochs: 1 } when the split is non-empty */
  readonly validation?: ValidationOptions | false;
  /** Evaluate the test split once training completes. @default true */
  readonly evaluateTest?: boolean;
  /**
   * Before every evaluation (validation and test), set the BatchNorm moving statistics to the mean
   * batch statistics of this many training batches — the first of the first epoch's order — run in
   * training mode with the pruners' evaluation gates (see `recalibrateBatchNorm`). Training with
   * sampled gates leaves statistics of the randomly thinned network; this evaluates the deterministic
   * one with its own. 0 = off. @default 0
   */
  readonly recalibrateBatchNorm?: number;
  /**
   * Evaluate an exponential moving average of the trained variables — the network's trainable
   * parameters and the pruners' variables (gate parameters) — instead of their last values:
   * a ← decay·a + (1 − decay)·v after every step, a starting from the initial values. Every
   * evaluation (the epochs' validation, pruners' `ctx.evaluate`, the final figures) swaps the averages
   * in (masks applied) and the trained values back; training itself is unchanged. A run that completes
   * (or is stopped by a callback) returns the averages in its network; an interrupted one returns the
   * trained values, and its checkpoint keeps both. Averages follow physical removal (sliced like the solver's state) and
   * are checkpointed. BatchNorm's moving statistics are not averaged (they follow the trained
   * weights); `recalibrateBatchNorm` recomputes them for the averaged network before each evaluation.
   * @default off
   */
  readonly averaging?: AveragingOptions;
  /**
   * Figures computed per epoch (and every `metricsEverySteps`) and logged:
   * sparsity, nnz, FLOPs … Pruners' own `metrics()` are logged beside them as
   * `<pruner name>.<figure>`.
   */
  readonly metrics?: (net: Network) => Readonly<Record<string, number>>;
  /** Also compute `metrics` every this many steps (0 = per epoch only). @default 0 */
  readonly metricsEverySteps?: number;
  /** Write a step line to metrics.jsonl every this many steps (0 = none). @default 1 */
  readonly logEverySteps?: number;
  /**
   * Where the run's metrics log and checkpoints go. Without it nothing is kept
   * (core does no I/O); in Node, `nodeRunStore(runDir)` from `@moprune/core/node`
   * writes `runDir/metrics.jsonl` and `runDir/checkpoint/`.
   */
  readonly store?: RunStore;
  /** Checkpoint cadence (needs `store`); `false` disables checkpoints. */
  readonly checkpoint?: CheckpointOptions | false;
  /**
   * Continue from the newest valid checkpoint in the store: `true`
   * requires one (CHECKPOINT_NOT_FOUND otherwise), `'auto'` starts fresh when
   * there is none. @default false (a fresh run; an old metrics.jsonl is truncated)
   */
  readonly resume?: boolean | 'auto';
  /** Aborting stops training at the next batch boundary after writing a checkpoint. */
  readonly signal?: AbortSignal;
  /** @default [] */
  readonly callbacks?: readonly TrainCallback[];
  /**
   * Told about every checkpoint refused — while resuming (it does not verify, or does not fit this
   * run) or while applying retention. Each is quarantined (renamed `corrupt-ckpt-…`) and logged to
   * metrics.jsonl as `{"type":"checkpoint","event":"corrupt",…}`; training goes on from the newest valid one.
   */
  readonly onCheckpointCorrupt?: (error: CoreError) => void;
}

/** One epoch's figures as recorded in the history (JSON). */
export interface EpochRecord {
  readonly epoch: number;
  readonly step: number;
  readonly learningRate: number;
  readonly train: Readonly<Record<string, number>>;
  /**
   * The solver's per-step weights (SMGD's c, a weighted sum's λ …) averaged over
   * the epoch's steps — the per-epoch figure Keras's logger reports for a metric.
   * Absent when the solver reports no weights.
   */
  readonly weights?: readonly number[];
  readonly validation?: Omit<EvaluationResult, 'split'> & { readonly split: string };
  readonly metrics: Readonly<Record<string, number>>;
  readonly timeMs: number;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** The final network (possibly a replacement of the one passed in). */
  readonly net: Network;
  /** Epochs fully completed. */
  readonly epochsCompleted: number;
  /** Global steps completed. */
  readonly steps: number;
  /** True when the abort signal stopped the run (a checkpoint was written first). */
  readonly interrupted: boolean;
  /** True when a callback returned `'stop'`. */
  readonly stoppedEarly: boolean;
  /** The checkpoint the run resumed from, if any. */
  readonly resumedFrom?: { readonly path: string; readonly step: number };
  /** Per-epoch figures, previous sessions included. */
  readonly history: readonly EpochRecord[];
  /** Final validation figures (absent when interrupted or disabled). */
  readonly validation?: EvaluationResult;
  /** Final test figures (absent when interrupted, disabled or the split is empty). */
  readonly test?: EvaluationResult;
  /** Wall time of all sessions of the run (ms). */
  readonly wallTimeMs: number;
}

/** Seeds of the named random streams of a run, all derived from its one seed. */
export interface StreamSeeds {
  /** Network initialization (createNetwork's seed). */
  readonly init: number;
  /** Dataset shuffle (the `seed` of {@link Dataset.batches}). */
  readonly shuffle: number;
  /** Root of the per-step dropout streams. */
  readonly dropout: RngState;
  /** Root of the per-step gate-sampling streams. */
  readonly gates: RngState;
}

/**
 * The named streams of a run. Dropout and gate samples of step k come from
 * `fork('step:k')` of their root, so they depend on (seed, k) only and a
 * resumed run needs no state for them; every solver pass of one step sees the
 * same dropout masks and gate samples. Pruners get persistent streams
 * `fork('pruner:<i>:<name>')` whose states are checkpointed.
 */
export function streamSeeds(seed: number): StreamSeeds {
  const root = Rng.fromSeed(seed);
  return {
    init: root.fork('init').nextU32(),
    shuffle: root.fork('shuffle').nextU32(),
    dropout: root.fork('dropout').state(),
    gates: root.fork('gates').state(),
  };
}

/** Unique keys for named components (objectives, pruners): their names, `#i`-suffixed where names repeat. */
export function objectiveKeys(items: readonly { readonly name: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const o of items) counts.set(o.name, (counts.get(o.name) ?? 0) + 1);
  return items.map((o, i) => ((counts.get(o.name) ?? 0) > 1 ? `${o.name}#${i}` : o.name));
}

const count = (min: number) => integer({ min }).optional();

/** The schema of {@link TrainOptions.validation} as JSON: `false` or `{ split?, everyEpochs?, batchSize?, limit? }`. */
export const validationOptionsSchema = anyOf(
  literal(false),
  object({
    split: oneOf(['validation', 'test'] as const).optional(),
    everyEpochs: count(1),
    batchSize: count(1),
    limit: count(1),
  }),
).optional();

/** The schema of {@link TrainOptions.checkpoint} as JSON: `false` or `{ everySteps?, everyEpochs?, keep? }`. */
export const checkpointOptionsSchema = anyOf(
  literal(false),
  object({ everySteps: count(0), everyEpochs: count(1), keep: count(1) }),
).optional();

/** {@link TrainOptions.averaging}. */
export interface AveragingOptions {
  /** β of a ← β·a + (1 − β)·v, in (0, 1); e.g. 0.999 (the L0-regularization reference code's). */
  readonly decay: number;
}

/** The schema of {@link TrainOptions.averaging} as JSON: `{ decay }` with decay in (0, 1). */
export const averagingOptionsSchema = object({
  decay: number({ gt: 0, lt: 1 }),
}).optional();

/** The plain fields of {@link TrainOptions} (the rest are objects and functions, checked below). */
const trainNumbers = {
  epochs: integer({ min: 1 }),
  batchSize: integer({ min: 1 }),
  seed: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  baseLearningRate: number({ min: 0 }).optional(),
  logEverySteps: count(0),
  metricsEverySteps: count(0),
  recalibrateBatchNorm: count(0),
} as const;

/**
 * Checks every option of {@link train} before any work.
 * @throws CoreError `INVALID_CONFIG` listing every problem.
 */
export function validateTrainOptions(o: TrainOptions): void {
  const issues: Issue[] = [];
  const rec = o as unknown as Record<string, unknown>;
  for (const [key, schema] of Object.entries(trainNumbers)) {
    // A batch size may also be a function of the epoch, checked on every epoch below.
    if (key !== 'batchSize' || typeof o.batchSize !== 'function')
      issues.push(...schema.issues(rec[key], key));
  }
  if (typeof o.batchSize === 'function') {
    for (let e = 0; e < (Number.isInteger(o.epochs) ? o.epochs : 0); e++) {
      const b = o.batchSize(e);
      if (!Number.isInteger(b) || b < 1) {
        issues.push({
          path: 'batchSize',
          message: `the batch size of epoch ${e} must be an integer ≥ 1, got ${b}`,
        });
        break;
      }
    }
  }
  issues.push(...validationOptionsSchema.issues(o.validation, 'validation'));
  issues.push(...checkpointOptionsSchema.issues(o.checkpoint, 'checkpoint'));
  issues.push(...averagingOptionsSchema.issues(o.averaging, 'averaging'));
  if (o.lrSchedule !== undefined) issues.push(...validateLrSchedule(o.lrSchedule, 'lrSchedule'));
  if (o.objectives.length === 0)
    issues.push({ path: 'objectives', message: 'at least one objective is needed' });
  if (o.resume && o.store === undefined) issues.push({ path: 'resume', message: 'resuming needs a store' });
  const names = new Set<string>();
  for (const [i, cb] of (o.callbacks ?? []).entries()) {
    if (names.has(cb.name))
      issues.push({ path: `callbacks[${i}].name`, message: `duplicate callback name '${cb.name}'` });
    names.add(cb.name);
  }
  throwIfIssues('training options', issues);
}

/**
 * The batch fields of {@link TrainDataOptions} that are set, as {@link BatchOptions} fields — one copy
 * for the training batches, the evaluation batches and the experiment's config.
 */
export function dataBatchFields(
  data: TrainDataOptions | undefined,
  fields: readonly (keyof TrainDataOptions)[] = ['layout', 'labels', 'limit', 'dropLast'],
): Partial<Pick<BatchOptions, 'layout' | 'labels' | 'limit' | 'dropLast'>> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (data?.[f] !== undefined) out[f] = data[f];
  return out as Partial<Pick<BatchOptions, 'layout' | 'labels' | 'limit' | 'dropLast'>>;
}
