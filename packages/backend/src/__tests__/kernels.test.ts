import '@tensorflow/tfjs-layers';
import { initBackend } from '@moprune/backend';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

async function on<T>(backend: 'cpu' | 'wasm', f: () => T): Promise<T> {
  await initBackend({ backend, silent: true });
  return f();
}

describe('wasm StridedSlice kernel', () => {
  const x = Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i * 0.5 - 7);
  // [begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask]
  const cases: [number[], number[], number[], number, number, number, number, number][] = [
    [[0, 0, 0, 0], [2, 3, 4, 5], [1, 2, 2, 1], 0, 0, 0, 0, 0],
    [[1, 2, 3, 4], [0, 0, 0, 0], [-1, -1, -2, -3], 0, 0, 0, 0, 0],
    [[0, 1, 0, 0], [0, 3, 0, 0], [1, 1, 1, 2], 0b1101, 0b1101, 0, 0, 0],
    [[1, 0, 2], [2, 3, 4], [1, 1, 1], 0, 0, 0, 0, 0b101],
    [[0, 1], [0, 3], [1, 2], 0, 0, 0b1, 0, 0],
    [[0, 0, 0], [1, 2, 4], [1, 1, 1], 0, 0, 0, 0b10, 0],
  ];
  it.each(cases)(
    'matches cpu for begin %j end %j strides %j masks …',
    async (b, e, s, bm, em, elm, nam, sam) => {
      const run = () =>
        tf.tidy(() => {
          const y = tf.stridedSlice(tf.tensor4d(x, [2, 3, 4, 5]), b, e, s, bm, em, elm, nam, sam);
          return { shape: y.shape, values: Array.from(y.dataSync()) };
        });
      const expected = await on('cpu', run);
      expect(await on('wasm', run)).toEqual(expected);
    },
  );

  it.each(cases)(
    'has a gradient that scatters back to the read positions (begin %j end %j strides %j …)',
    async (b, e, s, bm, em, elm, nam, sam) => {
      for (const backend of ['cpu', 'wasm'] as const) {
        await initBackend({ backend, silent: true });
        const { grad, read, weights } = tf.tidy(() => {
          const slice = (t: tf.Tensor) => tf.stridedSlice(t, b, e, s, bm, em, elm, nam, sam);
          // Slicing the flat positions tells which input element each output element read.
          const read = Array.from(
            slice(tf.reshape(tf.range(0, x.length, 1, 'int32'), [2, 3, 4, 5])).dataSync(),
          );
          const weights = read.map((_, k) => k + 1);
          const w = tf.tensor(weights, slice(tf.zeros([2, 3, 4, 5])).shape);
          const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(slice(t), w)))(tf.tensor4d(x, [2, 3, 4, 5]));
          return { grad: Array.from(grad.dataSync()), read, weights };
        });
        const expected = new Array<number>(x.length).fill(0);
        read.forEach((at, k) => {
          expected[at]! += weights[k]!;
        });
        expect(grad).toEqual(expected);
      }
    },
  );

  it('slices int32 tensors', async () => {
    const run = () =>
      tf.tidy(() =>
        Array.from(
          tf.stridedSlice(tf.reshape(tf.range(0, 24, 1, 'int32'), [4, 6]), [1, 0], [4, 6], [2, 3]).dataSync(),
        ),
      );
    expect(await on('wasm', run)).toEqual([6, 9, 18, 21]);
  });
});

