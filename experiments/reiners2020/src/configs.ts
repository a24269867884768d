/**
 * The runs of Reiners, Klamroth & Stiglmayr (2020) as experiment configs —
 * plain JSON for core's `runExperiment`, built from a {@link Scale} so that the
 * paper's settings (`FULL`) and the quick/tiny versions share one definition.
 *
 * Sources of the figures (see README.md): the paper spec
 * `shared/papers/reiners2020.md` (arXiv 2008.13590) and the authors' Keras
 * repository malena1906/Pruning-Weights-with-Biobjective-Optimization-Keras
 * (`main_multiobj_pruning_demo_cifar_and_mnist.py`, `bisection_search.py`,
 * `MultiobjectiveOptimizers.py`).
 */
import type { JsonObject } from '@moprune/core';

/** Which size to run at: the paper's (`FULL`) or a reduced one. */
export interface Scale {
  /** Epochs of a full LeNet-5 run (SMGD, MAdam, baselines, knee retrain). Paper: 30. */
  readonly epochs: number;
  /** Epochs of one weighted-sum candidate of the knee search. Paper: 10 (= epochs/3). */
  readonly candidateEpochs: number;
  /** LeNet-5 batch size. Paper: 32 (Keras's default `fit` batch). */
  readonly batchSize: number;
  /** Train on the first `limit` training samples only (undefined = the whole split). */
  readonly limit?: number;
  /** Evaluate validation/test on the first `evalLimit` samples only (undefined = all). */
  readonly evalLimit?: number;
  /** MNIST training images held out for knee selection (the knee search trains on the rest). */
  readonly validationSize: number;
  /** Cap on knee-search candidates (bisection/dichotomic; the grid is cut to this many too). Paper: 20. */
  readonly maxCandidates: number;
  /** Candidates of the grid search (evenly spread over the paper's 26 λ2 values). @default maxCandidates. Paper: 26. */
  readonly gridCandidates?: number;
  /** The grid search's λ2 values, when not drawn from the paper's grid (then `gridCandidates` is unused). */
  readonly gridLambda2?: readonly number[];
  /** Epochs of the knee's retrain. @default epochs. Paper: 30. */
  readonly retrainEpochs?: number;
  /** VGG-like CIFAR-10 epochs. Paper: 125. */
  readonly vggEpochs: number;
  /** VGG-like batch size. Paper: 64. */
  readonly vggBatchSize: number;
  /** Checkpoint every this many steps as well as every epoch (0 = epochs only). */
  readonly checkpointEverySteps: number;
  /** Write a step line to metrics.jsonl every this many steps. */
  readonly logEverySteps: number;
}

/** The paper's settings. */
export const FULL: Scale = {
  epochs: 30,
  candidateEpochs: 10,
  batchSize: 32,
  validationSize: 5000,
  maxCandidates: 20,
  gridCandidates: 26,
  vggEpochs: 125,
  vggBatchSize: 64,
  checkpointEverySteps: 500,
  logEverySteps: 25,
};

/**
 * The paper's headline in minutes (≤ 5 on 2 cores with the native backend):
 * every run trains on all of MNIST's training images (the knee search on
 * 55,000, 5,000 held out for selection) and is evaluated on the whole
 * validation and test splits. SMGD, MAdam and the two baselines run 2 epochs.
 * The knee search trains one epoch per candidate on six λ2 values placed where
 * the full grid's front bends (1e-4 … 1e-3: 83–97% of the dense weights removed
 * after 10 epochs, at 97.1–98.6% validation accuracy, README), instead of the
 * paper's 26 values from 0 to 0.1, half of which collapse to the constant
 * predictor; the knee is retrained 6 epochs. What this gives up against `FULL`:
 * the ends of the front (λ2 = 0 and the collapsed λ2 ≥ 7e-3) and the long
 * training that takes the knee from ≈ 92% to ≈ 96% removed.
 */
export const QUICK: Scale = {
  epochs: 2,
  candidateEpochs: 1,
  retrainEpochs: 6,
  batchSize: 32,
  validationSize: 5000,
  maxCandidates: 6,
  gridLambda2: [1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 1e-3],
  vggEpochs: 1,
  vggBatchSize: 64,
  checkpointEverySteps: 0,
  logEverySteps: 25,
};

