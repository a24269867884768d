import { fc, test } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { registration, skipReason, values } from './helpers.js';

/**
 * Linear kernels and their gradients must be exact adjoints:
 * <conv(x, w), dy> = <x, dX(dy, w)> = <w, dW(x, dy)> and, where no window
 * overhangs the input, <avgPool(x), dy> = <x, avgPoolGrad(dy)>. This pins the
 * gradients to the forward pass independently of the cpu backend. (At
 * overhanging windows tfjs's AvgPoolGrad contract divides by the whole window,
 * which native keeps; see the README.)
 */
const prop = registration.ok ? test.prop : test.skip.prop;

function dot(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.sum(tf.mul(a, b)).dataSync()[0]!);
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a), Math.abs(b));

describe(`native gradients are adjoints of the forward kernels${skipReason}`, () => {
  prop(
    [
      fc.record({
        n: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 10 }),
        w: fc.integer({ min: 1, max: 10 }),
        cin: fc.integer({ min: 1, max: 5 }),
        cout: fc.integer({ min: 1, max: 5 }),
        kh: fc.integer({ min: 1, max: 5 }),
        kw: fc.integer({ min: 1, max: 5 }),
        s: fc.integer({ min: 1, max: 3 }),
        pad: fc.oneof(fc.constantFrom<'same' | 'valid'>('same', 'valid'), fc.integer({ min: 0, max: 2 })),
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
      }),
    ],
    { seed: 91, numRuns: 60 },
  )('Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter', async (c) => {
    await tf.setBackend('native');
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computeConv2DInfo(
        [c.n, c.h, c.w, c.cin],
        [c.kh, c.kw, c.cin, c.cout],
        c.s,
        1,
        c.pad,
      );
    } catch {
      fc.pre(false);
      return;
    }
    fc.pre(info.outHeight > 0 && info.outWidth > 0);
    tf.tidy(() => {
      const x = tf.tensor4d(values(c.seed, c.n * c.h * c.w * c.cin), [c.n, c.h, c.w, c.cin]);
      const w = tf.tensor4d(values(c.seed + 1, c.kh * c.kw * c.cin * c.cout), [c.kh, c.kw, c.cin, c.cout]);
      const dy = tf.tensor4d(
        values(
          c.seed + 2,
          info.outShape.reduce((p, d) => p * d, 1),
        ),
        info.outShape,
      );
      const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
      const y = tf.conv2d(x, w, c.s, c.pad);
      const dx = tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
      const dw = tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor;
      const forward = dot(y, dy);
      expect(close(forward, dot(x, dx))).toBe(true);
      expect(close(forward, dot(w, dw))).toBe(true);
    });
  });

  prop(
    [
      fc.record({
        n: fc.integer({ min: 1, max: 2 }),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        c: fc.integer({ min: 1, max: 4 }),
        f: fc.integer({ min: 1, max: 4 }),
        s: fc.integer({ min: 1, max: 3 }),
        pad: fc.constant<'valid'>('valid'),
        seed: fc.integer({ min: 0, max: 2 ** 31 }),
      }),
    ],
    { seed: 92, numRuns: 60 },
  )('AvgPool / AvgPoolGrad where every window lies inside the input', async (p) => {
    await tf.setBackend('native');
    const info = tf.backend_util.computePool2DInfo([p.n, p.h, p.w, p.c], p.f, p.s, 1, p.pad);
    fc.pre(info.outHeight > 0 && info.outWidth > 0);
    fc.pre(
      info.padInfo.top === 0 &&
        info.padInfo.left === 0 &&
        (info.outHeight - 1) * p.s + p.f <= p.h &&
        (info.outWidth - 1) * p.s + p.f <= p.w,
    );
    tf.tidy(() => {
      const x = tf.tensor4d(values(p.seed, p.n * p.h * p.w * p.c), [p.n, p.h, p.w, p.c]);
      const dy = tf.tensor4d(
        values(
          p.seed + 1,
          info.outShape.reduce((a, d) => a * d, 1),
        ),
        info.outShape,
      );
      const y = tf.avgPool(x, p.f, p.s, p.pad);
      const dx = tf
        .engine()
        .runKernel(
          'AvgPoolGrad',
          { dy, input: x },
          { filterSize: p.f, strides: p.s, pad: p.pad },
        ) as tf.Tensor;
      expect(close(dot(y, dy), dot(x, dx))).toBe(true);
    });
  });
});
