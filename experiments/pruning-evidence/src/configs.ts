/**
 * The three pruning runs of the evidence script, as experiment configs (plain
 * JSON for core's `runExperiment`): LeNet-300-100 on real MNIST (55k train /
 * 5k validation / 10k test), from scratch, at most 10 epochs each.
 */
import type { JsonObject } from '@moprune/core';

/** Which size to run at. */
export interface EvidenceScale {
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
}

/** The paper-scale evidence: full MNIST, 10 epochs. */
export const FULL: EvidenceScale = { epochs: 10, batchSize: 64, gatesBatchSize: 32, seed: 1 };

/** The small version (the README's demo): 10,000 samples, 3 epochs. CI's test runs it smaller still. */
export const SMOKE: EvidenceScale = { epochs: 3, limit: 10_000, evalLimit: 2000, batchSize: 64, seed: 1 };

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
 * parameters alike; units only, β = 0): J = (1 − λ)·CE + λ·C(θ), λ = 0.25,
 * weighted sum with Adam 2e-3 (the rate of the other two runs; θ shares it),
 * batch 32. θ starts at 1; a unit whose θ stays 0 for half an epoch after the
 * first epoch is removed physically at the epoch's end. The cost weight and
 * rate were chosen by the sweep recorded in packages/pruners/README.md.
 */
export function gatesConfig(scale: EvidenceScale, complexityWeight = 0.25): JsonObject {
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
        thetaInit: 1,
        patience: Math.max(1, Math.round(spe / 2)),
        warmupSteps: spe,
        polarization: 0.0003,
      },
    ],
  };
}

/**
 * Relevance-based pruning (Bonetta & Cancelliere 2023) from scratch: selective
 * weight decay (α = 1, γ = 1e-3 decaying linearly over an epoch and reset at
 * every pruning step) and, every tenth of an epoch, 10% of the remaining
 * weights removed by global magnitude when validation accuracy ≥ 98%.
 * (The paper prunes 4% every 250 steps from a pre-trained model over 120
 * epochs; from scratch in 10 epochs needs a faster cadence.)
 */
export function relevanceConfig(s: EvidenceScale, floor = 0.97): JsonObject {
  const spe = stepsPerEpoch(s);
  return {
    ...base(s, 'lenet300-relevance', false),
    objectives: [{ type: 'crossEntropy' }, { type: 'selectiveWeightDecay', alpha: 1, gamma: 0.0001 }],
    solver: { type: 'weighted-sum', weights: [0.5, 0.5], optimizer: { type: 'adam', lr: 0.002 } },
    pruners: [
      {
        type: 'relevance',
        every: Math.max(1, Math.round(spe / 16)),
        fraction: 0.08,
        floor,
        maxSparsity: 0.955,
        params: { roles: ['kernel'] },
        gamma: { initial: 0.0001, decaySteps: spe },
      },
    ],
  };
}
