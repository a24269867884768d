import { fc, test } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, tryRegisterNativeBackend } from '../index.js';
import { bothBackends, maxRelDiff, registration, skipReason, TOL, values } from './helpers.js';

/**
 * The direct one-input-channel, stride-1 convolution (csrc/conv_direct.cc):
 * forward and filter gradient against the cpu backend's kernels, on both of
 * its instruction sets (AVX-512 and AVX2 when the CPU has them), with channel
 * counts around its 8/16-lane vectors (1, 3, 6, 8, 9, 16, 17), filters
 * 1×1 … 5×5 and non-square, 'same' / 'valid' / explicit asymmetric padding,
 * batch 1, odd image sizes and rows narrower and wider than a vector. The
 * forward runs the direct kernel under either general implementation; the
 * filter gradient only under 'im2col' (oneDNN keeps it otherwise), so both
 * are checked.
 */
const loaded = registration.ok ? loadNativeAddon() : undefined;
const addon = loaded?.ok ? loaded.addon : undefined;
const info = registration.ok ? registration.info : undefined;
const best = info?.directConvolution ?? null;
const isas = (best === 'avx512' ? ['avx512', 'avx2'] : best ? [best] : []) as ('avx512' | 'avx2')[];
const impls = (info?.onednn ? ['onednn', 'im2col'] : ['im2col']) as ('onednn' | 'im2col')[];
const runIt = registration.ok && isas.length > 0 ? it : it.skip;
const prop = registration.ok && isas.length > 0 ? test.prop : test.skip.prop;
const skip = isas.length > 0 ? skipReason : ' [skipped: no AVX2 + FMA]';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  n: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  pad: Pad;
  seed: number;
}

// Float32 sums in another order: forward k·k terms, filter gradient n·oh·ow.
const CONV_TOL = 4 * TOL;

function outShape(c: Case): [number, number, number, number] | null {
  const i = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, 1], [c.kh, c.kw, 1, c.cout], 1, 1, c.pad);
  return i.outHeight > 0 && i.outWidth > 0 ? (i.outShape as [number, number, number, number]) : null;
}

function forward(c: Case) {
  return bothBackends(() =>
    tf.conv2d(
      tf.tensor4d(values(c.seed, c.n * c.h * c.w), [c.n, c.h, c.w, 1]),
      tf.tensor4d(values(c.seed + 1, c.kh * c.kw * c.cout), [c.kh, c.kw, 1, c.cout]),
      1,
      c.pad,
    ),
  );
}

function filterGrad(c: Case, dy: [number, number, number, number]) {
  return bothBackends(
    () =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        {
          x: tf.tensor4d(values(c.seed, c.n * c.h * c.w), [c.n, c.h, c.w, 1]),
          dy: tf.tensor4d(
            values(
              c.seed + 2,
              dy.reduce((p, d) => p * d, 1),
            ),
            dy,
          ),
        },
        { filterShape: [c.kh, c.kw, 1, c.cout], strides: 1, pad: c.pad, dataFormat: 'NHWC' },
      ) as tf.Tensor,
  );
}

/** Runs the case's forward and filter gradient under every instruction set and implementation. */
async function check(c: Case, only?: 'im2col', tol = CONV_TOL) {
  const dy = outShape(c);
  if (dy === null) return;
  for (const isa of isas) {
    expect(addon!.setDirectConvolution(isa)).toBe(true);
    for (const impl of only ? [only] : impls) {
      expect(tryRegisterNativeBackend({ convolution: impl }).ok).toBe(true);
      const [cpuY, nativeY] = await forward(c);
      expect(maxRelDiff(cpuY, nativeY), `forward ${isa} ${impl} ${JSON.stringify(c)}`).toBeLessThan(tol);
      const [cpuW, nativeW] = await filterGrad(c, dy);
      expect(maxRelDiff(cpuW, nativeW), `filter ${isa} ${impl} ${JSON.stringify(c)}`).toBeLessThan(tol);
    }
  }
}

