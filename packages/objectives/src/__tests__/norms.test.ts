import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { context, fakeBatch, fakeNetwork, read, readAll } from './fake-network.js';
import { createObjective, crossEntropy, l1Penalty, type SumObjective } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Dense kernel Σ|w| = 1 + 2 + 0 + 3 = 6; conv kernel Σw² = 0.25 + 1 = 1.25.
function net() {
  return fakeNetwork({
    params: [
      { node: 'conv1', op: 'conv2d', role: 'kernel', shape: [1, 1, 1, 2], values: [0.5, -1] },
      { node: 'conv1', op: 'conv2d', role: 'bias', shape: [2], values: [7, 7] },
      { node: 'fc1', op: 'dense', role: 'kernel', shape: [2, 2], values: [1, -2, 0, 3] },
      { node: 'fc1', op: 'dense', role: 'bias', shape: [2], values: [5, -5] },
      { node: 'bn', op: 'batchNorm', role: 'movingMean', shape: [2], values: [9, 9], trainable: false },
    ],
  });
}

describe('l1 / l2 objectives', () => {
  let n: ReturnType<typeof net>;
  let before: number;
  beforeEach(() => {
    n = net();
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(before);
    n.dispose();
  });

  it("give Reiners' f2 = Σ|w| of dense kernels, not normalized", () => {
    const f2 = createObjective({ type: 'l1', params: { ops: ['dense'], roles: ['kernel'] } });
    expect(read(f2.value(context(n)))).toBeCloseTo(6, 6);
    const mean = createObjective({
      type: 'l1',
      params: { ops: ['dense'], roles: ['kernel'] },
      normalize: 'mean',
    });
    expect(read(mean.value(context(n)))).toBeCloseTo(6 / 4, 6);
  });

  it('give 1e-4·Σw² of conv kernels, and select all trainable parameters by default', () => {
    const l2 = createObjective({
      type: 'l2',
      coefficient: 1e-4,
      params: { ops: ['conv2d'], roles: ['kernel'] },
    });
    expect(read(l2.value(context(n)))).toBeCloseTo(1e-4 * 1.25, 9);
    // Default: every trainable parameter (moving mean excluded): 1.25 + 98 + 14 + 50.
    const all = createObjective({ type: 'l2' });
    expect(read(all.value(context(n)))).toBeCloseTo(1.25 + 98 + 14 + 50, 4);
    const byName = createObjective({ type: 'l1', params: { names: ['fc1/bias'] } });
    expect(read(byName.value(context(n)))).toBeCloseTo(10, 6);
  });

  it('l1 has gradient sign(w), with 0 at w = 0 (tf.abs would give −1)', () => {
    const w = n.params.get('fc1/kernel')!;
    const { grads, value } = tf.variableGrads(() => l1Penalty(n, ['fc1/kernel']), [w]);
    expect(readAll(grads['fc1/kernel'] ?? Object.values(grads)[0]!)).toEqual([1, -1, 0, 1]);
    value.dispose();
    tf.dispose(Object.values(grads));
  });

  it('read parameters through their masks', () => {
    const mask = tf.tensor([1, 1, 1, 0], [2, 2]);
    n.setMask('fc1/kernel', mask);
    mask.dispose();
    const f2 = createObjective({ type: 'l1', params: { ops: ['dense'], roles: ['kernel'] } });
    expect(read(f2.value(context(n)))).toBeCloseTo(3, 6);
    n.setMask('fc1/kernel', null);
  });

  it("take core's selector, exclude included (a node or a parameter name left out)", () => {
    const all = createObjective({ type: 'l1', params: { roles: ['kernel'] } });
    const noDense = createObjective({ type: 'l1', params: { roles: ['kernel'], exclude: ['fc1'] } });
    const noConv = createObjective({ type: 'l1', params: { roles: ['kernel'], exclude: ['conv1/kernel'] } });
    expect(read(all.value(context(n)))).toBeCloseTo(7.5, 6);
    expect(read(noDense.value(context(n)))).toBeCloseTo(1.5, 6);
    expect(read(noConv.value(context(n)))).toBeCloseTo(6, 6);
    expect(() => createObjective({ type: 'l1', params: { exclude: 'fc1' } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('report unknown names and empty selections with typed errors', () => {
    const unknown = createObjective({ type: 'l1', params: { names: ['fc9/kernel'] } });
    expect(() => unknown.value(context(n))).toThrowError(
      expect.objectContaining({ name: 'ObjectiveError', code: 'UNKNOWN_PARAMETER' }),
    );
    const empty = createObjective({ type: 'l1', params: { ops: ['attention'] } });
    expect(() => empty.value(context(n))).toThrowError(expect.objectContaining({ code: 'EMPTY_SELECTION' }));
  });
});

describe('sum objective', () => {
  it("expresses Reiners' f1 = CE + 1e-4·‖conv kernels‖² in JSON", () => {
    const n = net();
    const logits = tf.tensor2d([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const batch = fakeBatch([tf.tensor1d([2, 0], 'int32')]);
    const ctx = context(n, { outputs: [logits], batch });
    const before = tf.memory().numTensors;
    const f1 = createObjective({
      type: 'sum',
      name: 'f1',
      terms: [
        { objective: { type: 'crossEntropy' } },
        { weight: 1e-4, objective: { type: 'l2', params: { ops: ['conv2d'], roles: ['kernel'] } } },
      ],
    }) as SumObjective;
    // No term needs a prepare pass, so the sum claims none (core's evaluation skips objectives that do).
    expect(f1.prepare).toBeUndefined();
    expect(f1.name).toBe('f1');
    expect(f1.terms).toHaveLength(2);
    const ce = read(crossEntropy(logits, batch.y[0]!));
    expect(ce).toBeCloseTo((0.4076059644 + 1.0986122887) / 2, 6);
    expect(read(f1.value(ctx))).toBeCloseTo(ce + 1e-4 * 1.25, 6);
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
    batch.dispose();
    n.dispose();
  });
});
