import {
  hasSoftmaxCrossEntropyKernels,
  SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
  SOFTMAX_CROSS_ENTROPY_KERNEL,
  softmaxCrossEntropy,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { maxRelDiff, nativeIt, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's softmaxCrossEntropy: on cpu the composed ops (logSoftmax, one-hot, select, sum), on
// native this package's kernel pair. Loss and logits gradient must agree up to float summation order.

/** Loss and d loss / d logits of `softmaxCrossEntropy` on `backend`, with the kernels the pass ran. */
async function lossAndGradient(
  backend: string,
  logits: Float32Array,
  labels: Int32Array,
  k: number,
  divisor: number,
): Promise<{ loss: number; grad: Float32Array; kernels: string[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const x = tf.tensor2d(logits, [labels.length, k]);
  const y = tf.tensor1d(labels, 'int32');
  let loss = Number.NaN;
  let grad = new Float32Array();
  const info = await tf.profile(() => {
    const v = tf.variable(x, true, `logits-${backend}`);
    const { value, grads } = tf.variableGrads(() => softmaxCrossEntropy(v, y, divisor), [v]);
    loss = value.dataSync()[0]!;
    grad = Float32Array.from(Object.values(grads)[0]!.dataSync());
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.disposeVariables();
  tf.dispose([x, y]);
  expect(tf.memory().numTensors).toBe(before);
  return { loss, grad, kernels: info.kernels.map((kk) => kk.name) };
}

/** n labels in [0, k) from a seed, with `outside` of them replaced by out-of-range values. */
function labelsFor(seed: number, n: number, k: number, outside = 0): Int32Array {
  const u = values(seed, n);
  const labels = Int32Array.from(u, (v) => Math.min(k - 1, Math.floor(((v + 1) / 2) * k)));
  for (let i = 0; i < outside; i++) labels[(i * 7) % n] = i % 2 === 0 ? k : -1;
  return labels;
}

describe(`softmax cross-entropy kernels${skipReason}`, () => {
  nativeIt('are registered under the names @moprune/core calls, for native only', () => {
    expect(hasSoftmaxCrossEntropyKernels('native')).toBe(true);
    expect(hasSoftmaxCrossEntropyKernels('cpu')).toBe(false);
  });

  for (const [n, k, divisor, outside, scale] of [
    [128, 10, 128, 0, 3],
    [32, 10, 1, 0, 30],
    [7, 3, 7, 2, 1],
    [1, 2, 1, 0, 1],
    [5, 1000, 5, 1, 8],
  ] as const) {
    nativeIt(
      `match the composed ops in loss and gradient: n ${n}, k ${k}, divisor ${divisor}, ${outside} labels out of range`,
      async () => {
        if (!registration.ok) return;
        const logits = values(n * k, n * k).map((v) => v * scale);
        const labels = labelsFor(n + k, n, k, outside);
        const cpu = await lossAndGradient('cpu', logits, labels, k, divisor);
        await tf.setBackend('native');
        // Native outputs of the same size, disposed unread: the pool hands these arrays (holding 2s and
        // 3s) to the kernels below, so a row without a valid label must be written as zeros, not left alone.
        tf.tidy(() => {
          for (const c of [2, 3]) tf.add(tf.ones([n, k]), c - 1);
        });
        const native = await lossAndGradient('native', logits, labels, k, divisor);
        // One forward and one backward kernel; nothing of the composition (the rest is the tape's bookkeeping).
        expect(native.kernels.filter((name) => name.startsWith('Moprune'))).toEqual([
          SOFTMAX_CROSS_ENTROPY_KERNEL,
          SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
        ]);
        for (const composed of ['Exp', 'Log', 'OneHot', 'Select', 'Max'])
          expect(native.kernels).not.toContain(composed);
        expect(cpu.kernels).not.toContain(SOFTMAX_CROSS_ENTROPY_KERNEL);
        expect(Number.isFinite(native.loss)).toBe(true);
        expect(Math.abs(native.loss - cpu.loss)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(cpu.loss)));
        expect(maxRelDiff(cpu.grad, native.grad)).toBeLessThanOrEqual(1e-6);
        // Rows whose label is out of range contribute nothing and get no gradient.
        for (let i = 0; i < n; i++) {
          if (labels[i]! >= 0 && labels[i]! < k) continue;
          expect(Array.from(native.grad.subarray(i * k, (i + 1) * k)).every((g) => g === 0)).toBe(true);
        }
      },
    );
  }

  nativeIt(
    'give the loss of a hand-computed case, and the gradient p − one-hot over the divisor',
    async () => {
      if (!registration.ok) return;
      // Row 0: logits [0, ln 3] → p = [1/4, 3/4], label 1: −log(3/4). Row 1: equal logits, label 0: log 2.
      const logits = Float32Array.from([0, Math.log(3), 5, 5]);
      const labels = Int32Array.from([1, 0]);
      const r = await lossAndGradient('native', logits, labels, 2, 2);
      expect(r.loss).toBeCloseTo((-Math.log(0.75) + Math.log(2)) / 2, 6);
      const expected = [0.25 / 2, -0.25 / 2, -0.5 / 2, 0.5 / 2];
      for (const [i, g] of expected.entries()) expect(r.grad[i]).toBeCloseTo(g, 6);
    },
  );

  nativeIt('turn a NaN or infinite logit into a non-finite loss', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const x = tf.tensor2d([0.5, bad, 1, 2, 0, 1], [2, 3]);
      const y = tf.tensor1d([1, 2], 'int32');
      const loss = softmaxCrossEntropy(x, y, 2);
      const v = loss.dataSync()[0]!;
      // −∞ at the label gives +∞; NaN, and +∞ anywhere in a row, give NaN.
      expect(Number.isFinite(v)).toBe(false);
      tf.dispose([x, y, loss]);
    }
  });

  nativeIt('refuse wrong dtypes, shapes and divisors with typed errors, and leak nothing', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const run = (inputs: Record<string, tf.Tensor>, divisor = 1) =>
      thrown(() =>
        tf
          .engine()
          .runKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, inputs as unknown as tf.NamedTensorMap, { divisor }),
      );
    const x = tf.zeros([2, 3]);
    const ok = tf.tensor1d([0, 1], 'int32');
    const floatLabels = tf.tensor1d([0, 1]);
    const short = tf.tensor1d([0], 'int32');
    const x1 = tf.zeros([6]);
    expect(run({ logits: x, labels: floatLabels })).toMatchObject({ name: 'NativeError', code: 'BAD_DTYPE' });
    const shape = run({ logits: x, labels: short });
    expect(shape).toMatchObject({ name: 'NativeError', code: 'BAD_SHAPE' });
    expect(shape.message).toContain('[n, k] and labels [n]');
    expect(run({ logits: x1, labels: ok })).toMatchObject({ code: 'BAD_SHAPE' });
    for (const divisor of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = run({ logits: x, labels: ok }, divisor);
      expect(e).toMatchObject({ name: 'NativeError', code: 'INVALID_OPTION' });
      expect(e.message).toContain('divisor must be a positive number');
    }
    const dy = tf.zeros([2]);
    const grad = thrown(() =>
      tf
        .engine()
        .runKernel(
          SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
          { dy, probabilities: x, labels: ok } as unknown as tf.NamedTensorMap,
          { divisor: 1 },
        ),
    );
    expect(grad).toMatchObject({ name: 'NativeError', code: 'BAD_SHAPE' });
    expect(grad.message).toContain('dy must be a float32 scalar');
    tf.dispose([x, ok, floatLabels, short, x1, dy]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