/** For tests: 2,000 images, one epoch everywhere, a few candidates. */
export const TINY: Scale = {
  epochs: 1,
  candidateEpochs: 1,
  batchSize: 64,
  limit: 2000,
  evalLimit: 500,
  validationSize: 1000,
  maxCandidates: 2,
  vggEpochs: 1,
  vggBatchSize: 64,
  checkpointEverySteps: 0,
  logEverySteps: 10,
};

/**
 * SMGD's starting rate. The reference script reads it from the terminal; 0.01 is
 * the default of the reference's `SMGD` optimizer class (and of Keras's SGD), the
 * only value the code fixes. Decay = lr/epochs per step (Keras `decay`).
 */
export const SMGD_LR = 0.01;
/** MAdam's and Adam's rate: the reference `MAdam` class default, = Keras's Adam default. */
export const ADAM_LR = 0.001;
/** Momentum of SMGD and of the SGD baseline (paper and reference). */
export const MOMENTUM = 0.9;
/** ITP threshold: |w| ≤ 0.001 is zeroed after every batch (paper and reference). */
export const ITP_THRESHOLD = 0.001;
/** Conv-kernel L2 weight added to both objectives: LeNet-5 1e-4, VGG 1e-6 (reference `weight_decay`). */
export const CONV_L2 = { lenet: 1e-4, vgg: 1e-6 } as const;
/** Fixed ℓ1 weight of the dense kernels in the baselines: LeNet-5 3e-4, VGG 0.03 (reference `lambdadense`). */
export const BASELINE_L1 = { lenet: 3e-4, vgg: 0.03 } as const;

// Functions, so that every config gets its own objects (callers may edit a config).
const denseKernels = (): JsonObject => ({ ops: ['dense'], roles: ['kernel'] });
const convKernels = (): JsonObject => ({ ops: ['conv2d'], roles: ['kernel'] });

/** Options shared by the config builders. */
export interface ConfigOptions {
  readonly scale: Scale;
  readonly seed: number;
  /**
   * ITP regrowth: `true` is the reference behaviour (a zeroed weight may grow
   * back through later steps), `false` masks pruned weights for good. @default true
   */
  readonly regrow?: boolean;
  /** Add the conv-kernel L2 penalty to both objectives, as the reference does. @default true */
  readonly convL2?: boolean;
  /**
   * SMGD's starting rate (the reference reads it from the terminal); its decay
   * stays lr/epochs. @default {@link SMGD_LR}
   */
  readonly smgdLr?: number;
  /**
   * What k counts in SMGD's rate lr/(1 + decay·k), decay = lr/epochs:
   * `'step'` — updates so far, the reference code's convention (Keras
   * `decay`), so the rate falls to ≈ lr/19.75 by the end of 30 LeNet-5 epochs;
   * `'epoch'` — epochs so far (k = updates / steps per epoch, continuous), the
   * paper's formula read with k in epochs, so the rate falls only by 1/(1 + lr).
   * @default 'step'
   */
  readonly smgdDecay?: 'step' | 'epoch';
  /**
   * Beyond the paper (opt-in): SMGD's gradients scaled before the min-norm
   * step (`@moprune/solvers` SMGD `normalize`: `'l2'` g_i/‖g_i‖, `'loss'`,
   * `'loss+'`). @default 'none' (the paper's SMGD)
   */
  readonly smgdNormalize?: 'none' | 'l2' | 'loss' | 'loss+';
}

/** MNIST training images (the SMGD runs train on all of them). */
const MNIST_TRAIN = 60_000;
/** CIFAR-10 training images. */
const CIFAR10_TRAIN = 50_000;

/** SMGD's per-update decay for `decay = lr/epochs` with k counted as {@link ConfigOptions.smgdDecay} says. */
function smgdDecayPerUpdate(
  o: ConfigOptions,
  lr: number,
  epochs: number,
  trainSize: number,
  batchSize: number,
): number {
  const perEpoch = lr / epochs;
  if ((o.smgdDecay ?? 'step') === 'step') return perEpoch;
  return perEpoch / Math.ceil(Math.min(trainSize, o.scale.limit ?? trainSize) / batchSize);
}

/** The two objectives: f1 = CE (+ c·‖conv kernels‖²), f2 = Σ|w| of the dense kernels (+ the same L2). */
export function biobjectives(convL2: number | false): JsonObject[] {
  const l2 =
    convL2 === false
      ? []
      : [{ weight: convL2, objective: { type: 'l2', name: 'convL2', params: convKernels() } }];
  return [
    { type: 'sum', name: 'f1', terms: [{ objective: { type: 'crossEntropy', name: 'ce' } }, ...l2] },
    {
      type: 'sum',
      name: 'f2',
      terms: [{ objective: { type: 'l1', name: 'denseL1', params: denseKernels() } }, ...l2],
    },
  ];
}

