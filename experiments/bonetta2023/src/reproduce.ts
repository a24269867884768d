/**
 * `reproduce()`: Bonetta & Cancelliere (2023) composed from the moprune
 * packages. Every training run goes through core's `runExperiment` into its
 * own run directory (config.json, metrics.jsonl, result.json, checkpoint/);
 * this file only orders the runs, checks the inputs, reads the runs' logs
 * and measures what the runs produced.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type ExperimentSummary,
  formatIssues,
  type Issue,
  type JsonObject,
  loadNetworkSnapshot,
  MopruneError,
  networkFromState,
  networkToState,
  registries,
  runExperiment,
  saveNetworkSnapshot,
  type TrainCallback,
  writeJsonAtomic,
} from '@moprune/core/node';
import '@moprune/datasets/register';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import '@moprune/solvers';
import { jsonSha256, type SweepHook, type SweepResult, staticStrategy, type TrialSpec } from '@moprune/sweep';
import {
  DATASETS,
  type Factor,
  FULL,
  type ImageDataset,
  METHODS,
  type Method,
  NETS,
  type Net,
  pretrainConfig,
  pruneConfig,
  QUICK,
  type Ranking,
  retrainConfig,
  type Scale,
  TARGETS,
  TINY,
  transformerPretrainConfig,
  transformerPruneConfig,
} from './configs.js';
import './distill.js';
import { type Deployment, measureDeployment, measureSecondPass, type SecondPassCost } from './measure.js';
import { RUNNER_MODULE, RUNNER_NAME } from './runner.js';
import { type CheckPoint, readChecks, type Selection, selectBestValidation, selectSparsest } from './runs.js';

/** Run sizes: the paper's (`full`), minutes (`quick`), seconds (`tiny`, for tests). */
export type Mode = 'full' | 'quick' | 'tiny';
export const SCALES: Readonly<Record<Mode, Scale>> = { full: FULL, quick: QUICK, tiny: TINY };

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  /** @default 'quick' */
  readonly mode?: Mode;
  /** Root of this reproduction's run directories. */
  readonly outDir: string;
  /** Seed of every pruning run (init streams, shuffle, sampled outputs). @default 1 */
  readonly seed?: number;
  /** @default all four */
  readonly methods?: readonly Method[];
  /** @default full: both; quick/tiny: lenet300 */
  readonly nets?: readonly Net[];
  /** @default full: both; quick/tiny: mnist */
  readonly datasets?: readonly ImageDataset[];
  /** Run the Transformer block part. @default true */
  readonly transformer?: boolean;
  /** Run the image-network part (pretraining and pruning). @default true */
  readonly images?: boolean;
  /**
   * Train the dense starting checkpoints first (where missing). Full mode
   * never pretrains on its own: a missing checkpoint is an error naming the
   * command that makes it. Quick and tiny modes pretrain when missing.
   * @default false
   */
  readonly pretrain?: boolean;
  /** Where the dense checkpoints live. @default `<dirname(outDir)>/pretrained-<mode>` */
  readonly pretrainedDir?: string;
  /** α of s(w) = exp(−|g|/α) (> 0). @default 1 */
  readonly alpha?: number;
  /** Initial γ of the selective decay (≥ 0). @default 1e-3 (Transformer: the scale's 1e-5) */
  readonly gamma?: number;
  /** Fraction of the remaining weights cut per check, in (0, 1). @default 0.04 (full) */
  readonly fraction?: number;
  /** Validation floor in [0, 1), for every image dataset run. @default 0.98 MNIST, 0.905 Fashion-MNIST (full) */
  readonly floor?: number;
  /**
   * Stop cutting at this sparsity, in (0, 1), for every image dataset run; the rest of the budget
   * trains at it (our extension, not the paper's protocol). @default the pruners' 0.999
   */
  readonly maxSparsity?: number;
  /**
   * Evaluate a moving average of the weights with decay β in (0, 1) in every pruning run (core's
   * `training.averaging`; our extension, not the paper's protocol). @default off
   */
  readonly averaging?: number;
  /** The irrelevance factor: the paper's exponential or the companion code's 1/(1 − α|g|). @default 'exponential' */
  readonly factor?: Factor;
  /**
   * Dropout in [0, 1) after each hidden dense layer of the image networks (LeNet-300-100's two,
   * LeNet-5's `fc1`; not the Transformer block), in their dense starts and pruning runs; our
   * extension. @default none
   */
  readonly dropout?: number;
  /** Epochs of the dense starts (a positive integer). @default the mode's (20 in full mode) */
  readonly pretrainEpochs?: number;
  /** Adam's rate while pruning the image networks (> 0), every method alike. @default the paper's 1e-3 */
  readonly lr?: number;
  /**
   * Epochs of the image networks' pruning runs (a positive integer), every method alike; the
   * paper's budget is LeNet-5's (120 MNIST, 75 Fashion-MNIST), and other values are our extension.
   * @default the mode's
   */
  readonly epochs?: number;
  /**
   * Retrain each image pruning run's kept network for this many epochs (a positive integer; our
   * extension, not the paper's protocol): cross-entropy alone, the masks held, Adam at the pruning rate
   * annealed to 0 by a cosine (`retrainConfig`). The retrained network's best-validation epoch replaces
   * the kept network when its validation accuracy is above the floor and above the kept check's — decided
   * on validation only. @default none
   */
  readonly retrainEpochs?: number;
  /**
   * Dropout in [0, 1) of the retraining runs (with `retrainEpochs`), after the same hidden dense layers
   * as `dropout`; 0 retrains without dropout. The kept network's weights and masks are moved onto that
   * network (dropout has no parameters) in `<retraining dir>/start`. Our extension. @default the pruning
   * runs' `dropout`
   */
  readonly retrainDropout?: number;
  /**
   * Distil the dense start into the retrained network (with `retrainEpochs`; our extension, Hinton et al.
   * 2015's soft targets): the retraining minimizes (1 − w)·cross-entropy + w·T²·KL(softmax(t/T) ‖
   * softmax(s/T)), t the dense start's logits (its `best/`, in inference mode) on the same batch. This is
   * the temperature T > 0. @default none (cross-entropy alone)
   */
  readonly retrainDistill?: number;
  /** The distillation term's weight w in (0, 1] (with `retrainDistill`). @default 0.9 */
  readonly retrainDistillWeight?: number;
  /**
   * How relevance and magnitude pruning rank the weights at a cut: `'magnitude'` (|w|, the paper's) or
   * `'fanIn'` (|w|·√fan-in; our extension). @default 'magnitude'
   */
  readonly ranking?: Ranking;
  /** Reuse completed runs whose config.json matches and continue interrupted ones. @default false */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly dataDir?: string;
  readonly cacheDir?: string;
  /** Progress lines (one per epoch, with the run's estimated time to its end). */
  readonly log?: (line: string) => void;
  /** The command that runs this reproduction, for messages. @default `moprune reproduce bonetta2023` */
  readonly command?: string;
  /**
   * Runs each case's pruning runs (one per method) as a sweep on this executor
   * (what `moprune reproduce bonetta2023 --workers N` or `--redis URL --store DIR`
   * hands the experiment: `sweepHookOf(options)` of `@moprune/sweep`): the
   * methods train side by side in trial processes, and a restarted coordinator
   * takes up the sweep's state. Without it they train here one after the other.
   * Pretraining, the measurements (deployment, second backward pass) and the
   * Transformer block always run here.
   */
  readonly sweep?: SweepHook;
}

