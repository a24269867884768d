/**
 * `reproduce()`: Guenter & Sideris (2024) composed from the moprune packages.
 * Every run goes through core's `runExperiment` into its own directory
 * (config.json, metrics.jsonl, result.json, checkpoint/, final/); this file
 * plans the runs of a study, checks the inputs before any training, and
 * measures what each run kept: the deterministic network (θ > ½) compacted,
 * its FLOPs and parameters against the dense network as built, the blocks and
 * filters that survive, the step time per epoch next to the FLOPs trained that
 * epoch, and its inference time against the dense network's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import {
  compact,
  createNetwork,
  type ExperimentSummary,
  formatIssues,
  type GateValues,
  type Issue,
  type JsonObject,
  loadNetworkSnapshot,
  type Network,
  type NetworkSpec,
  networkMetrics,
  Rng,
  registries,
  runExperiment,
  saveNetworkSnapshot,
  type TrainCallback,
} from '@moprune/core/node';
import { machineDescription } from '@moprune/report';
import '@moprune/datasets/register';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import '@moprune/solvers';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Data,
  FULL,
  Guenter2024Error,
  guenterConfig,
  LENET_FULL,
  type Net,
  optionIssues,
  QUICK,
  type Scale,
  type Sites,
  TINY,
  type UserParameters,
} from './configs.js';

/** Run sizes: a ResNet schedule this machine can afford (`full`), minutes (`quick`), seconds (`tiny`, tests). */
export type Mode = 'full' | 'quick' | 'tiny';
export const SCALES: Readonly<Record<Mode, Scale>> = { full: FULL, quick: QUICK, tiny: TINY };

/**
 * What a call runs (each beside the dense baseline of the same schedule):
 * - `gamma`: the paper's method (or `sites`) over the γ grid — the accuracy-vs-FLOPs front;
 * - `sites`: unit-only, layer-only and combined gating over the γ grid — the paper's comparison;
 * - `alpha`: α over its grid at the main γ — FLOPs vs parameters;
 * - `beta`: β over its grid at the main γ — layers vs units.
 */
export type Study = 'gamma' | 'sites' | 'alpha' | 'beta';
export const STUDIES: readonly Study[] = ['gamma', 'sites', 'alpha', 'beta'];

/** A mode's grids and its main point (α = 1: the cost is FLOPs, the figure the acceptance is about). */
export interface Grid {
  readonly gammas: readonly number[];
  readonly alphas: readonly number[];
  readonly betas: readonly number[];
  readonly main: UserParameters;
}

export const GRIDS: Readonly<Record<Mode, Grid>> = {
  full: {
    gammas: [0.1, 0.3, 1, 3],
    alphas: [0, 0.5, 1],
    betas: [0.2, 0.5, 0.8],
    main: { gamma: 1, alpha: 1, beta: 0.5 },
  },
  quick: { gammas: [0.25, 1, 4], alphas: [0, 1], betas: [0.2, 0.8], main: { gamma: 1, alpha: 1, beta: 0.5 } },
  tiny: { gammas: [1], alphas: [0, 1], betas: [0.2, 0.8], main: { gamma: 1, alpha: 1, beta: 0.5 } },
};

/** Options of {@link reproduce}. */
export interface ReproduceOptions {
  /** @default 'quick' */
  readonly mode?: Mode;
  /** Root of this reproduction's run directories. */
  readonly outDir: string;
  /** @default 'gamma' */
  readonly study?: Study;
  /** @default 'resnet20' */
  readonly net?: Net;
  /** @default 'fashion-mnist' for the ResNets, 'mnist' for LeNet-300-100 */
  readonly data?: Data;
  /** Seeds of every run (init, shuffle, gate samples); several give means and spreads. @default [0] */
  readonly seeds?: readonly number[];
  /** γ values instead of the mode's grid (`gamma` and `sites` studies). */
  readonly gammas?: readonly number[];
  /** α instead of the main one (`gamma`, `sites` and `beta` studies). */
  readonly alpha?: number;
  /** β instead of the main one (`gamma`, `sites` and `alpha` studies). */
  readonly beta?: number;
  /** The gates of the `gamma` study. @default 'all' (the ResNets), 'units' (LeNet-300-100) */
  readonly sites?: Exclude<Sites, 'none'>;
  /** Train the dense baseline beside the gated runs. @default true */
  readonly dense?: boolean;
  /** Time inference at batch 128, dense vs kept (alternating rounds). @default true, except in tiny mode */
  readonly timeInference?: boolean;
  /** Reuse completed runs and continue an interrupted one from its checkpoint. @default false */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** Directory of user-supplied data (CIFAR-10: `<dir>/cifar-10-batches-bin`). */
  readonly dataDir?: string;
  readonly cacheDir?: string;
}