function itp(regrow: boolean): JsonObject {
  return { type: 'itp', threshold: ITP_THRESHOLD, regrow };
}

function evaluation(scale: Scale, split: 'validation' | 'test'): JsonObject {
  return scale.evalLimit === undefined ? { split } : { split, limit: scale.evalLimit };
}

/**
 * The `training` section of a LeNet-5 run. Runs without a validation split
 * (the full 60k training set, as in the reference) evaluate the test split every
 * epoch — for monitoring only, nothing is selected on it (the reference passes
 * the test set as Keras `validation_data` too).
 */
function lenetTraining(
  scale: Scale,
  seed: number,
  epochs: number,
  split: 'validation' | 'test',
  evaluateTest = true,
): JsonObject {
  return {
    epochs,
    batchSize: scale.batchSize,
    seed,
    validation: evaluation(scale, split),
    ...(evaluateTest ? {} : { evaluateTest: false }),
    checkpoint: { everyEpochs: 1, everySteps: scale.checkpointEverySteps, keep: 2 },
    logEverySteps: scale.logEverySteps,
    ...(scale.limit === undefined ? {} : { limit: scale.limit }),
  };
}

/**
 * MNIST without a validation split (all 60,000 training images, as the
 * reference trains), or with `validationSize` images held out for the knee search.
 */
function mnist(validationSize: number, seed: number): JsonObject {
  return validationSize === 0 ? { type: 'mnist' } : { type: 'mnist', validationSize, splitSeed: seed };
}

function lenetModel(): JsonObject {
  return { type: 'lenet5', variant: 'reiners' };
}

/**
 * SMGD + ITP on LeNet-5 (Reiners variant) / MNIST: min-norm weights of the two
 * gradients every batch, momentum 0.9 (v ← μv − lr·d), lr/(1 + decay·k) with
 * decay = lr/epochs and k = steps so far (Keras convention; `smgdDecay:
 * 'epoch'` counts k in epochs instead).
 */
export function smgdConfig(o: ConfigOptions): JsonObject {
  const { scale } = o;
  const lr = o.smgdLr ?? SMGD_LR;
  const normalize = o.smgdNormalize ?? 'none';
  return {
    name: normalize === 'none' ? 'reiners2020-lenet5-smgd-itp' : `reiners2020-lenet5-smgd-${normalize}-itp`,
    model: lenetModel(),
    dataset: mnist(0, o.seed),
    objectives: biobjectives(o.convL2 === false ? false : CONV_L2.lenet),
    solver: {
      type: 'smgd',
      lr,
      momentum: MOMENTUM,
      decay: smgdDecayPerUpdate(o, lr, scale.epochs, MNIST_TRAIN, scale.batchSize),
      ...(normalize === 'none' ? {} : { normalize }),
    },
    pruners: [itp(o.regrow ?? true)],
    training: lenetTraining(scale, o.seed, scale.epochs, 'test'),
  };
}

/**
 * MAdam + ITP: the same min-norm weights from the raw gradients, each objective
 * with its own Adam moments (Keras ε = 1e-7), constant rate 0.001.
 */
export function madamConfig(o: ConfigOptions): JsonObject {
  return {
    ...smgdConfig(o),
    name: 'reiners2020-lenet5-madam-itp',
    solver: { type: 'madam', lr: ADAM_LR, epsilon: 1e-7 },
  };
}

/**
 * One weighted-sum candidate: Adam on λ1·f1 + λ2·f2 with ITP, trained on the
 * train split (MNIST minus `validationSize`), evaluated on the validation split
 * — the knee is chosen on validation figures, not on the test set (the reference
 * used the test set). `epochs` defaults to the candidate length and then the
 * test split is not evaluated at all; the knee's retrain passes `scale.epochs`
 * and is evaluated on test at its end.
 *
 * Difference from the reference: it runs its `MAdam(multi=False)` with fixed
 * descent weights, i.e. Adam moments kept per objective; the paper describes
 * the candidates as weighted-sum training with Adam, which is what runs here.
 */
