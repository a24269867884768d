/**
 * `reproduce()`: Hotegni, Peitz & Berkemeier (2023) composed from the moprune
 * packages. Every training phase goes through core's `runExperiment` into its
 * own run directory (config.json, metrics.jsonl, result.json, checkpoint/,
 * best/); this file orders the phases, checks the inputs and measures the
 * networks the phases kept.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createNetwork,
  type ExperimentSummary,
  formatIssues,
  type Issue,
  type JsonObject,
  loadNetworkSnapshot,
  lsuvInit,
  MopruneError,
  type Network,
  runExperiment,
  saveNetworkSnapshot,
  type TrainCallback,
} from '@moprune/core/node';
import { loadCifar10Mnist, loadMultiMnist } from '@moprune/datasets';
import '@moprune/datasets/register';
import { hps, mdmtn } from '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import { rowLayout, toRows } from '@moprune/pruners/kit';
import { machineDescription } from '@moprune/report';
import { hypervolume, nonDominatedIndices } from '@moprune/solvers';
import {
  type AlForm,
  BENCHMARKS,
  type Benchmark,
  defaultVectors,
  denseConfig,
  FULL,
  MAIN_VECTOR,
  type Method,
  type Model,
  mgdaConfig,
  PROTOCOL,
  QUICK,
  retrainConfig,
  type Scale,
  searchConfig,
  singleTaskConfig,
  sizesOf,
  TINY,
  type Vector,
  vectorName,
} from './configs.js';

/** Run sizes: the paper's (`full`), minutes (`quick`), seconds (`tiny`, for tests). */
export type Mode = 'full' | 'quick' | 'tiny';
export const SCALES: Readonly<Record<Mode, Scale>> = { full: FULL, quick: QUICK, tiny: TINY };

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  /** @default 'quick' */
  readonly mode?: Mode;
  /** Root of this reproduction's run directories. */
  readonly outDir: string;
  /** Seed of every training run (init, shuffle); the MultiMNIST construction always uses seed 0. @default 0 (the reference's) */
  readonly seed?: number;
  /** Preference vectors (k0, k1, k2), each on the simplex. @default the mode's set ({@link defaultVectors}) */
  readonly vectors?: readonly Vector[];
  /** The augmented Lagrangian's form. @default 'textbook' */
  readonly form?: AlForm;
  /** The network: MDMTN (the paper's) or HPS (the hard-parameter-sharing baseline, trained the same way). @default 'mdmtn' */
  readonly model?: Model;
  /**
   * The paper's method, or a baseline through the same harness (same data, seed and selection on
   * validation): `'mgda-ub'` trains the model by MGDA over its shared trunk, `'single-task'` one
   * HPS-trunk network per task. Preference vectors and the AL form apply to `'chebyshev-al'` only;
   * the single-task networks have no `model` choice. @default 'chebyshev-al'
   */
  readonly method?: Method;
  /**
   * Epochs of each baseline run (`'mgda-ub'`, `'single-task'`), the rate halved every 30% of
   * them. @default the mode's: 39 in full mode (the paper's method's budget; the reference trains 100)
   */
  readonly baselineEpochs?: number;
  /**
   * The data set. `'cifar10Mnist'` needs CIFAR-10's binary files in `dataDir/cifar-10-batches-bin`
   * (without them it stops before training, naming the files). @default 'multiMnist'
   */
  readonly benchmark?: Benchmark;
  /** Split sizes instead of the mode's (a small machine, a fixture run). */
  readonly sizes?: { readonly trainSize: number; readonly validationSize: number; readonly testSize: number };
  /** Reuse completed phases and continue an interrupted one from its checkpoint. @default false */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** Directory of user-supplied data: CIFAR-10 for Cifar10Mnist (MultiMNIST is built from the bundled MNIST). */
  readonly dataDir?: string;
  /** Where the built MultiMNIST is cached. @default the datasets package's cache */
  readonly cacheDir?: string;
}

/** Codes of {@link Hotegni2023Error}. */
export type Hotegni2023ErrorCode =
  /** An option is invalid; `issues` names every one. */
  | 'INVALID_OPTIONS'
  /** A preference vector has the wrong length, a negative entry or does not sum to 1. */
  | 'INVALID_VECTOR';

