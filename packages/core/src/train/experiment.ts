import { CoreError, formatIssues, type Issue } from '../errors.js';
import type { JsonObject } from '../json.js';
import { networkMetrics } from '../network/index.js';
import type { Network } from '../network-types.js';
import { registries } from '../registry.js';
import { type EarlyStoppingOptions, type KeepBestOptions, keepBest } from './callbacks.js';
import {
  type CheckpointOptions,
  checkCheckpointOptions,
  checkValidationOptions,
  type ValidationOptions,
} from './options.js';
import { type LrScheduleConfig, validateLrSchedule } from './schedules.js';
import { checkEnum, checkKnownKeys, checkNumber, isPlainObject, joinPath } from './validate.js';

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

const TOP_KEYS = ['name', 'model', 'dataset', 'objectives', 'solver', 'pruners', 'training', 'description'];
const TRAINING_KEYS = [
  'epochs',
  'batchSize',
  'seed',
  'lrSchedule',
  'validation',
  'evaluateTest',
  'checkpoint',
  'logEverySteps',
  'metricsEverySteps',
  'layout',
  'labels',
  'limit',
  'dropLast',
  'earlyStopping',
  'keepBest',
  'initFrom',
];

const MONITOR_RE = /^(validation\.(loss|accuracy)(\.\d+)?|(validation\.objectives|train|metrics)\.\S+)$/;
const MONITOR_HELP =
  "must be 'validation.loss', 'validation.accuracy', 'validation.loss.<task>', 'validation.accuracy.<task>', 'validation.objectives.<name>', 'train.<objective>' or 'metrics.<name>'";

function checkMonitor(obj: Record<string, unknown>, path: string, issues: Issue[], required = false): void {
  const m = obj.monitor;
  if (m === undefined) {
    if (required) issues.push({ path: joinPath(path, 'monitor'), message: `is required; ${MONITOR_HELP}` });
    return;
  }
  if (typeof m !== 'string' || !MONITOR_RE.test(m))
    issues.push({ path: joinPath(path, 'monitor'), message: MONITOR_HELP });
}

function validateTraining(t: unknown, path: string, issues: Issue[]): void {
  if (!isPlainObject(t)) {
    issues.push({ path, message: 'is required: an object with epochs, batchSize and seed' });
    return;
  }
  checkKnownKeys(t, TRAINING_KEYS, path, issues);
  checkNumber(t, 'epochs', path, { min: 1, integer: true }, issues);
  checkNumber(t, 'batchSize', path, { min: 1, integer: true }, issues);
  checkNumber(t, 'seed', path, { min: 0, integer: true, max: Number.MAX_SAFE_INTEGER }, issues);
  if (t.lrSchedule !== undefined)
    issues.push(...validateLrSchedule(t.lrSchedule, joinPath(path, 'lrSchedule')));
  checkEnum(t, 'evaluateTest', path, [true, false], issues);
  checkEnum(t, 'dropLast', path, [true, false], issues);
  checkEnum(t, 'layout', path, ['image', 'flat'], issues);
  checkEnum(t, 'labels', path, ['sparse', 'onehot'], issues);
  checkNumber(t, 'logEverySteps', path, { optional: true, min: 0, integer: true }, issues);
  checkNumber(t, 'metricsEverySteps', path, { optional: true, min: 0, integer: true }, issues);
  checkNumber(t, 'limit', path, { optional: true, min: 1, integer: true }, issues);
  if (t.initFrom !== undefined && (typeof t.initFrom !== 'string' || t.initFrom === ''))
    issues.push({
      path: joinPath(path, 'initFrom'),
      message: 'must be a non-empty path of a network snapshot',
    });
  checkValidationOptions(t.validation, joinPath(path, 'validation'), issues);
  checkCheckpointOptions(t.checkpoint, joinPath(path, 'checkpoint'), issues);
  if (t.earlyStopping !== undefined) {
    const p = joinPath(path, 'earlyStopping');
    if (!isPlainObject(t.earlyStopping)) {
      issues.push({ path: p, message: 'must be an object with a patience' });
    } else {
      const e = t.earlyStopping;
      checkKnownKeys(e, ['monitor', 'mode', 'patience', 'minDelta'], p, issues);
      checkNumber(e, 'patience', p, { min: 1, integer: true }, issues);
      checkNumber(e, 'minDelta', p, { optional: true, min: 0 }, issues);
      checkEnum(e, 'mode', p, ['min', 'max'], issues);
      checkMonitor(e, p, issues);
    }
  }
  if (t.keepBest !== undefined) {
    const p = joinPath(path, 'keepBest');
    if (!isPlainObject(t.keepBest)) {
      issues.push({ path: p, message: 'must be an object' });
    } else {
      const k = t.keepBest;
      checkKnownKeys(k, ['monitor', 'mode', 'require'], p, issues);
      checkEnum(k, 'mode', p, ['min', 'max'], issues);
      checkMonitor(k, p, issues);
      if (k.require !== undefined) {
        if (!Array.isArray(k.require)) {
          issues.push({
            path: joinPath(p, 'require'),
            message: 'must be an array of { monitor, min?, max? }',
          });
        } else {
          k.require.forEach((r, i) => {
            const rp = `${joinPath(p, 'require')}[${i}]`;
            if (!isPlainObject(r)) {
              issues.push({ path: rp, message: 'must be an object { monitor, min?, max? }' });
              return;
            }
            checkKnownKeys(r, ['monitor', 'min', 'max'], rp, issues);
            checkMonitor(r, rp, issues, true);
            checkNumber(r, 'min', rp, { optional: true }, issues);
            checkNumber(r, 'max', rp, { optional: true }, issues);
          });
        }
      }
    }
  }
}

/**
 * Every problem with an experiment config, each with a dotted path
 * (`solver.optimizer.lr`, `objectives[1].type`, `training.epochs`): the
 * document's shape, the training section, and each component through its
 * registry's `validate` (unknown `type` names included). Empty when valid.
 * Components must be registered first (import their packages' `register`).
 */
export function validateExperimentConfig(config: unknown): Issue[] {
  if (!isPlainObject(config)) return [{ path: '', message: 'an experiment config must be a JSON object' }];
  const issues: Issue[] = [];
  const r = registries();
  checkKnownKeys(config, TOP_KEYS, '', issues);
  if (config.name !== undefined && typeof config.name !== 'string') {
    issues.push({ path: 'name', message: 'must be a string' });
  }
  const component = (
    key: 'model' | 'dataset' | 'solver',
    registry: { validate(c: unknown, p: string): Issue[] },
  ) => {
    if (config[key] === undefined)
      issues.push({ path: key, message: `is required: a ${key} config { type, … }` });
    else issues.push(...registry.validate(config[key], key));
  };
  component('model', r.models);
  component('dataset', r.datasets);
  component('solver', r.solvers);
  if (!Array.isArray(config.objectives) || config.objectives.length === 0) {
    issues.push({ path: 'objectives', message: 'is required: a non-empty array of objective configs' });
  } else {
    config.objectives.forEach((o, i) => {
      issues.push(...r.objectives.validate(o, `objectives[${i}]`));
    });
  }
  if (config.pruners !== undefined) {
    if (!Array.isArray(config.pruners))
      issues.push({ path: 'pruners', message: 'must be an array of pruner configs' });
    else
      config.pruners.forEach((p, i) => {
        issues.push(...r.pruners.validate(p, `pruners[${i}]`));
      });
  }
  validateTraining(config.training, 'training', issues);
  return issues;
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
