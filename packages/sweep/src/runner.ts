import { createHash } from 'node:crypto';
import {
  type ExperimentSummary,
  type Issue,
  type JsonObject,
  type Network,
  runExperiment,
  type TrainCallback,
  validateExperimentConfig,
} from '@moprune/core/node';
import { SweepError } from './errors.js';

/** Where a running trial is, as its runner reports it. */
export interface TrialProgress {
  /** Epochs completed so far. */
  readonly epoch: number;
  readonly epochs: number;
  /** Global steps completed so far. */
  readonly step: number;
}

/** What a {@link TrialRunner} gets besides the config. */
export interface TrialRunContext {
  /**
   * The trial's run directory (it may hold an earlier attempt's checkpoint:
   * continue from it). Everything the runner writes goes here.
   */
  readonly runDir: string;
  /** Aborted when the trial must stop: checkpoint, then resolve with `interrupted`. */
  readonly signal: AbortSignal;
  /** Directory of user-supplied data. */
  readonly dataDir?: string;
  /** Directory for built data caches. */
  readonly cacheDir?: string;
  /** Reports progress (shown by the sweep's progress display). */
  progress(progress: TrialProgress): void;
}

/** What a {@link TrialRunner} resolves to. */
export interface TrialRunResult {
  /** `interrupted`: stopped by the signal after a checkpoint (the trial is resumed later). */
  readonly status: 'completed' | 'stopped' | 'interrupted';
  /**
   * The run's figures that depend only on the config and seed (no wall times,
   * no session facts): written to the trial's `outcome.json`, which must be
   * the same bytes whichever process or machine ran or resumed the trial.
   */
  readonly result: JsonObject;
}

/**
 * Turns a trial config into a run directory. Registered by name with
 * {@link defineTrialRunner}; the trial processes import the sweep's `modules`
 * first, so a contributor's runner is found there too.
 */
export interface TrialRunner {
  /** The name trials use (`runner` field). */
  readonly name: string;
  /** One line for listings. */
  readonly description: string;
  /** Every problem with a config, with paths relative to it (empty when valid). */
  validate(config: JsonObject): Issue[];
  /** Trains (or resumes) the trial in `ctx.runDir`. Throws on failure. */
  run(config: JsonObject, ctx: TrialRunContext): Promise<TrialRunResult>;
}

const KEY = Symbol.for('@moprune/sweep/runners');

/** The process-wide runner table (on `globalThis`, so two copies of this package share it), built-in runner included. */
function table(): Map<string, TrialRunner> {
  const g = globalThis as { [KEY]?: Map<string, TrialRunner> };
  g[KEY] ??= new Map([[EXPERIMENT_RUNNER.name, EXPERIMENT_RUNNER]]);
  return g[KEY];
}

/**
 * Registers a trial runner (process-wide, shared by every copy of this
 * package) and returns it. Registering the same object again is a no-op.
 * @throws SweepError `INVALID_ARGUMENT` for another runner under a taken name.
 */
export function defineTrialRunner(runner: TrialRunner): TrialRunner {
  const t = table();
  const existing = t.get(runner.name);
  if (existing !== undefined && existing !== runner) {
    throw new SweepError('INVALID_ARGUMENT', `a trial runner named '${runner.name}' is already registered`);
  }
  t.set(runner.name, runner);
  return runner;
}

/**
 * The runner registered as `name`.
 * @throws SweepError `UNKNOWN_RUNNER` listing the registered ones.
 */
export function getTrialRunner(name: string): TrialRunner {
  const r = table().get(name);
  if (r === undefined) {
    throw new SweepError(
      'UNKNOWN_RUNNER',
      `unknown trial runner '${name}'; registered: ${[...table().keys()].sort().join(', ')} (a sweep's modules must define it)`,
      { details: { runner: name } },
    );
  }
  return r;
}

