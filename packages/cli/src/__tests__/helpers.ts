import type { CliIo } from '../index.js';

/** A tiny real experiment config: MLP on 256 MNIST digits, weighted sum of CE and ℓ1, ITP. */
export function tinyConfig(overrides: { epochs?: number; limit?: number; name?: string } = {}) {
  return {
    name: overrides.name ?? 'tiny',
    dataset: { type: 'mnist', validationSize: 1000 },
    model: { type: 'mlp', hidden: [16] },
    objectives: [{ type: 'crossEntropy' }, { type: 'l1' }],
    solver: { type: 'smgd', lr: 0.05 },
    pruners: [{ type: 'itp', threshold: 0.001 }],
    training: {
      epochs: overrides.epochs ?? 2,
      batchSize: 32,
      seed: 3,
      limit: overrides.limit ?? 256,
      validation: { limit: 200 },
    },
  };
}

/**
 * A tiny gated run: an MLP with Bernoulli unit gates on its 16 hidden units (θ from ½, driven to 0 or 1),
 * trained 3 epochs on 256 MNIST digits — some gates close, so its export is compacted.
 */
export function gatedTinyConfig() {
  return {
    ...tinyConfig({ epochs: 3, name: 'gated' }),
    model: { type: 'mlp', hidden: [16], gates: 'units' },
    objectives: [{ type: 'crossEntropy' }, { type: 'expectedComplexity', alpha: 0.5, beta: 0 }],
    solver: { type: 'weighted-sum', weights: [0.9, 0.1], optimizer: { type: 'adam', lr: 0.01 } },
    pruners: [
      {
        type: 'bernoulliGates',
        sites: 'units',
        thetaInit: 0.5,
        polarization: 0.1,
        patience: 2,
        warmupSteps: 4,
      },
    ],
  };
}

/** In-memory stdout/stderr for main(). */
export function memoryIo(cwd: string, env: Record<string, string | undefined> = {}, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Partial<CliIo> = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s), isTTY: tty, columns: 120 },
    cwd,
    env: { MOPRUNE_BACKEND: 'cpu', ...env },
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}
