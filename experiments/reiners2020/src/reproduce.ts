/**
 * `reproduce()`: the Reiners et al. (2020) experiments composed from the
 * moprune packages. Every training run goes through core's `runExperiment`
 * into its own run directory under `outDir` (config.json, metrics.jsonl,
 * result.json, checkpoint/); the knee searches add a `sweep.json` per strategy
 * and the whole call a `summary.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  type ExperimentSummary,
  formatIssues,
  type Issue,
  type JsonObject,
  type JsonValue,
  MopruneError,
  runExperiment,
  type TrainCallback,
  writeJsonAtomic,
} from '@moprune/core/node';
import { loadCifar10 } from '@moprune/datasets';
import '@moprune/datasets/register';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import {
  bisectionSearch,
  dichotomicSearch,
  GRADIENT_NORMALIZATIONS,
  gridSearch,
  hypervolume2d,
  kneeByDistance,
  kneeByLambdaJump,
  nonDominatedIndices,
  REINERS2020_LAMBDA2_GRID,
  runWeightSearch,
  type WeightSearch,
} from '@moprune/solvers';
import {
  adaptivePlan,
  jsonSha256,
  type SweepHook,
  type SweepResult,
  type SweepStrategy,
  staticStrategy,
  type TrialSpec,
  trialRunDir,
} from '@moprune/sweep';
import {
  type BaselineOptimizer,
  baselineConfig,
  FULL,
  madamConfig,
  QUICK,
  type Scale,
  smgdConfig,
  TINY,
  vggConfig,
  weightedSumConfig,
} from './configs.js';
import { reinersMetrics } from './metrics.js';
import { RUNNER_MODULE, RUNNER_NAME } from './runner.js';

/** Run sizes: the paper's (`full`), minutes (`quick`), seconds (`tiny`, for tests). */
export type Mode = 'quick' | 'full' | 'tiny';
/** Which part of the paper to run. */
export type Part = 'smgd' | 'madam' | 'knee' | 'baselines' | 'vgg' | 'all';
/** Weight-search strategies of the knee search. */
export type KneeStrategy = 'grid' | 'bisection' | 'dichotomic';

/** The scales behind the modes. */
export const SCALES: Readonly<Record<Mode, Scale>> = { quick: QUICK, full: FULL, tiny: TINY };

/**
 * A candidate whose validation accuracy is at most this collapsed to (nearly) a constant predictor
 * (chance on MNIST's 10 classes is 0.1; the reproduction's collapsed candidates sit at 0.1–0.12 with
 * f1 ≈ ln 10): it is reported but left out of the knee rule.
 */
export const COLLAPSED_ACCURACY = 0.2;

/** The knee rule this experiment uses, as written into every sweep summary. */
export const KNEE_RULE = `kneeByDistance without collapsed candidates: candidates at validation accuracy ≤ ${COLLAPSED_ACCURACY * 100}% (collapsed to a near-constant predictor) are left out; of the rest, the non-dominated candidate farthest from the line through the two extremes of the front, objectives normalized to [0, 1] over that front; candidates scored on the validation split`;

