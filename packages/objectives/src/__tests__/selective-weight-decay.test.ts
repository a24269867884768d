import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Network, PrepareContext } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, fakeNetwork, NO_BATCH, read, readAll } from './fake-network.js';
import { createObjective, SelectiveWeightDecay, type SumObjective } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** w = [[1, −2]], b = [3]; a tiny attention-like layer and a mix α beside them. */
function net(): Network {
  return fakeNetwork({
    params: [
      { node: 'fc', op: 'dense', role: 'kernel', shape: [1, 2], values: [1, -2] },
      { node: 'fc', op: 'dense', role: 'bias', shape: [1], values: [3] },
      { node: 'attn', op: 'attention', role: 'kernel', shape: [2], values: [1, 1] },
      { node: 'emb', op: 'embedding', role: 'kernel', shape: [1], values: [2] },
      { node: 'mix', op: 'mix', role: 'alpha', shape: [2], values: [1, 0] },
      { node: 'bn', op: 'batchNorm', role: 'movingMean', shape: [1], values: [4], trainable: false },
    ],
  });
}

/** A prepare context whose data gradients are the given constants (owned by the caller). */
function prepareContext(n: Network, grads: Map<string, tf.Tensor>): PrepareContext {
  return {
    net: n,
    batch: NO_BATCH,
    dataGradients: () => grads,
  };
}

function gradients(): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ['fc/kernel', tf.tensor2d([[0, 2]])],
    ['fc/bias', tf.tensor1d([-1])],
    ['attn/kernel', tf.tensor1d([0, 0])],
    ['emb/kernel', tf.tensor1d([3])],
    ['mix/alpha', tf.tensor1d([5, 5])],
  ]);
}

