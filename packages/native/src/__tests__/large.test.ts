import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { bothBackends, maxRelDiff, nativeIt, skipReason, TOL, values } from './helpers.js';

/**
 * Shapes big enough to take the multi-threaded paths (≥ 2 MFLOP, ≥ 65,536
 * elements) and the unfilled-output allocation, which the small generated
 * shapes of forward.test.ts never reach.
 */
describe(`native kernels on large shapes equal the cpu kernels${skipReason}`, () => {
  const big = [8, 32, 32, 8];
  const xv = values(7, 8 * 32 * 32 * 8);
  const x = () => tf.tensor4d(xv, big as [number, number, number, number]);
  const conv = [4, 32, 32, 8] as [number, number, number, number];
  const cv = values(8, 4 * 32 * 32 * 8);
  const wv = values(9, 3 * 3 * 8 * 16);
  const dyv = values(10, 4 * 16 * 16 * 16);

  const cases: Record<string, () => tf.Tensor> = {
    conv2d: () => tf.conv2d(tf.tensor4d(cv, conv), tf.tensor4d(wv, [3, 3, 8, 16]), 1, 'same'),
    'conv2d strided + dilated': () =>
      tf.conv2d(tf.tensor4d(cv, conv), tf.tensor4d(wv, [3, 3, 8, 16]), 1, 'valid', 'NHWC', 2),
    conv2DBackpropInput: () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(dyv, [4, 16, 16, 16]), filter: tf.tensor4d(wv, [3, 3, 8, 16]) },
          { inputShape: conv, strides: 2, pad: 'same', dataFormat: 'NHWC' },
        ) as tf.Tensor,
    conv2DBackpropFilter: () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(cv, conv), dy: tf.tensor4d(dyv, [4, 16, 16, 16]) },
          { filterShape: [3, 3, 8, 16], strides: 2, pad: 'same', dataFormat: 'NHWC' },
        ) as tf.Tensor,
    matMul: () => tf.matMul(tf.tensor2d(xv, [256, 256]), tf.tensor2d(xv.subarray(0, 256 * 64), [256, 64])),
    // One product split over threads: by output rows (m ≥ n) or by columns (n > m), every transpose.
    ...Object.fromEntries(
      [
        [300, 96],
        [96, 300],
      ].flatMap(([m, n]) =>
        [false, true].flatMap((ta) =>
          [false, true].map((tb) => [
            `matMul ${m}x${n}x128${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`,
            () =>
              tf.matMul(
                tf.tensor2d(xv.subarray(0, m! * 128), ta ? [128, m!] : [m!, 128]),
                tf.tensor2d(xv.subarray(1000, 1000 + n! * 128), tb ? [n!, 128] : [128, n!]),
                ta,
                tb,
              ),
          ]),
        ),
      ),
    ),
    // Few-channel bias (repeated into a longer period) in both operand orders, and the
    // few-column row sums (grouped rows, then the rows left over): 4,099 rows of C channels.
    ...Object.fromEntries(
      [3, 6, 7].flatMap((c) => [
        [
          `add bias of ${c}`,
          () => tf.add(tf.tensor2d(xv.subarray(0, 4099 * c), [4099, c]), tf.tensor1d(xv.subarray(9, 9 + c))),
        ],
        [
          `bias of ${c} minus x`,
          () => tf.sub(tf.tensor1d(xv.subarray(9, 9 + c)), tf.tensor2d(xv.subarray(0, 4099 * c), [4099, c])),
        ],
        [`sum of 4099 rows of ${c}`, () => tf.sum(tf.tensor2d(xv.subarray(0, 4099 * c), [4099, c]), 0)],
      ]),
    ),
    'batched matMul': () =>
      tf.matMul(tf.tensor3d(xv, [64, 32, 32]), tf.tensor3d(xv, [64, 32, 32]), false, true),
    maxPool: () => tf.maxPool(x(), 3, 1, 'same'),
    avgPool: () => tf.avgPool(x(), 2, 2, 'valid'),
    maxPoolGrad: () => {
      const input = x();
      const output = tf.maxPool(input, 2, 2, 'same');
      return tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy: tf.tensor4d(values(11, 8 * 16 * 16 * 8), [8, 16, 16, 8]), input, output },
          { filterSize: 2, strides: 2, pad: 'same' },
        ) as tf.Tensor;
    },
    avgPoolGrad: () =>
      tf
        .engine()
        .runKernel(
          'AvgPoolGrad',
          { dy: tf.tensor4d(values(12, 8 * 16 * 16 * 8), [8, 16, 16, 8]), input: x() },
          { filterSize: 2, strides: 2, pad: 'same' },
        ) as tf.Tensor,
    'add bias': () => tf.add(x(), tf.tensor1d(values(13, 8))),
    'mul general broadcast': () => tf.mul(x(), tf.tensor4d(values(14, 8 * 8), [8, 1, 1, 8])),
    'div scalar': () => tf.div(x(), tf.scalar(3)),
    relu: () => tf.relu(x()),
    step: () => tf.step(x(), 0.1),
    square: () => tf.square(x()),
    'sum leading': () => tf.sum(x(), [0, 1, 2]),
    'mean middle': () => tf.mean(x(), [1, 2]),
    'sum trailing': () => tf.sum(x(), [2, 3]),
    batchNorm: () =>
      tf.batchNorm(
        x(),
        tf.tensor1d(values(15, 8)),
        tf.tensor1d(values(16, 8).map((v) => v * v + 1)),
        undefined,
        undefined,
        1e-3,
      ),
    transpose: () => tf.transpose(x(), [3, 1, 2, 0]),
    slice: () => tf.slice(x(), [1, 2, 3, 1], [6, 20, 20, 6]),
    stridedSlice: () => tf.stridedSlice(x(), [0, 0, 0, 0], [8, 32, 32, 8], [1, 2, 2, 1]),
    pad: () =>
      tf.pad(x(), [
        [0, 0],
        [1, 1],
        [2, 2],
        [4, 4],
      ]),
  };

  for (const [name, build] of Object.entries(cases)) {
    nativeIt(name, async () => {
      const [cpu, native] = await bothBackends(build);
      expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
    });
  }
});
