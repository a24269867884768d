/**
 * The runs of the Guenter & Sideris (2024) reproduction as experiment configs.
 *
 * The method (spec: a reconstruction — the paper has no public code) trains a
 * network whose units/filters and residual blocks are multiplied by Bernoulli
 * gates ξ ~ Bern(θ), minimizing J = E[data loss] + γ·C(θ), with the expected
 * complexity C = α·E[FLOPs]/FLOPs₀ + (1 − α)·E[params]/params₀ and the layer
 * gates weighted by β. The three user parameters are the only knobs:
 *
 * - **γ** (accuracy vs pruning) is the weight of C against the data loss. The
 *   weighted-sum solver takes weights on the simplex, so J is trained as
 *   (CE + γ·C)/(1 + γ), weights [1/(1+γ), γ/(1+γ)]: the same minimizer, and
 *   Adam's step is invariant to the positive factor (up to ε).
 * - **α** and **β** go to `expectedComplexity` as they are.
 * - **Every other coefficient is derived from the cost**: C is exactly
 *   multilinear in θ (gates are independent), so the pressure on each gate,
 *   ∂C/∂θ_i, is that gate's share of the expected FLOPs and parameters given
 *   the other gates' probabilities — a wide early filter and a whole block get
 *   their own pressures without a coefficient per layer. `@moprune/objectives`
 *   computes it (`expectedComplexity`, mode `'mixture'`).
 *
 * Our choices where the spec is silent, named: the straight-through estimator
 * for ∂E[L]/∂θ; θ₀ = 1; a flattening prior (`polarization`) on θ; removal after
 * θ = 0 for one epoch with the weights inside the attraction region (the
 * pruner's defaults: `maxWeightRms` 1e-3, `closedDecay` 0.05); Adam with a
 * cosine-annealed rate.
 */
import { type Issue, type JsonObject, MopruneError } from '@moprune/core';

/** Which gates a run learns: both kinds (the paper's method), one kind (its comparisons), or none (dense). */
export type Sites = 'all' | 'units' | 'layers' | 'none';

/** The networks of the reproduction. */
export type Net = 'resnet20' | 'resnet56' | 'lenet300';

/** The data: Fashion-MNIST padded to 32×32 and MNIST are here; CIFAR-10 runs when supplied (`--data-dir`). */
export type Data = 'fashion-mnist' | 'mnist' | 'cifar10';

/** The three user parameters. */
export interface UserParameters {
  /** Accuracy vs pruning: the weight of the complexity cost, ≥ 0. */
  readonly gamma: number;
  /** FLOPs vs parameters in the cost, in [0, 1] (1: FLOPs only). */
  readonly alpha: number;
  /** Layers vs units in the cost, in [0, 1]. */
  readonly beta: number;
}

/** The training budget of a mode. */
export interface Scale {
  readonly epochs: number;
  readonly batchSize: number;
  /** Training images used (all when absent). */
  readonly limit?: number;
  /** Held-out training images for validation. */
  readonly validationSize: number;
  /** Peak Adam rate (cosine-annealed to 0 over the run). */
  readonly lr: number;
  /**
   * Flattening prior on θ (see the pruner's `polarization`). It must stay below the rate: at θ = 1 it
   * pushes up by ρ per step while Adam's step down is at most about the rate, so ρ ≥ lr keeps every
   * gate open. As the cosine schedule takes the rate to 0, the prior takes over and θ settles in {0, 1}.
   */
  readonly polarization: number;
  /**
   * Training batches whose BatchNorm statistics the evaluated network takes before every evaluation
   * (core's `recalibrateBatchNorm`; our choice, named): training samples gates, so the moving
   * statistics describe randomly thinned networks, and evaluating the deterministic one with them
   * shifts every later layer (validation accuracy 55.9% → 77.1% on the same quick run).
   */
  readonly recalibrate: number;
}

/** Full mode: a ResNet schedule short enough for this machine's cores (30 epochs). */
export const FULL: Scale = {
  epochs: 30,
  batchSize: 128,
  validationSize: 5000,
  lr: 2e-3,
  polarization: 3e-4,
  recalibrate: 16,
};

/**
 * Full mode for LeNet-300-100 on MNIST: 100 epochs of batch 100 at Adam 1e-3 — the L0-regularization
 * anchor trains 200 epochs (Louizos et al. 2018); 30 epochs left our dense baseline at 1.54% error,
 * above the anchor's 1.4% before any pruning. No BatchNorm, so nothing to recalibrate.
 */
export const LENET_FULL: Scale = {
  epochs: 100,
  batchSize: 100,
  validationSize: 5000,
  lr: 1e-3,
  polarization: 1e-4,
  recalibrate: 0,
};

/** Quick mode: 225 steps per run (3 epochs of 4,800 images), to see the pieces and a γ front (not a result). */
export const QUICK: Scale = {
  epochs: 3,
  batchSize: 64,
  limit: 4800,
  validationSize: 1000,
  lr: 1e-2,
  polarization: 1e-3,
  recalibrate: 8,
};

/** Tiny mode: two steps per run, for tests (the CIFAR fixture has 15 training images). */
export const TINY: Scale = {
  epochs: 1,
  batchSize: 8,
  limit: 16,
  validationSize: 5,
  lr: 1e-2,
  polarization: 1e-3,
  recalibrate: 1,
};