/** True when a knee-search candidate collapsed (see {@link COLLAPSED_ACCURACY}). */
export function isCollapsed(figures: RunFigures): boolean {
  return (figures.validationAccuracy ?? 1) <= COLLAPSED_ACCURACY;
}

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  /** @default 'quick' */
  readonly mode?: Mode;
  /** @default 'all' */
  readonly part?: Part;
  /** Knee-search strategy (or several, run one after the other). @default 'grid' */
  readonly strategy?: KneeStrategy | readonly KneeStrategy[];
  /** The seed of every run (init, shuffle, split). @default 1 */
  readonly seed?: number;
  /**
   * Seeds the knee is retrained with (the search itself runs with `seed`):
   * `seed` itself always, and these others besides. @default [seed]
   */
  readonly retrainSeeds?: readonly number[];
  /** Root of the run directories. */
  readonly outDir: string;
  /**
   * Reuse completed runs whose config.json matches and continue interrupted
   * ones from their checkpoints. Without it every run starts afresh. @default false
   */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** ITP regrowth (`true` = reference behaviour). @default true */
  readonly regrow?: boolean;
  /** Directory holding `cifar-10-batches-bin/` for the VGG part. @default MOPRUNE_DATA_DIR */
  readonly dataDir?: string;
  /** Overrides of the mode's scale (e.g. `{ epochs: 5 }`). */
  readonly scale?: Partial<Scale>;
  /** SMGD's starting rate (SMGD on LeNet-5 and VGG). @default 0.01 (see `SMGD_LR`) */
  readonly smgdLr?: number;
  /** What k counts in SMGD's lr/(1 + decay·k): `'step'` (reference code) or `'epoch'`. @default 'step' */
  readonly smgdDecay?: 'step' | 'epoch';
  /**
   * Beyond the paper (opt-in): SMGD with its gradients scaled before the
   * min-norm step (`'l2'`, `'loss'`, `'loss+'`; see `ConfigOptions.smgdNormalize`).
   * Applies to the SMGD runs (LeNet-5 and VGG). @default 'none'
   */
  readonly smgdNormalize?: 'none' | 'l2' | 'loss' | 'loss+';
  /**
   * Runs the knee candidates as an adaptive sweep on this executor (what
   * `moprune reproduce reiners2020 --workers N` or `--redis URL --store DIR`
   * hands the experiment: `sweepHookOf(options)` of `@moprune/sweep`): the
   * search proposes candidates as results arrive, the executor's workers train
   * them (a grid's candidates side by side), and a restarted coordinator picks
   * the search up from the sweep's state. Without it the candidates train in
   * this process one after the other. The retrain of the knee always runs here.
   */
  readonly sweep?: SweepHook;
}

/** What {@link reproduce} reports while it runs. */
export type ProgressEvent =
  | { readonly type: 'run-start'; readonly run: string; readonly runDir: string; readonly epochs: number }
  | {
      readonly type: 'epoch';
      readonly run: string;
      readonly epoch: number;
      readonly epochs: number;
      readonly train: Readonly<Record<string, number>>;
      readonly accuracy: number | null;
      readonly split: string | null;
      readonly denseKernelsRemoved: number;
    }
  | { readonly type: 'run-end'; readonly run: string; readonly figures: RunFigures; readonly reused: boolean }
  | { readonly type: 'skipped'; readonly run: string; readonly reason: string }
  | { readonly type: 'knee'; readonly strategy: KneeStrategy; readonly sweep: SweepSummary };

/** The paper's figures of one finished (or interrupted) run. */
export interface RunFigures {
  readonly run: string;
  readonly runDir: string;
  readonly status: ExperimentSummary['status'];
  readonly epochsCompleted: number;
  readonly wallTimeMs: number;
  readonly testAccuracy: number | null;
  readonly validationAccuracy: number | null;
  /**
   * Final (f1, f2) on the evaluation split (validation, else test): f1 = the
   * split's mean cross-entropy + c·Σw²(conv kernels), f2 = Σ|w|(dense kernels)
   * + c·Σw²(conv kernels), c the run's conv L2 weight. Null without evaluation.
   */
  readonly objectives: { readonly f1: number; readonly f2: number } | null;
  /** The data-independent terms: Σ|w| over the dense kernels, Σw² over the conv kernels (null when not logged). */
  readonly params: { readonly denseL1: number; readonly convL2: number } | null;
  readonly denseKernels: { readonly nonzero: number; readonly total: number; readonly removed: number };
  /** Non-zero / total dense-kernel entries per dense layer. */
  readonly denseLayers: Readonly<Record<string, { readonly nonzero: number; readonly total: number }>>;
  /** Parameters and multiply-accumulates of the compacted network (null when not logged). */
  readonly compacted: { readonly params: number; readonly macs: number } | null;
}

/** One knee-search candidate as written to sweep.json. */
export interface Candidate {
  readonly index: number;
  readonly lambda: readonly number[];
  /** (f1, f2) on the validation split: the point the search and the knee rule see. */
  readonly f: readonly number[];
  readonly figures: RunFigures;
}