export function weightedSumConfig(
  o: ConfigOptions & { lambda: readonly number[]; epochs?: number },
): JsonObject {
  const { scale } = o;
  const epochs = o.epochs ?? scale.candidateEpochs;
  return {
    name: `reiners2020-lenet5-weighted-sum-l2=${o.lambda[1]}`,
    model: lenetModel(),
    dataset: mnist(scale.validationSize, o.seed),
    objectives: biobjectives(o.convL2 === false ? false : CONV_L2.lenet),
    solver: {
      type: 'weighted-sum',
      weights: [...o.lambda],
      optimizer: { type: 'adam', lr: ADAM_LR, epsilon: 1e-7, epsilonPlacement: 'raw' },
    },
    pruners: [itp(o.regrow ?? true)],
    // Candidates never see the test set; the knee's retrain (o.epochs given) is tested.
    training: lenetTraining(scale, o.seed, epochs, 'validation', o.epochs !== undefined),
  };
}

/** The single-objective loss of the baselines: CE + c_ℓ1·Σ|dense kernels| (+ conv L2). */
function penalizedLoss(l1: number, convL2: number | false): JsonObject {
  return {
    type: 'sum',
    name: 'loss',
    terms: [
      { objective: { type: 'crossEntropy', name: 'ce' } },
      { weight: l1, objective: { type: 'l1', name: 'denseL1', params: denseKernels() } },
      ...(convL2 === false
        ? []
        : [{ weight: convL2, objective: { type: 'l2', name: 'convL2', params: convKernels() } }]),
    ],
  };
}

/** Which single-objective optimizer a baseline uses. */
export type BaselineOptimizer = 'adam' | 'sgd';

/**
 * A baseline: Adam (0.001, Keras ε) or SGD (0.01, momentum 0.9, decay lr/epochs)
 * on CE + 3e-4·ℓ1(dense kernels) + 1e-4·L2(conv kernels), with ITP.
 */
export function baselineConfig(o: ConfigOptions & { optimizer: BaselineOptimizer }): JsonObject {
  const { scale } = o;
  const optimizer =
    o.optimizer === 'adam'
      ? { type: 'adam', lr: ADAM_LR, epsilon: 1e-7, epsilonPlacement: 'raw' }
      : { type: 'sgd', lr: SMGD_LR, momentum: MOMENTUM, momentumStyle: 'keras' };
  const training = lenetTraining(scale, o.seed, scale.epochs, 'test');
  return {
    name: `reiners2020-lenet5-${o.optimizer}-l1-itp`,
    model: lenetModel(),
    dataset: mnist(0, o.seed),
    objectives: [penalizedLoss(BASELINE_L1.lenet, o.convL2 === false ? false : CONV_L2.lenet)],
    solver: { type: 'weighted-sum', weights: [1], optimizer },
    pruners: [itp(o.regrow ?? true)],
    training:
      o.optimizer === 'sgd'
        ? { ...training, lrSchedule: { type: 'inverseTime', decay: 'lrOverEpochs', unit: 'step' } }
        : training,
  };
}

/**
 * SMGD + ITP on the VGG-like net / CIFAR-10 (z-scored inputs, batch 64, 125
 * epochs, conv L2 1e-6 in both objectives). Needs the official CIFAR-10 binary
 * files in the data directory; without them the run stops before any training
 * with the dataset's `MISSING_FILES` message naming the files and where they go.
 */
export function vggConfig(o: ConfigOptions): JsonObject {
  const { scale } = o;
  const lr = o.smgdLr ?? SMGD_LR;
  const normalize = o.smgdNormalize ?? 'none';
  return {
    name:
      normalize === 'none'
        ? 'reiners2020-vgg-cifar10-smgd-itp'
        : `reiners2020-vgg-cifar10-smgd-${normalize}-itp`,
    model: { type: 'vgg-like' },
    dataset: { type: 'cifar10', normalization: 'zscore' },
    objectives: biobjectives(o.convL2 === false ? false : CONV_L2.vgg),
    solver: {
      type: 'smgd',
      lr,
      momentum: MOMENTUM,
      decay: smgdDecayPerUpdate(o, lr, scale.vggEpochs, CIFAR10_TRAIN, scale.vggBatchSize),
      ...(normalize === 'none' ? {} : { normalize }),
    },
    pruners: [itp(o.regrow ?? true)],
    training: {
      epochs: scale.vggEpochs,
      batchSize: scale.vggBatchSize,
      seed: o.seed,
      validation: evaluation(scale, 'test'),
      checkpoint: { everyEpochs: 1, everySteps: scale.checkpointEverySteps, keep: 2 },
      logEverySteps: scale.logEverySteps,
      ...(scale.limit === undefined ? {} : { limit: scale.limit }),
    },
  };
}