/** A bad input of {@link reproduce}, found before any training. `name` is always `'Hotegni2023Error'`. */
export class Hotegni2023Error extends MopruneError<Hotegni2023ErrorCode> {
  constructor(
    code: Hotegni2023ErrorCode,
    message: string,
    options: { issues?: readonly Issue[]; details?: JsonObject } = {},
  ) {
    super(code, message, options);
    this.name = 'Hotegni2023Error';
  }
}

/** Every problem with a preference vector (empty when it is one). */
export function vectorIssues(k: unknown, path = 'vector'): Issue[] {
  if (!Array.isArray(k) || k.length !== 3) {
    return [{ path, message: `must be three numbers (k0, k1, k2), got ${JSON.stringify(k)}` }];
  }
  const issues: Issue[] = [];
  k.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      issues.push({
        path: `${path}[${i}]`,
        message: `must be a finite number ≥ 0, got ${JSON.stringify(x)}`,
      });
    }
  });
  if (issues.length === 0) {
    const sum = (k as number[]).reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) issues.push({ path, message: `must sum to 1, sums to ${sum}` });
  }
  return issues;
}

/** Every problem with the options of {@link reproduce} (empty when valid); vector problems carry their own code. */
export function validateReproduceOptions(o: ReproduceOptions): Issue[] {
  const issues: Issue[] = [];
  if (o.mode !== undefined && !['full', 'quick', 'tiny'].includes(o.mode)) {
    issues.push({ path: 'mode', message: `must be full, quick or tiny, got ${JSON.stringify(o.mode)}` });
  }
  if (typeof o.outDir !== 'string' || o.outDir === '')
    issues.push({ path: 'outDir', message: 'is required' });
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0)) {
    issues.push({ path: 'seed', message: `must be an integer ≥ 0, got ${o.seed}` });
  }
  if (o.form !== undefined && o.form !== 'textbook' && o.form !== 'reference') {
    issues.push({ path: 'form', message: `must be textbook or reference, got ${JSON.stringify(o.form)}` });
  }
  if (o.benchmark !== undefined && o.benchmark !== 'multiMnist' && o.benchmark !== 'cifar10Mnist') {
    issues.push({
      path: 'benchmark',
      message: `must be multiMnist or cifar10Mnist, got ${JSON.stringify(o.benchmark)}`,
    });
  }
  if (o.model !== undefined && o.model !== 'mdmtn' && o.model !== 'hps') {
    issues.push({ path: 'model', message: `must be mdmtn or hps, got ${JSON.stringify(o.model)}` });
  }
  if (o.vectors !== undefined && (!Array.isArray(o.vectors) || o.vectors.length === 0)) {
    issues.push({ path: 'vectors', message: 'must list at least one vector' });
  }
  const method = o.method ?? 'chebyshev-al';
  if (!['chebyshev-al', 'mgda-ub', 'single-task'].includes(method)) {
    issues.push({
      path: 'method',
      message: `must be chebyshev-al, mgda-ub or single-task, got ${JSON.stringify(o.method)}`,
    });
  } else if (method === 'chebyshev-al' && o.baselineEpochs !== undefined) {
    issues.push({ path: 'baselineEpochs', message: 'applies to the baselines (mgda-ub, single-task) only' });
  } else if (method !== 'chebyshev-al') {
    for (const key of ['vectors', 'form'] as const) {
      if (o[key] !== undefined)
        issues.push({ path: key, message: `applies to the chebyshev-al method only, not ${method}` });
    }
    if (o.baselineEpochs !== undefined && !(Number.isInteger(o.baselineEpochs) && o.baselineEpochs >= 1)) {
      issues.push({ path: 'baselineEpochs', message: `must be an integer ≥ 1, got ${o.baselineEpochs}` });
    }
    if (method === 'single-task' && o.model !== undefined) {
      issues.push({
        path: 'model',
        message: 'the single-task networks are HPS trunks with one head; drop it',
      });
    }
  }
  return issues;
}

/** Timing and selection of one training phase. */
export interface PhaseFigures {
  readonly phase: 'search' | 'retrain' | 'dense' | 'mgda' | 'single-left' | 'single-right';
  readonly runDir: string;
  readonly epochs: number;
  /** Epoch (0-based) of the kept network; null when no epoch qualified (the search then hands on its last network). */
  readonly bestEpoch: number | null;
  readonly wallMs: number;
  /** Median over epochs of the training steps' time (the train loop, as the reference's per-epoch figure). */
  readonly trainSecondsPerEpoch: number;
  /** Median over epochs of the whole epoch (steps, prox/tying, validation). */
  readonly epochSeconds: number;
  /** Validation accuracy per task after every epoch (the learning curve). */
  readonly validationCurve: readonly (readonly number[])[];
  readonly reused: boolean;
}

