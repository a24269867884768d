import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { RELU_GRAD_KERNEL_NAME } from '../kernels.js';
import { bothBackends, maxRelDiff, nativeIt, registration, skipReason, values } from './helpers.js';

// @moprune/backend owns the Relu gradient that calls this kernel; it is not a
// dependency of this package, so it is loaded at run time (as in gradients.test.ts).
async function backendModule(): Promise<{ RELU_GRAD_KERNEL: string; reluGradConfig: tf.GradConfig }> {
  return (await import('@moprune/backend')) as never;
}

/** x with zeros, NaN and both signs; dy with ±Infinity and NaN in places. */
function data(n: number): { x: Float32Array; dy: Float32Array } {
  const x = values(41, n);
  const dy = values(42, n);
  for (let i = 0; i < n; i += 97) x[i] = 0;
  for (let i = 5; i < n; i += 211) x[i] = Number.NaN;
  for (let i = 7; i < n; i += 101) dy[i] = i % 2 ? Number.POSITIVE_INFINITY : Number.NaN;
  return { x, dy };
}

describe(`one-pass Relu gradient kernel${skipReason}`, () => {
  nativeIt("has the name @moprune/backend's Relu gradient calls", async () => {
    expect(RELU_GRAD_KERNEL_NAME).toBe((await backendModule()).RELU_GRAD_KERNEL);
    expect(tf.getKernel(RELU_GRAD_KERNEL_NAME, 'native')).toBeDefined();
  });

  nativeIt(
    "equals tfjs's dy · step(x), through the gradient and directly, on threaded sizes too",
    async () => {
      if (!registration.ok) return;
      tf.registerGradient((await backendModule()).reluGradConfig);
      for (const n of [7, 1 << 17]) {
        const { x, dy } = data(n);
        // cpu: the gradient's fallback, dy · step(x); native: the kernel.
        const [cpu, native] = await bothBackends(() =>
          tf.tidy(() => {
            const d = tf.tensor1d(dy);
            return tf.grads((a: tf.Tensor) => tf.mul(tf.relu(a), d))([tf.tensor1d(x)])[0]!;
          }),
        );
        expect(maxRelDiff(cpu, native)).toBe(0);
        const [, direct] = await bothBackends(() =>
          tf.getBackend() === 'native'
            ? (tf
                .engine()
                .runKernel(RELU_GRAD_KERNEL_NAME, { dy: tf.tensor1d(dy), x: tf.tensor1d(x) }) as tf.Tensor)
            : tf.tensor1d([]),
        );
        expect(maxRelDiff(cpu, direct)).toBe(0);
      }
    },
  );

  nativeIt('rejects mismatched shapes and dtypes with a typed error', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const run = (dy: tf.Tensor, x: tf.Tensor) => {
      try {
        tf.engine().runKernel(RELU_GRAD_KERNEL_NAME, { dy, x });
      } catch (error) {
        return error as { name: string; code: string; message: string };
      }
      throw new Error('expected a throw');
    };
    const e = run(tf.ones([2, 3]), tf.ones([3, 2]));
    expect(e).toMatchObject({ name: 'NativeError', code: 'BAD_SHAPE' });
    expect(e.message).toContain('dy [2,3], x [3,2]');
    expect(run(tf.ones([2], 'int32'), tf.ones([2]))).toMatchObject({ code: 'BAD_DTYPE' });
  });
});