/** A knee search's summary (sweep.json). */
export interface SweepSummary {
  readonly strategy: KneeStrategy;
  /**
   * The knee search's directory (candidates, sweep.json, retrain): `outDir/knee-<strategy>`,
   * or the sweep's directory in the store when the store is elsewhere.
   */
  readonly dir: string;
  readonly candidateEpochs: number;
  readonly selectedOn: 'validation';
  readonly candidates: readonly Candidate[];
  /** Indices (into `candidates`) of the non-dominated candidates, sorted by f2. */
  readonly front: readonly number[];
  /** Index of the knee (into `candidates`). */
  readonly knee: number;
  readonly kneeRule: string;
  /** Indices of the candidates the rule left out as collapsed (see {@link COLLAPSED_ACCURACY}). */
  readonly collapsed: readonly number[];
  /** What `kneeByDistance` over every candidate (collapsed ones included: the rule before) would have picked. */
  readonly allCandidatesKnee: number;
  /** What the reference's λ1/λ2-jump rule, cleaned up (no wrap-around), would have picked, for comparison. */
  readonly referenceRuleKnee: number;
  /** What the reference code's expression itself, `argmax(|r − roll(r, 1)|) − 1` with its wrap-around, picks. */
  readonly referenceExpressionKnee: number;
  /** Hypervolume of the front against the worst value of each objective among the candidates × 1.1. */
  readonly hypervolume: { readonly value: number; readonly reference: readonly number[] };
  /** The knee's λ retrained for the full epochs with the run's seed (null when interrupted before). */
  readonly retrain: RunFigures | null;
  /** The knee's λ retrained with every seed of `retrainSeeds` (the run's seed first), in that order. */
  readonly retrains: readonly RunFigures[];
}

/** What {@link reproduce} returns (and writes to `outDir/summary.json`). */
export interface ReproduceSummary {
  readonly experiment: 'reiners2020';
  readonly mode: Mode;
  readonly part: Part;
  readonly seed: number;
  readonly regrow: boolean;
  readonly scale: Scale;
  readonly date: string;
  readonly wallTimeMs: number;
  /** True when the abort signal stopped a run; rerun with `resume` to continue. */
  readonly interrupted: boolean;
  readonly runs: Readonly<Record<string, RunFigures>>;
  readonly knee: Readonly<Partial<Record<KneeStrategy, SweepSummary>>>;
  /** Parts not run, and why (e.g. CIFAR-10 not supplied). */
  readonly skipped: Readonly<Record<string, string>>;
}

class Interrupted extends Error {}

/** Codes of {@link Reiners2020Error}. */
export type Reiners2020ErrorCode = 'INVALID_OPTIONS' | 'KNEE_SEARCH_FAILED';

/** A bad {@link ReproduceOptions} value; `issues` name every offending field. `name` is always `'Reiners2020Error'`. */
export class Reiners2020Error extends MopruneError<Reiners2020ErrorCode> {
  constructor(code: Reiners2020ErrorCode, message: string, issues: readonly Issue[]) {
    super(code, message, { issues });
    this.name = 'Reiners2020Error';
  }
}

const MODES: readonly Mode[] = ['quick', 'full', 'tiny'];
const PARTS: readonly Part[] = ['smgd', 'madam', 'knee', 'baselines', 'vgg', 'all'];
const STRATEGIES: readonly KneeStrategy[] = ['grid', 'bisection', 'dichotomic'];
const POSITIVE_SCALE_KEYS = [
  'epochs',
  'candidateEpochs',
  'batchSize',
  'maxCandidates',
  'retrainEpochs',
  'vggEpochs',
  'vggBatchSize',
] as const;