/** Rows, weights and sharing of a network, counted the reference's way (`metrics_tr` of its GrOWL utilities). */
export interface RowFigures {
  /** Rows of every kernel: input neurons of dense kernels, input channels of conv kernels (6,193 for MDMTN). */
  readonly rows: number;
  /** Rows whose weights are all zero. */
  readonly zeroRows: number;
  readonly zeroRowsByLayer: Readonly<Record<string, number>>;
  /** Distinct rows per kernel, summed. */
  readonly uniqueRows: number;
  /** rows ÷ unique rows (the reference's "compression rate"). */
  readonly compressionRate: number;
  /** non-zero rows ÷ unique rows (its "parameter sharing"). */
  readonly parameterSharing: number;
  /** Zero entries among all trainable network parameters, and their count. */
  readonly zeroWeights: number;
  readonly weights: number;
}

/** One preference vector's result (or a baseline's: MGDA-UB, the single-task pair). */
export interface VectorResult {
  /** The preference vector; null for a baseline. */
  readonly vector: Vector | null;
  readonly method: Method;
  readonly model: Model;
  readonly benchmark: Benchmark;
  readonly form: AlForm;
  readonly dir: string;
  readonly phases: readonly PhaseFigures[];
  /** Whether the search found an epoch with the minimum zero rows (else its last network was retrained). */
  readonly searchMetSparsity: boolean | null;
  readonly validationAccuracy: readonly number[];
  readonly testAccuracy: readonly number[];
  readonly figures: RowFigures;
  /** Wall time of the result: its phases as they ran (a reused phase counts its recorded time) plus the rest of this call. */
  readonly wallMs: number;
}

/** What {@link reproduce} returns (and `summary.json` holds). */
export interface ReproduceSummary {
  readonly experiment: 'hotegni2023';
  readonly mode: Mode;
  readonly seed: number;
  readonly form: AlForm;
  readonly method: Method;
  readonly model: Model;
  readonly benchmark: Benchmark;
  readonly date: string;
  readonly results: readonly VectorResult[];
  /** Indices into `results` of the non-dominated vectors in (left error, right error, 1 − zero-row fraction). */
  readonly front: readonly number[];
  /** Hypervolume of those three objectives against the reference point (1, 1, 1). */
  readonly hypervolume: number;
  /** Network parameters (weights and biases) and the mixing α (four for MDMTN, none for HPS; the single-task pair: both networks). */
  readonly parameters: { readonly network: number; readonly alphas: number };
  readonly interrupted: boolean;
  readonly wallMs: number;
  /**
   * The machine the runs trained on (cores, CPU model, `MOPRUNE_NATIVE_THREADS`), recorded when
   * the summary is made; absent in summaries written before it was recorded (their reports print
   * the machine writing them).
   */
  readonly machine?: string;
}

class Interrupted extends Error {}

/** One log line per epoch: both validation accuracies and the zero rows. */
function epochLog(run: string, epochs: number, log: (line: string) => void): TrainCallback {
  let eta: number | undefined;
  return {
    name: 'hotegni2023-progress',
    onProgress: (p) => {
      eta = p.etaMs;
    },
    onEpochEnd: (e) => {
      const acc = e.validation?.accuracy;
      const zero = e.metrics['growl.zeroGroups'];
      log(
        `${run}: epoch ${e.epoch + 1}/${epochs}${
          acc === undefined
            ? ''
            : `, validation accuracy ${acc.map((a) => `${(100 * a).toFixed(2)}%`).join(' / ')}`
        }${zero === undefined ? '' : `, ${zero} zero rows`}${eta === undefined ? '' : `, about ${Math.round(eta / 60000)} min to go`}`,
      );
      return undefined;
    },
  };
}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Median per-epoch sum of the steps' `timeMs` in a run's metrics.jsonl, in seconds. */
function trainSecondsPerEpoch(runDir: string): number {
  const perEpoch = new Map<number, number>();
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return Number.NaN;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{"type":"step"')) continue;
    const r = JSON.parse(line) as { epoch: number; timeMs: number };
    perEpoch.set(r.epoch, (perEpoch.get(r.epoch) ?? 0) + r.timeMs);
  }
  return median([...perEpoch.values()]) / 1000;
}

