import { createNetwork, isMopruneError, type Objective, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createLobsterPruner, createRelevancePruner } from '../index.js';
import { describePrunerConformance } from '../testing/index.js';
import { mlp, zerosOf } from './fixtures.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function fakeObjective(log: number[]): Objective {
  return {
    name: 'selectiveWeightDecay',
    config: { type: 'selectiveWeightDecay' },
    value: () => tf.scalar(0),
    setParameter: (name, v) => {
      expect(name).toBe('gamma');
      log.push(v);
    },
  };
}

describe('relevance pruner (Bonetta & Cancelliere 2023)', () => {
  it('prunes 4% of the remaining weights globally only when validation accuracy reaches the floor', async () => {
    const net = createNetwork(mlp, { seed: 1 });
    const p = createRelevancePruner({ every: 2, fraction: 0.04, floor: 0.9 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 5 });
    const targets = p.targets!();
    expect(targets).toEqual(['fc1/kernel', 'out/kernel']);
    let accuracy = 0.5;
    const ctx = (step: number) => ({
      net,
      step,
      epoch: 0,
      rng: Rng.fromSeed(step),
      evaluate: async () => ({ accuracy, loss: 1 }),
    });
    await p.afterStep(ctx(0));
    await p.afterStep(ctx(1)); // check: below the floor → no pruning
    expect(zerosOf(net, targets)).toBe(0);
    accuracy = 0.95;
    await p.afterStep(ctx(2));
    expect(zerosOf(net, targets)).toBe(0); // not a checking step
    await p.afterStep(ctx(3)); // 150 live → round(6) pruned
    expect(zerosOf(net, targets)).toBe(6);
    await p.afterStep(ctx(5)); // 144 live → round(5.76) = 6 more
    expect(zerosOf(net, targets)).toBe(12);
    expect(p.metrics!().sparsity).toBeCloseTo(12 / 150, 12);
    net.dispose();
  });

  it('decays γ linearly over an epoch and resets it after each pruning step', async () => {
    const net = createNetwork(mlp, { seed: 2 });
    const log: number[] = [];
    const objectives = [fakeObjective(log)];
    const p = createRelevancePruner({ every: 3, floor: 0, gamma: { initial: 1e-3, decaySteps: 4 } });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 4 });
    for (let step = 0; step < 6; step++) {
      await p.afterStep({
        net,
        step,
        epoch: 0,
        rng: Rng.fromSeed(step),
        objectives,
        evaluate: async () => ({ accuracy: 1, loss: 0 }),
      });
    }
    // steps 0,1,2: 1e-3·(1 − s/4); pruning at step 2 resets at 3: steps 3,4,5 → 1e-3·(1 − (s−3)/4)
    const expected = [1, 0.75, 0.5, 1, 0.75, 0.5].map((f) => f * 1e-3);
    expect(log.length).toBe(6);
    for (const [i, g] of log.entries()) expect(g).toBeCloseTo(expected[i]!, 15);
    net.dispose();
  });

  it('names the missing objective when the γ schedule has nothing to drive', async () => {
    const net = createNetwork(mlp, { seed: 3 });
    const p = createRelevancePruner({ gamma: { initial: 1e-3 } });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 4 });
    await expect(
      p.afterStep({
        net,
        step: 0,
        epoch: 0,
        rng: Rng.fromSeed(0),
        objectives: [],
        evaluate: async () => ({ accuracy: 1, loss: 0 }),
      }),
    ).rejects.toSatisfy(
      (e: unknown) => isMopruneError(e, 'INVALID_CONFIG') && /selectiveWeightDecay/.test(String(e)),
    );
    net.dispose();
  });
});

describe('LOBSTER pruner', () => {
  it('on a plateau, cuts the largest global fraction that keeps the loss within (1 + twt)', async () => {
    const net = createNetwork(mlp, { seed: 4 });
    const p = createLobsterPruner({ every: 1, patience: 1, twt: 0.1, bisectionSteps: 20 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 1 });
    const targets = p.targets!();
    // A validation loss that grows with the number of zeroed weights: 1 + zeros/100.
    const evaluate = async () => ({ accuracy: 1, loss: 1 + zerosOf(net, targets) / 100 });
    const before = Array.from(net.params.get('fc1/kernel')!.dataSync());
    await p.afterStep({ net, step: 0, epoch: 0, rng: Rng.fromSeed(0), evaluate }); // best = 1
    expect(zerosOf(net, targets)).toBe(0);
    await p.afterStep({ net, step: 1, epoch: 0, rng: Rng.fromSeed(1), evaluate }); // plateau → cut
    // budget 1.1 → at most 10 zeros
    expect(zerosOf(net, targets)).toBe(10);
    // the probes restored every surviving weight exactly
    const after = Array.from(net.params.get('fc1/kernel')!.dataSync());
    after.forEach((v, i) => {
      if (v !== 0) expect(v).toBe(before[i]);
    });
    net.dispose();
  });

  it('rejects bad configs, listing every field', () => {
    try {
      createLobsterPruner({ twt: -1, patience: 0 });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect(String(e)).toMatch(/twt/);
      expect(String(e)).toMatch(/patience/);
    }
  });
});

describePrunerConformance({
  name: 'relevance',
  create: (c) => createRelevancePruner(c),
  config: { type: 'relevance', every: 3, fraction: 0.2, floor: 0.5 },
});
describePrunerConformance({
  name: 'lobster',
  create: (c) => createLobsterPruner(c),
  config: { type: 'lobster', every: 2, patience: 1, bisectionSteps: 6, maxSparsity: 0.9 },
});
