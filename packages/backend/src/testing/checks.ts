import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import * as ref from './reference.js';

/** One gradient property: how to generate cases, run the op in tfjs, and compute it in float64. */
export interface GradientCheck<C> {
  /** The gradient (tfjs kernel name) or op family under test. */
  readonly name: string;
  /** Number of generated cases. */
  readonly runs: number;
  /** Generates small cases: shapes, strides, paddings, dilations … */
  readonly cases: fc.Arbitrary<C>;
  /** Shapes of the differentiable inputs of case `c`. */
  inputShapes(c: C): number[][];
  /** The op in tfjs. */
  forward(c: C, inputs: tf.Tensor[]): tf.Tensor;
  /** The op in float64. */
  reference(c: C, inputs: ref.Arr[]): ref.Arr;
}

const dim = (min: number, max: number) => fc.integer({ min, max });

const conv2dCases = fc
  .record({
    batch: dim(1, 2),
    h: dim(1, 7),
    w: dim(1, 7),
    cin: dim(1, 3),
    cout: dim(1, 3),
    kh: dim(1, 3),
    kw: dim(1, 3),
    sh: dim(1, 3),
    sw: dim(1, 3),
    dh: dim(1, 2),
    dw: dim(1, 2),
    pad: fc.oneof(
      fc.constant('same' as const),
      fc.constant('valid' as const),
      fc.tuple(fc.tuple(dim(0, 2), dim(0, 2)), fc.tuple(dim(0, 2), dim(0, 2))),
    ),
  })
  // tfjs forbids strides and dilations both > 1; an empty output has no gradient to check.
  .filter((c) => (c.sh === 1 && c.sw === 1) || (c.dh === 1 && c.dw === 1))
  .filter((c) => {
    const pads = typeof c.pad === 'string' ? [c.pad, c.pad] : c.pad;
    const gh = ref.axisGeometry(c.h, c.kh, c.sh, c.dh, pads[0] as 'same');
    const gw = ref.axisGeometry(c.w, c.kw, c.sw, c.dw, pads[1] as 'same');
    return gh.out > 0 && gw.out > 0;
  });

type Conv2dCase = typeof conv2dCases extends fc.Arbitrary<infer T> ? T : never;

const tfPad = (pad: Conv2dCase['pad']) =>
  typeof pad === 'string'
    ? pad
    : ([[0, 0], [...pad[0]], [...pad[1]], [0, 0]] as [
        [number, number],
        [number, number],
        [number, number],
        [number, number],
      ]);

const conv2dCheck: GradientCheck<Conv2dCase> = {
  name: 'Conv2D',
  runs: 150,
  cases: conv2dCases,
  inputShapes: (c) => [
    [c.batch, c.h, c.w, c.cin],
    [c.kh, c.kw, c.cin, c.cout],
  ],
  forward: (c, [x, w]) =>
    tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, [c.sh, c.sw], tfPad(c.pad), 'NHWC', [c.dh, c.dw]),
  reference: (c, [x, w]) => ref.conv2d(x!, w!, [c.sh, c.sw], c.pad, [c.dh, c.dw]),
};

const matMulCases = fc.record({
  batch: dim(1, 3),
  m: dim(1, 5),
  k: dim(1, 5),
  n: dim(1, 5),
  transposeA: fc.boolean(),
  transposeB: fc.boolean(),
});
type MatMulCase = typeof matMulCases extends fc.Arbitrary<infer T> ? T : never;
const matMulShapes = (c: MatMulCase) => [
  c.transposeA ? [c.batch, c.k, c.m] : [c.batch, c.m, c.k],
  c.transposeB ? [c.batch, c.n, c.k] : [c.batch, c.k, c.n],
];

const matMulCheck: GradientCheck<MatMulCase> = {
  name: 'BatchMatMul',
  runs: 40,
  cases: matMulCases,
  inputShapes: matMulShapes,
  forward: (c, [a, b]) => tf.matMul(a!, b!, c.transposeA, c.transposeB),
  reference: (c, [a, b]) => ref.matMul(a!, b!, c.transposeA, c.transposeB),
};

