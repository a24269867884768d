/**
 * The dense baseline and the three pruning runs of the evidence script, as experiment configs (plain
 * JSON for core's `runExperiment`): LeNet-300-100 on real MNIST (55k train /
 * 5k validation / 10k test), from scratch, at most 10 epochs each.
 */
import type { JsonObject } from '@moprune/core';

/** The pruning settings that depend on the scale (documented where each scale is defined). */
export interface ScaleSettings {
  /** Bernoulli gates: cost weight λ in J = (1 − λ)·CE + λ·C(θ). */
  readonly gatesWeight: number;
  /** Bernoulli gates: initial keep-probability θ₀ of every gate. */
  readonly gatesThetaInit: number;
  /** Bernoulli gates: strength ρ of the prior that drives θ to {0, 1} (see the pruner). */
  readonly gatesPolarization: number;
  /** Bernoulli gates: steps θ must stay 0 before its unit is removed, as a fraction of an epoch. */
  readonly gatesPatienceEpochs: number;
  /** Relevance: validation accuracy required before each pruning step. */
  readonly relevanceFloor: number;
  /** Relevance: fraction of the remaining weights removed at each pruning step. */
  readonly relevanceFraction: number;
  /** Relevance: stop pruning once this fraction of the kernel weights is zero. */
  readonly relevanceMaxSparsity: number;
}

/** Which size to run at. */
export interface EvidenceScale extends ScaleSettings {
  /** Epochs per run (≤ 10 for the evidence). */
  readonly epochs: number;
  /** Train on the first `limit` training samples only (undefined = all 55,000). */
  readonly limit?: number;
  /** Evaluate validation/test on the first `evalLimit` samples only. */
  readonly evalLimit?: number;
  readonly batchSize: number;
  /** Batch size of the gated run (its θ need more, smaller steps). @default batchSize */
  readonly gatesBatchSize?: number;
  readonly seed: number;
  /** Forward passes per network when timing inference (after 5 warm-up passes). @default 30 */
  readonly inferenceRuns?: number;
}

/**
 * The paper-scale evidence: full MNIST, 10 epochs. Gates: λ = 0.25, θ₀ = 1,
 * ρ = 0.0003, patience half an epoch — the setting found by the sweep in
 * packages/pruners/README.md. Relevance: floor 97% (the dense net passes it
 * in its first epoch), 8% per pruning step, up to 95.5%.
 */
export const FULL: EvidenceScale = {
  epochs: 10,
  batchSize: 64,
  gatesBatchSize: 32,
  seed: 1,
  gatesWeight: 0.25,
  gatesThetaInit: 1,
  gatesPolarization: 0.0003,
  gatesPatienceEpochs: 0.5,
  relevanceFloor: 0.97,
  relevanceFraction: 0.08,
  relevanceMaxSparsity: 0.955,
};

/**
 * The small version (`pnpm demo`, about a minute): 10,000 training digits, 3
 * epochs, validation on 2,000. At this scale there are 939 gate steps (batch
 * 32) and 471 relevance steps in all, and the dense network reaches about 95%
 * (not 98%), so FULL's settings do nothing: θ₀ = 1 moves at most ~2e-3 per Adam
 * step and never reaches 0, and a 97% floor is never met. Here θ starts at the
 * undecided ½ with a stronger push to {0, 1} (ρ = 0.02) and cost weight 0.4, and
 * a unit whose θ stays 0 for a sixth of an epoch is removed; relevance prunes 10%
 * per step once validation accuracy is ≥ 94%, up to 92%. The measured figures
 * are in the README of this experiment.
 */
export const SMOKE: EvidenceScale = {
  epochs: 3,
  limit: 10_000,
  evalLimit: 2000,
  batchSize: 64,
  gatesBatchSize: 32,
  seed: 1,
  gatesWeight: 0.4,
  gatesThetaInit: 0.5,
  gatesPolarization: 0.02,
  gatesPatienceEpochs: 1 / 6,
  relevanceFloor: 0.94,
  relevanceFraction: 0.1,
  relevanceMaxSparsity: 0.92,
};

/** Trainable parameters, MACs per sample and unit gates of the dense LeNet-300-100 (a test checks them). */
export const LENET300_TOTALS = { params: 266_610, macs: 266_200, units: 400 } as const;

const stepsPerEpoch = (s: EvidenceScale) => Math.ceil((s.limit ?? 55_000) / s.batchSize);