/** One run of a plan. */
export interface PlannedRun {
  readonly sites: Sites;
  readonly params: UserParameters;
  readonly seed: number;
}

/** FLOPs (multiply–accumulates per sample) and parameters of a network. */
export interface Size {
  readonly macs: number;
  readonly params: number;
}

/** One epoch of a run: the time its steps took and the FLOPs of the network they trained. */
export interface EpochFigures {
  readonly epoch: number;
  readonly steps: number;
  /** Sum of the steps' time. */
  readonly trainSeconds: number;
  readonly medianStepMs: number;
  /** MACs per sample of the network as trained in this epoch (structures removed before it are gone). */
  readonly macs: number;
  readonly validationAccuracy: number;
}

/** Filters (units) of one layer as built and as kept; `input features` for gated inputs. */
export interface LayerSurvival {
  readonly node: string;
  readonly built: number;
  readonly kept: number;
}

/** Inference time at batch 128, medians of alternating rounds. */
export interface InferenceFigures {
  readonly batch: number;
  readonly rounds: number;
  readonly denseMs: number;
  readonly keptMs: number;
  /** denseMs ÷ keptMs. */
  readonly speedup: number;
  /**
   * The machine's 1-minute load average when the timing ended, and its cores: a load above the cores
   * means the timing shared them with other work (re-time finished runs with `scripts/time-kept.ts`).
   */
  readonly load: { readonly average: number; readonly cores: number };
}

/** What one run kept and what it cost. */
export interface RunResult {
  readonly name: string;
  readonly dir: string;
  readonly sites: Sites;
  readonly params: UserParameters;
  readonly seed: number;
  readonly reused: boolean;
  readonly validationAccuracy: number;
  readonly testAccuracy: number;
  /** The network as built (dense, gates open). */
  readonly built: Size;
  /** The deterministic network of the end (θ > ½), compacted: what inference runs. */
  readonly kept: Size;
  /** The network training ended with (structures removed physically during training gone). */
  readonly trained: Size;
  /** 1 − kept FLOPs ÷ built FLOPs. */
  readonly flopsRemoved: number;
  readonly paramsRemoved: number;
  /** Residual blocks kept of those built; null for a network without blocks. */
  readonly blocks: { readonly kept: number; readonly total: number } | null;
  readonly layers: readonly LayerSurvival[];
  readonly epochs: readonly EpochFigures[];
  /** Median step time of the last epoch ÷ the first's. */
  readonly stepTimeRatio: number;
  readonly inference: InferenceFigures | null;
  readonly wallMs: number;
}

/** What {@link reproduce} returns (and `summary.json` holds). */
export interface ReproduceSummary {
  readonly experiment: 'guenter2024';
  readonly mode: Mode;
  readonly study: Study;
  readonly net: Net;
  readonly data: Data;
  readonly seeds: readonly number[];
  readonly date: string;
  readonly results: readonly RunResult[];
  readonly interrupted: boolean;
  readonly wallMs: number;
  /**
   * The machine the runs trained on (cores, CPU model, `MOPRUNE_NATIVE_THREADS`), as the reproduction
   * recorded it; absent in summaries written before it was recorded (the report then describes the
   * machine writing it).
   */
  readonly machine?: string;
  /** Where the parts of a merged summary came from ({@link mergeSummaries}); absent for a reproduction's own. */
  readonly sources?: readonly string[];
}

const isFiniteIn = (v: unknown, lo: number, hi: number) =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

/** The networks without residual blocks (no layer gates). */
const PLAIN: ReadonlySet<Net> = new Set(['lenet300']);