const fusedMatMulCheck: GradientCheck<MatMulCase> = {
  name: '_FusedMatMul',
  runs: 30,
  cases: matMulCases,
  inputShapes: (c) => [...matMulShapes(c), [c.n]],
  forward: (c, [a, b, bias]) =>
    tf.fused.matMul({
      a: a!,
      b: b!,
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      bias: bias!,
      activation: 'relu',
    }),
  reference: (c, [a, b, bias]) =>
    ref.map(ref.addBias(ref.matMul(a!, b!, c.transposeA, c.transposeB), bias!), ref.relu),
};

const poolCases = fc
  .record({
    batch: dim(1, 2),
    h: dim(1, 6),
    w: dim(1, 6),
    c: dim(1, 3),
    fh: dim(1, 3),
    fw: dim(1, 3),
    sh: dim(1, 3),
    sw: dim(1, 3),
    pad: fc.constantFrom('same' as const, 'valid' as const),
  })
  .filter((c) => c.pad === 'same' || (c.h >= c.fh && c.w >= c.fw));
type PoolCase = typeof poolCases extends fc.Arbitrary<infer T> ? T : never;

const poolCheck = (kind: 'max' | 'avg'): GradientCheck<PoolCase> => ({
  name: kind === 'max' ? 'MaxPool' : 'AvgPool',
  runs: 40,
  cases: poolCases,
  inputShapes: (c) => [[c.batch, c.h, c.w, c.c]],
  forward: (c, [x]) =>
    (kind === 'max' ? tf.maxPool : tf.avgPool)(x as tf.Tensor4D, [c.fh, c.fw], [c.sh, c.sw], c.pad),
  reference: (c, [x]) => ref.pool(x!, kind, [c.fh, c.fw], [c.sh, c.sw], c.pad),
});

const nhwcCases = fc.record({ batch: dim(1, 3), h: dim(1, 4), w: dim(1, 4), c: dim(1, 3) });
type NhwcCase = typeof nhwcCases extends fc.Arbitrary<infer T> ? T : never;
const nhwc = (c: NhwcCase) => [c.batch, c.h, c.w, c.c];

const eluCheck: GradientCheck<NhwcCase> = {
  name: 'Elu',
  runs: 10,
  cases: nhwcCases,
  inputShapes: (c) => [nhwc(c)],
  forward: (_, [x]) => tf.elu(x!),
  reference: (_, [x]) => ref.map(x!, ref.elu),
};

const reluCheck: GradientCheck<NhwcCase> = {
  name: 'Relu',
  runs: 10,
  cases: nhwcCases,
  inputShapes: (c) => [nhwc(c)],
  forward: (_, [x]) => tf.relu(x!),
  reference: (_, [x]) => ref.map(x!, ref.relu),
};

const BN_EPSILON = 1e-3;
const batchNormCheck: GradientCheck<NhwcCase> = {
  name: 'FusedBatchNorm',
  runs: 20,
  // At least 2 values per channel, or the batch variance is 0 and the op is flat.
  cases: nhwcCases.filter((c) => c.batch * c.h * c.w >= 2),
  inputShapes: (c) => [nhwc(c), [c.c], [c.c]],
  forward: (_, [x, gamma, beta]) => {
    const { mean, variance } = tf.moments(x!, [0, 1, 2]);
    return tf.batchNorm(x!, mean, variance, beta!, gamma!, BN_EPSILON);
  },
  reference: (_, [x, gamma, beta]) => ref.batchNormTrain(x!, gamma!, beta!, BN_EPSILON),
};

const meanCheck: GradientCheck<NhwcCase> = {
  name: 'Mean',
  runs: 10,
  cases: nhwcCases,
  inputShapes: (c) => [nhwc(c)],
  forward: (_, [x]) => tf.mean(x!, [1, 2]),
  reference: (_, [x]) => ref.spatialMean(x!),
};

const sumCheck: GradientCheck<NhwcCase> = {
  name: 'Sum',
  runs: 10,
  cases: nhwcCases,
  inputShapes: (c) => [nhwc(c)],
  forward: (_, [x]) => tf.sum(x!, [0, 2]),
  reference: (_, [x]) => ref.sumBatchWidth(x!),
};

