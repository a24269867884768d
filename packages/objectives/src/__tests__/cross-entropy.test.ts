import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, fakeBatch, fakeNetwork, read, readAll } from './fake-network.js';
import { createObjective, crossEntropy, isObjectiveErrorLike } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Row 1: logsumexp(1,2,3) = 3.4076059644, label 2 → 0.4076059644.
// Row 2: logsumexp(1,1,1) = ln 3 = 1.0986122887, label 0 → 1.0986122887.
const ROW1 = 0.4076059644;
const ROW2 = 1.0986122887;

describe('crossEntropy', () => {
  it('matches hand-computed values for sparse and one-hot labels', () => {
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const sparse = tf.tensor1d([2, 0], 'int32');
    const onehot = tf.tensor2d([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(read(crossEntropy(logits, sparse))).toBeCloseTo((ROW1 + ROW2) / 2, 6);
    expect(read(crossEntropy(logits, onehot))).toBeCloseTo((ROW1 + ROW2) / 2, 6);
    expect(read(crossEntropy(logits, sparse, { reduction: 'sum' }))).toBeCloseTo(ROW1 + ROW2, 6);
    // Integral float labels are accepted too.
    const floatLabels = tf.tensor1d([2, 0]);
    expect(read(crossEntropy(logits, floatLabels))).toBeCloseTo((ROW1 + ROW2) / 2, 6);
    tf.dispose([logits, sparse, onehot, floatLabels]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is stable for huge logits', () => {
    const logits = tf.tensor2d([[1000, 0]]);
    const y1 = tf.tensor1d([1], 'int32');
    const y0 = tf.tensor1d([0], 'int32');
    expect(read(crossEntropy(logits, y1))).toBeCloseTo(1000, 3);
    expect(read(crossEntropy(logits, y0))).toBeCloseTo(0, 6);
    tf.dispose([logits, y1, y0]);
  });

  it('takes log-probabilities as they are, and ignores −∞ where the target is 0', () => {
    const logp = tf.tensor2d([[Math.log(0.2), Math.log(0.8), Number.NEGATIVE_INFINITY]]);
    const y = tf.tensor1d([1], 'int32');
    expect(read(crossEntropy(logp, y, { from: 'logProbabilities' }))).toBeCloseTo(-Math.log(0.8), 6);
    tf.dispose([logp, y]);
  });

  it('takes softmax outputs the Keras way (renormalized, clipped at 1e-7)', () => {
    const p = tf.tensor2d([
      [0.2, 0.8],
      [1, 0],
    ]);
    const y = tf.tensor1d([1, 1], 'int32');
    const expected = (-Math.log(0.8) - Math.log(1e-7)) / 2;
    expect(read(crossEntropy(p, y, { from: 'probabilities' }))).toBeCloseTo(expected, 4);
    tf.dispose([p, y]);
  });

  it('has gradient (softmax − onehot)/n w.r.t. logits', () => {
    const logits = tf.tensor2d([[0, Math.log(3)]]); // softmax = [0.25, 0.75]
    const y = tf.tensor1d([0], 'int32');
    const g = tf.grad((x: tf.Tensor) => crossEntropy(x, y))(logits);
    const [a, b] = readAll(g);
    expect(a).toBeCloseTo(0.25 - 1, 6);
    expect(b).toBeCloseTo(0.75, 6);
    tf.dispose([logits, y]);
  });

  it('rejects labels out of range and shapes that do not fit', () => {
    const logits = tf.tensor2d([[1, 2, 3]]);
    const bad = tf.tensor1d([3], 'int32');
    const frac = tf.tensor1d([0.5]);
    const wrongN = tf.tensor1d([0, 1], 'int32');
    const wrongC = tf.tensor2d([[0, 1]]);
    expect(() => crossEntropy(logits, bad)).toThrowError(expect.objectContaining({ code: 'INVALID_LABELS' }));
    expect(() => crossEntropy(logits, frac)).toThrowError(
      expect.objectContaining({ code: 'INVALID_LABELS' }),
    );
    expect(() => crossEntropy(logits, wrongN)).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => crossEntropy(logits, wrongC)).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    tf.dispose([logits, bad, frac, wrongN, wrongC]);
  });

  it('rejects outputs that are not [batch, classes], labels of rank 3 and negative labels; checkLabels: false skips the label scan', () => {
    const logits = tf.tensor2d([[1, 2, 3]]);
    const cube = tf.zeros([1, 3, 1]);
    const y = tf.tensor1d([0], 'int32');
    const negative = tf.tensor1d([-1], 'int32');
    const labels3 = tf.zeros([1, 3, 1]);
    const frac = tf.tensor1d([0.5]);
    expect(() => crossEntropy(cube, y)).toThrowError(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(() => crossEntropy(logits, labels3)).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    expect(() => crossEntropy(logits, negative)).toThrowError(
      expect.objectContaining({ code: 'INVALID_LABELS' }),
    );
    // Unchecked, a fractional label is cast to int32 (0) and used: −log softmax(1, 2, 3)[0].
    const unchecked = read(crossEntropy(logits, frac, { checkLabels: false }));
    expect(unchecked).toBeCloseTo(-Math.log(Math.exp(1) / (Math.exp(1) + Math.exp(2) + Math.exp(3))), 5);
    tf.dispose([logits, cube, y, negative, labels3, frac]);
  });

  it('clips probabilities at 1 − 1e-7 too (Keras), so a certain right answer still costs −log(1 − 1e-7)', () => {
    const p = tf.tensor2d([[0, 1]]);
    const y = tf.tensor1d([1], 'int32');
    // In float32, 1 − 1e-7 rounds to 1 − 2^−23 = 0.99999988: the loss is ≈ 1.19e-7, not 0.
    const want = -Math.log(Math.fround(1 - 1e-7));
    expect(read(crossEntropy(p, y, { from: 'probabilities' }))).toBeCloseTo(want, 9);
    expect(want).toBeGreaterThan(1e-7);
    tf.dispose([p, y]);
  });
});

describe('crossEntropy / nll objectives', () => {
  it('pick the configured output and label of a multi-task batch', () => {
    const net = fakeNetwork({ params: [] });
    const out0 = tf.tensor2d([[5, 0, 0]]);
    const out1 = tf.logSoftmax(
      tf.tensor2d([
        [1, 2, 3],
        [1, 1, 1],
      ]),
    );
    const batch = fakeBatch([tf.tensor1d([1], 'int32'), tf.tensor1d([2, 0], 'int32')]);
    const ctx = context(net, { outputs: [out0, out1], batch });
    const before = tf.memory().numTensors;
    const nll1 = createObjective({ type: 'nll', task: 1 });
    expect(nll1.name).toBe('nll[1]');
    expect(read(nll1.value(ctx))).toBeCloseTo((ROW1 + ROW2) / 2, 5);
    const ce0 = createObjective({ type: 'crossEntropy', output: 0 });
    // logsumexp(5,0,0) − 0 = ln(e⁵ + 2) = 5.0134307...
    expect(read(ce0.value(ctx))).toBeCloseTo(Math.log(Math.exp(5) + 2), 5);
    expect(tf.memory().numTensors).toBe(before);
    const missing = createObjective({ type: 'nll', task: 2 });
    expect(() => missing.value(ctx)).toThrowError(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    expect(isObjectiveErrorLike(catchError(() => missing.value(ctx)))).toBe(true);
    tf.dispose([out0, out1]);
    batch.dispose();
    net.dispose();
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
