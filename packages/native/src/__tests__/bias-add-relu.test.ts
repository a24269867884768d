import { fc } from '@fast-check/vitest';
import { BIAS_ADD_RELU_GRAD_KERNEL, BIAS_ADD_RELU_KERNEL, biasAddRelu } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { bothBackends, maxRelDiff, nativeIt, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's biasAddRelu: on cpu it composes tf.add + tf.relu and tfjs
// differentiates them; on native it runs this package's two kernels. The two
// must agree: values and dx exactly, the bias gradient within summation order.

/** [value, dx, dbias] of Σ w⊙biasAddRelu(x, bias) as one flat array (x, w of `shape`). */
function valueAndGrads(shape: number[], x: Float32Array, bias: Float32Array, w: Float32Array) {
  return () =>
    tf.tidy(() => {
      const [xt, bt, wt] = [tf.tensor(x, shape), tf.tensor1d(bias), tf.tensor(w, shape)];
      const y = biasAddRelu(xt, bt);
      const [dx, db] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(biasAddRelu(a, b), wt)))([
        xt,
        bt,
      ]);
      return tf.concat([tf.reshape(y, [-1]), tf.reshape(dx!, [-1]), db!]);
    });
}

async function compare(shape: number[], seed: number, special = false) {
  const n = shape.reduce((a, b) => a * b, 1);
  const c = shape[shape.length - 1]!;
  const x = values(seed, n);
  const w = values(seed + 1, n);
  const bias = values(seed + 2, c);
  if (special) {
    // Zeros, NaN and infinite pre-activations, infinite and NaN upstream gradients.
    for (let i = 0; i < n; i += 13) x[i] = -bias[i % c]!;
    for (let i = 3; i < n; i += 97) x[i] = Number.NaN;
    for (let i = 5; i < n; i += 89) x[i] = i % 2 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    for (let i = 7; i < n; i += 101) w[i] = i % 2 ? Number.POSITIVE_INFINITY : Number.NaN;
  }
  const [cpu, native] = await bothBackends(valueAndGrads(shape, x, bias, w));
  // Values and dx exactly (same float operations), the bias gradient within
  // float summation order (maxRelDiff counts a NaN against a number as infinitely far).
  expect(maxRelDiff(cpu.subarray(0, 2 * n), native.subarray(0, 2 * n))).toBe(0);
  expect(maxRelDiff(cpu.subarray(2 * n), native.subarray(2 * n))).toBeLessThanOrEqual(1e-5);
}

describe(`bias + ReLU kernels${skipReason}`, () => {
  nativeIt('are registered under the names @moprune/core calls', () => {
    expect(tf.getKernel(BIAS_ADD_RELU_KERNEL, 'native')).toBeDefined();
    expect(tf.getKernel(BIAS_ADD_RELU_GRAD_KERNEL, 'native')).toBeDefined();
  });

  nativeIt('match the composed ops and their gradients on any shape (fast-check)', async () => {
    if (!registration.ok) return;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 1000 }),
        async (lead, channels, seed) => compare([...lead, channels], seed),
      ),
      { seed: 17, numRuns: 40 },
    );
  });

  nativeIt(
    'match on threaded sizes and row blocks that do not divide evenly (LeNet shapes, odd counts)',
    async () => {
      if (!registration.ok) return;
      // Conv1 of LeNet-5 (C = 6, the few-column fold), a dense layer (C = 300),
      // C = 7 and 9 around the fold's limit, rows that leave partial blocks and groups.
      for (const [i, shape] of [
        [128, 28, 28, 6],
        [128, 300],
        [4099, 7],
        [1 << 14, 9],
        [70001, 1],
      ].entries()) {
        await compare(shape!, 100 + i);
      }
    },
    60_000,
  );

  nativeIt('propagate NaN and infinities exactly as tfjs does', async () => {
    if (!registration.ok) return;
    await compare([33, 5], 7, true);
    await compare([300, 16], 8, true);
  });

  nativeIt('reject mismatched shapes and dtypes with a typed error', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const forward = (x: tf.Tensor, bias: tf.Tensor) => () =>
      tf.engine().runKernel(BIAS_ADD_RELU_KERNEL, { x, bias });
    const backward = (dy: tf.Tensor, y: tf.Tensor) => () =>
      tf.engine().runKernel(BIAS_ADD_RELU_GRAD_KERNEL, { dy, y });
    const e = thrown(forward(tf.ones([2, 3]), tf.ones([2])));
    expect(e).toMatchObject({ name: 'NativeError', code: 'BAD_SHAPE' });
    expect(e.message).toContain('x [2,3], bias [2]');
    expect(thrown(forward(tf.ones([2, 3]), tf.ones([1, 3])))).toMatchObject({ code: 'BAD_SHAPE' });
    expect(thrown(forward(tf.ones([2, 3], 'int32'), tf.ones([3])))).toMatchObject({ code: 'BAD_DTYPE' });
    const g = thrown(backward(tf.ones([2, 3]), tf.ones([3, 2])));
    expect(g).toMatchObject({ name: 'NativeError', code: 'BAD_SHAPE' });
    expect(g.message).toContain('dy [2,3], y [3,2]');
    expect(thrown(backward(tf.ones([3]), tf.ones([3], 'int32')))).toMatchObject({ code: 'BAD_DTYPE' });
  });

  nativeIt('train without leaking tensors', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const x = tf.tensor(values(3, 64 * 10), [64, 10]);
    const w = tf.variable(tf.tensor(values(4, 10 * 8), [10, 8]));
    const b = tf.variable(tf.zeros([8]));
    const step = () =>
      tf.tidy(() => {
        const { grads, value } = tf.variableGrads(() => tf.mean(tf.square(biasAddRelu(tf.matMul(x, w), b))));
        value.dataSync();
        tf.dispose(Object.values(grads));
      });
    step();
    const live = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(live);
    tf.dispose([x, w, b]);
  });
});
