import { batchNormTraining } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { maxRelDiff, nativeIt, registration, skipReason, values } from './helpers.js';

/**
 * End to end: a few SGD steps of a small residual conv net with training-mode
 * batch norm, max pooling and a dense head, from the same weights on 'cpu'
 * and 'native'. Every native piece takes part at once — convolutions and both
 * gradients, recycled output arrays across steps, pooling, reductions — and
 * the losses read with dataSync() each step must not change afterwards.
 */
async function train(
  backend: string,
  bn: 'ops' | 'core',
): Promise<{ losses: number[]; seen: Float32Array[]; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const shapes: Record<string, number[]> = {
    c1: [3, 3, 2, 8],
    c2: [3, 3, 8, 8],
    gamma: [8],
    beta: [8],
    fc: [8, 3],
  };
  const vars = Object.entries(shapes).map(([name, shape], i) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor(
          name === 'gamma'
            ? new Float32Array(8).fill(1)
            : values(
                10 + i,
                shape.reduce((a, b) => a * b, 1),
              ).map((v) => v * 0.5),
          shape,
        ),
        true,
        `${backend}-${name}`,
      ),
    ),
  );
  const [c1, c2, gamma, beta, fc] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const x = tf.tensor4d(values(1, 6 * 10 * 10 * 2), [6, 10, 10, 2]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3));
  const optimizer = tf.train.sgd(0.1);
  const losses: number[] = [];
  const seen: Float32Array[] = [];
  for (let step = 0; step < 4; step++) {
    const loss = optimizer.minimize(
      () => {
        const h = tf.relu(tf.conv2d(x, c1 as tf.Tensor4D, 1, 'same'));
        const r = tf.conv2d(h, c2 as tf.Tensor4D, 1, 'same');
        let normalized: tf.Tensor;
        if (bn === 'core') {
          normalized = batchNormTraining(r, gamma, beta, 1e-5).y;
        } else {
          const { mean, variance } = tf.moments(r, [0, 1, 2]);
          normalized = tf.batchNorm(r, mean, variance, beta, gamma, 1e-5);
        }
        const b = tf.relu(tf.add(normalized, h)) as tf.Tensor4D;
        const p = tf.maxPool(b, 2, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.mean(p, [1, 2]), fc));
      },
      true,
      vars,
    ) as tf.Scalar;
    const values_ = loss.dataSync() as Float32Array;
    seen.push(values_);
    losses.push(values_[0]!);
    loss.dispose();
  }
  const weights = vars.map((v) => Float32Array.from(v.dataSync()));
  tf.dispose([x, y, ...vars]);
  optimizer.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { losses, seen, weights };
}

describe(`training on 'native'${skipReason}`, () => {
  nativeIt.each(['ops', 'core'] as const)(
    'follows the cpu backend step for step, and what dataSync() returned stays put (batch norm: %s)',
    async (bn) => {
      if (!registration.ok) return;
      // 'core': @moprune/core's batchNormTraining — the native kernel pair here, tf.moments + tf.batchNorm on cpu.
      const cpu = await train('cpu', bn);
      const native = await train('native', bn);
      expect(maxRelDiff(native.losses, cpu.losses)).toBeLessThan(1e-4);
      expect(native.losses[3]!).toBeLessThan(native.losses[0]!);
      native.weights.forEach((w, i) => {
        expect(maxRelDiff(w, cpu.weights[i]!)).toBeLessThan(1e-4);
      });
      expect(native.seen.map((s) => s[0])).toEqual(native.losses);
    },
  );
});
