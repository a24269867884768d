import { createNetwork, isMopruneError, type MopruneError, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createItpPruner, createMagnitudePruner, scheduleAt } from '../index.js';
import { describePrunerConformance } from '../testing/index.js';
import '@tensorflow/tfjs-backend-cpu';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyMlp as mlp, quietContext } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ctx = quietContext;

describe('ITP pruner (Reiners et al. 2020)', () => {
  it('zeroes exactly the weights with |w| ≤ threshold on dense kernels and biases, at init', () => {
    const net = createNetwork(mlp, { seed: 1 });
    const w = net.params.get('fc1/kernel')!;
    w.assign(
      tf.tensor2d([0.0005, -0.001, 0.0011, -0.5, 0, 0.002, 0.001, -0.0009, 0.3, 0.2, -0.1, 0.00099], [4, 3]),
    );
    net.params.get('fc1/bias')!.assign(tf.tensor1d([0.0002, 0.5, -0.0001]));
    const p = createItpPruner({ threshold: 0.001 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    expect(Array.from(w.dataSync(), (v) => v + 0)).toEqual(
      Array.from(new Float32Array([0, 0, 0.0011, -0.5, 0, 0.002, 0, 0, 0.3, 0.2, -0.1, 0])),
    );
    expect(Array.from(net.params.get('fc1/bias')!.dataSync(), (v) => v + 0)).toEqual([0, 0.5, 0]);
    expect(p.targets!()).toEqual(['fc1/kernel', 'fc1/bias', 'out/kernel', 'out/bias']);
    net.dispose();
  });

  it('regrow mode sets no mask; mask mode keeps pruned weights at zero after they are moved', () => {
    const net = createNetwork(mlp, { seed: 2 });
    const regrow = createItpPruner({ threshold: 0.3, regrow: true });
    regrow.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    expect(net.maskedParams()).toEqual([]);
    const net2 = createNetwork(mlp, { seed: 2 });
    const masked = createItpPruner({ threshold: 0.3, regrow: false });
    masked.init({ net: net2, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    const zerosBefore = Array.from(net2.getMask('fc1/kernel')!.dataSync()).filter((m) => m === 0).length;
    expect(zerosBefore).toBeGreaterThan(0);
    // An optimizer step pushes every weight far above the threshold.
    net2.params.get('fc1/kernel')!.assign(tf.fill([4, 3], 5));
    masked.afterStep(ctx(net2, 0));
    const after = Array.from(net2.params.get('fc1/kernel')!.dataSync()).filter((v) => v === 0).length;
    expect(after).toBe(zerosBefore);
    net.dispose();
    net2.dispose();
  });

  it('rejects a negative threshold and unknown fields with a typed error listing both', () => {
    try {
      createItpPruner({ threshold: -1, colour: 'red' } as never);
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect((e as MopruneError).name).toBe('PrunerError');
      expect((e as MopruneError).issues.map((i) => i.path).sort()).toEqual(['colour', 'threshold']);
    }
  });
});

describe('sparsity schedules (TF-MOT semantics)', () => {
  it('polynomial decay matches hand-computed values and pruning turns', () => {
    const s = {
      type: 'polynomialDecay',
      initialSparsity: 0.2,
      finalSparsity: 0.8,
      beginStep: 10,
      endStep: 30,
      frequency: 5,
    } as const;
    expect(scheduleAt(s, 9)).toEqual({ prune: false, sparsity: 0 });
    expect(scheduleAt(s, 10).prune).toBe(true);
    expect(scheduleAt(s, 10).sparsity).toBeCloseTo(0.2, 12);
    // p = 0.5: 0.8 + (0.2 − 0.8)·0.5³ = 0.725
    expect(scheduleAt(s, 20).sparsity).toBeCloseTo(0.725, 12);
    expect(scheduleAt(s, 20).prune).toBe(true);
    expect(scheduleAt(s, 21).prune).toBe(false);
    expect(scheduleAt(s, 30).prune).toBe(true);
    expect(scheduleAt(s, 30).sparsity).toBeCloseTo(0.8, 12);
    expect(scheduleAt(s, 35).prune).toBe(false);
  });

  it('prunes at the end step even when it is off the frequency grid (unlike TF-MOT), unless told not to', () => {
    const s = {
      type: 'polynomialDecay',
      initialSparsity: 0,
      finalSparsity: 0.5,
      beginStep: 0,
      endStep: 7,
      frequency: 5,
    } as const;
    expect(scheduleAt(s, 7).prune).toBe(true);
    expect(scheduleAt({ ...s, pruneAtEnd: false }, 7).prune).toBe(false);
  });

  test.prop(
    [
      fc.double({ min: 0, max: 0.9, noNaN: true }),
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 1, max: 50 }),
    ],
    {
      seed: 5,
    },
  )('polynomial decay is monotone and ends at the final sparsity', (s0, begin, span) => {
    const s = {
      type: 'polynomialDecay',
      initialSparsity: s0,
      finalSparsity: 0.95,
      beginStep: begin,
      endStep: begin + span,
    } as const;
    let prev = -1;
    for (let t = begin; t <= begin + span; t++) {
      const v = scheduleAt(s, t).sparsity;
      expect(v).toBeGreaterThanOrEqual(prev - 1e-12);
      prev = v;
    }
    expect(scheduleAt(s, begin + span).sparsity).toBeCloseTo(0.95, 12);
  });

  it('rejects schedules whose end precedes their begin, and sparsities outside [0,1)', () => {
    try {
      createMagnitudePruner({
        schedule: {
          type: 'polynomialDecay',
          initialSparsity: 0,
          finalSparsity: 1,
          beginStep: 10,
          endStep: 5,
        },
      });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      const paths = (e as MopruneError).issues.map((i) => i.path).sort();
      expect(paths).toEqual(['schedule.endStep', 'schedule.finalSparsity']);
    }
  });
});

describe('magnitude pruner', () => {
  it('removes the smallest live weights exactly to the scheduled count, layer-wise', async () => {
    const net = createNetwork(mlp, { seed: 3 });
    const p = createMagnitudePruner({
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, frequency: 1 },
    });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    const w = Array.from(net.params.get('fc1/kernel')!.dataSync());
    await p.afterStep(ctx(net, 0));
    const after = Array.from(net.params.get('fc1/kernel')!.dataSync());
    const sortedAbs = [...w].map(Math.abs).sort((a, b) => a - b);
    const cut = sortedAbs[5]!; // 12 weights, 6 pruned: the 6 smallest
    for (let i = 0; i < w.length; i++) expect(after[i]! + 0).toBe(Math.abs(w[i]!) <= cut ? 0 : w[i]);
    expect(after.filter((v) => v === 0).length).toBe(6);
    expect(Array.from(net.params.get('out/kernel')!.dataSync()).filter((v) => v === 0).length).toBe(3);
    net.dispose();
  });

  it('global scope reaches the total while layers differ', async () => {
    const net = createNetwork(mlp, { seed: 4 });
    net.params.get('out/kernel')!.assign(tf.fill([3, 2], 10));
    const p = createMagnitudePruner({
      scope: 'global',
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, frequency: 1 },
    });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    await p.afterStep(ctx(net, 0));
    const zeros = (n: string) => Array.from(net.params.get(n)!.dataSync()).filter((v) => v === 0).length;
    expect(zeros('fc1/kernel') + zeros('out/kernel')).toBe(9);
    expect(zeros('out/kernel')).toBe(0);
    net.dispose();
  });
});

