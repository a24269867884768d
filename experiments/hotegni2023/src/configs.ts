/**
 * The experiment configs of the Hotegni, Peitz & Berkemeier (2023)
 * reproduction: MDMTN on MultiMNIST trained by the weighted Chebyshev
 * scalarization with an augmented Lagrangian, in the reference's two phases
 * (a search phase with the GrOWL prox step after every epoch, then a
 * retraining phase with the zero rows frozen and the rows tied to their
 * cluster means). Every figure below is the reference's (`config.py`,
 * `WCsAL_Train.py`, `GrOWL_utils.py` of its code), or a choice of ours said
 * so where it is made.
 */
import type { JsonObject } from '@moprune/core';

/** A preference vector k = (k0, k1, k2): sparsity, left digit, right digit. */
export type Vector = readonly [number, number, number];

/** The paper's main vector, the one the reference was run with on this machine. */
export const MAIN_VECTOR: Vector = [1e-3, 0.2, 0.799];

/** The paper's sparsity weights k0 of its Pareto-front grids (k1 + k2 = 1 − k0). */
export const K0_GRID = [0, 1e-4, 1e-3, 1e-2, 0.1] as const;

/** Which augmented Lagrangian: the textbook inequality form (default) or the reference code's. */
export type AlForm = 'textbook' | 'reference';

/**
 * The reference run on this machine (issue 20): its code with `config.py`
 * defaults, MultiMNIST, MDMTN, k = (1e-3, 0.2, 0.799), seed 0, Debian's torch
 * 1.13 on one thread.
 */
export const ANCHOR = {
  vector: MAIN_VECTOR,
  testAccuracy: [0.9697, 0.9617] as const,
  zeroRows: 1546,
  rows: 6193,
  /** Zero rows per layer: shared Dense 320→50, monitor 1 and 2 Dense 2880→50. */
  zeroRowsByLayer: { 'shared.fc': 1, 'monitor1.fc': 776, 'monitor2.fc': 769 },
  parameters: 311_491,
  alphas: 4,
  bestRetrainEpoch: 23,
  retrainEpochs: 39,
  /** Seconds per training epoch (train loop), search and retraining phases. */
  epochSeconds: { search: 47.5, retrain: 46.1 },
  /** Wall time of the whole script (both phases of one vector). */
  wallMinutes: 33.3,
  compressionRate: 1.55,
  parameterSharing: 1.16,
} as const;

/** The knobs a mode sets. */
export interface Scale {
  readonly name: 'tiny' | 'quick' | 'full';
  /** MultiMNIST split sizes (the dataset is built once per size and cached). */
  readonly data: { readonly trainSize: number; readonly validationSize: number; readonly testSize: number };
  /** Outer AL iterations of the search phase (each `epochsPerOuter` epochs, a prox step after each). */
  readonly searchOuter: number;
  /** Outer AL iterations of the retraining phase. */
  readonly retrainOuter: number;
  /** Epochs per outer iteration. */
  readonly epochsPerOuter: number;
  /** Outer iterations when k0 = 0 (one phase, no prox): the reference's `max_iter`. */
  readonly denseOuter: number;
  readonly batchSize: number;
  /**
   * Tie the rows when retraining. Affinity propagation on a 2,880-row layer takes about 30 s
   * here (O(rows²) per iteration, 200 iterations), so the short modes leave tying out.
   */
  readonly tying: boolean;
  /**
   * Epochs of each MGDA-UB and single-task run: in full mode 39, the paper's method's budget (9
   * search + 30 retraining epochs); the reference trains its baselines 100 (`baselineEpochs` of
   * {@link ConfigOptions} sets any count).
   */
  readonly baselineEpochs: number;
}

/** The paper's protocol: 3 × 3 search epochs, 10 × 3 retraining epochs, 50k/10k/10k. */
export const FULL: Scale = {
  name: 'full',
  data: { trainSize: 50_000, validationSize: 10_000, testSize: 10_000 },
  searchOuter: 3,
  retrainOuter: 10,
  epochsPerOuter: 3,
  denseOuter: 12,
  batchSize: 256,
  tying: true,
  baselineEpochs: 39,
};

/**
 * Minutes on 2 cores: 20,000 training images (2,000 validation, 2,000 test),
 * a search of two 1-epoch outer iterations (caps 0.4 then 0.8), a retraining
 * of three 1-epoch iterations without tying — a front, not the paper's accuracies.
 */