const padCases = fc.record({
  shape: fc.array(dim(1, 4), { minLength: 1, maxLength: 4 }),
  pads: fc.array(fc.tuple(dim(0, 2), dim(0, 2)), { minLength: 4, maxLength: 4 }),
});
type PadCase = typeof padCases extends fc.Arbitrary<infer T> ? T : never;
const padCheck: GradientCheck<PadCase> = {
  name: 'PadV2',
  runs: 20,
  cases: padCases,
  inputShapes: (c) => [c.shape],
  forward: (c, [x]) => tf.pad(x!, c.pads.slice(0, c.shape.length)),
  reference: (c, [x]) => ref.pad(x!, c.pads.slice(0, c.shape.length)),
};

/** Per axis: length, then begin/end/stride chosen inside it; negative strides walk backwards. */
const sliceAxis = dim(1, 6).chain((length) =>
  fc
    .record({ a: dim(0, length - 1), b: dim(0, length - 1), stride: fc.constantFrom(1, 2, 3, -1, -2) })
    .map(({ a, b, stride }) => {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      return stride > 0
        ? { length, begin: lo, end: hi + 1, stride }
        : // end = lo − 1 may be −1, which tfjs reads as "from the back"; keep ends ≥ 0 by stopping at lo.
          { length, begin: hi, end: lo, stride: hi === lo ? 1 : stride };
    })
    .map((axis) => (axis.stride === 1 && axis.end <= axis.begin ? { ...axis, end: axis.begin + 1 } : axis)),
);
const stridedSliceCases = fc.array(sliceAxis, { minLength: 1, maxLength: 4 });
type StridedSliceCase = typeof stridedSliceCases extends fc.Arbitrary<infer T> ? T : never;
const stridedSliceCheck: GradientCheck<StridedSliceCase> = {
  name: 'StridedSlice',
  runs: 40,
  cases: stridedSliceCases,
  inputShapes: (c) => [c.map((a) => a.length)],
  forward: (c, [x]) =>
    tf.stridedSlice(
      x!,
      c.map((a) => a.begin),
      c.map((a) => a.end),
      c.map((a) => a.stride),
    ),
  reference: (c, [x]) =>
    ref.stridedSlice(
      x!,
      c.map((a) => a.begin),
      c.map((a) => a.end),
      c.map((a) => a.stride),
    ),
};

const softmaxCases = fc.record({ rows: dim(1, 4), c: dim(1, 6) });
type SoftmaxCase = typeof softmaxCases extends fc.Arbitrary<infer T> ? T : never;
const softmaxCheck: GradientCheck<SoftmaxCase> = {
  name: 'Softmax',
  runs: 15,
  cases: softmaxCases,
  inputShapes: (c) => [[c.rows, c.c]],
  forward: (_, [x]) => tf.softmax(x!),
  reference: (_, [x]) => ref.softmax(x!),
};

const transposeCases = fc.record({
  shape: fc.tuple(dim(1, 3), dim(1, 3), dim(1, 3), dim(1, 3)),
  perm: fc.constantFrom<number[]>([0, 2, 1, 3], [0, 1, 3, 2], [3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1]),
});
type TransposeCase = typeof transposeCases extends fc.Arbitrary<infer T> ? T : never;
const transposeCheck: GradientCheck<TransposeCase> = {
  name: 'Transpose',
  runs: 15,
  cases: transposeCases,
  inputShapes: (c) => [[...c.shape]],
  forward: (c, [x]) => tf.transpose(x!, c.perm),
  reference: (c, [x]) => ref.transpose(x!, c.perm),
};

// The sequence ops of a Transformer block, composed exactly as @moprune/core's
// embedding, layerNorm and selfAttention nodes compose them (network/sequence.ts).

const LN_EPSILON = 1e-5;
const sequenceCases = fc.record({ batch: dim(1, 2), t: dim(1, 4), c: dim(1, 5) });
type SequenceCase = typeof sequenceCases extends fc.Arbitrary<infer T> ? T : never;
const layerNormCheck: GradientCheck<SequenceCase> = {
  name: 'LayerNorm',
  runs: 20,
  // One feature has variance 0 and a flat output; at least 2.
  cases: sequenceCases.filter((c) => c.c >= 2),
  inputShapes: (c) => [[c.batch, c.t, c.c], [c.c], [c.c]],
  forward: (_, [x, gamma, beta]) => {
    const mean = tf.mean(x!, 2, true);
    const centered = tf.sub(x!, mean);
    const variance = tf.mean(tf.square(centered), 2, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, LN_EPSILON))), gamma!), beta!);
  },
  reference: (_, [x, gamma, beta]) => ref.layerNorm(x!, gamma!, beta!, LN_EPSILON),
};