describePrunerConformance({
  name: 'itp (mask mode)',
  create: (c) => createItpPruner(c),
  config: { type: 'itp', threshold: 0.02, regrow: false },
  describe,
  it,
});
describePrunerConformance({
  name: 'itp (regrow, reference behaviour)',
  create: (c) => createItpPruner(c),
  config: { type: 'itp', threshold: 0.02, regrow: true },
  regrows: true,
  describe,
  it,
});
const poly = {
  type: 'polynomialDecay',
  initialSparsity: 0.1,
  finalSparsity: 0.9,
  beginStep: 2,
  endStep: 9,
  frequency: 2,
} as const;
describePrunerConformance({
  name: 'magnitude (polynomial decay, layer)',
  create: (c) => createMagnitudePruner(c as never),
  config: { type: 'magnitude', schedule: poly },
  expectedSparsity: (step) => {
    // Sparsity holds between pruning turns: the last turn at or before `step`.
    for (let t = step; t >= 0; t--) if (scheduleAt(poly, t).prune) return scheduleAt(poly, t).sparsity;
    return 0;
  },
  describe,
  it,
});
describePrunerConformance({
  name: 'magnitude (constant, global)',
  create: (c) => createMagnitudePruner(c as never),
  config: {
    type: 'magnitude',
    scope: 'global',
    schedule: { type: 'constantSparsity', targetSparsity: 0.7, frequency: 3 },
  },
  expectedSparsity: (step) => (step >= 0 ? 0.7 : 0),
  describe,
  it,
});