function base(s: EvidenceScale, name: string, gates: boolean): JsonObject {
  return {
    name,
    model: gates ? { type: 'lenet-300-100', gates: 'units' } : { type: 'lenet-300-100' },
    dataset: { type: 'mnist', validationSize: 5000 },
    training: {
      epochs: s.epochs,
      batchSize: s.batchSize,
      seed: s.seed,
      layout: 'flat',
      lrSchedule: { type: 'cosine', unit: 'step', minLr: 0.00005 },
      validation:
        s.evalLimit === undefined ? { split: 'validation' } : { split: 'validation', limit: s.evalLimit },
      checkpoint: { everyEpochs: 1, keep: 2 },
      logEverySteps: 50,
      ...(s.limit === undefined ? {} : { limit: s.limit }),
    },
    solver: { type: 'weighted-sum', weights: [1], optimizer: { type: 'adam', lr: 0.002 } },
    objectives: [{ type: 'crossEntropy' }],
  };
}

/**
 * Magnitude pruning to 95% of all kernel weights, one global threshold,
 * polynomial decay (power 3) from the end of epoch 1 to the end of epoch 7,
 * pruning every 50 steps; the last epochs fine-tune at the final sparsity.
 */
export function magnitudeConfig(s: EvidenceScale): JsonObject {
  const spe = stepsPerEpoch(s);
  const begin = spe;
  const end = Math.max(begin + 1, Math.round(spe * s.epochs * 0.6));
  return {
    ...base(s, 'lenet300-magnitude-95', false),
    pruners: [
      {
        type: 'magnitude',
        scope: 'global',
        params: { roles: ['kernel'] },
        schedule: {
          type: 'polynomialDecay',
          initialSparsity: 0.3,
          finalSparsity: 0.95,
          beginStep: begin,
          endStep: end,
          frequency: Math.max(1, Math.round(spe / 10)),
        },
      },
    ],
  };
}

/**
 * Bernoulli unit gates with the expected-complexity cost (α = ½: FLOPs and
 * parameters alike; units only, β = 0): J = (1 − λ)·CE + λ·C(θ), weighted sum
 * with Adam 2e-3 (the rate of the other runs; θ shares it), batch
 * `gatesBatchSize`. θ starts at θ₀; a unit whose θ stays 0 for
 * `gatesPatienceEpochs` after the first epoch is removed physically at the
 * epoch's end. λ, θ₀, ρ and the patience come from the scale.
 */
export function gatesConfig(scale: EvidenceScale, complexityWeight = scale.gatesWeight): JsonObject {
  const s = { ...scale, batchSize: scale.gatesBatchSize ?? scale.batchSize };
  const spe = stepsPerEpoch(s);
  return {
    ...base(s, 'lenet300-bernoulli-gates', true),
    objectives: [
      { type: 'crossEntropy' },
      // The dense LeNet-300-100's totals, fixed so a run resumed from a compacted checkpoint keeps the scale.
      { type: 'expectedComplexity', alpha: 0.5, beta: 0, reference: LENET300_TOTALS },
    ],
    solver: {
      type: 'weighted-sum',
      weights: [1 - complexityWeight, complexityWeight],
      optimizer: { type: 'adam', lr: 0.002 },
    },
    pruners: [
      {
        type: 'bernoulliGates',
        sites: 'units',
        thetaInit: s.gatesThetaInit,
        patience: Math.max(1, Math.round(spe * s.gatesPatienceEpochs)),
        warmupSteps: spe,
        polarization: s.gatesPolarization,
      },
    ],
  };
}

/**
 * Relevance-based pruning (Bonetta & Cancelliere 2023) from scratch: selective
 * weight decay (α = 1, γ = 1e-4 decaying linearly over an epoch and reset at
 * every pruning step) and, every sixteenth of an epoch, `relevanceFraction` of
 * the remaining kernel weights removed by global magnitude when validation
 * accuracy ≥ `relevanceFloor`, up to `relevanceMaxSparsity`.
 * (The paper prunes 4% every 250 steps from a pre-trained model over 120
 * epochs; from scratch in 10 epochs needs a faster cadence.)
 */
export function relevanceConfig(s: EvidenceScale, floor = s.relevanceFloor): JsonObject {
  const spe = stepsPerEpoch(s);
  return {
    ...base(s, 'lenet300-relevance', false),
    objectives: [{ type: 'crossEntropy' }, { type: 'selectiveWeightDecay', alpha: 1, gamma: 0.0001 }],
    solver: { type: 'weighted-sum', weights: [0.5, 0.5], optimizer: { type: 'adam', lr: 0.002 } },
    pruners: [
      {
        type: 'relevance',
        every: Math.max(1, Math.round(spe / 16)),
        fraction: s.relevanceFraction,
        floor,
        maxSparsity: s.relevanceMaxSparsity,
        params: { roles: ['kernel'] },
        gamma: { initial: 0.0001, decaySteps: spe },
      },
    ],
  };
}

/** The dense baseline: the same training without any pruner, for the accuracy the pruned runs are held to. */
export function denseConfig(s: EvidenceScale): JsonObject {
  return base(s, 'lenet300-dense', false);
}
