import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { assertBackend } from '../backend-check.js';
import { CoreError, formatIssues, type Issue } from '../errors.js';
import type { Objective, Pruner, Solver } from '../interfaces.js';
import type { JsonObject, JsonValue } from '../json.js';
import { createNetwork, networkMetrics } from '../network/index.js';
import type { Network } from '../network-types.js';
import { registries } from '../registry.js';
import type { NetworkSpec } from '../spec.js';
import { writeJsonAtomic } from './atomic.js';
import {
  type EarlyStoppingOptions,
  earlyStopping,
  type KeepBestOptions,
  keepBest,
  type TrainCallback,
} from './callbacks.js';
import { type EvaluationResult, evaluateNetwork, type GateValues } from './evaluate.js';
import {
  type CheckpointOptions,
  checkCheckpointOptions,
  checkValidationOptions,
  type EpochRecord,
  streamSeeds,
  type TrainResult,
  train,
  type ValidationOptions,
} from './loop.js';
import { lockRunDir, type RunLockHolder } from './run-lock.js';
import { type LrScheduleConfig, validateLrSchedule } from './schedules.js';
import { loadNetworkSnapshot } from './snapshot.js';
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

const MONITOR_RE = /^(validation\.loss|validation\.accuracy|(validation\.objectives|train|metrics)\.\S+)$/;
const MONITOR_HELP =
  "must be 'validation.loss', 'validation.accuracy', 'validation.objectives.<name>', 'train.<objective>' or 'metrics.<name>'";

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

/** The network of a snapshot directory, which must hold a network over `spec`. */
function initialNetwork(dir: string, spec: NetworkSpec): Network {
  const snap = loadNetworkSnapshot(dir);
  if (snap === undefined) {
    throw new CoreError('CHECKPOINT_NOT_FOUND', `training.initFrom: no network snapshot in ${dir}`, {
      details: { file: dir },
    });
  }
  if (JSON.stringify(snap.net.spec) !== JSON.stringify(spec)) {
    snap.net.dispose();
    throw new CoreError(
      'INVALID_CONFIG',
      `training.initFrom: the snapshot in ${dir} holds network '${snap.net.spec.name}', not the one the model config builds ('${spec.name}')`,
      {
        issues: [{ path: 'training.initFrom', message: 'holds another network than the model config' }],
        details: { file: dir },
      },
    );
  }
  return snap.net;
}

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** The run directory: config.json, metrics.jsonl, result.json and checkpoint/ are written here and nowhere else. */
  readonly runDir: string;
  /**
   * Continue from the run directory's checkpoint (`'auto'`: if there is one).
   * A resumed run must have the same config as the directory's config.json.
   * @default false
   */
  readonly resume?: boolean | 'auto';
  readonly signal?: AbortSignal;
  /** Directory of user-supplied data, for dataset factories. */
  readonly dataDir?: string;
  /** Directory for built data caches. */
  readonly cacheDir?: string;
  /** More callbacks (progress bars …). */
  readonly callbacks?: readonly TrainCallback[];
  /** Figures logged per epoch. @default {@link defaultMetrics} */
  readonly metrics?: (net: Network) => Readonly<Record<string, number>>;
  /** Return the final network (the caller disposes it) instead of disposing it. @default false */
  readonly keepNetwork?: boolean;
  /** Told about every refused checkpoint (see `TrainOptions.onCheckpointCorrupt`). */
  readonly onCheckpointCorrupt?: (error: CoreError) => void;
  /** Told when the run directory's lock was left by a process that is gone and is taken over. */
  readonly onStaleLock?: (holder: RunLockHolder, why: string) => void;
}