export const QUICK: Scale = {
  name: 'quick',
  data: { trainSize: 20_000, validationSize: 2_000, testSize: 2_000 },
  searchOuter: 2,
  retrainOuter: 3,
  epochsPerOuter: 1,
  denseOuter: 5,
  batchSize: 256,
  tying: false,
  baselineEpochs: 5,
};

/** For tests: seconds. */
export const TINY: Scale = {
  name: 'tiny',
  data: { trainSize: 512, validationSize: 256, testSize: 256 },
  searchOuter: 1,
  retrainOuter: 1,
  epochsPerOuter: 1,
  denseOuter: 1,
  batchSize: 128,
  tying: false,
  baselineEpochs: 1,
};

/**
 * The reference's settings common to both benchmarks: ρ = 2, ε = 1e-4, a = 0, λ0 = 1/3 each, the
 * spike GrOWL weights; what differs per benchmark (learning rate and its decay, μ0, the tying
 * preference, the sparsity minimum and cap) is in {@link BENCHMARKS}.
 */
export const PROTOCOL = {
  rho: 2,
  epsilon: 1e-4,
  /** GrOWL weights θ = [β1 + β2, β2, …] ("spike"). */
  growl: { beta1: 0.8, beta2: 0.2 },
  /** Seed of the data construction (pairs and split); the training seed is the run's. */
  dataSeed: 0,
} as const;

/**
 * The multi-task network: MDMTN (the paper's, a shared trunk plus a monitor per task) or HPS
 * (hard parameter sharing: the trunk and the heads only), the baseline trained the same way.
 */
export type Model = 'mdmtn' | 'hps';

/**
 * The grouped kernels of a model: every dense kernel but the task heads and every conv kernel but
 * the ones reading the 1-channel image — the reference's `skip_layer: 1` and its exclusion of
 * `task_blocks`. Rows are input neurons (dense) and input channels (conv).
 */
export function grouped(model: Model = 'mdmtn'): JsonObject {
  return {
    ops: ['dense', 'conv2d'],
    roles: ['kernel'],
    exclude: [
      'task1.fc',
      'task2.fc',
      'shared.conv1',
      ...(model === 'mdmtn' ? ['monitor1.conv1', 'monitor2.conv1'] : []),
    ],
  };
}

/** The MDMTN grouping, {@link grouped}('mdmtn'). */
export const GROUPED: JsonObject = grouped('mdmtn');

/** The data set: MultiMNIST (built from MNIST) or Cifar10Mnist (an MNIST digit over a CIFAR-10 image; needs CIFAR-10). */
export type Benchmark = 'multiMnist' | 'cifar10Mnist';

/** What differs between the two benchmarks, from the reference's `config.py`. */
export interface BenchmarkProtocol {
  readonly lr: number;
  readonly lrDecay: number;
  readonly mu0: number;
  readonly tyingPreference: number;
  /** Minimum fraction of zero rows for the search's kept epoch, per model. */
  readonly minZeroRowFraction: Readonly<Record<Model, number>>;
  /** The per-layer cap on zero rows reached in the last search iteration, per model. */
  readonly maxLayerZeroFraction: Readonly<Record<Model, number>>;
  /** The full-mode split sizes. */
  readonly sizes: { readonly trainSize: number; readonly validationSize: number; readonly testSize: number };
}

/** The reference's settings per benchmark (MultiMNIST: {@link PROTOCOL}'s). */
export const BENCHMARKS: Readonly<Record<Benchmark, BenchmarkProtocol>> = {
  multiMnist: {
    lr: 2.5e-3,
    lrDecay: 0.5,
    mu0: 2.5e-8,
    tyingPreference: 0.7,
    minZeroRowFraction: { mdmtn: 0.2, hps: 0.1 },
    maxLayerZeroFraction: { mdmtn: 0.8, hps: 0.8 },
    sizes: { trainSize: 50_000, validationSize: 10_000, testSize: 10_000 },
  },
  cifar10Mnist: {
    lr: 1e-4,
    lrDecay: 0.98,
    mu0: 6.8e-8,
    tyingPreference: 0.8,
    minZeroRowFraction: { mdmtn: 0.1, hps: 0.05 },
    maxLayerZeroFraction: { mdmtn: 0.3, hps: 0.15 },
    sizes: { trainSize: 40_000, validationSize: 10_000, testSize: 10_000 },
  },
};