/** Codes of {@link Bonetta2023Error}. */
export type Bonetta2023ErrorCode =
  /** An option is invalid; `issues` names every one. */
  | 'INVALID_OPTIONS'
  /** A pruning run needs a dense checkpoint that is not there; the message gives the command that makes it. */
  | 'MISSING_PRETRAINED'
  /** The validation floor is not below the dense model's validation accuracy: no check could ever prune. */
  | 'FLOOR_ABOVE_DENSE'
  /**
   * The dense checkpoint directory holds a pretraining run of another configuration (made by an
   * earlier version of this package, or by other options): it is never used silently.
   */
  | 'STALE_PRETRAINED'
  /** A pruning run of the sweep failed for good (its trial's error is in the sweep's state file). */
  | 'RUN_FAILED'
  /**
   * Summaries given to {@link seedRows} hold two completed runs of one seed in the same row (network,
   * dataset, method, floor and mode) — reruns with other options: they are not two seeds.
   */
  | 'DUPLICATE_SEED';

/** A bad input of {@link reproduce}, found before any pruning run. `name` is always `'Bonetta2023Error'`. */
export class Bonetta2023Error extends MopruneError<Bonetta2023ErrorCode> {
  constructor(
    code: Bonetta2023ErrorCode,
    message: string,
    options: { issues?: readonly Issue[]; details?: JsonObject } = {},
  ) {
    super(code, message, options);
    this.name = 'Bonetta2023Error';
  }
}

