import { fc, test } from '@fast-check/vitest';
import { selfAttention } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { bothBackends, maxRelDiff, nativeIt, registration, skipReason, TOL, values } from './helpers.js';

/**
 * Every kernel the native backend overrides must agree with the cpu backend's
 * kernel on the same inputs (float32 rounding aside), over generated shapes,
 * strides, paddings and dilations — odd sizes and batch 1 included.
 */
const prop = registration.ok ? test.prop : test.skip.prop;
const RUNS = 100;

const size = fc.integer({ min: 1, max: 8 });
const seed = fc.integer({ min: 0, max: 2 ** 31 });
const activation = fc.constantFrom(
  undefined,
  'linear',
  'relu',
  'relu6',
  'elu',
  'sigmoid',
  'leakyrelu',
  'prelu',
) as fc.Arbitrary<tf.fused.Activation | undefined>;

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];
const pad: fc.Arbitrary<Pad> = fc.oneof(
  fc.constantFrom<Pad>('same', 'valid'),
  fc.integer({ min: 0, max: 2 }),
  fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(
    ([t, b, l, r]): Pad => [
      [0, 0],
      [t, b],
      [l, r],
      [0, 0],
    ],
  ),
);
const rounding = fc.constantFrom(undefined, 'floor', 'round', 'ceil') as fc.Arbitrary<
  'floor' | 'round' | 'ceil' | undefined
>;

const conv = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  cin: fc.integer({ min: 1, max: 4 }),
  cout: fc.integer({ min: 1, max: 4 }),
  kh: fc.integer({ min: 1, max: 4 }),
  kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  dh: fc.integer({ min: 1, max: 3 }),
  dw: fc.integer({ min: 1, max: 3 }),
  pad,
  rounding,
  seed,
});
type Conv = typeof conv extends fc.Arbitrary<infer T> ? T : never;

/** tfjs allows dimRoundingMode only with a numeric pad, and strides > 1 only without dilation. */
function convOk(c: Conv, dilated: boolean): boolean {
  if (c.rounding !== undefined && typeof c.pad !== 'number') return false;
  if (dilated && (c.sh > 1 || c.sw > 1) && (c.dh > 1 || c.dw > 1)) return false;
  try {
    const info = tf.backend_util.computeConv2DInfo(
      [c.n, c.h, c.w, c.cin],
      [c.kh, c.kw, c.cin, c.cout],
      [c.sh, c.sw],
      dilated ? [c.dh, c.dw] : 1,
      c.pad,
      c.rounding,
    );
    return info.outHeight > 0 && info.outWidth > 0;
  } catch {
    return false;
  }
}

function convInfo(c: Conv, dilated: boolean) {
  return tf.backend_util.computeConv2DInfo(
    [c.n, c.h, c.w, c.cin],
    [c.kh, c.kw, c.cin, c.cout],
    [c.sh, c.sw],
    dilated ? [c.dh, c.dw] : 1,
    c.pad,
    c.rounding,
  );
}

