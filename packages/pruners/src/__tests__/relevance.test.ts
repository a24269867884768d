import { createNetwork, isMopruneError, type JsonObject, type Objective, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createLobsterPruner, createRelevancePruner } from '../index.js';
import { describePrunerConformance } from '../testing/index.js';
import { mlp, stepContext, zerosOf } from './fixtures.js';
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

const masked = (p: { metrics?: () => Readonly<Record<string, number>> }) => p.metrics!().zeros!;

describe('relevance pruner (Bonetta & Cancelliere 2023)', () => {
  it("ranks weights and biases by default, as the authors' code prunes both", () => {
    const net = createNetwork(mlp, { seed: 1 });
    const p = createRelevancePruner({ every: 2 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 5 });
    expect(p.targets!()).toEqual(['fc1/kernel', 'fc1/bias', 'out/kernel', 'out/bias']);
    net.dispose();
  });

  it('prunes 4% of the remaining weights globally only when validation accuracy is above the floor', async () => {
    const net = createNetwork(mlp, { seed: 1 });
    const p = createRelevancePruner({ every: 2, fraction: 0.04, floor: 0.9, params: { roles: ['kernel'] } });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 20, stepsPerEpoch: 10 });
    let accuracy = 0.5;
    const ctx = (step: number) => stepContext(net, step, 10, async () => ({ accuracy, loss: 1 }));
    await p.afterStep(ctx(0));
    await p.afterStep(ctx(1)); // check: below the floor → no pruning
    expect(masked(p)).toBe(0);
    accuracy = 0.9;
    await p.afterStep(ctx(3)); // check at exactly the floor: not above it → no pruning
    expect(masked(p)).toBe(0);
    accuracy = 0.95;
    await p.afterStep(ctx(4));
    expect(masked(p)).toBe(0); // not a checking step
    await p.afterStep(ctx(5)); // 150 live → round(6) pruned
    expect(masked(p)).toBe(6);
    await p.afterStep(ctx(7)); // 144 live → round(5.76) = 6 more
    expect(masked(p)).toBe(12);
    await p.afterStep(ctx(9)); // 138 live → round(5.52) = 6 more
    expect(masked(p)).toBe(18);
    await p.afterStep(ctx(11)); // 132 live → round(5.28) = 5 more (4% of all 150 would be 6 again)
    expect(masked(p)).toBe(23);
    expect(p.metrics!().sparsity).toBeCloseTo(23 / 150, 12);
    net.dispose();
  });

  it("ranking 'fanIn' ranks |w|·√fan-in, a bias at its layer's kernel's fan-in; the default ranks |w|", async () => {
    // fc1: kernel [16, 4] (fan-in 16), out: kernel [4, 2] (fan-in 4). Every entry of a tensor holds one value.
    const spec = {
      name: 'wide-narrow',
      inputShape: [16],
      nodes: [
        { id: 'fc1', op: 'dense' as const, inputs: ['input'], units: 4 },
        { id: 'relu', op: 'activation' as const, inputs: ['fc1'], fn: 'relu' as const },
        { id: 'out', op: 'dense' as const, inputs: ['relu'], units: 2 },
      ],
      outputs: ['out'],
    };
    const values: Record<string, number> = {
      'fc1/kernel': 0.1, // ·4 = 0.4
      'fc1/bias': 0.095, // ·4 = 0.38
      'out/kernel': 0.15, // ·2 = 0.3
      'out/bias': 0.14, // ·2 = 0.28
    };
    const cut = async (ranking?: 'magnitude' | 'fanIn') => {
      const net = createNetwork(spec, { seed: 1 });
      for (const [name, v] of Object.entries(values)) {
        const p = net.params.get(name)!;
        p.assign(tf.fill(p.shape, v));
      }
      // 78 entries; round(0.128·78) = 10 pruned at the one check.
      const p = createRelevancePruner({
        every: 1,
        fraction: 0.128,
        floor: 0.5,
        ...(ranking ? { ranking } : {}),
      });
      p.init({ net, rng: Rng.fromSeed(0), totalSteps: 2, stepsPerEpoch: 2 });
      await p.afterStep(stepContext(net, 0, 2, async () => ({ accuracy: 0.9, loss: 1 })));
      const zeros = Object.fromEntries(
        Object.keys(values).map((name) => [
          name,
          Array.from(net.params.get(name)!.dataSync()).filter((x) => x === 0).length,
        ]),
      );
      net.dispose();
      return zeros;
    };
    // |w| alone: fc1's bias (0.095), then 6 of its kernel's 0.1 entries.
    expect(await cut()).toEqual({ 'fc1/kernel': 6, 'fc1/bias': 4, 'out/kernel': 0, 'out/bias': 0 });
    expect(await cut('magnitude')).toEqual(await cut());
    // |w|·√fan-in: out's bias (0.28) and kernel (0.3), the narrow layer's small scores.
    expect(await cut('fanIn')).toEqual({ 'fc1/kernel': 0, 'fc1/bias': 0, 'out/kernel': 8, 'out/bias': 2 });
    try {
      createRelevancePruner({ ranking: 'l2' as never });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect(String(e)).toMatch(/ranking/);
    }
  });

  it('counts the cadence in batches within each epoch, restarting at every epoch', async () => {
    const net = createNetwork(mlp, { seed: 1 });
    const p = createRelevancePruner({ every: 2, floor: 0 });
    // 5 batches per epoch: checks after batches 1 and 3 of each epoch (global steps 1, 3, 6, 8),
    // not after every second global step (1, 3, 5, 7, 9).
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 5 });
    const checked: number[] = [];
    for (let step = 0; step < 10; step++) {
      await p.afterStep(
        stepContext(net, step, 5, async () => {
          checked.push(step);
          return { accuracy: 1, loss: 0 };
        }),
      );
    }
    expect(checked).toEqual([1, 3, 6, 8]);
    net.dispose();
  });

  it('refuses a cadence longer than an epoch (no check would ever run)', () => {
    const net = createNetwork(mlp, { seed: 1 });
    const p = createRelevancePruner({ every: 6 });
    expect(() => p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 5 })).toThrow(
      expect.objectContaining({ name: 'PrunerError', code: 'INVALID_CONFIG' }),
    );
    net.dispose();
  });

  it('decays γ linearly over an epoch and resets it after each pruning step (the k-th step after a reset uses γ0·(1 − k/N))', async () => {
    const net = createNetwork(mlp, { seed: 2 });
    const log: number[] = [];
    const objectives = [fakeObjective(log)];
    const p = createRelevancePruner({ every: 3, floor: 0, gamma: { initial: 1e-3, decaySteps: 4 } });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 12, stepsPerEpoch: 6 });
    for (let step = 0; step < 6; step++) {
      await p.afterStep(stepContext(net, step, 6, async () => ({ accuracy: 1, loss: 0 }), { objectives }));
    }
    // Pushed at step s for step s + 1: steps 1, 2 are the 2nd and 3rd of the run; the cut after
    // step 2 resets, so steps 3, 4, 5 are the 1st–3rd after it; the cut after step 5 resets again.
    const expected = [0.5, 0.25, 0.75, 0.5, 0.25, 0.75].map((f) => f * 1e-3);
    expect(log.length).toBe(6);
    for (const [i, g] of log.entries()) expect(g).toBeCloseTo(expected[i]!, 15);
    net.dispose();
  });

  it('names the missing objective when the γ schedule has nothing to drive', async () => {
    const net = createNetwork(mlp, { seed: 3 });
    const p = createRelevancePruner({ every: 2, gamma: { initial: 1e-3 } });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 4 });
    await expect(
      p.afterStep(stepContext(net, 0, 4, async () => ({ accuracy: 1, loss: 0 }), { objectives: [] })),
    ).rejects.toSatisfy(
      (e: unknown) => isMopruneError(e, 'INVALID_CONFIG') && /selectiveWeightDecay/.test(String(e)),
    );
    net.dispose();
  });

  it('logs every check, and with keep ends the run with the sparsest network above the floor, as it was before its cut', async () => {
    const net = createNetwork(mlp, { seed: 5 });
    const p = createRelevancePruner({
      every: 1,
      fraction: 0.5,
      floor: 0.8,
      evaluateTest: true,
      keep: { rule: 'sparsest' },
      params: { roles: ['kernel'] },
    });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 4, stepsPerEpoch: 4 });
    const accuracies = [0.9, 0.85, 0.7, 0.6]; // step 2 and 3 fall below the floor
    const lines: JsonObject[] = [];
    let keptWeights: number[] = [];
    for (let step = 0; step < 4; step++) {
      if (step === 1) keptWeights = Array.from(net.params.get('fc1/kernel')!.dataSync());
      await p.afterStep(
        stepContext(
          net,
          step,
          4,
          async (split) => ({ accuracy: split === 'test' ? 0.5 : accuracies[step]!, loss: 1 }),
          { log: (r) => lines.push(r) },
        ),
      );
      if (step === 3) break;
      // Training moves the weights between steps (the kept copy must not follow).
      const k = net.params.get('fc1/kernel')!;
      tf.tidy(() => k.assign(tf.add(k, 0.01)));
      net.applyMasks();
    }
    const checks = lines.filter((l) => l.event === 'check');
    expect(checks.map((c) => [c.step, c.live, c.pruned, c.eligible, c.testAccuracy])).toEqual([
      [0, 150, 75, true, 0.5],
      [1, 75, 38, true, 0.5],
      [2, 37, 0, false, 0.5],
      [3, 37, 0, false, 0.5],
    ]);
    expect(lines.at(-1)).toMatchObject({ event: 'restore', keptStep: 1, live: 75 });
    // The network is the one of step 1's check: its weights and its 75 live kernel entries.
    expect(masked(p)).toBe(75);
    const w = Array.from(net.params.get('fc1/kernel')!.dataSync());
    const m = Array.from(net.getMask('fc1/kernel')!.dataSync());
    w.forEach((v, i) => {
      expect(v).toBeCloseTo(m[i] === 0 ? 0 : keptWeights[i]!, 6);
    });
    expect(p.metrics!()).toMatchObject({
      checks: 4,
      keptStep: 1,
      keptLive: 75,
      keptValidationAccuracy: 0.85,
    });
    net.dispose();
  });

  it('keeps the kept checkpoint across a save and load of its state', async () => {
    const make = () =>
      createRelevancePruner({ every: 1, fraction: 0.5, floor: 0.5, keep: {}, params: { roles: ['kernel'] } });
    const net = createNetwork(mlp, { seed: 6 });
    const p = make();
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 3, stepsPerEpoch: 3 });
    await p.afterStep(stepContext(net, 0, 3, async () => ({ accuracy: 0.9, loss: 1 })));
    const saved = p.state();
    const q = make();
    q.init({ net, rng: Rng.fromSeed(0), totalSteps: 3, stepsPerEpoch: 3 });
    q.load(saved);
    expect(q.metrics!()).toMatchObject({ checks: 1, keptStep: 0, keptLive: 150 });
    await q.afterStep(stepContext(net, 1, 3, async () => ({ accuracy: 0.1, loss: 1 })));
    await q.afterStep(stepContext(net, 2, 3, async () => ({ accuracy: 0.1, loss: 1 })));
    // Restored at the last step: step 0's network, before its cut (nothing masked).
    expect(masked(q)).toBe(0);
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
    await p.afterStep(stepContext(net, 0, 1, evaluate)); // best = 1
    expect(zerosOf(net, targets)).toBe(0);
    await p.afterStep(stepContext(net, 1, 1, evaluate)); // plateau → cut
    // budget 1.1 → at most 10 zeros
    expect(zerosOf(net, targets)).toBe(10);
    // the probes restored every surviving weight exactly
    const after = Array.from(net.params.get('fc1/kernel')!.dataSync());
    after.forEach((v, i) => {
      if (v !== 0) expect(v).toBe(before[i]);
    });
    net.dispose();
  });

  it('holds the same floor as the relevance pruner: no cut at or below it, and keeps the best check', async () => {
    const net = createNetwork(mlp, { seed: 4 });
    const p = createLobsterPruner({ every: 1, patience: 1, twt: 0.1, floor: 0.9, keep: {} });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 4, stepsPerEpoch: 1 });
    const targets = p.targets!();
    let accuracy = 0.9;
    const evaluate = async () => ({ accuracy, loss: 1 + zerosOf(net, targets) / 100 });
    await p.afterStep(stepContext(net, 0, 1, evaluate));
    await p.afterStep(stepContext(net, 1, 1, evaluate)); // plateau, but accuracy is not above 0.9
    expect(zerosOf(net, targets)).toBe(0);
    accuracy = 0.95;
    await p.afterStep(stepContext(net, 2, 1, evaluate)); // plateau and above the floor → cut
    expect(zerosOf(net, targets)).toBe(10);
    expect(p.metrics!()).toMatchObject({ cuts: 1, checks: 3, keptStep: 2, keptLive: 150 });
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
  describe,
  it,
});
describePrunerConformance({
  name: 'lobster',
  create: (c) => createLobsterPruner(c),
  config: { type: 'lobster', every: 2, patience: 1, bisectionSteps: 6, maxSparsity: 0.9 },
  describe,
  it,
});