/** Every problem with the options of {@link reproduce} (empty when valid). */
export function validateReproduceOptions(o: ReproduceOptions): Issue[] {
  const issues: Issue[] = [];
  const list = <T>(path: string, v: readonly unknown[] | undefined, allowed: readonly T[]) => {
    if (v === undefined) return;
    if (v.length === 0) issues.push({ path, message: `needs at least one of ${allowed.join(', ')}` });
    for (const x of v) {
      if (!allowed.includes(x as T))
        issues.push({
          path,
          message: `unknown ${path.replace(/s$/, '')} '${String(x)}'; one of ${allowed.join(', ')}`,
        });
    }
  };
  if (o.mode !== undefined && !(o.mode in SCALES))
    issues.push({ path: 'mode', message: `must be one of full, quick, tiny, got '${String(o.mode)}'` });
  list('methods', o.methods, METHODS);
  list('nets', o.nets, NETS);
  list('datasets', o.datasets, DATASETS);
  const num = (path: string, v: number | undefined, ok: (x: number) => boolean, want: string) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && ok(v)))
      issues.push({ path, message: `must be ${want}, got ${String(v)}` });
  };
  num('alpha', o.alpha, (x) => x > 0, 'a number > 0');
  num('gamma', o.gamma, (x) => x >= 0, 'a number ≥ 0');
  num('fraction', o.fraction, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  num('floor', o.floor, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  num('maxSparsity', o.maxSparsity, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  num('averaging', o.averaging, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  num('seed', o.seed, (x) => Number.isSafeInteger(x) && x >= 0, 'an integer ≥ 0');
  num('dropout', o.dropout, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  num('pretrainEpochs', o.pretrainEpochs, (x) => Number.isSafeInteger(x) && x > 0, 'an integer > 0');
  num('lr', o.lr, (x) => x > 0, 'a number > 0');
  num('epochs', o.epochs, (x) => Number.isSafeInteger(x) && x > 0, 'an integer > 0');
  num('retrainEpochs', o.retrainEpochs, (x) => Number.isSafeInteger(x) && x > 0, 'an integer > 0');
  num('retrainDropout', o.retrainDropout, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  if (o.retrainDropout !== undefined && o.retrainEpochs === undefined)
    issues.push({
      path: 'retrainDropout',
      message: 'applies to the retraining runs: give retrainEpochs too',
    });
  num('retrainDistill', o.retrainDistill, (x) => x > 0, 'a number > 0');
  num('retrainDistillWeight', o.retrainDistillWeight, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  if (o.retrainDistill !== undefined && o.retrainEpochs === undefined)
    issues.push({
      path: 'retrainDistill',
      message: 'applies to the retraining runs: give retrainEpochs too',
    });
  if (o.retrainDistillWeight !== undefined && o.retrainDistill === undefined)
    issues.push({
      path: 'retrainDistillWeight',
      message: 'weighs the distillation term: give retrainDistill (the temperature) too',
    });
  if (o.retrainDropout !== undefined && o.retrainDropout > 0 && (o.nets === undefined || o.nets.length === 0))
    issues.push({
      path: 'retrainDropout',
      message:
        "applies to the image networks' hidden dense layers: name them with nets ['lenet300'] and/or ['lenet5'] (--net lenet300,lenet5)",
    });
  // Named, so that a run of every network does not take it silently; the Transformer block never gets it.
  if (o.dropout !== undefined && o.dropout > 0 && (o.nets === undefined || o.nets.length === 0))
    issues.push({
      path: 'dropout',
      message:
        "applies to the image networks' hidden dense layers: name them with nets ['lenet300'] and/or ['lenet5'] (--net lenet300,lenet5)",
    });
  if (o.ranking !== undefined && o.ranking !== 'magnitude' && o.ranking !== 'fanIn')
    issues.push({ path: 'ranking', message: `must be 'magnitude' or 'fanIn', got '${String(o.ranking)}'` });
  if (o.factor !== undefined && o.factor !== 'exponential' && o.factor !== 'reference')
    issues.push({
      path: 'factor',
      message: `must be 'exponential' or 'reference', got '${String(o.factor)}'`,
    });
  if (typeof o.outDir !== 'string' || o.outDir === '')
    issues.push({ path: 'outDir', message: 'is required: the directory the run directories go into' });
  if (o.images === false && o.transformer === false)
    issues.push({
      path: 'transformer',
      message: 'nothing to run: both the image and the Transformer parts are off',
    });
  return issues;
}

/** One finished (or interrupted) pruning run. */
export interface PruneFigures {
  readonly run: string;
  readonly runDir: string;
  readonly method: Method | 'transformer';
  readonly status: ExperimentSummary['status'];
  readonly epochsCompleted: number;
  readonly wallTimeMs: number;
  /** Every validation check (the front), in order. */
  readonly checks: readonly CheckPoint[];
  /** The kept checkpoint: the sparsest check above the floor (what the run ended with). */
  readonly kept: Selection | null;
  /** The sparsest check within the acceptance's error on validation. */
  readonly target: Selection | null;
  /**
   * The best-validation check among those at or below the acceptance's sparsity (ties: the
   * sparser, then the earlier) — the spec's "best-validation checkpoint" at the anchors'
   * sparsity; `null` without an acceptance point or without such a check.
   */
  readonly bestAtTarget: Selection | null;
  /** Test figures of the run's final network (the kept one) on the whole test split. */
  readonly testAccuracy: number | null;
  /** The retraining of the kept network (with `retrainEpochs`), else null. */
  readonly retrained?: RetrainFigures | null;
  /** Mean wall time of a training step (ms), from the run's step log. */
  readonly stepMs: number | null;
  readonly deployment: Deployment | null;
}

/** The retraining of a kept network (see {@link ReproduceOptions.retrainEpochs}). */
export interface RetrainFigures {
  readonly runDir: string;
  readonly epochs: number;
  /** Dropout rate of the retraining run (0: none). */
  readonly dropout: number;
  /** The distillation from the dense start (temperature, weight), or null for cross-entropy alone. */
  readonly distill: { readonly temperature: number; readonly weight: number } | null;
  /** The best-validation epoch (0-based), the one kept. */
  readonly epoch: number;
  /** live / total of the pruned parameters: the kept check's, the masks held. */
  readonly remaining: number;
  readonly validationAccuracy: number;
  readonly testAccuracy: number;
  /**
   * The retrained network replaced the kept one: its validation accuracy is above the floor and above
   * the kept check's. Decided on validation figures only.
   */
  readonly chosen: boolean;
}

/**
 * Whether a retrained network replaces the kept one: its validation accuracy is strictly above the floor
 * (the protocol's eligibility) and strictly above the kept check's. Validation figures only.
 */
export function retrainedIsChosen(
  keptValidation: number,
  retrainedValidation: number,
  floor: number,
): boolean {
  return retrainedValidation > floor && retrainedValidation > keptValidation;
}

/** One network × dataset of the image part. */
export interface ImageCase {
  readonly net: Net;
  readonly dataset: ImageDataset;
  readonly floor: number;
  readonly dense: {
    readonly validationAccuracy: number;
    readonly testAccuracy: number;
    readonly dir: string;
  };
  readonly runs: Readonly<Partial<Record<Method, PruneFigures>>>;
  readonly secondPass: SecondPassCost | null;
}

/** What {@link reproduce} returns (and writes to `outDir/summary.json`). */
export interface ReproduceSummary {
  readonly experiment: 'bonetta2023';
  readonly mode: Mode;
  readonly seed: number;
  readonly date: string;
  readonly wallTimeMs: number;
  readonly interrupted: boolean;
  /**
   * The protocol's settings this invocation changed, by option name (`dropout`, `epochs`, `maxSparsity`,
   * `averaging`, …); absent from summaries written before it was recorded.
   */
  readonly settings?: Readonly<Record<string, number | string>>;
  readonly cases: readonly ImageCase[];
  readonly transformer: {
    readonly dense: { readonly validationAccuracy: number; readonly testAccuracy: number };
    readonly floor: number;
    readonly run: PruneFigures;
  } | null;
}

class Interrupted extends Error {}

/**
 * Saves the network of the snapshot in `from` onto the network `model` builds (the same parameters,
 * e.g. other dropout) as a snapshot in `to`: weights, masks and step carried over by parameter name.
 * Nothing is written when `to` already holds one.
 */
function moveSnapshot(from: string, to: string, model: JsonObject): void {
  if (existsSync(join(to, 'latest'))) return;
  const snap = loadNetworkSnapshot(from);
  if (snap === undefined) throw new Error(`no network snapshot in ${from}`);
  try {
    // The image networks end in one dense layer of `units` classes.
    const out = snap.net.spec.nodes.find((n) => n.id === snap.net.spec.outputs[0]) as { units?: number };
    if (out?.units === undefined) throw new Error(`the network in ${from} does not end in a dense layer`);
    const spec = registries().models.create(model, {
      inputShape: snap.net.spec.inputShape,
      classes: [out.units],
    });
    const state = networkToState(snap.net);
    const moved = networkFromState({
      json: { ...state.json, spec: spec as unknown as JsonObject },
      arrays: state.arrays,
    });
    try {
      saveNetworkSnapshot(to, moved, snap.step, snap.extra);
    } finally {
      moved.dispose();
    }
  } finally {
    snap.net.dispose();
  }
}

/**
 * The distillation term's default weight (`retrainDistillWeight`): 0.9 on the teacher's soft targets, 0.1 on
 * the labels — the common choice since Hinton et al. 2015, who found a small weight on the hard targets
 * best. Our choice, not the paper's (the paper does not distil).
 */
export const DISTILL_WEIGHT = 0.9;

/** The options that change the protocol's settings (see {@link ReproduceSummary.settings}), in a fixed order. */
const SETTINGS = [
  'alpha',
  'gamma',
  'fraction',
  'floor',
  'maxSparsity',
  'factor',
  'dropout',
  'pretrainEpochs',
  'lr',
  'epochs',
  'averaging',
  'retrainEpochs',
  'retrainDropout',
  'retrainDistill',
  'retrainDistillWeight',
  'ranking',
] as const satisfies readonly (keyof ReproduceOptions)[];

/** The options among `keys` that `o` gives (undefined ones left out), to spread into a config builder's options. */
function given<K extends keyof ReproduceOptions>(
  o: ReproduceOptions,
  keys: readonly K[],
): { [P in K]?: Exclude<ReproduceOptions[P], undefined> } {
  const out: { [P in K]?: ReproduceOptions[P] } = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out as { [P in K]?: Exclude<ReproduceOptions[P], undefined> };
}

function changedSettings(o: ReproduceOptions): Record<string, number | string> {
  return given(o, SETTINGS);
}

/** The options every image pruning run's config takes as given (`pruneConfig`). */
const PRUNE_OPTIONS = [
  'alpha',
  'gamma',
  'fraction',
  'maxSparsity',
  'averaging',
  'factor',
  'dropout',
  'lr',
  'epochs',
  'ranking',
] as const satisfies readonly (keyof ReproduceOptions)[];

/**
 * One log line per epoch: validation accuracy, the pruned fraction still
 * live, and the run's estimated time to its end (the loop's step-rate
 * estimate, evaluation time excluded).
 */
function epochLog(run: string, epochs: number, log: (line: string) => void): TrainCallback {
  let eta: number | undefined;
  return {
    name: 'bonetta2023-progress',
    onProgress: (p) => {
      eta = p.etaMs;
    },
    onEpochEnd: (e) => {
      const acc = e.validation?.accuracy[0];
      const live = Object.entries(e.metrics).find(([k]) => k.endsWith('.sparsity'))?.[1];
      log(
        `${run}: epoch ${e.epoch + 1}/${epochs}${acc === undefined ? '' : `, validation accuracy ${(100 * acc).toFixed(2)}%`}${
          live === undefined ? '' : `, ${(100 * (1 - live)).toFixed(2)}% of the pruned parameters remaining`
        }${eta === undefined ? '' : `, about ${Math.round(eta / 60000)} min to go`}`,
      );
      return undefined;
    },
  };
}

function num(x: unknown): number | null {
  return typeof x === 'number' ? x : null;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** The command that pretrains what is missing. */
function pretrainCommand(command: string, mode: Mode, net: Net, dataset: ImageDataset): string {
  return `${command} --${mode === 'tiny' ? 'quick' : mode} --pretrain --net ${net} --dataset ${dataset} --method relevance`;
}

/**
 * Runs the reproduction; see {@link ReproduceOptions}. Order: for each
 * network and dataset, the dense checkpoint (pretrained or loaded), the
 * floor check against it, then each method's pruning run with its
 * compaction, export and timing, and the per-step cost of the second backward
 * pass; then the Transformer block.
 * @returns the summary also written to `outDir/summary.json`.
 * @throws Bonetta2023Error `INVALID_OPTIONS` (every problem listed), `MISSING_PRETRAINED`
 *   (with the command that makes the checkpoint), `FLOOR_ABOVE_DENSE` — all before any pruning run.
 */
export async function reproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const issues = validateReproduceOptions(options);
  if (issues.length > 0) {
    throw new Bonetta2023Error('INVALID_OPTIONS', `invalid reproduce options:\n${formatIssues(issues)}`, {
      issues,
    });
  }
  const mode = options.mode ?? 'quick';
  const scale = SCALES[mode];
  const seed = options.seed ?? 1;
  const small = mode !== 'full';
  const methods = options.methods ?? METHODS;
  const nets = options.nets ?? (small ? ['lenet300' as const] : NETS);
  const datasets = options.datasets ?? (small ? ['mnist' as const] : DATASETS);
  const pretrainedDir = options.pretrainedDir ?? join(dirname(options.outDir), `pretrained-${mode}`);
  const command = options.command ?? 'moprune reproduce bonetta2023';
  const log = options.log ?? (() => {});
  const t0 = performance.now();
  const pretrain = options.pretrain === true || small;

  const runOne = async (
    run: string,
    config: JsonObject,
    runDir: string,
  ): Promise<{ summary: ExperimentSummary; reused: boolean }> => {
    const resultPath = join(runDir, 'result.json');
    const configPath = join(runDir, 'config.json');
    if (options.resume && existsSync(resultPath) && existsSync(configPath)) {
      const same = JSON.stringify(JSON.parse(readFileSync(configPath, 'utf8'))) === JSON.stringify(config);
      const saved = JSON.parse(readFileSync(resultPath, 'utf8')) as ExperimentSummary;
      if (same && saved.status === 'completed' && existsSync(join(runDir, 'final'))) {
        log(`${run}: completed earlier, reused`);
        return { summary: saved, reused: true };
      }
    }
    const epochs = (config.training as JsonObject).epochs as number;
    log(`${run}: ${epochs} epochs → ${runDir}`);
    const { summary, net } = await runExperiment(config, {
      runDir,
      resume: options.resume ? 'auto' : false,
      keepNetwork: true,
      callbacks: [epochLog(run, epochs, log)],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    });
    try {
      if (summary.status === 'interrupted') throw new Interrupted();
      saveNetworkSnapshot(join(runDir, 'final'), net!, summary.steps, { run });
    } finally {
      net?.dispose();
    }
    return { summary, reused: false };
  };

  /** Whether `path` is the result of a run that finished (not one that was interrupted). */
  const completed = (path: string): boolean =>
    existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as ExperimentSummary).status === 'completed';

  /** The dense checkpoint of a network and dataset: made (when allowed) or found, and its figures. */
  const denseCheckpoint = async (
    label: string,
    dir: string,
    config: JsonObject,
    missing: () => Bonetta2023Error,
  ): Promise<{ dir: string; validationAccuracy: number; testAccuracy: number }> => {
    const best = join(dir, 'best');
    const savedConfig = join(dir, 'config.json');
    if (existsSync(savedConfig)) {
      const saved = JSON.stringify(JSON.parse(readFileSync(savedConfig, 'utf8')));
      if (saved !== JSON.stringify(config))
        throw new Bonetta2023Error(
          'STALE_PRETRAINED',
          `${dir} holds a ${label} run of another configuration than this version's (compare its config.json); remove the directory to pretrain again, or point --pretrained elsewhere`,
          { details: { dir } },
        );
    }
    // A run stopped part-way also leaves a result.json and a best checkpoint: only a completed run counts.
    if (!existsSync(best) || !completed(join(dir, 'result.json'))) {
      if (!pretrain) throw missing();
      const { summary } = await runExperiment(config, {
        runDir: dir,
        resume: options.resume ? 'auto' : false,
        callbacks: [epochLog(label, (config.training as JsonObject).epochs as number, log)],
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      });
      if (summary.status === 'interrupted') throw new Interrupted();
    }
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as ExperimentSummary;
    const b = result.best as { validation?: { accuracy: number[] }; test?: { accuracy: number[] } } | null;
    return {
      dir: best,
      validationAccuracy: b?.validation?.accuracy[0] ?? Number.NaN,
      testAccuracy: b?.test?.accuracy[0] ?? Number.NaN,
    };
  };

  const figuresOf = async (
    run: string,
    runDir: string,
    method: Method | 'transformer',
    summary: ExperimentSummary,
    target: { remaining: number; error: number } | undefined,
    dense: string,
    timingRounds: number,
    retrained: RetrainFigures | null = null,
  ): Promise<PruneFigures> => {
    const { checks, stepMs } = readChecks(runDir);
    const kept = selectSparsest(checks, (c) => c.eligible);
    const targetSel =
      target === undefined ? null : selectSparsest(checks, (c) => 1 - c.validationAccuracy <= target.error);
    const bestAtTarget =
      target === undefined ? null : selectBestValidation(checks, (c) => c.live <= target.remaining * c.total);
    const deployment = await measureDeployment({
      dense,
      // The network the run hands over: the retrained one when validation chose it.
      pruned: retrained?.chosen ? join(retrained.runDir, 'best') : join(runDir, 'final'),
      exportDir: join(runDir, 'model'),
      config: JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as JsonObject,
      rounds: timingRounds,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
    return {
      run,
      runDir,
      method,
      status: summary.status,
      epochsCompleted: summary.epochsCompleted,
      wallTimeMs: summary.wallTimeMs,
      checks,
      kept,
      target: targetSel,
      bestAtTarget,
      testAccuracy: num((summary.test?.accuracy as unknown[] | undefined)?.[0]),
      ...(retrained === null ? {} : { retrained }),
      stepMs: mean(stepMs),
      deployment,
    };
  };

  /**
   * Retrains a pruning run's kept network (`runDir/final`) for `epochs` epochs in
   * `<runDir>-retrain-e<epochs>` (each budget its own directory), and decides on validation whether it
   * replaces the kept one. Null when nothing was kept (no check above the floor).
   */
  const retrain = async (
    run: string,
    runDir: string,
    p: { net: Net; dataset: ImageDataset; floor: number; dense: { dir: string } },
    method: Method,
    epochs: number,
  ): Promise<RetrainFigures | null> => {
    const kept = selectSparsest(readChecks(runDir).checks, (c) => c.eligible);
    if (kept === null) return null;
    const pruneDropout = options.dropout ?? 0;
    const dropout = options.retrainDropout ?? pruneDropout;
    const moved = dropout !== pruneDropout;
    const distill =
      options.retrainDistill === undefined
        ? null
        : { temperature: options.retrainDistill, weight: options.retrainDistillWeight ?? DISTILL_WEIGHT };
    const dir = `${runDir}-retrain-e${epochs}${moved ? `-d${dropout}` : ''}${
      distill === null ? '' : `-kd${distill.temperature}-w${distill.weight}`
    }`;
    const config = retrainConfig({
      scale,
      seed,
      net: p.net,
      dataset: p.dataset,
      method,
      from: moved ? join(dir, 'start') : join(runDir, 'final'),
      epochs,
      dropout,
      ...(options.lr === undefined ? {} : { lr: options.lr }),
      ...(distill === null ? {} : { distill: { teacher: p.dense.dir, ...distill } }),
    });
    if (moved) moveSnapshot(join(runDir, 'final'), join(dir, 'start'), config.model as JsonObject);
    const { summary } = await runOne(`${run} retraining`, config, dir);
    const best = summary.best as {
      epoch: number;
      validation?: { accuracy: number[] };
      test?: { accuracy: number[] };
    } | null;
    const validationAccuracy = best?.validation?.accuracy[0];
    const testAccuracy = best?.test?.accuracy[0];
    if (best === null || validationAccuracy === undefined || testAccuracy === undefined) return null;
    return {
      runDir: dir,
      epochs,
      dropout,
      distill,
      epoch: best.epoch,
      remaining: kept.remaining,
      validationAccuracy,
      testAccuracy,
      chosen: retrainedIsChosen(kept.validationAccuracy, validationAccuracy, p.floor),
    };
  };

  /**
   * One case's pruning runs as a static sweep on the host's executor: trial `<method>` per
   * method, run by this experiment's runner. With the store at `outDir` the run directories
   * are the in-process ones (`<outDir>/<case>/<method>`); a store elsewhere gets the sweep id
   * `bonetta2023-<mode>-seed<N>-<case>`. @returns each method's run directory.
   */
  const methodsOnSweep = async (
    hook: SweepHook,
    caseName: string,
    configOf: (method: Method) => JsonObject,
  ): Promise<Map<Method, string>> => {
    const here = resolve(hook.store) === resolve(options.outDir);
    const id = here ? caseName : `bonetta2023-${mode}-seed${seed}-${caseName}`;
    const trials: TrialSpec[] = methods.map((method) => ({
      id: method,
      config: configOf(method),
      runner: RUNNER_NAME,
      threads: 1,
      labels: { method },
    }));
    const result: SweepResult = await hook.run({
      id,
      modules: [RUNNER_MODULE],
      fingerprint: `static:bonetta2023:${jsonSha256(trials)}`,
      strategy: () => staticStrategy(trials),
    });
    if (result.status === 'interrupted') throw new Interrupted();
    if (result.status === 'failed') {
      const failed = result.trials.filter((t) => t.status === 'failed').map((t) => t.id);
      throw new Bonetta2023Error(
        'RUN_FAILED',
        `${caseName}: the run${failed.length > 1 ? 's' : ''} of ${failed.join(', ')} failed for good (see ${result.stateFile}); rerun with --resume after fixing the cause`,
        { details: { case: caseName, failed } },
      );
    }
    return new Map(methods.map((m) => [m, join(hook.store, id, m)]));
  };

  const cases: ImageCase[] = [];
  let transformer: ReproduceSummary['transformer'] = null;
  let interrupted = false;
  try {
    if (options.images !== false) {
      // Every dense checkpoint and floor is checked before the first (long) pruning run.
      const plans: {
        net: Net;
        dataset: ImageDataset;
        floor: number;
        dense: Awaited<ReturnType<typeof denseCheckpoint>>;
      }[] = [];
      for (const net of nets) {
        for (const dataset of datasets) {
          // A dense start made with other options than the defaults lives in a directory of its own.
          const variant = [
            options.pretrainEpochs === undefined ? '' : `-e${options.pretrainEpochs}`,
            options.dropout === undefined || options.dropout === 0 ? '' : `-d${options.dropout}`,
          ].join('');
          const dir = join(pretrainedDir, `${net}-${dataset}${variant}`);
          const variantArgs = [
            options.pretrainEpochs === undefined ? '' : ` --pretrain-epochs ${options.pretrainEpochs}`,
            options.dropout === undefined || options.dropout === 0 ? '' : ` --dropout ${options.dropout}`,
          ].join('');
          const dense = await denseCheckpoint(
            `${net}-${dataset} pretraining`,
            dir,
            pretrainConfig({
              scale,
              net,
              dataset,
              ...given(options, ['dropout', 'pretrainEpochs']),
            }),
            () =>
              new Bonetta2023Error(
                'MISSING_PRETRAINED',
                `no pretrained ${net}/${dataset} checkpoint in ${dir}; make it with:\n  ${pretrainCommand(command, mode, net, dataset)}${variantArgs}${
                  options.pretrainedDir === undefined ? '' : ` --pretrained ${options.pretrainedDir}`
                }`,
                { details: { dir, net, dataset } },
              ),
          );
          const floor = options.floor ?? scale.floor[dataset];
          if (!(floor < dense.validationAccuracy)) {
            throw new Bonetta2023Error(
              'FLOOR_ABOVE_DENSE',
              `the floor ${(100 * floor).toFixed(2)}% is not below the dense ${net}/${dataset} model's validation accuracy ${(100 * dense.validationAccuracy).toFixed(2)}% (${dense.dir}): no check would ever prune. Lower --floor, or pretrain a better dense model.`,
              { details: { floor, dense: dense.validationAccuracy, net, dataset } },
            );
          }
          plans.push({ net, dataset, floor, dense });
        }
      }
      for (const p of plans) {
        const runs: Partial<Record<Method, PruneFigures>> = {};
        const caseDir = join(options.outDir, `${p.net}-${p.dataset}`);
        const partial = (secondPass: SecondPassCost | null): ImageCase => ({
          net: p.net,
          dataset: p.dataset,
          floor: p.floor,
          dense: p.dense,
          runs: { ...runs },
          secondPass,
        });
        const configOf = (method: Method): JsonObject =>
          pruneConfig({
            scale,
            seed,
            net: p.net,
            dataset: p.dataset,
            method,
            pretrained: p.dense.dir,
            floor: p.floor,
            ...given(options, PRUNE_OPTIONS),
          });
        try {
          // On a sweep executor the case's methods train side by side; here, one after the other.
          const done =
            options.sweep === undefined
              ? undefined
              : await methodsOnSweep(options.sweep, `${p.net}-${p.dataset}`, configOf);
          for (const method of methods) {
            const run = `${p.net}-${p.dataset}/${method}`;
            const runDir = done?.get(method) ?? join(caseDir, method);
            const summary =
              done === undefined
                ? (await runOne(run, configOf(method), runDir)).summary
                : (JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as ExperimentSummary);
            const retrained =
              options.retrainEpochs === undefined || summary.status !== 'completed'
                ? null
                : await retrain(run, runDir, p, method, options.retrainEpochs);
            runs[method] = await figuresOf(
              run,
              runDir,
              method,
              summary,
              TARGETS[p.net][p.dataset],
              p.dense.dir,
              scale.timingRounds,
              retrained,
            );
            log(`${run}: ${headlineOf(runs[method]!)}`);
          }
        } catch (e) {
          cases.push(partial(null));
          throw e;
        }
        const secondPass =
          methods.includes('relevance') && !options.signal?.aborted
            ? await measureSecondPass({
                config: pruneConfig({
                  scale,
                  seed,
                  net: p.net,
                  dataset: p.dataset,
                  method: 'relevance',
                  pretrained: p.dense.dir,
                }),
                rounds: scale.timingRounds,
                ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
              })
            : null;
        if (secondPass) {
          log(
            `${p.net}-${p.dataset}: one step ${secondPass.oneBackwardMs.toFixed(2)} ms with cross-entropy alone, ${secondPass.twoBackwardMs.toFixed(2)} ms with the selective decay (${secondPass.ratio.toFixed(2)}×)`,
          );
        }
        cases.push(partial(secondPass));
      }
    }
    if (options.transformer !== false) {
      const dir = join(pretrainedDir, 'transformer');
      const dense = await denseCheckpoint(
        'transformer pretraining',
        dir,
        transformerPretrainConfig(scale),
        () =>
          new Bonetta2023Error(
            'MISSING_PRETRAINED',
            `no dense Transformer checkpoint in ${dir}; make it with:\n  ${command} --${mode === 'tiny' ? 'quick' : mode} --pretrain --net transformer`,
            {
              details: { dir },
            },
          ),
      );
      // The tolerated loss is one point of accuracy; the floor sits at the dense accuracy minus it, on validation.
      const floor = Math.max(0, dense.validationAccuracy - 0.01);
      const runDir = join(options.outDir, 'transformer', 'relevance');
      const config = transformerPruneConfig({
        scale,
        seed,
        pretrained: dense.dir,
        floor,
        ...given(options, ['alpha', 'gamma', 'factor']),
      });
      const { summary } = await runOne('transformer/relevance', config, runDir);
      const run = await figuresOf(
        'transformer/relevance',
        runDir,
        'transformer',
        summary,
        undefined,
        dense.dir,
        scale.timingRounds,
      );
      log(`transformer/relevance: ${headlineOf(run)}`);
      transformer = {
        dense: { validationAccuracy: dense.validationAccuracy, testAccuracy: dense.testAccuracy },
        floor,
        run,
      };
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true;
  }
  const summary: ReproduceSummary = {
    experiment: 'bonetta2023',
    mode,
    seed,
    date: new Date().toISOString(),
    wallTimeMs: performance.now() - t0,
    interrupted,
    settings: changedSettings(options),
    cases,
    transformer,
  };
  writeJsonAtomic(join(options.outDir, 'summary.json'), summary as unknown as JsonObject);
  return summary;
}

const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(digits)}%`;

/** One line: the kept checkpoint's remaining weights and test error. */
export function headlineOf(f: PruneFigures): string {
  const k = f.kept;
  return k === null
    ? `${f.status}; no check above the floor`
    : `${f.status}; kept check at step ${k.step}: ${pct(k.remaining, 3)} of the weights remaining, validation error ${pct(1 - k.validationAccuracy)}, test error ${pct(k.testAccuracy === null ? null : 1 - k.testAccuracy)}${
        f.retrained
          ? `; retrained ${f.retrained.epochs} epochs${f.retrained.distill === null ? '' : `, distilled (T = ${f.retrained.distill.temperature}, w = ${f.retrained.distill.weight})`}: validation error ${pct(1 - f.retrained.validationAccuracy)}, test error ${pct(1 - f.retrained.testAccuracy)} (${f.retrained.chosen ? 'chosen' : 'not chosen: the kept check validates better'})`
          : ''
      }`;
}