/** The registered runners, sorted by name. */
export function listTrialRunners(): TrialRunner[] {
  return [...table().values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * SHA-256 over every parameter and mask of a network (name, shape, float32
 * bytes, in name order): two runs that end bit-identical have the same hash.
 */
export function networkSha256(net: Network): string {
  const h = createHash('sha256');
  for (const name of [...net.params.keys()].sort()) {
    const v = net.params.get(name)!;
    const mask = net.getMask(name);
    h.update(`${name}:${v.shape.join('x')}\n`);
    h.update(new Uint8Array((v.dataSync() as Float32Array).buffer.slice(0)));
    if (mask !== undefined) {
      h.update(`${name}#mask\n`);
      h.update(new Uint8Array((mask.dataSync() as Float32Array).buffer.slice(0)));
    }
  }
  return h.digest('hex');
}

/**
 * The parts of a run's result.json that depend only on its config and seed:
 * everything but the wall times (`wallTimeMs`, each epoch's `timeMs`), the
 * session facts (`resumedFromStep`, the Node version); the backend and tfjs
 * version stay (a different backend may differ in the last bits).
 */
export function deterministicSummary(summary: ExperimentSummary): JsonObject {
  const { wallTimeMs: _wall, resumedFromStep: _resumed, environment, history, ...rest } = summary;
  return {
    ...(rest as unknown as JsonObject),
    history: history.map(({ timeMs: _t, ...h }) => h as unknown as JsonObject),
    backend: environment.backend,
    tfjsCore: environment.tfjsCore,
  };
}

/** Options of {@link experimentRunner}. */
export interface ExperimentRunnerOptions {
  readonly name: string;
  readonly description: string;
  /** Per-epoch network figures (core's `defaultMetrics` when absent). */
  readonly metrics?: (net: Network) => Readonly<Record<string, number>>;
  /**
   * Called with the final network of a completed (or early-stopped) run, before
   * the outcome is written and the network disposed — to save it, export it,
   * measure it. Write only inside `ctx.runDir`.
   */
  readonly afterRun?: (
    net: Network,
    summary: ExperimentSummary,
    ctx: TrialRunContext,
  ) => void | Promise<void>;
}

/**
 * A runner that trains an experiment config with core's `runExperiment`
 * (resuming from the run directory's checkpoint when there is one) and
 * reports {@link deterministicSummary} plus the final {@link networkSha256}.
 * The built-in `experiment` runner is `experimentRunner` with core's default
 * metrics; an experiment with its own metrics registers its own.
 */
export function experimentRunner(options: ExperimentRunnerOptions): TrialRunner {
  return {
    name: options.name,
    description: options.description,
    validate: (config) => validateExperimentConfig(config),
    async run(config, ctx) {
      const epochs = (config.training as { epochs?: number } | undefined)?.epochs ?? 0;
      const progress: TrainCallback = {
        name: 'sweep-progress',
        onEpochEnd: (e) => {
          ctx.progress({ epoch: e.epoch + 1, epochs, step: e.step });
          return undefined;
        },
      };
      const { summary, net } = await runExperiment(config, {
        runDir: ctx.runDir,
        resume: 'auto',
        signal: ctx.signal,
        keepNetwork: true,
        callbacks: [progress],
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        ...(ctx.dataDir === undefined ? {} : { dataDir: ctx.dataDir }),
        ...(ctx.cacheDir === undefined ? {} : { cacheDir: ctx.cacheDir }),
      });
      try {
        if (summary.status === 'interrupted') return { status: 'interrupted', result: {} };
        if (summary.status === 'failed') {
          throw new SweepError('TRIAL_FAILED', `the run failed: ${JSON.stringify(summary.error)}`);
        }
        await options.afterRun?.(net!, summary, ctx);
        return {
          status: summary.status,
          result: { ...deterministicSummary(summary), networkSha256: networkSha256(net!) },
        };
      } finally {
        net?.dispose();
      }
    },
  };
}

/** The default runner, always registered: an experiment config trained by core's `runExperiment`. */
export const EXPERIMENT_RUNNER: TrialRunner = experimentRunner({
  name: 'experiment',
  description:
    "an experiment config (model, dataset, objectives, solver, pruners, training) trained by core's runExperiment",
});