// Image shapes: batch 1 odd sizes, rows narrower than one 8-pixel run, and wider.
const IMAGES: [number, number, number][] = [
  [1, 7, 5],
  [2, 3, 2],
  [3, 9, 30],
  [2, 28, 28],
];
const FILTERS: [number, number][] = [
  [1, 1],
  [3, 3],
  [5, 5],
  [4, 2],
];
const PADS: Pad[] = [
  'same',
  'valid',
  [
    [0, 0],
    [1, 2],
    [0, 3],
    [0, 0],
  ],
];

afterAll(() => {
  addon?.setDirectConvolution('auto');
  addon?.setThreads(info?.threads ?? 1);
  if (registration.ok) tryRegisterNativeBackend({ convolution: info!.convolution });
});

describe(`direct one-channel convolution agrees with cpu${skip}`, () => {
  for (const cout of [1, 3, 6, 8, 9, 16, 17]) {
    runIt(`out_c ${cout}: filters 1×1/3×3/5×5/4×2, same/valid/explicit, images 7×5 … 28×28`, async () => {
      let i = 0;
      for (const [kh, kw] of FILTERS) {
        for (const pad of PADS) {
          const [n, h, w] = IMAGES[i++ % IMAGES.length]!;
          await check({ n, h, w, cout, kh, kw, pad, seed: 100 * cout + i });
        }
      }
    });
  }

  runIt('the LeNet-5 conv1 shape and batch splits over 1, 2 and 3 threads', async () => {
    // 2·5·28·28·16·25 ≈ 3 MFLOP: above the pool's threshold, so 5 images split 3 + 2 or 2 + 2 + 1.
    for (const threads of [1, 2, 3]) {
      addon!.setThreads(threads);
      await check({ n: 5, h: 28, w: 28, cout: 16, kh: 5, kw: 5, pad: 'same', seed: 7 + threads });
      await check({ n: 9, h: 28, w: 28, cout: 6, kh: 5, kw: 5, pad: 'same', seed: 17 + threads });
    }
    addon!.setThreads(info!.threads);
  });

  runIt('a large filter gradient (128 × 28 × 28 terms per weight) is accurate', async () => {
    // Float sums over 4 images, then double: within TOL of the cpu kernel's
    // double sums (oneDNN's float sums differ by ~3e-4 here, so 'im2col' only).
    await check({ n: 128, h: 28, w: 28, cout: 6, kh: 5, kw: 5, pad: 'same', seed: 3 }, 'im2col', TOL);
  });

  runIt('equals the general path bit for bit in shape, and the input gradient still works', () => {
    // Addon level: direct against off, and the input gradient (never direct) on the same geometry.
    const g = [2, 9, 11, 1, 3, 4, 6, 9, 11, 1, 1, 1, 1, 1, 2];
    const x = values(1, 2 * 9 * 11);
    const f = values(2, 3 * 4 * 6);
    const dy = values(3, 2 * 9 * 11 * 6);
    const run = (mode: 'auto' | 'off') => {
      addon!.setDirectConvolution(mode);
      const y = new Float32Array(dy.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(f.length);
      addon!.conv2D(x, f, y, g);
      addon!.conv2DBackpropInput(dy, f, dx, g);
      addon!.conv2DBackpropFilter(x, dy, dw, g);
      return [y, dx, dw];
    };
    const general = run('off');
    const direct = run('auto');
    for (let i = 0; i < 3; i++) expect(maxRelDiff(general[i]!, direct[i]!)).toBeLessThan(CONV_TOL);
    expect(addon!.setDirectConvolution('off')).toBe(true);
    expect(addon!.info().directConvolution).toBe(null);
    expect(addon!.setDirectConvolution('auto')).toBe(true);
    expect(addon!.info().directConvolution).toBe(best);
  });

  const geometry = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 20 }),
    cout: fc.integer({ min: 1, max: 20 }),
    kh: fc.integer({ min: 1, max: 6 }),
    kw: fc.integer({ min: 1, max: 6 }),
    pad: fc.oneof(
      fc.constantFrom<Pad>('same', 'valid'),
      fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)).map(
        ([t, b, l, r]): Pad => [
          [0, 0],
          [t, b],
          [l, r],
          [0, 0],
        ],
      ),
    ),
    seed: fc.integer({ min: 0, max: 2 ** 31 }),
  });
  prop([geometry], { seed: 4242, numRuns: 60 })('random geometries (fast-check)', async (c) => {
    await check(c);
  });
});
