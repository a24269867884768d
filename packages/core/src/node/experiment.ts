import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertBackend,
  assertExperimentConfig,
  CoreError,
  createNetwork,
  defaultMetrics,
  type EpochRecord,
  type EvaluationResult,
  type ExperimentConfig,
  earlyStopping,
  evaluateNetwork,
  evaluationGates,
  type GateValues,
  type JsonObject,
  type JsonValue,
  keepBest,
  type Network,
  type NetworkSpec,
  type Objective,
  type Pruner,
  registries,
  type Solver,
  streamSeeds,
  type TrainCallback,
  type TrainResult,
  train,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { writeJsonAtomic } from './atomic.js';
import { lockRunDir, type RunLockHolder } from './run-lock.js';
import { loadNetworkSnapshot, saveNetworkSnapshot } from './snapshot.js';
import { nodeRunStore } from './store.js';

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
  /**
   * Only with `keepNetwork: true`: the pruners' deterministic (evaluation) gates at the end, by gate
   * site — the gates the final figures were computed with. `compact(net, { gates })` gives the network
   * they describe; `networkMetrics(net, { gates })` its size. Empty when no pruner gates.
   */
  readonly gates?: Readonly<Record<string, GateValues>>;
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
      t.keepBest === undefined
        ? undefined
        : keepBest({
            ...t.keepBest,
            save: (net, step, extra) => saveNetworkSnapshot(join(runDir, 'best'), net, step, extra),
          });
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
        // The training section's layout, labels, limit and dropLast are the data options (train reads only those).
        data: t,
        ...(t.validation === undefined ? {} : { validation: t.validation }),
        ...(t.evaluateTest === undefined ? {} : { evaluateTest: t.evaluateTest }),
        ...(t.recalibrateBatchNorm === undefined ? {} : { recalibrateBatchNorm: t.recalibrateBatchNorm }),
        ...(t.averaging === undefined ? {} : { averaging: t.averaging }),
        ...(t.checkpoint === undefined ? {} : { checkpoint: t.checkpoint }),
        ...(t.logEverySteps === undefined ? {} : { logEverySteps: t.logEverySteps }),
        ...(t.metricsEverySteps === undefined ? {} : { metricsEverySteps: t.metricsEverySteps }),
        metrics: metricsFn,
        store: nodeRunStore(runDir),
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
    const out: ExperimentRun = keep
      ? { summary, net: finalNet, gates: evaluationGates(pruners) }
      : { summary };
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