/** Every problem with the options of {@link reproduce} (empty when valid). */
export function validateReproduceOptions(o: ReproduceOptions): Issue[] {
  const issues: Issue[] = [];
  const oneOf = (path: string, v: unknown, allowed: readonly string[]) => {
    if (v !== undefined && !allowed.includes(v as string)) {
      issues.push({ path, message: `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}` });
    }
  };
  oneOf('mode', o.mode, ['full', 'quick', 'tiny']);
  oneOf('study', o.study, STUDIES);
  oneOf('net', o.net, ['resnet20', 'resnet56', 'lenet300']);
  oneOf('data', o.data, ['fashion-mnist', 'mnist', 'cifar10']);
  oneOf('sites', o.sites, ['all', 'units', 'layers']);
  if (typeof o.outDir !== 'string' || o.outDir === '')
    issues.push({ path: 'outDir', message: 'is required' });
  if (o.seeds !== undefined) {
    if (!Array.isArray(o.seeds) || o.seeds.length === 0)
      issues.push({ path: 'seeds', message: 'must list at least one seed' });
    else
      o.seeds.forEach((s, i) => {
        if (!(Number.isSafeInteger(s) && s >= 0))
          issues.push({ path: `seeds[${i}]`, message: `must be an integer ≥ 0, got ${s}` });
      });
  }
  if (o.gammas !== undefined) {
    if (!Array.isArray(o.gammas) || o.gammas.length === 0)
      issues.push({ path: 'gammas', message: 'must list at least one γ' });
    else
      o.gammas.forEach((g, i) => {
        if (!isFiniteIn(g, 0, Number.MAX_VALUE))
          issues.push({ path: `gammas[${i}]`, message: `must be a finite number ≥ 0, got ${g}` });
      });
  }
  for (const key of ['alpha', 'beta'] as const) {
    if (o[key] !== undefined && !isFiniteIn(o[key], 0, 1)) {
      issues.push({ path: key, message: `must be in [0, 1], got ${o[key]}` });
    }
  }
  const net = o.net ?? 'resnet20';
  const study = o.study ?? 'gamma';
  if (PLAIN.has(net)) {
    if (study === 'sites' || study === 'beta') {
      issues.push({
        path: 'study',
        message: `'${study}' compares layer gates, and LeNet-300-100 has no residual blocks`,
      });
    }
    if (o.sites === 'all' || o.sites === 'layers') {
      issues.push({
        path: 'sites',
        message: `'${o.sites}' needs layer gates, and LeNet-300-100 has no residual blocks; use 'units'`,
      });
    }
    if (o.data === 'cifar10')
      issues.push({ path: 'data', message: 'LeNet-300-100 runs on MNIST or Fashion-MNIST' });
  }
  if (o.gammas !== undefined && (study === 'alpha' || study === 'beta')) {
    issues.push({ path: 'gammas', message: `the ${study} study runs at one γ (the main one); drop it` });
  }
  if (o.sites !== undefined && study !== 'gamma') {
    issues.push({ path: 'sites', message: `applies to the gamma study only, not ${study}` });
  }
  return issues;
}

/** The runs of a study, dense baseline first, seed by seed. */
export function planRuns(o: {
  readonly mode: Mode;
  readonly study: Study;
  readonly net: Net;
  readonly seeds: readonly number[];
  readonly gammas?: readonly number[];
  readonly alpha?: number;
  readonly beta?: number;
  readonly sites?: Exclude<Sites, 'none'>;
  readonly dense?: boolean;
}): PlannedRun[] {
  const grid = GRIDS[o.mode];
  const main: UserParameters = {
    gamma: grid.main.gamma,
    alpha: o.alpha ?? grid.main.alpha,
    beta: o.beta ?? grid.main.beta,
  };
  const gammas = o.gammas ?? grid.gammas;
  const plain = PLAIN.has(o.net);
  const runs: PlannedRun[] = [];
  for (const seed of o.seeds) {
    if (o.dense !== false) runs.push({ sites: 'none', params: main, seed });
    switch (o.study) {
      case 'gamma':
        for (const gamma of gammas)
          runs.push({ sites: o.sites ?? (plain ? 'units' : 'all'), params: { ...main, gamma }, seed });
        break;
      case 'sites':
        for (const sites of ['units', 'layers', 'all'] as const)
          for (const gamma of gammas) runs.push({ sites, params: { ...main, gamma }, seed });
        break;
      case 'alpha':
        for (const alpha of grid.alphas)
          runs.push({ sites: plain ? 'units' : 'all', params: { ...main, alpha }, seed });
        break;
      case 'beta':
        for (const beta of grid.betas) runs.push({ sites: 'all', params: { ...main, beta }, seed });
        break;
    }
  }
  return runs;
}

