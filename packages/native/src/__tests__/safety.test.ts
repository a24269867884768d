import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { loadNativeAddon, registerNativeBackend, tryRegisterNativeBackend } from '../index.js';
import { nativeIt, registration, skipReason, thrown, values } from './helpers.js';

describe(`hand-computed results${skipReason}`, () => {
  nativeIt('conv2d, maxPool, avgPool and matMul on a 3x3 image', async () => {
    await tf.setBackend('native');
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    // 2x2 filter of ones, 'valid': each output is the sum of a 2x2 block.
    const y = tf.conv2d(x, tf.ones([2, 2, 1, 1]), 1, 'valid');
    expect(Array.from(await y.data())).toEqual([12, 16, 24, 28]);
    // 'same' pads bottom/right only for an even filter.
    const ys = tf.conv2d(x, tf.ones([2, 2, 1, 1]), 1, 'same');
    expect(Array.from(await ys.data())).toEqual([12, 16, 9, 24, 28, 15, 15, 17, 9]);
    expect(Array.from(await tf.maxPool(x, 2, 1, 'valid').data())).toEqual([5, 6, 8, 9]);
    // 'same' averages only the in-bounds part of each window.
    expect(Array.from(await tf.avgPool(x, 2, 2, 'same').data())).toEqual([3, 4.5, 7.5, 9]);
    const m = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true);
    expect(Array.from(await m.data())).toEqual([17, 23, 39, 53]);
    tf.dispose([x, y, ys, m]);
  });

  nativeIt('maxPoolGrad routes each gradient to the first maximum of its window', async () => {
    await tf.setBackend('native');
    const x = tf.tensor4d([1, 9, 9, 1], [1, 2, 2, 1]);
    const output = tf.maxPool(x, 2, 1, 'valid');
    const dx = tf
      .engine()
      .runKernel(
        'MaxPoolGrad',
        { dy: tf.tensor4d([5], [1, 1, 1, 1]), input: x, output },
        { filterSize: 2, strides: 1, pad: 'valid' },
      ) as tf.Tensor;
    expect(Array.from(await dx.data())).toEqual([0, 5, 0, 0]);
    tf.dispose([x, output, dx]);
  });
});

