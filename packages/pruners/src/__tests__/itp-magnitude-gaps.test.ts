// Tests written against the survivors of `pnpm test:mutation pruners` (issue 17) in
// unstructured/itp.ts and unstructured/magnitude.ts: ITP's defaults (regrow on,
// threshold 0.001), its metrics and state; magnitude's "no pruning at sparsity 0",
// its metrics and its state before any pruning step.
import { createNetwork, isMopruneError, type MopruneError, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createItpPruner, createMagnitudePruner } from '../index.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyMlp as mlp, quietContext } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const stepCtx = quietContext;
const initCtx = (net: ReturnType<typeof createNetwork>) => ({
  net,
  rng: Rng.fromSeed(0),
  totalSteps: 10,
  stepsPerEpoch: 10,
});

function caught(f: () => unknown): MopruneError {
  try {
    f();
  } catch (e) {
    if (isMopruneError(e)) return e;
    throw e;
  }
  throw new Error('expected a MopruneError');
}

describe('ITP pruner: defaults, metrics and state', () => {
  it('regrows by default: a pruned weight moved by the optimizer above the threshold stays', async () => {
    const net = createNetwork(mlp, { seed: 3 });
    const w = net.params.get('fc1/kernel')!;
    w.assign(tf.tensor2d([0.5, 0.1, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [4, 3]));
    const p = createItpPruner({ threshold: 0.2 });
    p.init(initCtx(net));
    expect(net.maskedParams()).toEqual([]);
    expect(w.dataSync()[1]).toBe(0);
    w.assign(tf.tensor2d([0.5, 0.4, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [4, 3]));
    await p.afterStep!(stepCtx(net, 1));
    expect(w.dataSync()[1]).toBeCloseTo(0.4, 6);
    expect(net.maskedParams()).toEqual([]);
    net.dispose();
  });

  it('uses threshold 0.001 by default (|w| ≤ 0.001 is zeroed, 0.0011 stays)', () => {
    const net = createNetwork(mlp, { seed: 4 });
    const w = net.params.get('fc1/kernel')!;
    w.assign(tf.tensor2d([0.001, -0.001, 0.0011, -0.0011, 0.00099, 1, 1, 1, 1, 1, 1, 1], [4, 3]));
    createItpPruner().init(initCtx(net));
    expect(Array.from(w.dataSync().slice(0, 5), (v) => v + 0)).toEqual([
      0,
      0,
      Math.fround(0.0011),
      Math.fround(-0.0011),
      0,
    ]);
    net.dispose();
  });

  it('reports the exact zero count, total and their ratio over its targets', () => {
    const net = createNetwork(mlp, { seed: 5 });
    const p = createItpPruner({ threshold: 0.2, params: { names: ['fc1/kernel'] } });
    expect(p.metrics!()).toEqual({});
    net.params
      .get('fc1/kernel')!
      .assign(tf.tensor2d([0.1, 0.1, 0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [4, 3]));
    p.init(initCtx(net));
    expect(p.metrics!()).toEqual({ sparsity: 3 / 12, zeros: 3, total: 12 });
    net.dispose();
  });

  it('saves its target list and refuses a state without one', () => {
    const net = createNetwork(mlp, { seed: 6 });
    const p = createItpPruner({ params: { names: ['out/kernel'] } });
    expect(p.state!()).toEqual({ json: { targets: [] }, arrays: {} });
    p.load!({ json: { targets: ['fc1/kernel', 'out/bias'] }, arrays: {} });
    expect(p.targets!()).toEqual(['fc1/kernel', 'out/bias']);
    for (const json of [{}, { targets: 'fc1/kernel' }, { targets: ['fc1/kernel', 3] }]) {
      const e = caught(() => p.load!({ json: json as never, arrays: {} }));
      expect(e.code).toBe('STATE_MISMATCH');
      expect(e.message).toContain('itp pruner');
    }
    p.init(initCtx(net));
    expect(p.state!()).toEqual({ json: { targets: ['out/kernel'] }, arrays: {} });
    net.dispose();
  });
});

describe('magnitude pruner: sparsity 0, metrics and state', () => {
  it('sets no mask and records no pruning step when the schedule asks for sparsity 0', async () => {
    const net = createNetwork(mlp, { seed: 7 });
    const p = createMagnitudePruner({
      schedule: { type: 'constantSparsity', targetSparsity: 0, beginStep: 0, frequency: 1 },
    });
    p.init(initCtx(net));
    expect(p.state!().json).toEqual({
      targets: ['fc1/kernel', 'out/kernel'],
      lastPruneStep: -1,
      sparsity: 0,
    });
    await p.afterStep!(stepCtx(net, 0));
    expect(net.maskedParams()).toEqual([]);
    expect(p.state!().json).toEqual({
      targets: ['fc1/kernel', 'out/kernel'],
      lastPruneStep: -1,
      sparsity: 0,
    });
    net.dispose();
  });

  it('reports sparsity, zeros, total and the scheduled sparsity after a pruning step', async () => {
    const net = createNetwork(mlp, { seed: 8 });
    const p = createMagnitudePruner({
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, beginStep: 2, frequency: 1 },
      params: { names: ['fc1/kernel'] },
    });
    expect(p.metrics!()).toEqual({});
    p.init(initCtx(net));
    await p.afterStep!(stepCtx(net, 2));
    expect(p.metrics!()).toEqual({ sparsity: 0.5, zeros: 6, total: 12, scheduledSparsity: 0.5 });
    expect(p.state!().json).toEqual({ targets: ['fc1/kernel'], lastPruneStep: 2, sparsity: 0.5 });
    net.dispose();
  });
});
