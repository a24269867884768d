import { fc, test } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { tryRegisterNativeBackend } from '../index.js';
import { bothBackends, maxRelDiff, registration, skipReason, TOL, values } from './helpers.js';

/**
 * Both convolution implementations (oneDNN's direct kernels when the addon
 * has them, and im2col + sgemm always) against the cpu backend, with channel
 * counts that cross oneDNN's 16-channel blocks, and batches large enough to
 * be split over threads into slices of unequal size (5 = 3 + 2).
 */
const info = registration.ok ? registration.info : undefined;
const implementations = (info?.onednn ? ['onednn', 'im2col'] : ['im2col']) as ('onednn' | 'im2col')[];

const geometry = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 8 }),
  w: fc.integer({ min: 1, max: 8 }),
  cin: fc.constantFrom<number>(1, 3, 8, 17),
  cout: fc.constantFrom<number>(1, 6, 16, 20),
  k: fc.integer({ min: 1, max: 5 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});
type Geometry = typeof geometry extends fc.Arbitrary<infer T> ? T : never;

function outShape(g: Geometry, dilated: boolean): [number, number, number, number] | null {
  if (g.stride > 1 && dilated && g.dilation > 1) return null;
  const info = tf.backend_util.computeConv2DInfo(
    [g.n, g.h, g.w, g.cin],
    [g.k, g.k, g.cin, g.cout],
    g.stride,
    dilated ? g.dilation : 1,
    g.pad,
  );
  return info.outHeight > 0 && info.outWidth > 0 ? (info.outShape as [number, number, number, number]) : null;
}

function checkForward(g: Geometry) {
  return bothBackends(() =>
    tf.conv2d(
      tf.tensor4d(values(g.seed, g.n * g.h * g.w * g.cin), [g.n, g.h, g.w, g.cin]),
      tf.tensor4d(values(g.seed + 1, g.k * g.k * g.cin * g.cout), [g.k, g.k, g.cin, g.cout]),
      g.stride,
      g.pad,
      'NHWC',
      g.dilation,
    ),
  );
}

function checkInput(g: Geometry, dy: [number, number, number, number]) {
  return bothBackends(
    () =>
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        {
          dy: tf.tensor4d(
            values(
              g.seed,
              dy.reduce((p, d) => p * d, 1),
            ),
            dy,
          ),
          filter: tf.tensor4d(values(g.seed + 1, g.k * g.k * g.cin * g.cout), [g.k, g.k, g.cin, g.cout]),
        },
        { inputShape: [g.n, g.h, g.w, g.cin], strides: g.stride, pad: g.pad, dataFormat: 'NHWC' },
      ) as tf.Tensor,
  );
}

function checkFilter(g: Geometry, dy: [number, number, number, number]) {
  return bothBackends(
    () =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        {
          x: tf.tensor4d(values(g.seed, g.n * g.h * g.w * g.cin), [g.n, g.h, g.w, g.cin]),
          dy: tf.tensor4d(
            values(
              g.seed + 1,
              dy.reduce((p, d) => p * d, 1),
            ),
            dy,
          ),
        },
        { filterShape: [g.k, g.k, g.cin, g.cout], strides: g.stride, pad: g.pad, dataFormat: 'NHWC' },
      ) as tf.Tensor,
  );
}

// Float32 sums of up to k·k·cin = 425 terms (or n·oh·ow for the filter) in another order.
const CONV_TOL = 4 * TOL;

describe.each(implementations)(`convolutions on %s agree with cpu${skipReason}`, (impl) => {
  const prop = registration.ok ? test.prop : test.skip.prop;
  const use = () => {
    const r = tryRegisterNativeBackend({ convolution: impl });
    expect(r.ok && r.info.convolution).toBe(impl);
  };

  prop([geometry], { seed: 91, numRuns: 40 })('Conv2D', async (g) => {
    fc.pre(outShape(g, true) !== null);
    use();
    const [cpu, native] = await checkForward(g);
    expect(maxRelDiff(cpu, native)).toBeLessThan(CONV_TOL);
  });

  prop([geometry], { seed: 92, numRuns: 40 })('Conv2DBackpropInput', async (g) => {
    const dy = outShape(g, false);
    fc.pre(dy !== null);
    use();
    const [cpu, native] = await checkInput(g, dy!);
    expect(maxRelDiff(cpu, native)).toBeLessThan(CONV_TOL);
  });

  prop([geometry], { seed: 93, numRuns: 40 })('Conv2DBackpropFilter', async (g) => {
    const dy = outShape(g, false);
    fc.pre(dy !== null);
    use();
    const [cpu, native] = await checkFilter(g, dy!);
    expect(maxRelDiff(cpu, native)).toBeLessThan(CONV_TOL);
  });

  // 2·5·16·16·20·9·16 ≈ 7 MFLOP: enough work for every thread, so the batch of 5 is split unevenly.
  const big: Geometry = {
    n: 5,
    h: 16,
    w: 16,
    cin: 16,
    cout: 20,
    k: 3,
    stride: 1,
    dilation: 1,
    pad: 'same',
    seed: 7,
  };
  const runIt = registration.ok ? it : it.skip;
  runIt('a batch split over threads (forward, both gradients, stride 2 too)', async () => {
    use();
    for (const g of [big, { ...big, stride: 2 }]) {
      const dy = outShape(g, false)!;
      for (const [cpu, native] of [
        await checkForward(g),
        await checkInput(g, dy),
        await checkFilter(g, dy),
      ]) {
        expect(maxRelDiff(cpu, native)).toBeLessThan(CONV_TOL);
      }
    }
  });
});