const embeddingCases = fc.record({ vocab: dim(2, 6), dim: dim(1, 4), n: dim(1, 6) }).chain((c) =>
  fc.record({
    vocab: fc.constant(c.vocab),
    dim: fc.constant(c.dim),
    // One id past the table on purpose: it embeds to zero and gets no gradient.
    ids: fc.array(dim(0, c.vocab), { minLength: c.n, maxLength: c.n }),
  }),
);
type EmbeddingCase = typeof embeddingCases extends fc.Arbitrary<infer T> ? T : never;
const embeddingCheck: GradientCheck<EmbeddingCase> = {
  name: 'Embedding',
  runs: 15,
  cases: embeddingCases,
  inputShapes: (c) => [[c.vocab, c.dim]],
  forward: (c, [table]) =>
    tf.matMul(tf.cast(tf.oneHot(tf.tensor1d(c.ids, 'int32'), c.vocab), 'float32'), table!),
  reference: (c, [table]) => ref.embedding(c.ids, table!),
};

const attentionCases = fc.record({
  batch: dim(1, 2),
  t: dim(1, 4),
  heads: dim(1, 2),
  dh: dim(1, 3),
  causal: fc.boolean(),
});
type AttentionCase = typeof attentionCases extends fc.Arbitrary<infer T> ? T : never;
const attentionCheck: GradientCheck<AttentionCase> = {
  name: 'SelfAttention',
  runs: 25,
  cases: attentionCases,
  inputShapes: (c) => {
    const d = c.heads * c.dh;
    return [[c.batch, c.t, d], [d, 3 * d], [3 * d]];
  },
  forward: (c, [x, kernel, bias]) => {
    const d = c.heads * c.dh;
    const qkv = tf.add(tf.matMul(tf.reshape(x!, [c.batch * c.t, d]), kernel!), bias!);
    const heads = (p: tf.Tensor) =>
      tf.reshape(tf.transpose(tf.reshape(p, [c.batch, c.t, c.heads, c.dh]), [0, 2, 1, 3]), [
        c.batch * c.heads,
        c.t,
        c.dh,
      ]);
    const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    let scores = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(c.dh));
    if (c.causal) {
      const mask = tf.sub(tf.linalg.bandPart(tf.ones([c.t, c.t]), -1, 0), 1);
      scores = tf.add(scores, tf.mul(mask, 1e9));
    }
    const out = tf.matMul(tf.softmax(scores), v);
    return tf.reshape(tf.transpose(tf.reshape(out, [c.batch, c.heads, c.t, c.dh]), [0, 2, 1, 3]), [
      c.batch,
      c.t,
      d,
    ]);
  },
  reference: (c, [x, kernel, bias]) => ref.selfAttention(x!, kernel!, bias!, c.heads, c.causal),
};

/**
 * Every check of the suite: moprune's own gradients and kernel wrappers
 * (Conv2D, StridedSlice, BatchMatMul, _FusedMatMul) and the stock gradients
 * of the other ops the moprune models train through (pooling, ELU/ReLU,
 * training-mode batch norm, padding, global average pooling, sums over
 * non-adjacent axes), and those of a Transformer encoder block (softmax,
 * transpose, layer norm, one-hot embedding, multi-head self-attention as
 * @moprune/core composes them), because a backend must get all of them right.
 */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of checks, each typed by its own case.
export const GRADIENT_CHECKS: readonly GradientCheck<any>[] = [
  conv2dCheck,
  matMulCheck,
  fusedMatMulCheck,
  stridedSliceCheck,
  poolCheck('max'),
  poolCheck('avg'),
  eluCheck,
  reluCheck,
  batchNormCheck,
  padCheck,
  meanCheck,
  sumCheck,
  softmaxCheck,
  transposeCheck,
  layerNormCheck,
  embeddingCheck,
  attentionCheck,
];
