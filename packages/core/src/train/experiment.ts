import { CoreError, formatIssues, type Issue } from '../errors.js';
import type { JsonObject } from '../json.js';
import { networkMetrics } from '../network/index.js';
import type { Network } from '../network-types.js';
import { component } from '../registry.js';
import { array, boolean, integer, isJsonObject, json, number, object, oneOf, string } from '../schema.js';
import { type EarlyStoppingOptions, type KeepBestOptions, keepBest } from './callbacks.js';
import {
  type AveragingOptions,
  averagingOptionsSchema,
  type CheckpointOptions,
  checkpointOptionsSchema,
  type ValidationOptions,
  validationOptionsSchema,
} from './options.js';
import { type LrScheduleConfig, lrScheduleSchema } from './schedules.js';

/** The `training` section of an experiment config. */
export interface TrainingConfig {
  /** Epochs (integer ≥ 1). */
  readonly epochs: number;
  /** Training batch size (integer ≥ 1). */
  readonly batchSize: number;
  /** The run's one seed (integer ≥ 0): network init, shuffle, dropout, gates and pruners all derive from it. */
  readonly seed: number;
  /** @default constant */
  readonly lrSchedule?: LrScheduleConfig;
  /** Periodic evaluation; `false` turns it off. @default { split: 'validation', everyEpochs: 1 } */
  readonly validation?: ValidationOptions | false;
  /** Evaluate the test split at the end. @default true */
  readonly evaluateTest?: boolean;
  /** BatchNorm statistics recomputed from this many training batches before every evaluation (see `TrainOptions.recalibrateBatchNorm`). @default 0 (off) */
  readonly recalibrateBatchNorm?: number;
  /** Evaluate an exponential moving average of the trained variables (see `TrainOptions.averaging`). @default off */
  readonly averaging?: AveragingOptions;
  /** Checkpoint cadence; `false` turns checkpoints off. @default { everyEpochs: 1, keep: 2 } */
  readonly checkpoint?: CheckpointOptions | false;
  /** @default 1 */
  readonly logEverySteps?: number;
  /** Also log network metrics every this many steps. @default 0 (per epoch only) */
  readonly metricsEverySteps?: number;
  /** Input layout the dataset yields. @default 'image' */
  readonly layout?: 'image' | 'flat';
  /** Label format. @default 'sparse' */
  readonly labels?: 'sparse' | 'onehot';
  /** Train on the first `limit` training samples only. */
  readonly limit?: number;
  /** @default false */
  readonly dropLast?: boolean;
  /** Patience-based early stopping. */
  readonly earlyStopping?: EarlyStoppingOptions;
  /**
   * Start from the weights and masks of a network snapshot (a directory
   * written by `saveNetworkSnapshot`, e.g. a pretraining run's `best/`)
   * instead of a fresh initialization — a pretrained dense model to prune.
   * Its spec must equal the one the model config builds. A relative path is
   * resolved against the working directory.
   */
  readonly initFrom?: string;
  /**
   * Keep a snapshot of the best epoch in `<runDir>/best` (see {@link keepBest});
   * result.json then reports its validation and test figures under `best`.
   */
  readonly keepBest?: Omit<KeepBestOptions, 'dir'>;
}

/**
 * A whole experiment as JSON: every component is a registry config
 * (`{ type, … }`), so a run is fully described by this document.
 */
export interface ExperimentConfig {
  /** Free-form name, copied to result.json. */
  readonly name?: string;
  readonly model: JsonObject;
  readonly dataset: JsonObject;
  readonly objectives: readonly JsonObject[];
  /** The one solver; its optimizer config lives inside it (e.g. `solver.optimizer`). */
  readonly solver: JsonObject;
  /** @default [] */
  readonly pruners?: readonly JsonObject[];
  readonly training: TrainingConfig;
}

const MONITOR_RE = /^(validation\.(loss|accuracy)(\.\d+)?|(validation\.objectives|train|metrics)\.\S+)$/;
const MONITOR_HELP =
  "must be 'validation.loss', 'validation.accuracy', 'validation.loss.<task>', 'validation.accuracy.<task>', 'validation.objectives.<name>', 'train.<objective>' or 'metrics.<name>'";