describe('selective weight decay', () => {
  it('divides |g| by α (α = 4 and α = 0.5 differ from α·|g|)', () => {
    const n = net();
    const grads = gradients();
    for (const alpha of [4, 0.5]) {
      const swd = new SelectiveWeightDecay({ gamma: 1, alpha });
      swd.prepare(prepareContext(n, grads));
      // fc: 1·1 + e^(−2/α)·4; bias e^(−1/α)·9; attention 1 + 1; embedding e^(−3/α)·4.
      const expected = 1 + Math.exp(-2 / alpha) * 4 + Math.exp(-1 / alpha) * 9 + 2 + Math.exp(-3 / alpha) * 4;
      const wrong = 1 + Math.exp(-2 * alpha) * 4 + Math.exp(-1 * alpha) * 9 + 2 + Math.exp(-3 * alpha) * 4;
      expect(Math.abs(expected - wrong)).toBeGreaterThan(0.5);
      expect(read(swd.value(context(n)))).toBeCloseTo(expected, 5);
      swd.dispose?.();
    }
    for (const g of grads.values()) g.dispose();
  });

  it('is γ·Σ exp(−|g|/α)·w² over every weight of every layer type (not mix α, not BN stats)', () => {
    const n = net();
    const grads = gradients();
    const ctx = prepareContext(n, grads);
    const swd = new SelectiveWeightDecay({ gamma: 0.5, alpha: 1 });
    const before = tf.memory().numTensors;
    swd.prepare(ctx);
    // fc: 1·1 + e⁻²·4; bias e⁻¹·9; attention 1 + 1; embedding e⁻³·4.
    const expected = 0.5 * (1 + Math.exp(-2) * 4 + Math.exp(-1) * 9 + 2 + Math.exp(-3) * 4);
    expect(read(swd.value(context(n)))).toBeCloseTo(expected, 5);
    expect([...swd.irrelevance()!.keys()]).toEqual(['fc/kernel', 'fc/bias', 'attn/kernel', 'emb/kernel']);

    // The gradient is 2γ·s(w)·w with s held constant.
    const w = n.params.get('fc/kernel')!;
    const { grads: g, value } = tf.variableGrads(() => swd.value(context(n)), [w]);
    value.dispose();
    const [g0, g1] = readAll(Object.values(g)[0]!);
    expect(g0).toBeCloseTo(2 * 0.5 * 1 * 1, 5);
    expect(g1).toBeCloseTo(2 * 0.5 * Math.exp(-2) * -2, 5);

    // γ is writable at run time (a pruner's decay/reset schedule).
    swd.gamma = 0.25;
    expect(read(swd.value(context(n)))).toBeCloseTo(expected / 2, 5);
    expect(() => {
      swd.gamma = -1;
    }).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // …and through core's Objective.setParameter, which pruners use.
    swd.setParameter('gamma', 0.5);
    expect(swd.gamma).toBe(0.5);
    expect(() => swd.setParameter('alpha', 1)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );

    // Preparing again replaces (and frees) the previous factors.
    swd.prepare(ctx);
    swd.prepare(ctx);
    expect(tf.memory().numTensors).toBe(before + 4);
    swd.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...grads.values()]);
    n.dispose();
  });

  it("offers the companion code's 1/(1 − α|g|) factor as factor: 'reference'", () => {
    const n = net();
    const grads = gradients();
    const ctx = prepareContext(n, grads);
    const swd = createObjective({
      type: 'selectiveWeightDecay',
      factor: 'reference',
      alpha: 0.25,
      gamma: 1,
      params: { names: ['fc/kernel', 'fc/bias'] },
    });
    swd.prepare!(ctx);
    // kernel: 1/(1 − 0)·1 + 1/(1 − 0.5)·4 = 9; bias: 1/(1 − 0.25)·9 = 12.
    expect(read(swd.value(context(n)))).toBeCloseTo(9 + 12, 4);
    swd.dispose!();
    tf.dispose([...grads.values()]);
    n.dispose();
  });

  it('reports value before prepare, missing gradients and shape changes with typed errors', () => {
    const n = net();
    const swd = new SelectiveWeightDecay();
    expect(() => swd.value(context(n))).toThrowError(
      expect.objectContaining({ name: 'ObjectiveError', code: 'NOT_PREPARED' }),
    );
    const grads = gradients();
    grads.get('emb/kernel')!.dispose();
    grads.delete('emb/kernel');
    const ctx = prepareContext(n, grads);
    const before = tf.memory().numTensors;
    expect(() => swd.prepare(ctx)).toThrowError(expect.objectContaining({ code: 'MISSING_GRADIENT' }));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...grads.values()]);
    // A gradient of another shape than its parameter [1, 2]: fewer axes with the same leading size ([1]),
    // and the same axes with another size ([1, 3]) — both refused before any factor is kept.
    for (const wrong of [tf.tensor1d([0]), tf.tensor2d([[0, 1, 2]])]) {
      const g = gradients();
      g.get('fc/kernel')!.dispose();
      g.set('fc/kernel', wrong);
      const count = tf.memory().numTensors;
      expect(() => swd.prepare(prepareContext(n, g)), String(wrong.shape)).toThrowError(
        expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
      );
      expect(tf.memory().numTensors).toBe(count);
      tf.dispose([...g.values()]);
    }
    n.dispose();
  });

  it('checks α itself when built directly, and records its settings as its config', () => {
    for (const alpha of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new SelectiveWeightDecay({ alpha }), String(alpha)).toThrowError(
        expect.objectContaining({ name: 'ObjectiveError', code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(new SelectiveWeightDecay({ alpha: 1e-9 }).alpha).toBe(1e-9);
    expect(
      new SelectiveWeightDecay({ alpha: 2, gamma: 0.5, factor: 'lobster', decoupled: true }).config,
    ).toEqual({
      type: 'selectiveWeightDecay',
      alpha: 2,
      gamma: 0.5,
      factor: 'lobster',
      decoupled: true,
    });
    expect(new SelectiveWeightDecay().config).toEqual({
      type: 'selectiveWeightDecay',
      alpha: 1,
      gamma: 1e-3,
      factor: 'exponential',
    });
  });

  it('reaches a selective decay nested in a sum (prepare, gamma, dispose)', () => {
    const n = net();
    const grads = gradients();
    const ctx = prepareContext(n, grads);
    const before = tf.memory().numTensors;
    const sum = createObjective({
      type: 'sum',
      terms: [
        { objective: { type: 'l1', params: { names: ['fc/kernel'] } } },
        { objective: { type: 'selectiveWeightDecay', gamma: 1, params: { names: ['fc/bias'] } } },
      ],
    }) as SumObjective;
    sum.prepare!(ctx);
    expect(read(sum.value(context(n)))).toBeCloseTo(3 + Math.exp(-1) * 9, 5);
    (sum.terms[1]!.objective as SelectiveWeightDecay).gamma = 0;
    expect(read(sum.value(context(n)))).toBeCloseTo(3, 5);
    sum.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...grads.values()]);
    n.dispose();
  });
});