describe(`bad input is a typed error, never a crash${skipReason}`, () => {
  nativeIt('BatchMatMul with mismatched inner sizes names the kernel and shapes', async () => {
    await tf.setBackend('native');
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([4, 5]);
    const e = thrown(() =>
      tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }),
    );
    expect(e.name).toBe('NativeError');
    expect(e.code).toBe('BAD_SHAPE');
    expect(e.message).toContain('BatchMatMul');
    expect(e.message).toContain('a [2,3], b [4,5]');
    tf.dispose([a, b]);
  });

  nativeIt('mixed dtypes are BAD_DTYPE; int32 matmul runs on the cpu kernel', async () => {
    await tf.setBackend('native');
    const a = tf.zeros([2, 2]);
    const i = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const e = thrown(() =>
      tf.engine().runKernel('BatchMatMul', { a, b: i }, { transposeA: false, transposeB: false }),
    );
    expect(e.code).toBe('BAD_DTYPE');
    expect(e.message).toContain('a float32[2,2], b int32[2,2]');
    const p = tf.matMul(i, i);
    expect(p.dtype).toBe('int32');
    expect(Array.from(await p.data())).toEqual([7, 10, 15, 22]);
    tf.dispose([a, i, p]);
  });

  nativeIt('conv and pool kernels reject channel and dy-shape mismatches', async () => {
    await tf.setBackend('native');
    const x = tf.zeros([1, 5, 5, 3]);
    const f = tf.zeros([3, 3, 2, 4]);
    const conv = thrown(() =>
      tf.engine().runKernel('Conv2D', { x, filter: f }, { strides: 1, pad: 'valid', dilations: 1 }),
    );
    expect([conv.name, conv.code]).toEqual(['NativeError', 'BAD_SHAPE']);
    expect(conv.message).toMatch(
      /Conv2D: x has 3 channels but the filter expects 2 \(x \[1,5,5,3\], filter \[3,3,2,4\]\)/,
    );
    const dy = tf.zeros([1, 2, 2, 4]);
    const bi = thrown(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: tf.zeros([3, 3, 3, 4]) },
          { inputShape: [1, 5, 5, 3], strides: 1, pad: 'valid' },
        ),
    );
    expect(bi.code).toBe('BAD_SHAPE');
    expect(bi.message).toContain('Conv2DBackpropInput: dy must have shape [1,3,3,4]');
    const bf = thrown(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { filterShape: [3, 3, 3, 4], strides: 1, pad: 'valid' },
        ),
    );
    expect(bf.message).toContain('Conv2DBackpropFilter: dy must have shape [1,3,3,4]');
    const mp = thrown(() =>
      tf
        .engine()
        .runKernel('MaxPoolGrad', { dy, input: x, output: dy }, { filterSize: 2, strides: 2, pad: 'valid' }),
    );
    expect(mp.message).toContain('MaxPoolGrad: dy must have the pooled shape [1,2,2,3]');
    const rank = thrown(() =>
      tf.engine().runKernel('MaxPool', { x: tf.zeros([5, 5]) }, { filterSize: 2, strides: 1, pad: 'valid' }),
    );
    expect(rank.message).toContain('MaxPool: x must be rank 4');
    const big = thrown(() =>
      tf
        .engine()
        .runKernel(
          'Conv2D',
          { x, filter: tf.zeros([7, 7, 3, 1]) },
          { strides: 1, pad: 'valid', dilations: 1 },
        ),
    );
    expect(big.code).toBe('BAD_SHAPE');
    expect(tf.getBackend()).toBe('native');
  });

  nativeIt(
    'odd geometries (padding beyond the window, outputs past the input) agree across convolution kernels',
    () => {
      const loaded = loadNativeAddon();
      if (!loaded.ok) throw new Error(loaded.reason);
      const { addon } = loaded;
      const seq = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7) % 11) - 5);
      const geometries = [
        [1, 4, 4, 1, 2, 2, 1, 9, 9, 1, 1, 1, 1, 3, 3],
        [2, 3, 5, 2, 3, 3, 3, 1, 1, 3, 3, 2, 2, 0, 0],
        [1, 5, 5, 2, 1, 1, 2, 2, 2, 3, 3, 1, 1, 0, 0],
      ];
      for (const g of geometries) {
        const [n, h, w, cin, kh, kw, cout, oh, ow] = g as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        const run = (impl: 'onednn' | 'im2col') => {
          if (!addon.setConvImplementation(impl)) return null;
          const y = new Float32Array(n * oh * ow * cout);
          const dx = new Float32Array(n * h * w * cin);
          const dw = new Float32Array(kh * kw * cin * cout);
          addon.conv2D(seq(n * h * w * cin), seq(kh * kw * cin * cout), y, g);
          addon.conv2DBackpropInput(seq(n * oh * ow * cout), seq(kh * kw * cin * cout), dx, g);
          addon.conv2DBackpropFilter(seq(n * h * w * cin), seq(n * oh * ow * cout), dw, g);
          return [...y, ...dx, ...dw];
        };
        const reference = run('im2col');
        const onednn = run('onednn');
        if (onednn !== null) expect(onednn).toEqual(reference);
      }
      addon.setConvImplementation(registration.ok ? registration.info.convolution : 'im2col');
    },
  );

  nativeIt('the raw addon validates types, integers and buffer lengths itself', () => {
    const loaded = loadNativeAddon();
    if (!loaded.ok) throw new Error(loaded.reason);
    const { addon } = loaded;
    const f = (n: number) => new Float32Array(n);
    const call = (fn: () => void) => thrown(fn);
    expect(call(() => addon.matMul(f(6), f(6), f(3), 1, 1, 2, 2, 3, false, false)).message).toBe(
      'moprune native BatchMatMul: out has 3 elements, expected 4',
    );
    expect(call(() => addon.matMul(f(6), f(6), f(4), 1, 1, 2, 2, Number.NaN, false, false)).name).toBe(
      'RangeError',
    );
    expect(call(() => addon.matMul(f(6), f(6), f(4), 1, 1, -2, 2, 3, false, false)).name).toBe('RangeError');
    expect(call(() => addon.matMul(f(6), f(6), f(4), 1, 1, 2, 2, 2 ** 40, false, false)).name).toBe(
      'RangeError',
    );
    expect(call(() => addon.matMul(f(6), f(6), f(4), 2, 3, 1, 1, 1, false, false)).message).toContain(
      'do not broadcast',
    );
    expect(
      call(() =>
        addon.matMul(new Float64Array(6) as unknown as Float32Array, f(6), f(4), 1, 1, 2, 2, 3, false, false),
      ).message,
    ).toContain('a must be a Float32Array');
    const g = [1, 4, 4, 1, 2, 2, 1, 3, 3, 1, 1, 1, 1, 0, 0];
    expect(() => addon.conv2D(f(16), f(4), f(9), g)).not.toThrow();
    expect(call(() => addon.conv2D(f(15), f(4), f(9), g)).message).toContain(
      'x has 15 elements, expected 16',
    );
    expect(call(() => addon.conv2D(f(16), f(4), f(9), g.slice(0, 14))).message).toContain('15 entries');
    expect(call(() => addon.conv2D(f(16), f(4), f(9), [0, ...g.slice(1)])).message).toContain(
      'batch must be an integer >= 1',
    );
    expect(
      call(() => addon.maxPool(f(16), f(9), [1, 4, 4, 1, 2, 2, 2, 3, 3, 1, 1, 1, 1, 0, 0])).message,
    ).toContain('equal input and output channels');
    expect(call(() => addon.broadcastTo(f(3), [1, 3], f(12), [4, 2])).message).toContain(
      'does not broadcast to the output on axis 1',
    );
    expect(call(() => addon.broadcastTo(f(3), [1, 3], f(11), [4, 3])).message).toContain(
      'out has 11 elements, expected 12',
    );
    expect(call(() => addon.setConvImplementation('fft' as 'im2col')).message).toContain(
      "name must be 'onednn' or 'im2col'",
    );
    expect(call(() => addon.biasActivation(f(6), f(3), 3, 7)).message).toContain('activation code');
    expect(call(() => addon.biasActivation(f(7), f(3), 3, 0)).message).toContain(
      'multiple of the channel count',
    );
  });

  it('a bad threads option is INVALID_OPTION', () => {
    const e = thrown(() => tryRegisterNativeBackend({ threads: 0 }));
    expect([e.name, e.code]).toEqual(['NativeError', 'INVALID_OPTION']);
  });
});