/** `k0,k1,k2` → a name usable as a directory: `k0.001-0.2-0.799`. */
export function vectorName(k: Vector): string {
  return `k${k.map((x) => String(x)).join('-')}`;
}

/** The search phase's per-epoch cap on zero rows per layer: the reference's ramp (k + 1)·0.8/iterations per outer iteration k. */
export function capRamp(
  scale: Scale,
  maxCap: number = BENCHMARKS.multiMnist.maxLayerZeroFraction.mdmtn,
): number[] {
  const caps: number[] = [];
  for (let k = 0; k < scale.searchOuter; k++) {
    const cap = ((k + 1) * maxCap) / scale.searchOuter;
    for (let e = 0; e < scale.epochsPerOuter; e++) caps.push(Math.min(cap, 0.999));
  }
  return caps;
}

/** Options every config takes. */
export interface ConfigOptions {
  readonly scale: Scale;
  /** @default 'mdmtn' */
  readonly model?: Model;
  /** @default 'multiMnist' */
  readonly benchmark?: Benchmark;
  /** Split sizes instead of the scale's (e.g. a fixture run). */
  readonly sizes?: { readonly trainSize: number; readonly validationSize: number; readonly testSize: number };
  /** Where CIFAR-10's binary files are (Cifar10Mnist). */
  readonly dataDir?: string;
  readonly vector: Vector;
  readonly form: AlForm;
  readonly seed: number;
  /** Epochs of a baseline run instead of the scale's (the reference's: 100). */
  readonly baselineEpochs?: number;
}

/** The split sizes a config trains on: the option's, else the scale's (capped by the benchmark's full sizes). */
export function sizesOf(o: ConfigOptions): { trainSize: number; validationSize: number; testSize: number } {
  const full = BENCHMARKS[o.benchmark ?? 'multiMnist'].sizes;
  const d = o.sizes ?? o.scale.data;
  return {
    trainSize: Math.min(d.trainSize, full.trainSize),
    validationSize: Math.min(d.validationSize, full.validationSize),
    testSize: Math.min(d.testSize, full.testSize),
  };
}

function common(o: ConfigOptions, name: string): Omit<JsonObject, 'training' | 'pruners'> {
  const benchmark = o.benchmark ?? 'multiMnist';
  const p = BENCHMARKS[benchmark];
  return {
    name,
    model: { type: o.model ?? 'mdmtn', variant: benchmark },
    dataset:
      benchmark === 'cifar10Mnist'
        ? {
            type: 'cifar10-mnist',
            seed: PROTOCOL.dataSeed,
            ...sizesOf(o),
            ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
          }
        : { type: 'multi-mnist', seed: PROTOCOL.dataSeed, ...sizesOf(o) },
    objectives: [
      // f0: GrOWL of the grouped rows, valued but not differentiated (the reference computes it from
      // detached weights; sparsity comes from the prox step).
      {
        type: 'growl',
        name: 'growl',
        differentiable: false,
        theta: { kind: 'spike', ...PROTOCOL.growl },
        groups: { from: 'axis', params: grouped(o.model), axis: 0 },
      },
      { type: 'nll', task: 0, name: 'nll-left' },
      { type: 'nll', task: 1, name: 'nll-right' },
    ],
    solver: {
      type: 'chebyshev-al',
      preference: [...o.vector],
      epsilon: PROTOCOL.epsilon,
      mu0: p.mu0,
      rho: PROTOCOL.rho,
      outerEvery: o.scale.epochsPerOuter,
      lrDecay: p.lrDecay,
      form: o.form,
      optimizer: { type: 'adam', lr: p.lr },
    },
  };
}

/**
 * The search phase (from `initFrom`, the LSUV-initialized network the
 * reference starts from): `searchOuter × epochsPerOuter` epochs, the GrOWL prox
 * after each (full θ, the per-layer cap ramping to 0.8, zero rows free to
 * grow back), the best-validation epoch kept among those with at least
 * `minZeroRows` zero rows (the reference's 20% of all its rows, heads and
 * first convs included).
 */