/** Every problem with the options of {@link reproduce} (empty when valid). */
export function validateReproduceOptions(options: ReproduceOptions): Issue[] {
  const issues: Issue[] = [];
  const oneOf = <T>(path: string, v: unknown, allowed: readonly T[]) => {
    if (v !== undefined && !allowed.includes(v as T))
      issues.push({ path, message: `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}` });
  };
  oneOf('mode', options.mode, MODES);
  oneOf('part', options.part, PARTS);
  const strategies = typeof options.strategy === 'string' ? [options.strategy] : (options.strategy ?? []);
  if (Array.isArray(options.strategy) && options.strategy.length === 0)
    issues.push({ path: 'strategy', message: 'needs at least one strategy' });
  strategies.forEach((s, i) => {
    oneOf(typeof options.strategy === 'string' ? 'strategy' : `strategy[${i}]`, s, STRATEGIES);
  });
  if (options.smgdDecay !== undefined) oneOf('smgdDecay', options.smgdDecay, ['step', 'epoch'] as const);
  oneOf('smgdNormalize', options.smgdNormalize, GRADIENT_NORMALIZATIONS);
  const lr = options.smgdLr;
  if (lr !== undefined && !(Number.isFinite(lr) && lr > 0))
    issues.push({ path: 'smgdLr', message: `must be a finite number > 0, got ${lr}` });
  const seed = options.seed;
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0))
    issues.push({ path: 'seed', message: `must be an integer ≥ 0, got ${seed}` });
  (options.retrainSeeds ?? []).forEach((s, i) => {
    if (!(Number.isSafeInteger(s) && s >= 0))
      issues.push({ path: `retrainSeeds[${i}]`, message: `must be an integer ≥ 0, got ${s}` });
  });
  if (typeof options.outDir !== 'string' || options.outDir === '')
    issues.push({ path: 'outDir', message: 'is required: the directory the run directories go into' });
  for (const key of POSITIVE_SCALE_KEYS) {
    const v = options.scale?.[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
      issues.push({ path: `scale.${key}`, message: `must be an integer ≥ 1, got ${v}` });
  }
  const grid = options.scale?.gridLambda2;
  if (grid !== undefined && !(Array.isArray(grid) && grid.length >= 2))
    issues.push({ path: 'scale.gridLambda2', message: 'must list at least two λ2 values' });
  (Array.isArray(grid) ? grid : []).forEach((l2, i) => {
    if (!(Number.isFinite(l2) && l2 >= 0 && l2 < 1))
      issues.push({ path: `scale.gridLambda2[${i}]`, message: `must be a number in [0, 1), got ${l2}` });
  });
  return issues;
}

function number(x: JsonValue | undefined): number | null {
  return typeof x === 'number' ? x : null;
}

/** The conv-L2 weight c inside a config's first objective (`sum` terms), 0 when it has none. */
function convL2Weight(config: JsonObject): number {
  const first = (config.objectives as JsonObject[])[0];
  const terms = (first?.terms as JsonObject[] | undefined) ?? [];
  for (const t of terms) if ((t.objective as JsonObject).type === 'l2') return t.weight as number;
  return 0;
}

function figuresOf(run: string, runDir: string, s: ExperimentSummary, c: number): RunFigures {
  const m = s.metrics;
  // Runs written by other metric functions lack the terms: then there is no (f1, f2).
  const denseL1 = m.denseL1;
  const convL2 = m.convL2;
  const layers: Record<string, { nonzero: number; total: number }> = {};
  for (const [k, v] of Object.entries(m)) {
    const hit = /^denseKernel\.(.+)\.nonzero$/.exec(k);
    if (hit) layers[hit[1]!] = { nonzero: v, total: m[`denseKernel.${hit[1]}.total`] ?? 0 };
  }
  const evalSplit = s.validation ?? s.test;
  const ce = evalSplit ? number((evalSplit.loss as JsonValue[])[0]) : null;
  const accuracy = (e: JsonObject | null) => (e ? number((e.accuracy as JsonValue[])[0]) : null);
  return {
    run,
    runDir,
    status: s.status,
    epochsCompleted: s.epochsCompleted,
    wallTimeMs: s.wallTimeMs,
    testAccuracy: accuracy(s.test),
    validationAccuracy: s.validation?.split === 'validation' ? accuracy(s.validation) : null,
    objectives:
      ce === null || denseL1 === undefined || convL2 === undefined
        ? null
        : { f1: ce + c * convL2, f2: denseL1 + c * convL2 },
    params: denseL1 === undefined || convL2 === undefined ? null : { denseL1, convL2 },
    denseKernels: {
      nonzero: m['denseKernels.nonzero'] ?? 0,
      total: m['denseKernels.total'] ?? 0,
      removed: m['denseKernels.removed'] ?? 0,
    },
    denseLayers: layers,
    compacted:
      m.compactedParams === undefined || m.compactedMacs === undefined
        ? null
        : { params: m.compactedParams, macs: m.compactedMacs },
  };
}