/** The rows of a kernel (`@moprune/pruners/kit`'s layout, the one GrOWL groups by): input neurons of a dense kernel [in, out], input channels of a conv kernel [kh, kw, in, out]. */
function kernelRows(values: Float32Array, shape: readonly number[]): Float32Array[] {
  const layout = rowLayout(shape);
  const rows = toRows(values, layout);
  return Array.from({ length: layout.rows }, (_, r) => rows.subarray(r * layout.cols, (r + 1) * layout.cols));
}

/**
 * Rows, zero rows, distinct rows and zero weights of `net`, over every dense
 * and conv kernel (task heads and first convs included, as the reference's
 * `sparsity_info`/`metrics_tr` count them). A row is zero when all its
 * weights are (the reference tests the row's sum). Nodes in `skipNodes` (an
 * untrained head) are left out of every count.
 */
export function rowFigures(net: Network, skipNodes: ReadonlySet<string> = new Set()): RowFigures {
  let rows = 0;
  let zeroRows = 0;
  let uniqueRows = 0;
  let zeroWeights = 0;
  let weights = 0;
  const byLayer: Record<string, number> = {};
  for (const [name, v] of net.params) {
    const info = net.paramInfo.get(name)!;
    // BatchNorm's moving statistics are state, not parameters.
    if (!info.trainable || skipNodes.has(info.node)) continue;
    const values = v.dataSync() as Float32Array;
    weights += values.length;
    for (const x of values) if (x === 0) zeroWeights++;
    if (info.role !== 'kernel' || !(info.op === 'dense' || info.op === 'conv2d')) continue;
    const rs = kernelRows(values, v.shape);
    const zero = rs.filter((r) => r.every((x) => x === 0)).length;
    rows += rs.length;
    zeroRows += zero;
    if (zero > 0) byLayer[info.node] = zero;
    uniqueRows += new Set(rs.map((r) => Array.from(r, (x) => x + 0).join(','))).size;
  }
  return withRates({ rows, zeroRows, zeroRowsByLayer: byLayer, uniqueRows, zeroWeights, weights });
}

/** The counts with the reference's two rates: compression rows ÷ unique, sharing non-zero ÷ unique. */
const withRates = (c: Omit<RowFigures, 'compressionRate' | 'parameterSharing'>): RowFigures => ({
  ...c,
  compressionRate: c.rows / c.uniqueRows,
  parameterSharing: (c.rows - c.zeroRows) / c.uniqueRows,
});

/**
 * A result's wall time: its phases' own (as recorded when they ran, so a reused phase counts the time
 * it took then, not 0), plus what this call spent beyond them (the LSUV start, the figures).
 */
function trainingWall(phases: readonly PhaseFigures[], t0: number): number {
  const reusedWall = phases.filter((p) => p.reused).reduce((a, p) => a + p.wallMs, 0);
  return Date.now() - t0 + reusedWall;
}

/** The figures of several networks together (the single-task pair), layers prefixed by `names`. */
function sumFigures(parts: readonly RowFigures[], names?: readonly string[]): RowFigures {
  const sum = (f: (p: RowFigures) => number) => parts.reduce((a, p) => a + f(p), 0);
  const byLayer: Record<string, number> = {};
  parts.forEach((p, i) => {
    for (const [k, v] of Object.entries(p.zeroRowsByLayer)) byLayer[names ? `${names[i]}:${k}` : k] = v;
  });
  return withRates({
    rows: sum((p) => p.rows),
    zeroRows: sum((p) => p.zeroRows),
    zeroRowsByLayer: byLayer,
    uniqueRows: sum((p) => p.uniqueRows),
    zeroWeights: sum((p) => p.zeroWeights),
    weights: sum((p) => p.weights),
  });
}

/** Weights and biases of one HPS head (`task2.fc`). */
function headParameters(benchmark: Benchmark): number {
  const net = createNetwork(specOf('hps', benchmark), { seed: 0 });
  try {
    let n = 0;
    for (const [name, v] of net.params) if (net.paramInfo.get(name)!.node === 'task2.fc') n += v.size;
    return n;
  } finally {
    net.dispose();
  }
}

/** The network of a model (MultiMNIST sizes). */
const specOf = (model: Model, benchmark: Benchmark) =>
  model === 'hps' ? hps({ variant: benchmark }) : mdmtn({ variant: benchmark });