export function searchConfig(
  o: ConfigOptions & { readonly minZeroRows: number; readonly initFrom?: string },
): JsonObject {
  const epochs = o.scale.searchOuter * o.scale.epochsPerOuter;
  return {
    ...common(
      o,
      `hotegni2023-${o.benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}${o.model === 'hps' ? 'hps-' : ''}${vectorName(o.vector)}-search`,
    ),
    pruners: [
      {
        type: 'growl',
        params: grouped(o.model),
        weights: { type: 'spike', ...PROTOCOL.growl },
        strength: 1,
        maxZeroFraction: capRamp(
          o.scale,
          BENCHMARKS[o.benchmark ?? 'multiMnist'].maxLayerZeroFraction[o.model ?? 'mdmtn'],
        ),
        every: 'epoch',
        freezeZeroGroups: false,
      },
    ],
    training: {
      epochs,
      batchSize: o.scale.batchSize,
      seed: o.seed,
      checkpoint: { everyEpochs: 1, keep: 2 },
      keepBest: { require: [{ monitor: 'metrics.growl.zeroGroups', min: o.minZeroRows }] },
      ...(o.initFrom === undefined ? {} : { initFrom: o.initFrom }),
    },
  };
}

/**
 * The retraining phase from the search's kept network: `retrainOuter ×
 * epochsPerOuter` epochs with a fresh optimizer, λ and μ (as the reference
 * restarts its loop), the zero rows frozen and every grouped layer's rows
 * tied to their cluster mean after each epoch (clusters found once, on the
 * starting network, by affinity propagation with preference 0.7); the
 * best-validation epoch kept.
 */
export function retrainConfig(o: ConfigOptions & { readonly initFrom: string }): JsonObject {
  return {
    ...common(
      o,
      `hotegni2023-${o.benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}${o.model === 'hps' ? 'hps-' : ''}${vectorName(o.vector)}-retrain`,
    ),
    pruners: [
      {
        type: 'growl',
        params: grouped(o.model),
        proxDisabled: true,
        freezeZeroGroups: true,
        ...(o.scale.tying
          ? {
              tying: true,
              tyingClusters: 'once',
              tyingSimilarity: 'normalizedInnerProduct',
              tyingPreference: BENCHMARKS[o.benchmark ?? 'multiMnist'].tyingPreference,
            }
          : {}),
        every: 'epoch',
      },
    ],
    training: {
      epochs: o.scale.retrainOuter * o.scale.epochsPerOuter,
      batchSize: o.scale.batchSize,
      seed: o.seed,
      initFrom: o.initFrom,
      checkpoint: { everyEpochs: 1, keep: 2 },
      keepBest: {},
    },
  };
}

/**
 * k0 = 0: the reference trains without the sparsity machinery — one phase of
 * `denseOuter × epochsPerOuter` epochs (36 in full mode), no prox, no tying,
 * the best-validation epoch kept.
 */
export function denseConfig(o: ConfigOptions): JsonObject {
  return {
    ...common(
      o,
      `hotegni2023-${o.benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}${o.model === 'hps' ? 'hps-' : ''}${vectorName(o.vector)}-dense`,
    ),
    pruners: [],
    training: {
      epochs: o.scale.denseOuter * o.scale.epochsPerOuter,
      batchSize: o.scale.batchSize,
      seed: o.seed,
      checkpoint: { everyEpochs: 1, keep: 2 },
      keepBest: {},
    },
  };
}

/**
 * The preference vectors a mode runs when none is given. Full: the main
 * vector for every k0 of the paper's grid and four more k1 splits at
 * k0 = 1e-3 (nine vectors: about two hours per lane on one core each);
 * quick: five k1 splits at k0 = 1e-3; tiny: two.
 */