/** The λ2 values of a grid of `n` candidates: `n` evenly spaced entries of the paper's 26-value grid. */
export function gridLambda2(n: number): number[] {
  const g = REINERS2020_LAMBDA2_GRID;
  if (n >= g.length) return [...g];
  if (n <= 1) return [g[0]!];
  return Array.from({ length: n }, (_, i) => g[Math.round((i * (g.length - 1)) / (n - 1))]!);
}

/** A candidate's (f1, f2) on the validation split; NaN when it has none (a non-finite run would already have failed: NON_FINITE_LOSS). */
function pointOf(figures: RunFigures): number[] {
  const o = figures.objectives;
  return o === null ? [Number.NaN, Number.NaN] : [o.f1, o.f2];
}

/**
 * A weight search as a sweep strategy: each λ it proposes becomes the trial
 * `candidate-NN` (NN = proposal order) training `config(λ)` with the
 * experiment's runner; each outcome's validation (f1, f2) — read from the
 * deterministic part of its result, so the same whichever worker ran it — is
 * told back to the search.
 */
export function searchStrategy(
  search: WeightSearch,
  config: (lambda: readonly number[]) => JsonObject,
): SweepStrategy {
  const lambdas = new Map<string, number[]>();
  return {
    next(): TrialSpec | undefined {
      const lambda = search.next();
      if (lambda === undefined) return undefined;
      const id = `candidate-${String(lambdas.size).padStart(2, '0')}`;
      lambdas.set(id, lambda);
      return { id, config: config(lambda), runner: RUNNER_NAME, threads: 1, labels: { lambda } };
    },
    tell({ trial, outcome }): void {
      const lambda = lambdas.get(trial.id)!;
      const summary = outcome.result as unknown as ExperimentSummary;
      search.tell(lambda, pointOf(figuresOf(trial.id, '', summary, convL2Weight(trial.config))));
    },
  };
}

function makeSearch(strategy: KneeStrategy, scale: Scale, seed: number): WeightSearch {
  switch (strategy) {
    case 'grid':
      return gridSearch({
        lambdas: (scale.gridLambda2 ?? gridLambda2(scale.gridCandidates ?? scale.maxCandidates)).map((l2) => [
          1 - l2,
          l2,
        ]),
      });
    case 'bisection':
      return bisectionSearch({ maxEvaluations: scale.maxCandidates });
    case 'dichotomic':
      // The stochastic variant (perturb a repeated λ) keeps the search going; seeded.
      return dichotomicSearch({ maxEvaluations: scale.maxCandidates, seed });
  }
}

/**
 * Runs the chosen part(s) of the reproduction; see {@link ReproduceOptions}.
 * Parts run in the order smgd, madam, knee, baselines, vgg. With `part: 'vgg'`
 * a missing CIFAR-10 directory throws the dataset's `MISSING_FILES` error
 * before any training; with `part: 'all'` the VGG part is skipped (and the
 * reason recorded) when CIFAR-10 is not there.
 * @returns the summary also written to `outDir/summary.json`.
 * @throws Reiners2020Error `INVALID_OPTIONS` (every problem listed) before any work;
 *   the errors of core's `runExperiment` (a run whose config.json differs when resuming …).
 */