describe(`native kernels equal the cpu kernels${skipReason}`, () => {
  prop(
    [
      fc.record({
        batch: fc.constantFrom<number[]>([], [1], [2], [3, 2]),
        bBatch: fc.constantFrom('same', 'one', 'none'),
        m: size,
        n: size,
        k: size,
        ta: fc.boolean(),
        tb: fc.boolean(),
        seed,
      }),
    ],
    { seed: 81, numRuns: RUNS },
  )('BatchMatMul', async ({ batch, bBatch, m, n, k, ta, tb, seed }) => {
    const aShape = [...batch, ...(ta ? [k, m] : [m, k])];
    const bOuter = bBatch === 'same' ? batch : bBatch === 'one' ? batch.map(() => 1) : [];
    const bShape = [...bOuter, ...(tb ? [n, k] : [k, n])];
    const av = values(
      seed,
      aShape.reduce((p, d) => p * d, 1),
    );
    const bv = values(
      seed + 1,
      bShape.reduce((p, d) => p * d, 1),
    );
    const [cpu, native] = await bothBackends(() =>
      tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb),
    );
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  prop(
    [
      fc.record({
        m: size,
        n: size,
        k: size,
        ta: fc.boolean(),
        tb: fc.boolean(),
        bias: fc.constantFrom('none', 'channel', 'scalar', 'full'),
        activation,
        seed,
      }),
    ],
    { seed: 82, numRuns: RUNS },
  )('_FusedMatMul (bias, every activation)', async ({ m, n, k, ta, tb, bias, activation, seed }) => {
    const av = values(seed, m * k);
    const bv = values(seed + 1, k * n);
    const biasShape = bias === 'channel' ? [n] : bias === 'scalar' ? [1] : [m, n];
    const biasV = values(
      seed + 2,
      biasShape.reduce((p, d) => p * d, 1),
    );
    const alphaV = values(seed + 3, n);
    const [cpu, native] = await bothBackends(() =>
      tf.fused.matMul({
        a: tf.tensor2d(av, ta ? [k, m] : [m, k]),
        b: tf.tensor2d(bv, tb ? [n, k] : [k, n]),
        transposeA: ta,
        transposeB: tb,
        ...(bias === 'none' ? {} : { bias: tf.tensor(biasV, biasShape) }),
        ...(activation === undefined ? {} : { activation }),
        ...(activation === 'prelu' ? { preluActivationWeights: tf.tensor1d(alphaV) } : {}),
        ...(activation === 'leakyrelu' ? { leakyreluAlpha: 0.1 } : {}),
      }),
    );
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  prop([conv], { seed: 83, numRuns: RUNS })('Conv2D (strides, paddings, dilations, rounding)', async (c) => {
    fc.pre(convOk(c, true));
    const xv = values(c.seed, c.n * c.h * c.w * c.cin);
    const wv = values(c.seed + 1, c.kh * c.kw * c.cin * c.cout);
    const [cpu, native] = await bothBackends(() =>
      tf.conv2d(
        tf.tensor4d(xv, [c.n, c.h, c.w, c.cin]),
        tf.tensor4d(wv, [c.kh, c.kw, c.cin, c.cout]),
        [c.sh, c.sw],
        c.pad,
        'NHWC',
        [c.dh, c.dw],
        c.rounding,
      ),
    );
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  prop([conv, activation, fc.boolean()], { seed: 84, numRuns: RUNS })(
    'FusedConv2D (bias, every activation)',
    async (c, activation, withBias) => {
      fc.pre(convOk(c, true));
      const xv = values(c.seed, c.n * c.h * c.w * c.cin);
      const wv = values(c.seed + 1, c.kh * c.kw * c.cin * c.cout);
      const bv = values(c.seed + 2, c.cout);
      const alphaV = values(c.seed + 3, c.cout);
      const [cpu, native] = await bothBackends(() =>
        tf.fused.conv2d({
          x: tf.tensor4d(xv, [c.n, c.h, c.w, c.cin]),
          filter: tf.tensor4d(wv, [c.kh, c.kw, c.cin, c.cout]),
          strides: [c.sh, c.sw],
          pad: c.pad,
          dilations: [c.dh, c.dw],
          ...(c.rounding === undefined ? {} : { dimRoundingMode: c.rounding }),
          ...(withBias ? { bias: tf.tensor1d(bv) } : {}),
          ...(activation === undefined ? {} : { activation }),
          ...(activation === 'prelu' ? { preluActivationWeights: tf.tensor1d(alphaV) } : {}),
          // Without an explicit alpha tfjs's cpu kernel multiplies by undefined (NaN); native uses 0.2.
          ...(activation === 'leakyrelu' ? { leakyreluAlpha: 0.3 } : {}),
        }),
      );
      expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
    },
  );

  prop([conv], { seed: 85, numRuns: RUNS })('Conv2DBackpropInput', async (c) => {
    fc.pre(convOk(c, false));
    const info = convInfo(c, false);
    const dyv = values(
      c.seed,
      info.outShape.reduce((p, d) => p * d, 1),
    );
    const wv = values(c.seed + 1, c.kh * c.kw * c.cin * c.cout);
    const [cpu, native] = await bothBackends(
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(dyv, info.outShape), filter: tf.tensor4d(wv, [c.kh, c.kw, c.cin, c.cout]) },
          {
            inputShape: [c.n, c.h, c.w, c.cin],
            strides: [c.sh, c.sw],
            pad: c.pad,
            dataFormat: 'NHWC',
            ...(c.rounding === undefined ? {} : { dimRoundingMode: c.rounding }),
          },
        ) as tf.Tensor,
    );
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  prop([conv], { seed: 86, numRuns: RUNS })('Conv2DBackpropFilter', async (c) => {
    fc.pre(convOk(c, false));
    const info = convInfo(c, false);
    const xv = values(c.seed, c.n * c.h * c.w * c.cin);
    const dyv = values(
      c.seed + 1,
      info.outShape.reduce((p, d) => p * d, 1),
    );
    const [cpu, native] = await bothBackends(
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(xv, [c.n, c.h, c.w, c.cin]), dy: tf.tensor4d(dyv, info.outShape) },
          {
            filterShape: [c.kh, c.kw, c.cin, c.cout],
            strides: [c.sh, c.sw],
            pad: c.pad,
            dataFormat: 'NHWC',
            ...(c.rounding === undefined ? {} : { dimRoundingMode: c.rounding }),
          },
        ) as tf.Tensor,
    );
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  const pool = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    c: fc.integer({ min: 1, max: 5 }),
    fh: fc.integer({ min: 1, max: 4 }),
    fw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    pad: fc.oneof(fc.constantFrom<'same' | 'valid'>('same', 'valid'), fc.integer({ min: 0, max: 1 })),
    rounding,
    seed,
  });
  type Pool = typeof pool extends fc.Arbitrary<infer T> ? T : never;
  const poolOk = (p: Pool) => {
    if (p.rounding !== undefined && typeof p.pad !== 'number') return false;
    try {
      const info = tf.backend_util.computePool2DInfo(
        [p.n, p.h, p.w, p.c],
        [p.fh, p.fw],
        [p.sh, p.sw],
        1,
        p.pad,
        p.rounding,
      );
      // A window that lies wholly in the padding averages nothing: tfjs gives NaN there, TensorFlow 0.
      return (
        info.outHeight > 0 && info.outWidth > 0 && (typeof p.pad !== 'number' || p.pad < Math.min(p.fh, p.fw))
      );
    } catch {
      return false;
    }
  };

  for (const kind of ['max', 'avg'] as const) {
    prop([pool], { seed: kind === 'max' ? 87 : 88, numRuns: RUNS })(
      `${kind}Pool and its gradient`,
      async (p) => {
        fc.pre(poolOk(p));
        const xv = values(p.seed, p.n * p.h * p.w * p.c);
        const x = () => tf.tensor4d(xv, [p.n, p.h, p.w, p.c]);
        const op = kind === 'max' ? tf.maxPool : tf.avgPool;
        const [cpu, native] = await bothBackends(() =>
          op(x(), [p.fh, p.fw], [p.sh, p.sw], p.pad, p.rounding),
        );
        expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
        const info = tf.backend_util.computePool2DInfo(
          [p.n, p.h, p.w, p.c],
          [p.fh, p.fw],
          [p.sh, p.sw],
          1,
          p.pad,
          p.rounding,
        );
        const dyv = values(
          p.seed + 1,
          info.outShape.reduce((a, d) => a * d, 1),
        );
        // tfjs's avgPool gradient does not forward dimRoundingMode to AvgPoolGrad, whose
        // cpu kernel then loops over fractional output sizes; native rejects that geometry.
        if (kind === 'avg' && p.rounding !== undefined) return;
        const [cpuG, nativeG] = await bothBackends(() => {
          const input = x();
          const dy = tf.tensor4d(dyv, info.outShape);
          const attrs = {
            filterSize: [p.fh, p.fw],
            strides: [p.sh, p.sw],
            pad: p.pad,
            ...(p.rounding === undefined ? {} : { dimRoundingMode: p.rounding }),
          };
          if (kind === 'max') {
            const output = tf.maxPool(input, [p.fh, p.fw], [p.sh, p.sw], p.pad, p.rounding);
            return tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as tf.Tensor;
          }
          return tf.engine().runKernel('AvgPoolGrad', { dy, input }, attrs) as tf.Tensor;
        });
        expect(maxRelDiff(cpuG, nativeG)).toBeLessThan(TOL);
      },
    );
  }

  // Windows that tile the input take a separate path (masks, no scatter): check ties (the first
  // maximum wins), NaN (never wins), channel counts around the 4-wide groups, uncovered edges.
  prop(
    [
      fc.record({
        n: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        c: fc.integer({ min: 1, max: 9 }),
        fh: fc.integer({ min: 1, max: 3 }),
        fw: fc.integer({ min: 1, max: 3 }),
        nan: fc.boolean(),
        dead: fc.boolean(),
        seed,
      }),
    ],
    { seed: 95, numRuns: RUNS },
  )('MaxPool and MaxPoolGrad with tiling windows (ties, NaN, -Infinity)', async (p) => {
    fc.pre(p.h >= p.fh && p.w >= p.fw);
    // Three levels only, so windows often hold equal maxima.
    const xv = values(p.seed, p.n * p.h * p.w * p.c).map((v) => Math.round(v));
    // A first image of -Infinity: windows with no strict maximum get no gradient.
    if (p.dead) xv.fill(Number.NEGATIVE_INFINITY, 0, p.h * p.w * p.c);
    if (p.nan) xv[0] = Number.NaN;
    const [cpuY, nativeY] = await bothBackends(() =>
      tf.maxPool(tf.tensor4d(xv, [p.n, p.h, p.w, p.c]), [p.fh, p.fw], [p.fh, p.fw], 'valid'),
    );
    expect(maxRelDiff(cpuY, nativeY)).toBeLessThan(TOL);
    const outShape: [number, number, number, number] = [
      p.n,
      Math.floor(p.h / p.fh),
      Math.floor(p.w / p.fw),
      p.c,
    ];
    const dyv = values(
      p.seed + 1,
      outShape.reduce((a, d) => a * d, 1),
    );
    const [cpu, native] = await bothBackends(() => {
      const input = tf.tensor4d(xv, [p.n, p.h, p.w, p.c]);
      const attrs = { filterSize: [p.fh, p.fw], strides: [p.fh, p.fw], pad: 'valid' };
      const output = tf.maxPool(input, [p.fh, p.fw], [p.fh, p.fw], 'valid');
      const dy = tf.tensor4d(dyv, outShape);
      return tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as tf.Tensor;
    });
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  const shape = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 });
  /** A second operand broadcasting against `s`: equal, a suffix (bias), size-1 dims in front, a scalar, or a non-suffix broadcast (cpu path). */
  const partner = (s: number[]) =>
    fc.constantFrom('equal', 'suffix', 'ones', 'scalar', 'middle').map((kind) => {
      if (kind === 'equal') return [...s];
      if (kind === 'suffix') return s.slice(Math.floor(s.length / 2));
      if (kind === 'ones') return [1, 1, ...s.slice(1)];
      if (kind === 'scalar') return [];
      return s.map((d, i) => (i === s.length - 1 ? 1 : d));
    });

  const BINARY = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div };
  prop(
    [
      shape.chain((s) => fc.tuple(fc.constant(s), partner(s), fc.boolean())),
      fc.constantFrom('add', 'sub', 'mul', 'div') as fc.Arbitrary<'add' | 'sub' | 'mul' | 'div'>,
      seed,
    ],
    { seed: 89, numRuns: RUNS },
  )('Add / Sub / Multiply / RealDiv with broadcasting', async ([s, t, swap], op, seed) => {
    const [sa, sb] = swap ? [t, s] : [s, t];
    const av = values(
      seed,
      sa.reduce((p, d) => p * d, 1),
    );
    const bv = values(
      seed + 1,
      sb.reduce((p, d) => p * d, 1),
    );
    const [cpu, native] = await bothBackends(() => BINARY[op](tf.tensor(av, sa), tf.tensor(bv, sb)));
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });

  prop([shape, fc.integer({ min: 1, max: 5 }), seed], { seed: 94, numRuns: RUNS })(
    'AddN of 1–5 same-shape tensors: the same bits as the cpu kernel (NaN and ±Inf included)',
    async (s, n, seed) => {
      const size = s.reduce((p, d) => p * d, 1);
      const inputs = Array.from({ length: n }, (_, i) => values(seed + i, size));
      if (n > 1 && size > 2) [inputs[0]![1], inputs[1]![2]] = [Number.NaN, Number.POSITIVE_INFINITY];
      const [cpu, native] = await bothBackends(() => tf.addN(inputs.map((v) => tf.tensor(v, s))));
      expect(maxRelDiff(cpu, native)).toBe(0);
    },
  );

  prop([shape, fc.double({ min: -1, max: 1, noNaN: true }), seed], { seed: 90, numRuns: RUNS })(
    'Relu, Step, Square, Abs, Sign and Exp (NaN, ±Inf and ±0 included)',
    async (s, alpha, seed) => {
      const xv = values(
        seed,
        s.reduce((p, d) => p * d, 1),
      );
      if (xv.length > 1) xv[1] = Number.NaN;
      if (xv.length > 3) [xv[2], xv[3]] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
      if (xv.length > 5) [xv[4], xv[5]] = [-0, 0];
      const [cpuR, nativeR] = await bothBackends(() => tf.relu(tf.tensor(xv, s)));
      expect(maxRelDiff(cpuR, nativeR)).toBe(0);
      const [cpuS, nativeS] = await bothBackends(() => tf.step(tf.tensor(xv, s), alpha));
      expect(maxRelDiff(cpuS, nativeS)).toBe(0);
      const [cpuQ, nativeQ] = await bothBackends(() => tf.square(tf.tensor(xv, s)));
      expect(maxRelDiff(cpuQ, nativeQ)).toBe(0);
      const [cpuA, nativeA] = await bothBackends(() => tf.abs(tf.tensor(xv, s)));
      expect(maxRelDiff(cpuA, nativeA)).toBe(0);
      const [cpuG, nativeG] = await bothBackends(() => tf.sign(tf.tensor(xv, s)));
      expect(maxRelDiff(cpuG, nativeG)).toBe(0);
      // Exp over a wide range too: overflow to ∞ and underflow to 0 and subnormals, as float32 stores them.
      const [cpuE, nativeE] = await bothBackends(() => tf.exp(tf.mul(tf.tensor(xv, s), 120)));
      expect(maxRelDiff(cpuE, nativeE)).toBe(0);
    },
  );

  prop(
    [
      fc
        .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
        .chain((s) => fc.tuple(fc.constant(s), fc.subarray(s.map((_, i) => i)), fc.boolean())),
      seed,
    ],
    { seed: 93, numRuns: RUNS },
  )('Sum and Mean over any axes, keepDims or not', async ([s, axes, keepDims], seed) => {
    const xv = values(
      seed,
      s.reduce((p, d) => p * d, 1),
    );
    for (const op of [tf.sum, tf.mean]) {
      const [cpu, native] = await bothBackends(() =>
        op(tf.tensor(xv, s), axes.length ? axes : undefined, keepDims),
      );
      expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
    }
  });

  const box = fc
    .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 })
    .chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.tuple(
          ...s.map((d) =>
            fc.tuple(
              fc.integer({ min: 0, max: d - 1 }),
              fc.integer({ min: 1, max: d }),
              fc.integer({ min: 1, max: 3 }),
            ),
          ),
        ),
      ),
    );

  prop([box, seed], { seed: 94, numRuns: RUNS })(
    'Slice, StridedSlice, Transpose and PadV2',
    async ([s, spec], seed) => {
      const xv = values(
        seed,
        s.reduce((p, d) => p * d, 1),
      );
      const begin = spec.map(([b]) => b);
      const size = spec.map(([b, n], i) => Math.min(n, s[i]! - b));
      const [cpu, native] = await bothBackends(() => tf.slice(tf.tensor(xv, s), begin, size));
      expect(maxRelDiff(cpu, native)).toBe(0);
      const end = begin.map((b, i) => b + size[i]!);
      const strides = spec.map(([, , st]) => st);
      const [cpuS, nativeS] = await bothBackends(() =>
        tf.stridedSlice(tf.tensor(xv, s), begin, end, strides),
      );
      expect(maxRelDiff(cpuS, nativeS)).toBe(0);
      const perm = s.map((_, i) => i).sort((p, q) => ((p * 7 + seed) % 5) - ((q * 7 + seed) % 5));
      const [cpuT, nativeT] = await bothBackends(() => tf.transpose(tf.tensor(xv, s), perm));
      expect(maxRelDiff(cpuT, nativeT)).toBe(0);
      const paddings = spec.map(([b, , st]): [number, number] => [b % 3, st - 1]);
      const [cpuP, nativeP] = await bothBackends(() =>
        tf.pad(tf.tensor(xv, s), paddings, seed % 2 === 0 ? 0 : 1.5),
      );
      expect(maxRelDiff(cpuP, nativeP)).toBe(0);
    },
  );

  const splitCase = fc
    .array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 })
    .chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.integer({ min: -s.length, max: s.length - 1 }),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
      ),
    );

  nativeIt('registers its own SplitV and Softmax (not the cpu kernels the backend starts from)', () => {
    for (const name of ['SplitV', 'Softmax']) {
      expect(tf.getKernel(name, 'native')?.kernelFunc).toBeDefined();
      expect(tf.getKernel(name, 'native')?.kernelFunc).not.toBe(tf.getKernel(name, 'cpu')?.kernelFunc);
    }
  });

  nativeIt(
    'self-attention through SplitV and Softmax, forward and backward, leaves no tensor or buffer behind',
    async () => {
      await tf.setBackend('native');
      const x = tf.variable(tf.tensor(values(7, 4 * 6 * 8), [4, 6, 8]));
      const kernel = tf.variable(tf.tensor(values(8, 8 * 24), [8, 24]));
      const step = () => {
        const { value, grads } = tf.variableGrads(() =>
          tf.sum(tf.square(selfAttention(x, kernel, undefined, { heads: 2 }))),
        );
        value.dispose();
        for (const g of Object.values(grads)) g.dispose();
      };
      // The backend's own count of data ids also sees kernel outputs the engine never wrapped in a tensor.
      const dataIds = () => tf.engine().backend.numDataIds();
      step();
      const before = { ...tf.memory(), ids: dataIds() };
      for (let i = 0; i < 20; i++) step();
      const after = { ...tf.memory(), ids: dataIds() };
      x.dispose();
      kernel.dispose();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numDataBuffers).toBe(before.numDataBuffers);
      expect(after.ids).toBe(before.ids);
    },
  );

  prop([splitCase, seed], { seed: 97, numRuns: RUNS })(
    'SplitV into sizes (one of them -1) or equal parts, on any axis',
    async ([s, axis, weights, equal], seed) => {
      const xv = values(
        seed,
        s.reduce((p, d) => p * d, 1),
      );
      const d = s[axis < 0 ? axis + s.length : axis]!;
      // Sizes summing to d, the last as -1 (tfjs infers it); or the divisors of d as equal parts.
      const sizes: number[] = [];
      let left = d;
      for (const w of weights.slice(0, -1)) {
        const n = Math.min(w, left);
        sizes.push(n);
        left -= n;
      }
      // A lone -1 (or a leading one) trips tfjs's own size inference on every backend.
      sizes.push(sizes.length === 0 ? d : -1);
      const parts = [1, 2, 3, 4, 5, 6, 7].filter((k) => d % k === 0).at(seed % 2 === 0 ? -1 : 0)!;
      const split = () => tf.split(tf.tensor(xv, s), equal ? parts : sizes, axis);
      for (let i = 0; i < (equal ? parts : sizes.length); i++) {
        const [cpu, native] = await bothBackends(() => {
          const out = split();
          const keep = out[i]!;
          for (const t of out) if (t !== keep) t.dispose();
          return keep;
        });
        expect(native).toEqual(cpu);
      }
    },
  );

  prop(
    [
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(1, 30, 1e4),
      fc.constantFrom('none', 'nan', 'inf', '-inf'),
      seed,
    ],
    { seed: 98, numRuns: RUNS },
  )(
    'Softmax over the last axis, to the bit (large, NaN and infinite logits too)',
    async (s, scale, odd, seed) => {
      const n = s.reduce((p, d) => p * d, 1);
      const xv = values(seed, n).map((v) => v * scale);
      const special = {
        none: undefined,
        nan: Number.NaN,
        inf: Number.POSITIVE_INFINITY,
        '-inf': Number.NEGATIVE_INFINITY,
      }[odd];
      if (special !== undefined) xv[seed % n] = special;
      const [cpu, native] = await bothBackends(() => tf.softmax(tf.tensor(xv, s)));
      expect(native).toEqual(cpu);
    },
  );

  prop(
    [
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('channel', 'scalar', 'none'),
      fc.constantFrom(undefined, 0.001, 0.1),
      seed,
    ],
    { seed: 95, numRuns: RUNS },
  )('FusedBatchNorm with per-channel, scalar or absent scale/offset', async (s, kind, eps, seed) => {
    const c = s[s.length - 1]!;
    const n = kind === 'scalar' ? 1 : c;
    const xv = values(
      seed,
      s.reduce((p, d) => p * d, 1),
    );
    const mv = values(seed + 1, n);
    const vv = values(seed + 2, n).map((v) => v * v + 0.5);
    const sv = values(seed + 3, n);
    const ov = values(seed + 4, n);
    const [cpu, native] = await bothBackends(() =>
      tf.batchNorm(
        tf.tensor(xv, s),
        tf.tensor1d(mv),
        tf.tensor1d(vv),
        kind === 'none' ? undefined : tf.tensor1d(ov),
        kind === 'none' ? undefined : tf.tensor1d(sv),
        eps,
      ),
    );
    expect(maxRelDiff(cpu, native)).toBeLessThan(TOL);
  });
});