/** Options of {@link guenterConfig}. */
export interface ConfigOptions {
  readonly net: Net;
  readonly data: Data;
  readonly sites: Sites;
  readonly params: UserParameters;
  readonly seed: number;
  readonly scale: Scale;
}

/** Codes of {@link Guenter2024Error}. */
export type Guenter2024ErrorCode =
  /** An option is invalid; `issues` names every one. */
  | 'INVALID_OPTIONS'
  /** Summaries to merge are of different networks, data or modes, or not summaries of this reproduction. */
  | 'INCOMPATIBLE_SUMMARIES';

/** A bad input of the reproduction, found before any training. `name` is always `'Guenter2024Error'`. */
export class Guenter2024Error extends MopruneError<Guenter2024ErrorCode> {
  constructor(code: Guenter2024ErrorCode, message: string, options: { issues?: readonly Issue[] } = {}) {
    super(code, message, options);
    this.name = 'Guenter2024Error';
  }
}

const RESNET_DEPTH: Readonly<Record<Exclude<Net, 'lenet300'>, number>> = { resnet20: 20, resnet56: 56 };

/** Every problem with `o`, before anything is built. */
export function optionIssues(o: ConfigOptions): Issue[] {
  const issues: Issue[] = [];
  const { gamma, alpha, beta } = o.params;
  if (!(Number.isFinite(gamma) && gamma >= 0)) {
    issues.push({ path: 'gamma', message: `must be a finite number ≥ 0, got ${gamma}` });
  }
  for (const [name, v] of [
    ['alpha', alpha],
    ['beta', beta],
  ] as const) {
    if (!(v >= 0 && v <= 1)) issues.push({ path: name, message: `must be in [0, 1], got ${v}` });
  }
  if (o.net === 'lenet300' && (o.sites === 'all' || o.sites === 'layers')) {
    issues.push({
      path: 'sites',
      message: `'${o.sites}' needs layer gates, and LeNet-300-100 has no residual blocks; use 'units'`,
    });
  }
  if (o.net === 'lenet300' && o.data === 'cifar10') {
    issues.push({ path: 'data', message: 'LeNet-300-100 runs on MNIST or Fashion-MNIST' });
  }
  if (o.scale.polarization >= o.scale.lr) {
    issues.push({
      path: 'scale.polarization',
      message: `must be below the rate (${o.scale.lr}): at θ = 1 the prior would keep every gate open`,
    });
  }
  if (!(Number.isSafeInteger(o.seed) && o.seed >= 0)) {
    issues.push({ path: 'seed', message: `must be an integer ≥ 0, got ${o.seed}` });
  }
  return issues;
}

function dataset(o: ConfigOptions): JsonObject {
  const split = { validationSize: o.scale.validationSize };
  if (o.data === 'cifar10') return { type: 'cifar10', ...split };
  // CIFAR-sized ResNets take 32×32 inputs: the 28×28 images get a 2-pixel black border.
  return { type: o.data, ...(o.net === 'lenet300' ? {} : { pad: 2 }), ...split };
}

function model(o: ConfigOptions): JsonObject {
  // LeNet-300-100's gated runs gate its 784 input features too, as the L0-regularization anchor prunes input pixels.
  if (o.net === 'lenet300')
    return { type: 'lenet-300-100', gates: o.sites === 'none' ? 'none' : 'inputs+units' };
  const gates = { all: 'units+layers', units: 'units', layers: 'layers', none: 'none' }[o.sites];
  return { type: 'resnet', depth: RESNET_DEPTH[o.net], gates };
}

/**
 * The experiment config of one run: the gated network trained on J = CE + γ·C,
 * or (`sites: 'none'`) the dense baseline on CE alone with the same schedule.
 * @throws Guenter2024Error `INVALID_OPTIONS` listing every problem of `o`
 */
export function guenterConfig(o: ConfigOptions): JsonObject {
  const issues = optionIssues(o);
  if (issues.length > 0) {
    throw new Guenter2024Error(
      'INVALID_OPTIONS',
      `guenter2024: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  const { gamma, alpha, beta } = o.params;
  const dense = o.sites === 'none';
  const optimizer = { type: 'adam', lr: o.scale.lr };
  const name = dense
    ? `${o.net}-${o.data}-dense-seed${o.seed}`
    : `${o.net}-${o.data}-${o.sites}-g${gamma}-a${alpha}-b${beta}-seed${o.seed}`;
  return {
    name,
    model: model(o),
    dataset: dataset(o),
    objectives: dense
      ? [{ type: 'crossEntropy' }]
      : [{ type: 'crossEntropy' }, { type: 'expectedComplexity', alpha, beta, mode: 'mixture' }],
    solver: {
      type: 'weighted-sum',
      weights: dense ? [1] : [1 / (1 + gamma), gamma / (1 + gamma)],
      optimizer,
    },
    pruners: dense
      ? []
      : [
          {
            type: 'bernoulliGates',
            sites: o.sites,
            polarization: o.scale.polarization,
          },
        ],
    training: {
      epochs: o.scale.epochs,
      batchSize: o.scale.batchSize,
      seed: o.seed,
      lrSchedule: { type: 'cosine', unit: 'step' },
      ...(o.scale.limit === undefined ? {} : { limit: o.scale.limit }),
      validation: { split: 'validation', everyEpochs: 1 },
      evaluateTest: true,
      recalibrateBatchNorm: o.scale.recalibrate,
    },
  };
}