describe('wasm matmul kernels', () => {
  it('gives the same batched fused matmul with bias and activation as cpu', async () => {
    const a = Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i));
    const b = Array.from({ length: 2 * 4 * 5 }, (_, i) => Math.cos(i));
    const bias = [0.1, -0.2, 0.3, -0.4, 0.5];
    for (const activation of ['linear', 'relu', 'elu', 'sigmoid'] as const) {
      for (const [transposeA, transposeB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const run = () =>
          tf.tidy(() =>
            Array.from(
              tf.fused
                .matMul({
                  a: transposeA
                    ? tf.transpose(tf.tensor3d(a, [2, 3, 4]), [0, 2, 1])
                    : tf.tensor3d(a, [2, 3, 4]),
                  b: transposeB
                    ? tf.transpose(tf.tensor3d(b, [2, 4, 5]), [0, 2, 1])
                    : tf.tensor3d(b, [2, 4, 5]),
                  transposeA,
                  transposeB,
                  bias: tf.tensor1d(bias),
                  activation,
                })
                .dataSync(),
            ),
          );
        const expected = await on('cpu', run);
        const got = await on('wasm', run);
        got.forEach((v, i) => {
          expect(v).toBeCloseTo(expected[i]!, 5);
        });
      }
    }
  });
});

describe('Conv2D gradient with NCHW data', () => {
  it('equals the NHWC gradient, transposed (cpu, explicit padding)', async () => {
    await initBackend({ backend: 'cpu', silent: true });
    const [gx, gw, hx, hw] = tf.tidy(() => {
      const x = tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      const w = tf.randomNormal([3, 2, 3, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
      const nhwc = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.conv2d(
              a as tf.Tensor4D,
              b as tf.Tensor4D,
              [2, 1],
              [
                [0, 0],
                [1, 0],
                [0, 2],
                [0, 0],
              ],
              'NHWC',
            ),
          ),
        ),
      )([x, w]);
      const nchw = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.conv2d(
              a as tf.Tensor4D,
              b as tf.Tensor4D,
              [2, 1],
              [
                [0, 0],
                [0, 0],
                [1, 0],
                [0, 2],
              ],
              'NCHW',
            ),
          ),
        ),
      )([tf.transpose(x, [0, 3, 1, 2]), w]);
      return [nhwc[0]!, nhwc[1]!, tf.transpose(nchw[0]!, [0, 2, 3, 1]), nchw[1]!].map((t) =>
        Array.from(t.dataSync()),
      );
    });
    hx!.forEach((v, i) => {
      expect(v).toBeCloseTo(gx![i]!, 3);
    });
    hw!.forEach((v, i) => {
      expect(v).toBeCloseTo(gw![i]!, 3);
    });
  });
});

describe('wasm UnsortedSegmentSum kernel (the gradient of tf.gather)', () => {
  const x = Array.from({ length: 5 * 2 * 3 }, (_, i) => (i % 7) - 2.5);
  it.each([
    [[5, 2, 3], [2, 0, 2, 1, 0], 3],
    [[5], [4, 4, -1, 0, 9], 5],
    [[5, 6], [0, 0, 0, 0, 0], 1],
  ] as [number[], number[], number][])('matches cpu for x %j, ids %j, %i segments', async (shape, ids, n) => {
    const run = () =>
      tf.tidy(() => {
        const data = x.slice(
          0,
          shape.reduce((a, b) => a * b, 1),
        );
        const y = tf.unsortedSegmentSum(tf.tensor(data, shape), tf.tensor1d(ids, 'int32'), n);
        return { shape: y.shape, values: Array.from(y.dataSync()) };
      });
    const expected = await on('cpu', run);
    expect(await on('wasm', run)).toEqual(expected);
  });

  it('lets tf.gather be differentiated on wasm, with repeated indices accumulating', async () => {
    const run = () =>
      tf.tidy(() => {
        const w = tf.tensor1d([1, 2, 3]);
        const g = tf.grad((p: tf.Tensor) =>
          tf.sum(tf.mul(tf.gather(p, tf.tensor1d([2, 0, 2, 3], 'int32')), 2)),
        )(tf.concat([w, tf.ones([1])]));
        return Array.from(g.dataSync());
      });
    expect(await on('wasm', run)).toEqual([2, 0, 4, 2]);
    expect(await on('cpu', run)).toEqual([2, 0, 4, 2]);
  });
});