export function defaultVectors(scale: Scale): Vector[] {
  const split = (k0: number, share: number): Vector => {
    const k1 = round((1 - k0) * share);
    return [k0, k1, round(1 - k0 - k1)];
  };
  if (scale.name === 'tiny') return [MAIN_VECTOR, split(1e-3, 0.8)];
  const k0 = 1e-3;
  const shares = [0.1, 0.4, 0.6, 0.8];
  if (scale.name === 'quick') return [MAIN_VECTOR, ...shares.map((s) => split(k0, s))];
  return [
    MAIN_VECTOR,
    ...shares.map((s) => split(k0, s)),
    ...K0_GRID.filter((x) => x !== k0).map((x) => split(x, 0.2)),
  ];
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * How the multi-task network is trained: the paper's method (weighted Chebyshev + augmented
 * Lagrangian with GrOWL, two phases per preference vector), or one of its baselines through the
 * same harness — MGDA-UB (min-norm over the shared trunk's gradients) and single-task networks.
 */
export type Method = 'chebyshev-al' | 'mgda-ub' | 'single-task';

/**
 * The baselines' learning rate is halved every 30 epochs of 100 in the reference (`epoch > 0 and
 * epoch % 30 == 0` after the epoch, so from the 32nd epoch; ours from the 31st, the step
 * schedule's ⌊epoch/30⌋); other budgets keep the proportion (every 12 of 39; at least one epoch).
 */
export function baselineLrEvery(epochs: number): number {
  return Math.max(1, Math.round(0.3 * epochs));
}

/** The baselines' data, the same splits as the paper's method (seed of the data construction 0). */
function baselineData(o: ConfigOptions): JsonObject {
  return common(o, '').dataset as JsonObject;
}

/** The training block of a baseline run: its epochs, the rate halved every 30% of them, `keepBest` as given. */
function baselineTraining(o: ConfigOptions, keepBest: JsonObject): JsonObject {
  const epochs = o.baselineEpochs ?? o.scale.baselineEpochs;
  return {
    epochs,
    batchSize: o.scale.batchSize,
    seed: o.seed,
    lrSchedule: { type: 'step', every: baselineLrEvery(epochs), gamma: 0.5, unit: 'epoch' },
    checkpoint: { everyEpochs: 1, keep: 2 },
    keepBest,
  };
}

/**
 * The MGDA-UB baseline (the reference's `Example_MDMTN_MGDA_MM.py`): both NLLs, per step the
 * min-norm convex combination of the two tasks' gradients over the shared trunk (`shared.*`;
 * monitors, α and heads are task-specific), every parameter stepped along Σ c_t·∇L_t by SGD with
 * momentum 0.9 at 1e-2, halved every 30% of the epochs (the reference: every 30 of 100); batch 256; the best-validation epoch kept
 * (the reference tests its last epoch). Differences, ours by choice: the textbook direction
 * (the reference's last task backward leaves its gradient in `.grad` before the weighted backward
 * adds to it, and never zeroes the α gradients — we reproduce neither); Keras-style momentum
 * (v ← 0.9v − lr·d) where PyTorch's scales the buffer by the new rate after each halving.
 */
export function mgdaConfig(o: ConfigOptions): JsonObject {
  return {
    name: `hotegni2023-${o.benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}${o.model === 'hps' ? 'hps-' : ''}mgda-ub`,
    model: { type: o.model ?? 'mdmtn', variant: o.benchmark ?? 'multiMnist' },
    dataset: baselineData(o),
    objectives: [
      { type: 'nll', task: 0, name: 'nll-left' },
      { type: 'nll', task: 1, name: 'nll-right' },
    ],
    solver: { type: 'smgd', lr: 1e-2, momentum: 0.9, minNormOver: ['shared.'] },
    pruners: [],
    training: baselineTraining(o, {}),
  };
}

/**
 * One single-task network (the reference's `SingleTaskModel_I` and its `config.py` settings for
 * MultiMNIST): the HPS trunk (conv 1→10, conv 10→20, dense 320→50) with task `task`'s head,
 * Adam at 1e-2 halved every 30% of the epochs (the reference: every 30 of 100), batch 256, the epoch with the best validation
 * accuracy on its own task kept. The network is built with both heads (the data set carries both
 * labels); only task `task`'s NLL is trained, so the other head never moves and is left out of
 * every count.
 */
export function singleTaskConfig(o: ConfigOptions & { readonly task: 0 | 1 }): JsonObject {
  const side = o.task === 0 ? 'left' : 'right';
  return {
    name: `hotegni2023-${o.benchmark === 'cifar10Mnist' ? 'cifar10mnist-' : ''}single-${side}`,
    model: { type: 'hps', variant: o.benchmark ?? 'multiMnist' },
    dataset: baselineData(o),
    objectives: [{ type: 'nll', task: o.task, name: `nll-${side}` }],
    solver: { type: 'weighted-sum', weights: [1], optimizer: { type: 'adam', lr: 1e-2 } },
    pruners: [],
    training: baselineTraining(o, { monitor: `validation.accuracy.${o.task}` }),
  };
}