export async function reproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const issues = validateReproduceOptions(options);
  if (issues.length > 0) {
    throw new Reiners2020Error(
      'INVALID_OPTIONS',
      `invalid reproduce options:\n${formatIssues(issues)}`,
      issues,
    );
  }
  const mode = options.mode ?? 'quick';
  const part = options.part ?? 'all';
  const seed = options.seed ?? 1;
  const retrainSeeds = [seed, ...(options.retrainSeeds ?? []).filter((s) => s !== seed)];
  const regrow = options.regrow ?? true;
  const scale: Scale = { ...SCALES[mode], ...(options.scale ?? {}) };
  const strategies: readonly KneeStrategy[] =
    typeof options.strategy === 'string' ? [options.strategy] : (options.strategy ?? ['grid']);
  const base = {
    scale,
    seed,
    regrow,
    ...(options.smgdLr === undefined ? {} : { smgdLr: options.smgdLr }),
    ...(options.smgdDecay === undefined ? {} : { smgdDecay: options.smgdDecay }),
    ...(options.smgdNormalize === undefined ? {} : { smgdNormalize: options.smgdNormalize }),
  };
  const progress = options.onProgress ?? (() => {});
  const t0 = performance.now();
  const runs: Record<string, RunFigures> = {};
  const knee: Partial<Record<KneeStrategy, SweepSummary>> = {};
  const skipped: Record<string, string> = {};
  const wants = (p: Exclude<Part, 'all'>) => part === 'all' || part === p;

  // Fail fast: the VGG part needs CIFAR-10, checked before any (long) training.
  let runVgg = wants('vgg');
  if (runVgg) {
    try {
      await loadCifar10(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
    } catch (e) {
      if (part === 'vgg') throw e;
      runVgg = false;
      skipped.vgg = e instanceof Error ? e.message : String(e);
      progress({ type: 'skipped', run: 'vgg', reason: skipped.vgg });
    }
  }

  const runOne = async (run: string, config: JsonObject, runDir: string): Promise<RunFigures> => {
    const resultPath = join(runDir, 'result.json');
    const configPath = join(runDir, 'config.json');
    if (options.resume && existsSync(resultPath) && existsSync(configPath)) {
      const same = JSON.stringify(JSON.parse(readFileSync(configPath, 'utf8'))) === JSON.stringify(config);
      const saved = JSON.parse(readFileSync(resultPath, 'utf8')) as ExperimentSummary;
      if (same && saved.status === 'completed') {
        const figures = figuresOf(run, runDir, saved, convL2Weight(config));
        progress({ type: 'run-end', run, figures, reused: true });
        return figures;
      }
    }
    const training = config.training as JsonObject;
    const epochs = training.epochs as number;
    progress({ type: 'run-start', run, runDir, epochs });
    const callback: TrainCallback = {
      name: 'reiners2020-progress',
      onEpochEnd: (e) => {
        progress({
          type: 'epoch',
          run,
          epoch: e.epoch + 1,
          epochs,
          train: e.train,
          accuracy: e.validation?.accuracy[0] ?? null,
          split: e.validation?.split ?? null,
          denseKernelsRemoved: e.metrics['denseKernels.removed'] ?? 0,
        });
        return undefined;
      },
    };
    const { summary } = await runExperiment(config, {
      runDir,
      resume: options.resume ? 'auto' : false,
      metrics: reinersMetrics,
      callbacks: [callback],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
    const figures = figuresOf(run, runDir, summary, convL2Weight(config));
    progress({ type: 'run-end', run, figures, reused: false });
    if (summary.status === 'interrupted') {
      runs[run] = figures;
      throw new Interrupted();
    }
    return figures;
  };

  const record = async (run: string, config: JsonObject, runDir: string) => {
    runs[run] = await runOne(run, config, runDir);
  };

  /** The candidates trained in this process, one after the other. */
  const candidatesHere = async (strategy: KneeStrategy, dir: string): Promise<Candidate[]> => {
    const search = makeSearch(strategy, scale, seed);
    const candidates: Candidate[] = [];
    await runWeightSearch(search, async (lambda) => {
      const index = candidates.length;
      const run = `knee-${strategy}/candidate-${String(index).padStart(2, '0')}`;
      const figures = await runOne(
        run,
        weightedSumConfig({ ...base, lambda }),
        join(dir, `candidate-${String(index).padStart(2, '0')}`),
      );
      const f = pointOf(figures);
      candidates.push({ index, lambda, f, figures });
      return f;
    });
    return candidates;
  };

  /** The candidates as an adaptive sweep on the host's executor (see {@link ReproduceOptions.sweep}). */
  const candidatesOnSweep = async (
    strategy: KneeStrategy,
    hook: SweepHook,
    id: string,
  ): Promise<Candidate[]> => {
    const config = (lambda: readonly number[]) => weightedSumConfig({ ...base, lambda: [...lambda] });
    const plan = adaptivePlan({
      id,
      modules: [RUNNER_MODULE],
      fingerprint: `reiners2020-knee:${strategy}:${jsonSha256({ scale, seed, regrow, max: scale.maxCandidates })}`,
      strategy: () => searchStrategy(makeSearch(strategy, scale, seed), config),
    });
    const result: SweepResult = await hook.run(plan);
    if (result.status === 'interrupted') throw new Interrupted();
    if (result.status === 'failed') {
      const failed = result.trials.filter((t) => t.status === 'failed').map((t) => t.id);
      throw new Reiners2020Error(
        'KNEE_SEARCH_FAILED',
        `knee search (${strategy}): trial${failed.length > 1 ? 's' : ''} ${failed.join(', ')} failed for good (see ${result.stateFile}); rerun with --resume after fixing the cause`,
        [],
      );
    }
    return result.trials.map((t, index) => {
      const runDir = trialRunDir(hook.store, id, t.id);
      const summary = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as ExperimentSummary;
      const lambda = ((t.labels?.lambda as number[] | undefined) ?? []).slice();
      const figures = figuresOf(`knee-${strategy}/${t.id}`, runDir, summary, convL2Weight(config(lambda)));
      progress({ type: 'run-end', run: figures.run, figures, reused: false });
      return { index, lambda, f: pointOf(figures), figures };
    });
  };

  /**
   * The knee retrained with the other seeds of `retrainSeeds`, in `<knee dir>-retrains/seed-<N>`
   * (outside the knee directory, whose subdirectories are the search's candidates): side by side
   * on the host's executor when there is one, else here one after the other.
   */
  const extraRetrains = async (
    strategy: KneeStrategy,
    dir: string,
    config: (seed: number) => JsonObject,
  ): Promise<RunFigures[]> => {
    const seeds = retrainSeeds.filter((s) => s !== seed);
    if (seeds.length === 0) return [];
    const root = `${dir}-retrains`;
    const hook = options.sweep;
    if (hook === undefined) {
      const out: RunFigures[] = [];
      for (const s of seeds)
        out.push(await runOne(`knee-${strategy}-retrains/seed-${s}`, config(s), join(root, `seed-${s}`)));
      return out;
    }
    const id = basename(root);
    const trials: TrialSpec[] = seeds.map((s) => ({
      id: `seed-${s}`,
      config: config(s),
      runner: RUNNER_NAME,
      threads: 1,
      labels: { seed: s },
    }));
    const result = await hook.run(
      adaptivePlan({
        id,
        modules: [RUNNER_MODULE],
        fingerprint: `reiners2020-retrains:${jsonSha256(trials)}`,
        strategy: () => staticStrategy(trials),
      }),
    );
    if (result.status === 'interrupted') throw new Interrupted();
    if (result.status === 'failed') {
      throw new Reiners2020Error(
        'KNEE_SEARCH_FAILED',
        `knee retrains (${strategy}) failed for good (see ${result.stateFile}); rerun with --resume after fixing the cause`,
        [],
      );
    }
    return trials.map((t) => {
      const runDir = trialRunDir(hook.store, id, t.id);
      const summary = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as ExperimentSummary;
      const figures = figuresOf(`knee-${strategy}-retrains/${t.id}`, runDir, summary, convL2Weight(t.config));
      progress({ type: 'run-end', run: figures.run, figures, reused: false });
      return figures;
    });
  };

  const kneeSearch = async (strategy: KneeStrategy): Promise<SweepSummary> => {
    const hook = options.sweep;
    // The store may be shared by other experiments and seeds: outside outDir, the sweep id names them.
    const here = hook === undefined || resolve(hook.store) === resolve(options.outDir);
    const id = here ? `knee-${strategy}` : `reiners2020-${mode}-seed${seed}-knee-${strategy}`;
    const dir = hook === undefined || here ? join(options.outDir, id) : join(hook.store, id);
    const candidates =
      hook === undefined ? await candidatesHere(strategy, dir) : await candidatesOnSweep(strategy, hook, id);
    const points = candidates.map((c) => c.f);
    const front = nonDominatedIndices(points).sort((a, b) => points[a]![1]! - points[b]![1]!);
    const collapsed = candidates.flatMap((c, i) => (isCollapsed(c.figures) ? [i] : []));
    const kneeIndex = kneeByDistance(points, { ignore: (i) => collapsed.includes(i) });
    const reference = [0, 1].map((j) => 1.1 * Math.max(...points.map((p) => p[j]!)));
    const partial: SweepSummary = {
      strategy,
      dir,
      candidateEpochs: scale.candidateEpochs,
      selectedOn: 'validation',
      candidates,
      front,
      knee: kneeIndex,
      kneeRule: KNEE_RULE,
      collapsed,
      allCandidatesKnee: kneeByDistance(points),
      referenceRuleKnee: kneeByLambdaJump(candidates.map((c) => ({ lambda: c.lambda, f: c.f }))),
      referenceExpressionKnee: kneeByLambdaJump(
        candidates.map((c) => ({ lambda: c.lambda, f: c.f })),
        { reference: true },
      ),
      hypervolume: { value: hypervolume2d(points, reference), reference },
      retrain: null,
      retrains: [],
    };
    writeJsonAtomic(join(dir, 'sweep.json'), partial as unknown as JsonObject);
    const lambda = candidates[kneeIndex]!.lambda;
    const retrainConfig = (s: number) =>
      weightedSumConfig({ ...base, seed: s, lambda, epochs: scale.retrainEpochs ?? scale.epochs });
    const retrain = await runOne(`knee-${strategy}/retrain`, retrainConfig(seed), join(dir, 'retrain'));
    const retrains = [retrain, ...(await extraRetrains(strategy, dir, retrainConfig))];
    const sweep = { ...partial, retrain, retrains };
    writeJsonAtomic(join(dir, 'sweep.json'), sweep as unknown as JsonObject);
    progress({ type: 'knee', strategy, sweep });
    return sweep;
  };

  let interrupted = false;
  try {
    if (wants('smgd')) await record('smgd', smgdConfig(base), join(options.outDir, 'smgd'));
    if (wants('madam')) await record('madam', madamConfig(base), join(options.outDir, 'madam'));
    if (wants('knee')) for (const s of strategies) knee[s] = await kneeSearch(s);
    if (wants('baselines')) {
      for (const optimizer of ['adam', 'sgd'] as BaselineOptimizer[]) {
        await record(
          `baseline-${optimizer}`,
          baselineConfig({ ...base, optimizer }),
          join(options.outDir, 'baselines', optimizer),
        );
      }
    }
    if (runVgg) await record('vgg', vggConfig(base), join(options.outDir, 'vgg'));
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true;
  }
  const summary: ReproduceSummary = {
    experiment: 'reiners2020',
    mode,
    part,
    seed,
    regrow,
    scale,
    date: new Date().toISOString(),
    wallTimeMs: performance.now() - t0,
    interrupted,
    runs,
    knee,
    skipped,
  };
  writeJsonAtomic(join(options.outDir, 'summary.json'), summary as unknown as JsonObject);
  return summary;
}