class Interrupted extends Error {}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Per epoch: the steps' time (metrics.jsonl) and the FLOPs of the network they trained (the previous epoch line's). */
export function epochFigures(runDir: string, builtMacs: number): EpochFigures[] {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  const steps = new Map<number, number[]>();
  const epochs: { epoch: number; macs: number; accuracy: number }[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('{"type":"step"')) {
      const r = JSON.parse(line) as { epoch: number; timeMs: number };
      const list = steps.get(r.epoch) ?? [];
      list.push(r.timeMs);
      steps.set(r.epoch, list);
    } else if (line.startsWith('{"type":"epoch"')) {
      const r = JSON.parse(line) as {
        epoch: number;
        metrics: { macs: number };
        validation?: { accuracy: number[] };
      };
      epochs.push({
        epoch: r.epoch,
        macs: r.metrics.macs,
        accuracy: r.validation?.accuracy[0] ?? Number.NaN,
      });
    }
  }
  return epochs.map((e, i) => {
    const times = steps.get(e.epoch) ?? [];
    return {
      epoch: e.epoch,
      steps: times.length,
      trainSeconds: times.reduce((a, b) => a + b, 0) / 1000,
      medianStepMs: median(times),
      // Removal happens at an epoch's end: epoch e trains what epoch e − 1 left.
      macs: i === 0 ? builtMacs : epochs[i - 1]!.macs,
      validationAccuracy: e.accuracy,
    };
  });
}

/** Output units of each dense and conv layer of a network, by node (the classifier head excluded). */
function layerWidths(net: Network): Map<string, number> {
  const out = new Map<string, number>();
  const head = new Set(net.spec.outputs);
  for (const n of net.nodes) {
    if ((n.op === 'conv2d' || n.op === 'dense') && !head.has(n.id))
      out.set(n.id, n.outputShape[n.outputShape.length - 1]!);
  }
  return out;
}

/** Residual blocks of a network: the ids of its gated `add` nodes. */
function blockIds(spec: NetworkSpec): string[] {
  return spec.nodes.filter((n) => n.op === 'add').map((n) => n.id);
}

/** Median forward time at batch `batch` of the dense and the kept network, in alternating rounds. */
export function timeInference(dense: Network, kept: Network, rounds = 5, batch = 128): InferenceFigures {
  const rng = Rng.fromSeed(0);
  const shape = [batch, ...dense.spec.inputShape];
  const x = tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next()),
    shape,
  );
  const time = (net: Network) => {
    const t0 = performance.now();
    tf.tidy(() => {
      for (const y of net.apply(x, { training: false })) y.dataSync();
    });
    return performance.now() - t0;
  };
  try {
    time(dense); // warm-up: kernels and buffers
    time(kept);
    const d: number[] = [];
    const k: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        d.push(time(dense));
        k.push(time(kept));
      } else {
        k.push(time(kept));
        d.push(time(dense));
      }
    }
    const denseMs = median(d);
    const keptMs = median(k);
    const load = { average: loadavg()[0]!, cores: availableParallelism() };
    return { batch, rounds, denseMs, keptMs, speedup: denseMs / keptMs, load };
  } finally {
    x.dispose();
  }
}

/**
 * What a run kept: the trained network compacted under its evaluation gates (closed units and
 * filters gone, a closed block turned into its skip path — the same function, see core's `compact`),
 * its size against the network as built, its units/filters per layer and its residual blocks.
 * The caller disposes the returned `net`.
 */
