// The options of `train` checked once and resolved into the plan every part of the loop reads.
import { CoreError } from '../errors.js';
import type { BatchOptions, Dataset, Objective, Pruner, Solver } from '../interfaces.js';
import { Rng } from '../rng.js';
import type { TrainCallback } from './callbacks.js';
import {
  type CheckpointOptions,
  dataBatchFields,
  objectiveKeys,
  streamSeeds,
  type TrainOptions,
  type ValidationOptions,
  validateTrainOptions,
} from './options.js';
import type { LrScheduleConfig } from './schedules.js';
import type { RunStore } from './store.js';

/** {@link TrainOptions} resolved: defaults applied, per-epoch batch counts known, streams seeded. */
export interface TrainPlan {
  readonly options: TrainOptions;
  readonly dataset: Dataset;
  readonly objectives: readonly Objective[];
  readonly solver: Solver;
  readonly pruners: readonly Pruner[];
  readonly callbacks: readonly TrainCallback[];
  readonly epochs: number;
  readonly seed: number;
  readonly signal: AbortSignal | undefined;
  /** Unique keys of the objectives (metrics.jsonl, {@link StepInfo.values}). */
  readonly keys: readonly string[];
  /** Unique keys of the pruners (`<pruner>.<figure>` metrics, pruner log lines). */
  readonly prunerKeys: readonly string[];
  /** Roots of the per-step dropout and gate-sampling streams. */
  readonly dropoutRoot: Rng;
  readonly gatesRoot: Rng;
  /** Training batches per epoch, and their sum. */
  readonly batchCounts: readonly number[];
  readonly totalSteps: number;
  /** Periodic evaluation (undefined when disabled); `validationOn` when its split is non-empty too. */
  readonly validation: Required<ValidationOptions> | undefined;
  readonly validationOn: boolean;
  /** Checkpoint cadence (undefined: no checkpoints — disabled, or no store). */
  readonly checkpoint: Required<CheckpointOptions> | undefined;
  readonly store: RunStore | undefined;
  readonly logEvery: number;
  readonly metricsEvery: number;
  readonly lrSchedule: LrScheduleConfig | undefined;
  readonly evaluateTest: boolean;
  /** Training batches whose statistics the BatchNorms take before an evaluation (0: off). */
  readonly recalibrateBatches: number;
  /** The options of the training batches of `epoch`. */
  trainBatchOptions(epoch: number): BatchOptions;
}

/**
 * Checks `options` (every problem listed, before any work) and resolves them into a {@link TrainPlan}.
 * @throws CoreError `INVALID_CONFIG` for bad options, or when an epoch would have no training batch.
 */
export function planTraining(options: TrainOptions): TrainPlan {
  validateTrainOptions(options);
  const { dataset, epochs, batchSize, seed } = options;
  const seeds = streamSeeds(seed);
  const trainBatchOptions = (epoch: number): BatchOptions => ({
    batchSize: typeof batchSize === 'function' ? batchSize(epoch) : batchSize,
    seed: seeds.shuffle,
    epoch,
    shuffle: true,
    ...dataBatchFields(options.data),
  });
  const batchCounts = Array.from({ length: epochs }, (_, e) =>
    dataset.batchCount('train', trainBatchOptions(e)),
  );
  const emptyEpoch = batchCounts.indexOf(0);
  if (emptyEpoch >= 0) {
    throw new CoreError(
      'INVALID_CONFIG',
      `dataset '${dataset.info.name}' yields no training batch in epoch ${emptyEpoch}`,
      { issues: [{ path: 'batchSize', message: 'no training batch with these options' }] },
    );
  }
  const validation = resolveValidation(options.validation);
  const store = options.store;
  const pruners = options.pruners ?? [];
  return {
    options,
    dataset,
    objectives: options.objectives,
    solver: options.solver,
    pruners,
    callbacks: options.callbacks ?? [],
    epochs,
    seed,
    signal: options.signal,
    keys: objectiveKeys(options.objectives),
    prunerKeys: objectiveKeys(pruners),
    dropoutRoot: Rng.fromState(seeds.dropout),
    gatesRoot: Rng.fromState(seeds.gates),
    batchCounts,
    totalSteps: batchCounts.reduce((a, b) => a + b, 0),
    validation,
    validationOn: validation !== undefined && dataset.info.sizes[validation.split] > 0,
    checkpoint: resolveCheckpoint(store, options.checkpoint),
    store,
    logEvery: options.logEverySteps ?? 1,
    metricsEvery: options.metricsEverySteps ?? 0,
    lrSchedule: options.lrSchedule,
    evaluateTest: options.evaluateTest ?? true,
    recalibrateBatches: options.recalibrateBatchNorm ?? 0,
    trainBatchOptions,
  };
}

function resolveValidation(v: TrainOptions['validation']): Required<ValidationOptions> | undefined {
  if (v === false) return undefined;
  return {
    split: v?.split ?? 'validation',
    everyEpochs: v?.everyEpochs ?? 1,
    batchSize: v?.batchSize ?? 256,
    limit: v?.limit ?? Number.MAX_SAFE_INTEGER,
  };
}

function resolveCheckpoint(
  store: RunStore | undefined,
  c: TrainOptions['checkpoint'],
): Required<CheckpointOptions> | undefined {
  if (store === undefined || c === false) return undefined;
  return { everySteps: c?.everySteps ?? 0, everyEpochs: c?.everyEpochs ?? 1, keep: c?.keep ?? 2 };
}