/** The reference's minimum for the search's kept epoch: 20% of all rows for MDMTN (1,239 of 6,193), 10% for HPS. */
function minZeroRows(
  model: Model,
  benchmark: Benchmark,
): { min: number; rows: number; parameters: number; alphas: number } {
  const net = createNetwork(specOf(model, benchmark), { seed: 0 });
  try {
    const f = rowFigures(net);
    let alphas = 0;
    for (const [name, v] of net.params) if (net.paramInfo.get(name)!.op === 'mix') alphas += v.size;
    return {
      min: Math.ceil(BENCHMARKS[benchmark].minZeroRowFraction[model] * f.rows),
      rows: f.rows,
      parameters: f.weights - alphas,
      alphas,
    };
  } finally {
    net.dispose();
  }
}

const completed = (runDir: string): ExperimentSummary | undefined => {
  const path = join(runDir, 'result.json');
  if (!existsSync(path)) return undefined;
  const r = JSON.parse(readFileSync(path, 'utf8')) as ExperimentSummary;
  return r.status === 'completed' ? r : undefined;
};

/**
 * Reproduces the paper's experiment for each preference vector: the search
 * phase (GrOWL prox after every epoch, best validation among epochs with
 * ≥ 20% zero rows), then the retraining phase from its network (zero rows
 * frozen, rows tied to their cluster means), k0 = 0 as one dense phase; the
 * kept network's test accuracies, rows and sharing per vector, and the front
 * over the vectors.
 * @throws Hotegni2023Error `INVALID_OPTIONS`, `INVALID_VECTOR` — before any training.
 */