export function measureKept(
  trained: Network,
  built: Network,
  gates: Readonly<Record<string, GateValues>>,
): {
  net: Network;
  built: Size;
  kept: Size;
  trained: Size;
  layers: LayerSurvival[];
  blocks: { kept: number; total: number } | null;
} {
  const plain = Object.fromEntries(
    Object.entries(gates).map(([site, g]) => [site, g.shape.length === 0 ? g.values[0]! : g.values]),
  );
  const net = compact(trained, { gates: plain });
  const size = (n: Network): Size => {
    const m = networkMetrics(n);
    return { macs: m.dense.macs, params: m.dense.params };
  };
  const widths = layerWidths(net);
  // Input features, when they are gated: as many as the data has, and as many as a select reads.
  const inputGated = built.groups.some((g) => g.kind === 'input');
  const select = net.spec.nodes.find((n) => n.op === 'select');
  const features = built.spec.inputShape.reduce((a, b) => a * b, 1);
  const inputRow: LayerSurvival[] = inputGated
    ? [
        {
          node: 'input features',
          built: features,
          kept: select?.op === 'select' ? select.indices.length : features,
        },
      ]
    : [];
  const builtBlocks = blockIds(built.spec);
  const keptBlocks = new Set(blockIds(net.spec));
  return {
    net,
    built: size(built),
    kept: size(net),
    trained: size(trained),
    layers: [
      ...inputRow,
      ...[...layerWidths(built)].map(([node, w]) => ({ node, built: w, kept: widths.get(node) ?? 0 })),
    ],
    blocks:
      builtBlocks.length === 0
        ? null
        : { kept: builtBlocks.filter((b) => keptBlocks.has(b)).length, total: builtBlocks.length },
  };
}

const completed = (runDir: string): ExperimentSummary | undefined => {
  const path = join(runDir, 'result.json');
  if (!existsSync(path)) return undefined;
  const r = JSON.parse(readFileSync(path, 'utf8')) as ExperimentSummary;
  return r.status === 'completed' ? r : undefined;
};

/** One progress line per epoch. */
function epochLog(run: string, epochs: number, log: (line: string) => void): TrainCallback {
  let eta: number | undefined;
  return {
    name: 'guenter2024-progress',
    onProgress: (p) => {
      eta = p.etaMs;
    },
    onEpochEnd: (e) => {
      const acc = e.validation?.accuracy[0];
      const macs = e.metrics.macs;
      const open = e.metrics['bernoulliGates.openGates'];
      const gates = e.metrics['bernoulliGates.gates'];
      log(
        `${run}: epoch ${e.epoch + 1}/${epochs}${acc === undefined ? '' : `, validation accuracy ${(100 * acc).toFixed(2)}%`}${
          macs === undefined ? '' : `, ${(macs / 1e6).toFixed(2)}M MACs trained`
        }${open === undefined ? '' : `, ${open}/${gates} gates open`}${eta === undefined ? '' : `, about ${Math.round(eta / 60000)} min to go`}`,
      );
      return undefined;
    },
  };
}

/**
 * Reproduces one study of the paper on one network and data set: the dense
 * baseline and the gated runs of the study's grid for every seed, each run's
 * kept network measured (see {@link RunResult}).
 * @throws Guenter2024Error `INVALID_OPTIONS` — before any training; a data set's own error (e.g.
 *   `MISSING_FILES` for CIFAR-10 without its files) — before the first step.
 */