/** Final figures of a run: what result.json holds. */
export interface ExperimentSummary {
  readonly name: string | null;
  /** `completed`, `stopped` (early stopping), `interrupted` (abort signal; resumable) or `failed`. */
  readonly status: 'completed' | 'stopped' | 'interrupted' | 'failed';
  readonly steps: number;
  readonly epochsCompleted: number;
  readonly wallTimeMs: number;
  readonly resumedFromStep: number | null;
  readonly validation: JsonObject | null;
  readonly test: JsonObject | null;
  /** Network figures at the end ({@link defaultMetrics} or the caller's). */
  readonly metrics: Readonly<Record<string, number>>;
  /** The resolved component configs (defaults filled in by each component). */
  readonly components: JsonObject;
  readonly history: readonly EpochRecord[];
  /** The error of a failed run: code, message, details. */
  readonly error: JsonObject | null;
  /**
   * The kept best epoch (with `training.keepBest`): its epoch, step, monitored
   * value, validation and test figures and network metrics; null when no epoch qualified.
   */
  readonly best: JsonObject | null;
  /** Where the last session ran: tfjs backend and versions (runs on different backends differ in the last bits). */
  readonly environment: { readonly backend: string; readonly tfjsCore: string; readonly node: string };
}

/** What {@link runExperiment} returns. */
export interface ExperimentRun {
  readonly summary: ExperimentSummary;
  /** Only with `keepNetwork: true`. */
  readonly net?: Network;
}

const evalJson = (e: EvaluationResult | undefined): JsonObject | null =>
  e === undefined
    ? null
    : {
        split: e.split,
        samples: e.samples,
        accuracy: [...e.accuracy],
        loss: [...e.loss],
        objectives: { ...e.objectives },
      };

/**
 * Runs one experiment from its JSON config: validates everything first (one
 * `INVALID_CONFIG` error listing every problem, before any work or file),
 * writes `config.json`, builds dataset, model (`createNetwork` with the seed's
 * `init` stream), objectives, solver and pruners through {@link registries},
 * trains with {@link train}, and writes `result.json` — also for interrupted
 * and failed (non-finite) runs, so a sweep runner can read every outcome. All
 * files are written atomically and only inside `runDir`; any worker can resume
 * a run from its directory alone (see {@link resumeExperiment}).
 */
export async function runExperiment(config: unknown, options: RunExperimentOptions): Promise<ExperimentRun> {
  assertExperimentConfig(config);
  assertBackend('runExperiment');
  const { runDir } = options;
  const initFrom = config.training.initFrom;
  if (initFrom !== undefined && !existsSync(initFrom)) {
    throw new CoreError('CHECKPOINT_NOT_FOUND', `training.initFrom: no network snapshot at ${initFrom}`, {
      details: { file: initFrom },
    });
  }
  const configPath = join(runDir, 'config.json');
  const resultPath = join(runDir, 'result.json');
  if (options.resume && existsSync(configPath)) {
    const saved = JSON.parse(readFileSync(configPath, 'utf8')) as JsonValue;
    if (JSON.stringify(saved) !== JSON.stringify(config)) {
      throw new CoreError(
        'INVALID_CONFIG',
        `${configPath} holds a different config; a resumed run must keep its config`,
        {
          issues: [{ path: '', message: `differs from ${configPath}` }],
          details: { file: configPath },
        },
      );
    }
  }
  makeRunDir(runDir);
  // One writer per run directory: a second one (another `--resume` of the same run) refuses.
  const lock = lockRunDir(runDir, options.onStaleLock === undefined ? {} : { onStale: options.onStaleLock });
  try {
    return await runLocked(config, options, configPath, resultPath);
  } finally {
    lock.release();
  }
}