export async function reproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const issues = validateReproduceOptions(options);
  if (issues.length > 0) {
    throw new Hotegni2023Error('INVALID_OPTIONS', `invalid hotegni2023 options:\n${formatIssues(issues)}`, {
      issues,
    });
  }
  const mode = options.mode ?? 'quick';
  const scale = SCALES[mode];
  const vectors = options.vectors ?? defaultVectors(scale);
  const vIssues = vectors.flatMap((k, i) => vectorIssues(k, `vectors[${i}]`));
  if (vIssues.length > 0) {
    throw new Hotegni2023Error(
      'INVALID_VECTOR',
      `a preference vector (k0, k1, k2) needs three entries ≥ 0 summing to 1:\n${formatIssues(vIssues)}`,
      { issues: vIssues },
    );
  }
  const seed = options.seed ?? 0;
  const form = options.form ?? 'textbook';
  const method = options.method ?? 'chebyshev-al';
  // The single-task networks are HPS trunks (one head each).
  const model = method === 'single-task' ? 'hps' : (options.model ?? 'mdmtn');
  const benchmark = options.benchmark ?? 'multiMnist';
  const outDir = resolve(options.outDir);
  const log = options.log ?? (() => {});
  const started = Date.now();
  const counts = minZeroRows(model, benchmark);
  // The pair of single-task networks: twice the trunk and one head (the other, untrained, left out).
  const parameters =
    method === 'single-task'
      ? { network: 2 * (counts.parameters - headParameters(benchmark)), alphas: 0 }
      : { network: counts.parameters, alphas: counts.alphas };

  const runPhase = async (
    phase: PhaseFigures['phase'],
    config: JsonObject,
    runDir: string,
    label: string,
  ): Promise<{ figures: PhaseFigures; summary: ExperimentSummary; kept: string }> => {
    const epochs = (config.training as JsonObject).epochs as number;
    const same =
      existsSync(join(runDir, 'config.json')) &&
      JSON.stringify(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'))) ===
        JSON.stringify(config);
    let summary = options.resume && same ? completed(runDir) : undefined;
    const reused = summary !== undefined;
    if (reused) log(`${label}: completed earlier, reused`);
    else {
      const run = await runExperiment(config, {
        runDir,
        resume: options.resume ? 'auto' : false,
        keepNetwork: true,
        callbacks: [epochLog(label, epochs, log)],
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      });
      try {
        summary = run.summary;
        if (summary.status === 'interrupted') throw new Interrupted();
        // No qualifying epoch: the phase hands on its last network (the reference falls back the same way).
        if (summary.best === null) saveNetworkSnapshot(join(runDir, 'final'), run.net!, summary.steps, {});
      } finally {
        run.net?.dispose();
      }
    }
    const s = summary!;
    const bestEpoch = s.best === null ? null : ((s.best as { epoch: number }).epoch ?? null);
    return {
      summary: s,
      kept: join(runDir, s.best === null ? 'final' : 'best'),
      figures: {
        phase,
        runDir,
        epochs,
        bestEpoch,
        wallMs: s.wallTimeMs,
        trainSecondsPerEpoch: trainSecondsPerEpoch(runDir),
        epochSeconds: median(s.history.map((h) => h.timeMs)) / 1000,
        validationCurve: s.history.map((h) => h.validation?.accuracy ?? []),
        reused,
      },
    };
  };

  /**
   * The search's starting network: MDMTN from the run's seed, LSUV-initialized
   * (orthonormal units, each layer's output std 1 ± 0.1) on the first
   * shuffled training batch, as the reference initializes before its search
   * phase. Made once per vector directory and reused.
   */
  const lsuvStart = async (initDir: string): Promise<string> => {
    const existing = loadNetworkSnapshot(initDir);
    if (existing !== undefined) {
      existing.net.dispose();
      return initDir;
    }
    const sizes = sizesOf({
      scale,
      vector: MAIN_VECTOR,
      form,
      seed,
      benchmark,
      ...(options.sizes ? { sizes: options.sizes } : {}),
    });
    const data = {
      seed: PROTOCOL.dataSeed,
      ...sizes,
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    };
    const dataset =
      benchmark === 'cifar10Mnist'
        ? await loadCifar10Mnist({
            ...data,
            ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
          })
        : await loadMultiMnist(data);
    const net = createNetwork(specOf(model, benchmark), { seed });
    try {
      const [batch] = dataset.batches('train', { batchSize: scale.batchSize, seed, epoch: 0 });
      try {
        const layers = lsuvInit(net, batch!.x, { seed });
        saveNetworkSnapshot(initDir, net, 0, { lsuv: layers.map((l) => ({ ...l })) });
      } finally {
        batch!.dispose();
      }
    } finally {
      net.dispose();
    }
    return initDir;
  };

  /** What every config of this run takes, for preference vector `k`. */
  const configBase = (k: Vector) => ({
    scale,
    vector: k,
    form,
    seed,
    model,
    benchmark,
    ...(options.sizes ? { sizes: options.sizes } : {}),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
  });

  /** The kept epoch's validation and test accuracies of a phase (its last test figures when none was kept). */
  const keptAccuracies = (summary: ExperimentSummary) => {
    const best = summary.best as {
      validation?: { accuracy: number[] };
      test?: { accuracy: number[] };
    } | null;
    return {
      validation: best?.validation?.accuracy ?? [],
      test: best?.test?.accuracy ?? (summary.test?.accuracy as number[] | undefined) ?? [],
    };
  };

  /** {@link rowFigures} of the network a phase kept. */
  const keptFigures = (kept: string, skipNodes?: ReadonlySet<string>): RowFigures => {
    const snap = loadNetworkSnapshot(kept);
    if (snap === undefined) throw new Error(`no network snapshot in ${kept}`);
    try {
      return rowFigures(snap.net, skipNodes);
    } finally {
      snap.net.dispose();
    }
  };

  /**
   * A baseline through the same harness: MGDA-UB (one run of the model), or the single-task pair
   * (one HPS-trunk network per task, each kept at its own task's best validation accuracy).
   */
  const runBaseline = async (): Promise<VectorResult> => {
    const t0 = Date.now();
    const name = `${benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}${method === 'mgda-ub' && model === 'hps' ? 'hps-' : ''}${method}`;
    const dir = join(outDir, name);
    const base = {
      ...configBase(MAIN_VECTOR),
      ...(options.baselineEpochs === undefined ? {} : { baselineEpochs: options.baselineEpochs }),
    };
    const runs =
      method === 'mgda-ub'
        ? [{ phase: 'mgda' as const, config: mgdaConfig(base), task: undefined }]
        : ([0, 1] as const).map((task) => ({
            phase: task === 0 ? ('single-left' as const) : ('single-right' as const),
            config: singleTaskConfig({ ...base, task }),
            task,
          }));
    const phases: PhaseFigures[] = [];
    const validationAccuracy: number[] = [];
    const testAccuracy: number[] = [];
    const parts: RowFigures[] = [];
    for (const r of runs) {
      const d = await runPhase(
        r.phase,
        r.config,
        join(dir, r.phase),
        `${name}${r.task === undefined ? '' : ` ${r.phase}`}`,
      );
      phases.push(d.figures);
      const { validation: val, test } = keptAccuracies(d.summary);
      if (r.task === undefined) {
        validationAccuracy.push(...val);
        testAccuracy.push(...test);
      } else {
        validationAccuracy[r.task] = val[r.task] ?? Number.NaN;
        testAccuracy[r.task] = test[r.task] ?? Number.NaN;
      }
      // A single-task network's other head (task{t}.fc, 1-based) never trains: not counted.
      parts.push(keptFigures(d.kept, new Set(r.task === undefined ? [] : [`task${2 - r.task}.fc`])));
    }
    const figures = sumFigures(parts, runs.length > 1 ? ['left', 'right'] : undefined);
    const result: VectorResult = {
      vector: null,
      method,
      model,
      benchmark,
      form,
      dir,
      phases,
      searchMetSparsity: null,
      validationAccuracy,
      testAccuracy,
      figures,
      wallMs: trainingWall(phases, t0),
    };
    log(
      `${name}: test accuracy ${testAccuracy.map((a) => `${(100 * a).toFixed(2)}%`).join(' / ')}, ${figures.zeroRows} of ${figures.rows} rows zero`,
    );
    return result;
  };

  const results: VectorResult[] = [];
  let interrupted = false;
  try {
    if (method !== 'chebyshev-al') results.push(await runBaseline());
    else
      for (const k of vectors) {
        const t0 = Date.now();
        const name = `${benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}${model === 'hps' ? 'hps-' : ''}${vectorName(k)}${form === 'reference' ? '-reference' : ''}`;
        const dir = join(outDir, name);
        const base = configBase(k);
        const phases: PhaseFigures[] = [];
        let last: { summary: ExperimentSummary; kept: string };
        let searchMet: boolean | null = null;
        if (k[0] === 0) {
          const d = await runPhase(
            'dense',
            denseConfig(base),
            join(dir, 'dense'),
            `${name} (one phase, no sparsity)`,
          );
          phases.push(d.figures);
          last = d;
        } else {
          const init = await lsuvStart(join(dir, 'init'));
          const search = await runPhase(
            'search',
            searchConfig({ ...base, minZeroRows: counts.min, initFrom: init }),
            join(dir, 'search'),
            `${name} search`,
          );
          phases.push(search.figures);
          searchMet = search.summary.best !== null;
          if (!searchMet)
            log(`${name}: no search epoch reached ${counts.min} zero rows; retraining its last network`);
          const retrain = await runPhase(
            'retrain',
            retrainConfig({ ...base, initFrom: search.kept }),
            join(dir, 'retrain'),
            `${name} retrain`,
          );
          phases.push(retrain.figures);
          last = retrain;
        }
        const accuracies = keptAccuracies(last.summary);
        const figures = keptFigures(last.kept);
        const result: VectorResult = {
          vector: k,
          method,
          model,
          benchmark,
          form,
          dir,
          phases,
          searchMetSparsity: searchMet,
          validationAccuracy: accuracies.validation,
          testAccuracy: accuracies.test,
          figures,
          wallMs: trainingWall(phases, t0),
        };
        results.push(result);
        log(
          `${name}: test accuracy ${result.testAccuracy.map((a) => `${(100 * a).toFixed(2)}%`).join(' / ')}, ${figures.zeroRows} of ${figures.rows} rows zero (${((100 * figures.zeroRows) / figures.rows).toFixed(2)}%)`,
        );
      }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true;
  }
  const points = results.map((r) => [
    1 - (r.testAccuracy[0] ?? 0),
    1 - (r.testAccuracy[1] ?? 0),
    1 - r.figures.zeroRows / r.figures.rows,
  ]);
  const front = points.length > 0 ? nonDominatedIndices(points) : [];
  return {
    experiment: 'hotegni2023',
    mode,
    seed,
    form,
    method,
    model,
    benchmark,
    date: new Date().toISOString(),
    results,
    front,
    hypervolume:
      front.length > 0
        ? hypervolume(
            front.map((i) => points[i]!),
            [1, 1, 1],
          )
        : 0,
    parameters,
    interrupted,
    wallMs: Date.now() - started,
    machine: machineDescription(),
  };
}