export async function reproduce(options: ReproduceOptions): Promise<ReproduceSummary> {
  const issues = validateReproduceOptions(options);
  const mode = options.mode ?? 'quick';
  const study = options.study ?? 'gamma';
  const net = options.net ?? 'resnet20';
  const data = options.data ?? (PLAIN.has(net) ? 'mnist' : 'fashion-mnist');
  const seeds = options.seeds ?? [0];
  const scale = mode === 'full' && net === 'lenet300' ? LENET_FULL : (SCALES[mode] ?? QUICK);
  const plan =
    issues.length === 0
      ? planRuns({
          mode,
          study,
          net,
          seeds,
          ...(options.gammas === undefined ? {} : { gammas: options.gammas }),
          ...(options.alpha === undefined ? {} : { alpha: options.alpha }),
          ...(options.beta === undefined ? {} : { beta: options.beta }),
          ...(options.sites === undefined ? {} : { sites: options.sites }),
          ...(options.dense === undefined ? {} : { dense: options.dense }),
        })
      : [];
  // Every run's own checks too (the configs' rules), before the first one trains.
  plan.forEach((r, i) => {
    for (const issue of optionIssues({ net, data, sites: r.sites, params: r.params, seed: r.seed, scale })) {
      issues.push({ ...issue, path: `runs[${i}].${issue.path}` });
    }
  });
  if (issues.length > 0) {
    throw new Guenter2024Error('INVALID_OPTIONS', `invalid guenter2024 options:\n${formatIssues(issues)}`, {
      issues,
    });
  }
  const outDir = resolve(options.outDir);
  const log = options.log ?? (() => {});
  const timing = options.timeInference ?? mode !== 'tiny';
  const started = Date.now();
  const results: RunResult[] = [];
  let interrupted = false;
  try {
    for (const run of plan) {
      results.push(await runOne(run));
    }
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    interrupted = true;
  }
  return {
    experiment: 'guenter2024',
    mode,
    study,
    net,
    data,
    seeds,
    date: new Date().toISOString(),
    results,
    interrupted,
    wallMs: Date.now() - started,
    machine: machineDescription(),
  };

  async function runOne(r: PlannedRun): Promise<RunResult> {
    const t0 = Date.now();
    const config = guenterConfig({ net, data, sites: r.sites, params: r.params, seed: r.seed, scale });
    const name = config.name as string;
    const dir = join(outDir, name);
    const epochs = (config.training as JsonObject).epochs as number;
    const same =
      existsSync(join(dir, 'config.json')) &&
      JSON.stringify(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))) === JSON.stringify(config);
    let summary = options.resume && same ? completed(dir) : undefined;
    let final = summary === undefined ? undefined : loadNetworkSnapshot(join(dir, 'final'));
    const reused = summary !== undefined && final !== undefined;
    if (reused) log(`${name}: completed earlier, reused`);
    else {
      final?.net.dispose();
      const done = await runExperiment(config, {
        runDir: dir,
        resume: options.resume ? 'auto' : false,
        keepNetwork: true,
        callbacks: [epochLog(name, epochs, log)],
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      });
      summary = done.summary;
      if (summary.status === 'interrupted') {
        done.net?.dispose();
        throw new Interrupted();
      }
      // The final network with its evaluation gates: what a later --resume measures without training.
      saveNetworkSnapshot(join(dir, 'final'), done.net!, summary.steps, {
        gates: (done.gates ?? {}) as unknown as JsonObject,
      });
      final = {
        net: done.net!,
        step: summary.steps,
        extra: { gates: (done.gates ?? {}) as unknown as JsonObject },
      };
    }
    const trainedNet = final!.net;
    const gates = (final!.extra.gates ?? {}) as unknown as Record<string, GateValues>;
    const builtNet = createNetwork(builtSpec(config), { seed: 0 });
    let keptNet: Network | undefined;
    try {
      const measured = measureKept(trainedNet, builtNet, gates);
      keptNet = measured.net;
      const { built, kept, trained, layers, blocks } = measured;
      const perEpoch = epochFigures(dir, built.macs);
      const inference = timing && r.sites !== 'none' ? timeInference(builtNet, keptNet) : null;
      const acc = (e: JsonObject | null) => ((e?.accuracy as number[] | undefined) ?? [])[0] ?? Number.NaN;
      const result: RunResult = {
        name,
        dir,
        sites: r.sites,
        params: r.params,
        seed: r.seed,
        reused,
        validationAccuracy: acc(summary!.validation),
        testAccuracy: acc(summary!.test),
        built,
        kept,
        trained,
        flopsRemoved: 1 - kept.macs / built.macs,
        paramsRemoved: 1 - kept.params / built.params,
        blocks,
        layers,
        epochs: perEpoch,
        stepTimeRatio:
          perEpoch.length > 0
            ? perEpoch[perEpoch.length - 1]!.medianStepMs / perEpoch[0]!.medianStepMs
            : Number.NaN,
        inference,
        wallMs: reused ? summary!.wallTimeMs : Date.now() - t0,
      };
      log(
        `${name}: test accuracy ${(100 * result.testAccuracy).toFixed(2)}%, ${(100 * result.flopsRemoved).toFixed(1)}% of FLOPs removed${
          result.blocks === null
            ? ''
            : `, ${result.blocks.total - result.blocks.kept} of ${result.blocks.total} blocks removed`
        }`,
      );
      return result;
    } finally {
      keptNet?.dispose();
      builtNet.dispose();
      trainedNet.dispose();
    }
  }

  /** The network a config builds, as built (before any training): the model's spec on the data's shapes. */
  function builtSpec(config: JsonObject): NetworkSpec {
    const channels = data === 'cifar10' ? 3 : 1;
    const side = net === 'lenet300' ? 28 : 32;
    return registries().models.create(config.model as JsonObject, {
      inputShape: [side, side, channels],
      classes: [10],
    });
  }
}