describe('a missing addon falls back with a one-line reason', () => {
  it('reports why, and registerNativeBackend throws NATIVE_UNAVAILABLE', async () => {
    vi.resetModules();
    vi.stubEnv('MOPRUNE_NATIVE_ADDON', '/nonexistent/moprune_native.node');
    try {
      const fresh = await import('../index.js');
      const result = fresh.tryRegisterNativeBackend();
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toContain('/nonexistent/moprune_native.node');
        expect(result.reason).not.toContain('\n');
      }
      const e = thrown(() => fresh.registerNativeBackend());
      expect([e.name, e.code]).toEqual(['NativeError', 'NATIVE_UNAVAILABLE']);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('an unloadable file is reported, not thrown', async () => {
    vi.resetModules();
    vi.stubEnv('MOPRUNE_NATIVE_ADDON', new URL(import.meta.url).pathname);
    try {
      const fresh = await import('../index.js');
      const result = fresh.loadNativeAddon();
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(/^cannot load /);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  nativeIt('on this machine the addon loads and registers', () => {
    expect(registration.ok).toBe(true);
    expect(registerNativeBackend()).toBe('native');
  });
});

describe(`no leaks${skipReason}`, () => {
  nativeIt('every native kernel, fused fallbacks included, leaves no tensor or data behind', async () => {
    await tf.setBackend('native');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const run = () => {
      const x = tf.tensor4d(values(1, 2 * 6 * 6 * 3), [2, 6, 6, 3]);
      const w = tf.tensor4d(values(2, 3 * 3 * 3 * 4), [3, 3, 3, 4]);
      const bias = tf.tensor1d(values(3, 4));
      const full = tf.tensor(values(4, 2 * 6 * 6 * 4), [2, 6, 6, 4]);
      const a = tf.reshape(x, [12, 18]);
      const b = tf.reshape(x, [18, 12]);
      const outs = [
        tf.conv2d(x, w, 1, 'same'),
        tf.fused.conv2d({ x, filter: w, pad: 'same', strides: 1, bias, activation: 'relu' }),
        tf.fused.conv2d({ x, filter: w, pad: 'same', strides: 1, bias: full, activation: 'elu' }),
        tf.fused.conv2d({
          x,
          filter: w,
          pad: 'same',
          strides: 1,
          bias,
          activation: 'prelu',
          preluActivationWeights: bias,
        }),
        tf.maxPool(x, 2, 2, 'same'),
        tf.avgPool(x, 3, 1, 'valid'),
        tf.matMul(a, b),
        tf.fused.matMul({ a, b, activation: 'sigmoid' }),
      ];
      const grads = tf.grads((xi: tf.Tensor, wi: tf.Tensor) =>
        tf.sum(
          tf.avgPool(
            tf.maxPool(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 2, 'same'), 2, 1, 'same'),
            2,
            1,
            'valid',
          ),
        ),
      )([x, w]);
      tf.dispose([x, w, bias, full, a, b, ...outs, ...grads]);
    };
    run();
    const tensors = tf.memory().numTensors;
    const data = backend.numDataIds();
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(data);
  });
});