/** Creates the run directory. @throws CoreError `NOT_WRITABLE` naming it (a parent is a file, no permission). */
function makeRunDir(runDir: string): void {
  try {
    mkdirSync(runDir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a part of the path is a file, not a directory'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'permission denied'
          : (e as Error).message;
    throw new CoreError('NOT_WRITABLE', `cannot create the run directory ${runDir}: ${why} (${code})`, {
      cause: e,
      details: { file: runDir, errno: code },
    });
  }
}

async function runLocked(
  config: ExperimentConfig,
  options: RunExperimentOptions,
  configPath: string,
  resultPath: string,
): Promise<ExperimentRun> {
  const { runDir } = options;
  const initFrom = config.training.initFrom;
  // What was there before this call: a failure before the first step leaves it as it was.
  const hadRun = existsSync(configPath);
  const hadResult = options.resume === true || options.resume === 'auto' ? existsSync(resultPath) : false;
  const r = registries();
  const t = config.training;
  // Data and model first: a missing data set fails before anything is written into the run directory.
  const dataset = await r.datasets.create(config.dataset, {
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
  });
  const spec = r.models.create(config.model, {
    inputShape: dataset.info.inputShape,
    classes: dataset.info.classes,
  });
  writeJsonAtomic(configPath, config);
  // result.json describes a finished session: a fresh run removes an old one; a resumed run keeps
  // it until this session ends (a resume that fails before its first step leaves it as it was).
  if (!options.resume) rmSync(resultPath, { force: true });
  const objectives: Objective[] = [];
  const pruners: Pruner[] = [];
  let solver: Solver | undefined;
  let net: Network | undefined;
  let finalNet: Network | undefined;
  const metricsFn = options.metrics ?? defaultMetrics;
  const summaryBase = () => ({
    name: config.name ?? null,
    environment: { backend: tf.getBackend(), tfjsCore: tf.version_core, node: process.version },
    components: {
      model: config.model,
      dataset: config.dataset,
      objectives: objectives.map((o) => o.config),
      solver: solver?.config ?? config.solver,
      pruners: pruners.map((p) => p.config),
    } as JsonObject,
  });
  try {
    net =
      initFrom === undefined
        ? createNetwork(spec, { seed: streamSeeds(t.seed).init })
        : initialNetwork(initFrom, spec);
    for (const c of config.objectives) objectives.push(r.objectives.create(c, undefined));
    solver = r.solvers.create(config.solver, undefined);
    for (const c of config.pruners ?? []) pruners.push(r.pruners.create(c, undefined));
    const best =
      t.keepBest === undefined ? undefined : keepBest({ ...t.keepBest, dir: join(runDir, 'best') });
    let stepped = false;
    const callbacks: TrainCallback[] = [
      {
        name: 'moprune-first-step',
        onStepEnd: () => {
          stepped = true;
          return undefined;
        },
      },
      ...(t.earlyStopping === undefined ? [] : [earlyStopping(t.earlyStopping)]),
      ...(best === undefined ? [] : [best]),
      ...(options.callbacks ?? []),
    ];
    let result: TrainResult;
    try {
      result = await train({
        net,
        dataset,
        objectives,
        solver,
        pruners,
        epochs: t.epochs,
        batchSize: t.batchSize,
        seed: t.seed,
        ...(t.lrSchedule === undefined ? {} : { lrSchedule: t.lrSchedule }),
        data: {
          ...(t.layout === undefined ? {} : { layout: t.layout }),
          ...(t.labels === undefined ? {} : { labels: t.labels }),
          ...(t.limit === undefined ? {} : { limit: t.limit }),
          ...(t.dropLast === undefined ? {} : { dropLast: t.dropLast }),
        },
        ...(t.validation === undefined ? {} : { validation: t.validation }),
        ...(t.evaluateTest === undefined ? {} : { evaluateTest: t.evaluateTest }),
        ...(t.checkpoint === undefined ? {} : { checkpoint: t.checkpoint }),
        ...(t.logEverySteps === undefined ? {} : { logEverySteps: t.logEverySteps }),
        ...(t.metricsEverySteps === undefined ? {} : { metricsEverySteps: t.metricsEverySteps }),
        metrics: metricsFn,
        runDir,
        ...(options.resume === undefined ? {} : { resume: options.resume }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.onCheckpointCorrupt === undefined
          ? {}
          : { onCheckpointCorrupt: options.onCheckpointCorrupt }),
        callbacks,
      });
    } catch (e) {
      if (!stepped) {
        // Failed before its first step: a resumed run's result.json stays as it was; a run directory
        // that held no run gets nothing that would block a plain rerun.
        if (!hadResult && !hadRun) {
          for (const f of ['config.json', 'result.json', 'metrics.jsonl', 'checkpoint', 'best']) {
            rmSync(join(runDir, f), { recursive: true, force: true });
          }
        }
        if (hadResult || !hadRun) throw e;
      }
      // A failed run's summary still goes to result.json (the finally below disposes `net`).
      const err = e as { code?: unknown; message?: unknown; details?: unknown };
      writeJsonAtomic(join(runDir, 'result.json'), {
        ...summaryBase(),
        status: 'failed',
        steps:
          typeof (err.details as { step?: unknown })?.step === 'number'
            ? (err.details as { step: number }).step
            : 0,
        epochsCompleted: 0,
        wallTimeMs: 0,
        resumedFromStep: null,
        validation: null,
        test: null,
        metrics: {},
        history: [],
        best: null,
        error: {
          code: typeof err.code === 'string' ? err.code : 'UNKNOWN',
          message: String(err.message ?? e),
          details: (err.details ?? {}) as JsonObject,
        },
      } satisfies ExperimentSummary);
      throw e;
    }
    finalNet = result.net;
    net = undefined;
    const evaluateOptions = {
      pruners,
      objectives,
      ...(t.layout === undefined ? {} : { layout: t.layout }),
      ...(t.labels === undefined ? {} : { labels: t.labels }),
    };
    // The snapshot on disk must be the kept epoch (a best/ directory of an earlier run in runDir is ignored).
    const bestFigures = (epoch: number): JsonObject | null => {
      if (epoch < 0) return null;
      const snap = loadNetworkSnapshot(join(runDir, 'best'));
      if (snap === undefined || snap.extra.epoch !== epoch) return null;
      try {
        const figures = (split: 'validation' | 'test') =>
          dataset.info.sizes[split] > 0
            ? evalJson(
                evaluateNetwork(snap.net, dataset, split, {
                  ...evaluateOptions,
                  pruners: [],
                  gates: (snap.extra.gates ?? {}) as unknown as Record<string, GateValues>,
                }),
              )
            : null;
        return {
          ...snap.extra,
          step: snap.step,
          validation: figures('validation'),
          test: figures('test'),
          metrics: { ...metricsFn(snap.net) },
        };
      } finally {
        snap.net.dispose();
      }
    };
    const summary: ExperimentSummary = {
      ...summaryBase(),
      status: result.interrupted ? 'interrupted' : result.stoppedEarly ? 'stopped' : 'completed',
      steps: result.steps,
      epochsCompleted: result.epochsCompleted,
      wallTimeMs: result.wallTimeMs,
      resumedFromStep: result.resumedFrom?.step ?? null,
      validation: evalJson(result.validation),
      test: evalJson(result.test),
      metrics: { ...metricsFn(finalNet) },
      history: result.history,
      error: null,
      best: best === undefined || result.interrupted ? null : bestFigures(best.bestEpoch),
    };
    writeJsonAtomic(join(runDir, 'result.json'), summary);
    const keep = options.keepNetwork === true;
    const out: ExperimentRun = keep ? { summary, net: finalNet } : { summary };
    if (keep) finalNet = undefined;
    return out;
  } finally {
    finalNet?.dispose();
    net?.dispose();
    solver?.dispose();
    for (const o of objectives) o.dispose?.();
    for (const p of pruners) p.dispose?.();
  }
}

/**
 * Resumes (or, without a checkpoint, starts) the run in `runDir` from its
 * `config.json` alone — what a sweep worker does with a run it is handed.
 * @throws CoreError `CHECKPOINT_NOT_FOUND` when `runDir` has no config.json.
 */
export async function resumeExperiment(
  runDir: string,
  options: Omit<RunExperimentOptions, 'runDir' | 'resume'> = {},
): Promise<ExperimentRun> {
  const configPath = join(runDir, 'config.json');
  if (!existsSync(configPath)) {
    throw new CoreError('CHECKPOINT_NOT_FOUND', `no config.json in ${runDir}`, {
      details: { file: configPath },
    });
  }
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new CoreError('INVALID_CONFIG', `${configPath} is not valid JSON`, {
      cause: e,
      issues: [{ path: '', message: `${configPath} is not valid JSON` }],
      details: { file: configPath },
    });
  }
  return runExperiment(config, { ...options, runDir, resume: 'auto' });
}
