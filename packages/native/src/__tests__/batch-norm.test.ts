import { fc } from '@fast-check/vitest';
import {
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  batchNormTraining,
  hasBatchNormTrainingKernels,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { maxRelDiff, nativeIt, registration, skipReason, thrown, values } from './helpers.js';

/**
 * y, mean, variance of `batchNormTraining` and the gradients of Σ w⊙y for x,
 * scale and offset on `backend`: on 'native' the op runs the two kernels, on
 * 'cpu' it is tf.moments + tf.batchNorm differentiated by tfjs — the reference.
 */
async function run(
  backend: string,
  shape: number[],
  seed: number,
  shift: number,
  epsilon: number,
  relu = false,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const channels = shape[shape.length - 1]!;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = tf.tidy(() => {
    const x = tf.add(tf.tensor(values(seed, n), shape), shift);
    const scale = tf.tensor1d(values(seed + 1, channels).map((v) => v + 1.5));
    const offset = tf.tensor1d(values(seed + 2, channels));
    const w = tf.tensor(values(seed + 3, n), shape);
    const { y, mean, variance } = batchNormTraining(x, scale, offset, epsilon, { relu });
    const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(batchNormTraining(a, s, o, epsilon, { relu }).y, w)),
    )([x, scale, offset]);
    return [y, mean, variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe(`training-mode batch norm kernels${skipReason}`, () => {
  nativeIt('are registered, so core runs them instead of composing ops', async () => {
    if (!registration.ok) return;
    expect(hasBatchNormTrainingKernels('native')).toBe(true);
    expect(hasBatchNormTrainingKernels('cpu')).toBe(false);
  });

  nativeIt('match the composed ops on cpu, values and gradients (fast-check)', async () => {
    if (!registration.ok) return;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom(0, 3, -20),
        fc.constantFrom(1e-5, 1e-3),
        fc.boolean(),
        async (lead, channels, seed, shift, epsilon, relu) => {
          const shape = [...lead, channels];
          // relu: the fused kernels on native, tf.relu after the composed ops on cpu.
          const cpu = await run('cpu', shape, seed, shift, epsilon, relu);
          const native = await run('native', shape, seed, shift, epsilon, relu);
          native.forEach((v, i) => {
            expect(maxRelDiff(v, cpu[i]!)).toBeLessThan(5e-4);
          });
        },
      ),
      { seed: 17, numRuns: 40 },
    );
  });

  nativeIt(
    'split across threads on a ResNet-sized activation, and keep precision under a large offset',
    async () => {
      if (!registration.ok) return;
      // 64·8·8 rows × 16 channels: above the size at which the kernels split rows between threads.
      for (const shift of [0, 1000]) {
        const cpu = await run('cpu', [64, 8, 8, 16], 5, shift, 1e-5);
        const native = await run('native', [64, 8, 8, 16], 5, shift, 1e-5);
        const cpuRelu = await run('cpu', [64, 8, 8, 16], 5, shift, 1e-5, true);
        const nativeRelu = await run('native', [64, 8, 8, 16], 5, shift, 1e-5, true);
        nativeRelu.forEach((v, i) => {
          expect(maxRelDiff(v, cpuRelu[i]!)).toBeLessThan(shift === 0 ? 5e-4 : 2e-2);
        });
        expect(Math.min(...nativeRelu[0]!)).toBe(0);
        // cpu's composed ops lose ~1e-4 relative to cancellation at offset 1000; ours accumulate in double.
        native.forEach((v, i) => {
          expect(maxRelDiff(v, cpu[i]!)).toBeLessThan(shift === 0 ? 5e-4 : 2e-2);
        });
        // Normalized output: per-channel mean ≈ offset's values, whatever the shift.
        const y = native[0]!;
        const mean0 = y.filter((_, i) => i % 16 === 0).reduce((a, b) => a + b, 0) / (y.length / 16);
        expect(Math.abs(mean0 - values(7, 16)[0]!)).toBeLessThan(1e-3);
      }
    },
  );

  nativeIt('reject bad inputs with a typed error naming the kernel and shapes', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const x = tf.ones([4, 3]);
    const ok = tf.ones([3]);
    const bad = tf.ones([2]);
    const run = (
      inputs: Record<string, tf.Tensor>,
      attrs: Record<string, unknown>,
      kernel = BATCH_NORM_TRAINING_KERNEL,
    ) => thrown(() => tf.engine().runKernel(kernel, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap));
    const e1 = run({ x, scale: bad, offset: ok }, { epsilon: 1e-3 });
    expect(e1).toMatchObject({ name: 'NativeError', code: 'BAD_SHAPE' });
    expect(e1.message).toContain(BATCH_NORM_TRAINING_KERNEL);
    expect(e1.message).toContain('scale [2]');
    expect(run({ x, scale: ok, offset: ok }, { epsilon: 0 })).toMatchObject({ code: 'BAD_SHAPE' });
    expect(run({ x: tf.ones([3]), scale: ok, offset: ok }, { epsilon: 1e-3 }).message).toContain('rank >= 2');
    expect(run({ x: tf.ones([4, 3], 'int32'), scale: ok, offset: ok }, { epsilon: 1e-3 })).toMatchObject({
      name: 'NativeError',
      code: 'BAD_DTYPE',
    });
    expect(run({ x, scale: ok, offset: ok }, { epsilon: 1e-3, relu: 1 }).message).toContain(
      'relu must be a boolean',
    );
    const e2 = run(
      { dy: tf.ones([4, 2]), x, scale: ok, offset: ok, mean: ok, variance: ok },
      { epsilon: 1e-3 },
      BATCH_NORM_TRAINING_GRAD_KERNEL,
    );
    expect(e2).toMatchObject({ code: 'BAD_SHAPE' });
    expect(e2.message).toContain('dy must have shape [4,3]');
    tf.dispose([x, ok, bad]);
  });
});