/** A monitored figure's name (`validation.accuracy`, `metrics.sparsity` …). */
const monitor = () =>
  string({ pattern: { regex: MONITOR_RE, message: MONITOR_HELP } }).describe('a monitored figure');
const minMax = () => oneOf(['min', 'max'] as const).optional();
const count = (min: number) => integer({ min }).optional();

/** The schema of the `training` section of an experiment config ({@link TrainingConfig}). */
export const trainingConfigSchema = object({
  epochs: integer({ min: 1 }),
  batchSize: integer({ min: 1 }),
  seed: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  lrSchedule: lrScheduleSchema.optional(),
  validation: validationOptionsSchema,
  evaluateTest: boolean().optional(),
  recalibrateBatchNorm: count(0),
  averaging: averagingOptionsSchema,
  checkpoint: checkpointOptionsSchema,
  logEverySteps: count(0),
  metricsEverySteps: count(0),
  layout: oneOf(['image', 'flat'] as const).optional(),
  labels: oneOf(['sparse', 'onehot'] as const).optional(),
  limit: count(1),
  dropLast: boolean().optional(),
  earlyStopping: object({
    monitor: monitor().optional(),
    mode: minMax(),
    patience: integer({ min: 1 }),
    minDelta: number({ min: 0 }).optional(),
  }).optional(),
  keepBest: object({
    monitor: monitor().optional(),
    mode: minMax(),
    require: array(
      object({ monitor: monitor(), min: number().optional(), max: number().optional() }),
    ).optional(),
  }).optional(),
  initFrom: string().describe('a path of a network snapshot').optional(),
});

/**
 * The schema of a whole experiment config ({@link ExperimentConfig}): the
 * document's shape, the training section, and each component through its
 * registry (so unknown `type` names list the registered ones).
 */
export const experimentConfigSchema = object({
  name: string({ allowEmpty: true }).optional(),
  /** Free-form notes. */
  description: json().optional(),
  model: component('model'),
  dataset: component('dataset'),
  solver: component('solver'),
  objectives: array(component('objective'), { minLength: 1 }),
  pruners: array(component('pruner')).optional(),
  training: trainingConfigSchema,
});

/**
 * Every problem with an experiment config, each with a dotted path
 * (`solver.optimizer.lr`, `objectives[1].type`, `training.epochs`): the
 * document's shape, the training section, and each component through its
 * registry's `validate` (unknown `type` names included). Empty when valid.
 * Components must be registered first (import their packages' `register`).
 */
export function validateExperimentConfig(config: unknown): Issue[] {
  if (!isJsonObject(config)) return [{ path: '', message: 'an experiment config must be a JSON object' }];
  return experimentConfigSchema.issues(config);
}

/**
 * Throws one `INVALID_CONFIG` error listing every problem of
 * {@link validateExperimentConfig}, and otherwise narrows the type.
 */
export function assertExperimentConfig(config: unknown): asserts config is ExperimentConfig {
  const issues = validateExperimentConfig(config);
  if (issues.length > 0) {
    throw new CoreError('INVALID_CONFIG', `invalid experiment config:\n${formatIssues(issues)}`, { issues });
  }
}

/**
 * The default figures logged per epoch: parameter and MAC counts of the
 * network as built, of its non-zero entries, and of its compacted form;
 * `sparsity` = 1 − nonzero/dense parameters; `nonzero.<node>` per node.
 */
export function defaultMetrics(net: Network): Record<string, number> {
  const m = networkMetrics(net);
  const out: Record<string, number> = {
    params: m.dense.params,
    macs: m.dense.macs,
    nonzeroParams: m.nonzero.params,
    nonzeroMacs: m.nonzero.macs,
    compactedParams: m.compacted.params,
    compactedMacs: m.compacted.macs,
    sparsity: m.dense.params === 0 ? 0 : 1 - m.nonzero.params / m.dense.params,
    liveLayers: m.layers.live,
  };
  for (const [node, c] of Object.entries(m.nodes)) out[`nonzero.${node}`] = c.nonzero;
  return out;
}
