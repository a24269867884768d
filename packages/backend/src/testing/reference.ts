/**
 * Float64 reference implementations of the forward ops the gradient suite
 * checks, written directly from the ops' definitions (TensorFlow semantics,
 * NHWC) in plain JavaScript. The suite differentiates them numerically, so
 * the reference shares no code with the gradients under test.
 */

/** A dense float64 array with its shape (row-major). */
export interface Arr {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

export function arr(data: ArrayLike<number>, shape: readonly number[]): Arr {
  return { data: Float64Array.from(data), shape };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Padding of one spatial axis: output length and the padding before it. */
export interface AxisGeometry {
  readonly out: number;
  readonly before: number;
}

/** A padding spec as tfjs ops take it, spatial part only. */
export type PadSpec = 'same' | 'valid' | readonly [readonly [number, number], readonly [number, number]];

/**
 * Output length and leading pad of one axis, per TensorFlow's definition:
 * 'same' → ceil(in/s) with the total pad split floor-half before;
 * 'valid' → ceil((in − eff + 1)/s); explicit → floor((in + pads − eff)/s) + 1.
 */
export function axisGeometry(
  length: number,
  filter: number,
  stride: number,
  dilation: number,
  pad: 'same' | 'valid' | readonly [number, number],
): AxisGeometry {
  const eff = (filter - 1) * dilation + 1;
  if (pad === 'same') {
    const out = Math.ceil(length / stride);
    const total = Math.max((out - 1) * stride + eff - length, 0);
    return { out, before: Math.floor(total / 2) };
  }
  if (pad === 'valid') return { out: Math.ceil((length - eff + 1) / stride), before: 0 };
  return { out: Math.floor((length + pad[0] + pad[1] - eff) / stride) + 1, before: pad[0] };
}

function spatialPads(
  pad: PadSpec,
): ['same' | 'valid' | readonly [number, number], 'same' | 'valid' | readonly [number, number]] {
  return typeof pad === 'string' ? [pad, pad] : [pad[0], pad[1]];
}

/** conv2d, NHWC input, [kh, kw, cin, cout] filter. */
export function conv2d(
  x: Arr,
  w: Arr,
  strides: readonly [number, number],
  pad: PadSpec,
  dilations: readonly [number, number],
): Arr {
  const [b, h, wd, cin] = x.shape as [number, number, number, number];
  const [kh, kw, , cout] = w.shape as [number, number, number, number];
  const [ph, pw] = spatialPads(pad);
  const gh = axisGeometry(h, kh, strides[0], dilations[0], ph);
  const gw = axisGeometry(wd, kw, strides[1], dilations[1], pw);
  const out = new Float64Array(b * gh.out * gw.out * cout);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < gh.out; oy++)
      for (let ox = 0; ox < gw.out; ox++)
        for (let co = 0; co < cout; co++) {
          let s = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * strides[0] - gh.before + ky * dilations[0];
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * strides[1] - gw.before + kx * dilations[1];
              if (ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < cin; ci++) {
                s +=
                  x.data[((n * h + iy) * wd + ix) * cin + ci]! *
                  w.data[((ky * kw + kx) * cin + ci) * cout + co]!;
              }
            }
          }
          out[((n * gh.out + oy) * gw.out + ox) * cout + co] = s;
        }
  return { data: out, shape: [b, gh.out, gw.out, cout] };
}

/** Batched matmul of rank-3 operands with optional transposes of the last two axes. */
export function matMul(a: Arr, b: Arr, transposeA: boolean, transposeB: boolean): Arr {
  const [batch, a1, a2] = a.shape as [number, number, number];
  const [, b1, b2] = b.shape as [number, number, number];
  const m = transposeA ? a2 : a1;
  const k = transposeA ? a1 : a2;
  const n = transposeB ? b1 : b2;
  const out = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transposeA ? a.data[t * a1 * a2 + p * a2 + i]! : a.data[t * a1 * a2 + i * a2 + p]!;
          const bv = transposeB ? b.data[t * b1 * b2 + j * b2 + p]! : b.data[t * b1 * b2 + p * b2 + j]!;
          s += av * bv;
        }
        out[(t * m + i) * n + j] = s;
      }
  return { data: out, shape: [batch, m, n] };
}

/** Adds a bias along the last axis. */
export function addBias(x: Arr, bias: Arr): Arr {
  const c = bias.data.length;
  return { data: x.data.map((v, i) => v + bias.data[i % c]!), shape: x.shape };
}

/** Elementwise map. */
export function map(x: Arr, f: (v: number) => number): Arr {
  return { data: x.data.map(f), shape: x.shape };
}

export const relu = (v: number) => Math.max(v, 0);
export const elu = (v: number) => (v > 0 ? v : Math.expm1(v));

/** max or average pooling, NHWC; 'same' averages count only in-bounds elements, as TensorFlow does. */
export function pool(
  x: Arr,
  kind: 'max' | 'avg',
  filter: readonly [number, number],
  strides: readonly [number, number],
  pad: 'same' | 'valid',
): Arr {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const gh = axisGeometry(h, filter[0], strides[0], 1, pad);
  const gw = axisGeometry(w, filter[1], strides[1], 1, pad);
  const out = new Float64Array(b * gh.out * gw.out * c);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < gh.out; oy++)
      for (let ox = 0; ox < gw.out; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === 'max' ? Number.NEGATIVE_INFINITY : 0;
          let count = 0;
          for (let ky = 0; ky < filter[0]; ky++) {
            const iy = oy * strides[0] - gh.before + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < filter[1]; kx++) {
              const ix = ox * strides[1] - gw.before + kx;
              if (ix < 0 || ix >= w) continue;
              const v = x.data[((n * h + iy) * w + ix) * c + ch]!;
              acc = kind === 'max' ? Math.max(acc, v) : acc + v;
              count++;
            }
          }
          out[((n * gh.out + oy) * gw.out + ox) * c + ch] = kind === 'max' ? acc : acc / count;
        }
  return { data: out, shape: [b, gh.out, gw.out, c] };
}

/** Training-mode batch norm: normalize over all axes but the last with the batch's biased variance. */
export function batchNormTrain(x: Arr, gamma: Arr, beta: Arr, epsilon: number): Arr {
  const c = gamma.data.length;
  const count = x.data.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  x.data.forEach((v, i) => {
    mean[i % c]! += v / count;
  });
  x.data.forEach((v, i) => {
    variance[i % c]! += (v - mean[i % c]!) ** 2 / count;
  });
  return {
    data: x.data.map(
      (v, i) =>
        ((v - mean[i % c]!) / Math.sqrt(variance[i % c]! + epsilon)) * gamma.data[i % c]! + beta.data[i % c]!,
    ),
    shape: x.shape,
  };
}

/** Visits every multi-index of `shape` in row-major order. */
function forEachIndex(shape: readonly number[], f: (index: number[], flat: number) => void): void {
  const total = size(shape);
  const index = shape.map(() => 0);
  for (let flat = 0; flat < total; flat++) {
    f(index, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      if (index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

function flatIndex(shape: readonly number[], index: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + index[d]!;
  return f;
}

/** Zero padding with `[before, after]` per axis. */
export function pad(x: Arr, paddings: readonly (readonly [number, number])[]): Arr {
  const shape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const out = new Float64Array(size(shape));
  forEachIndex(x.shape, (index, flat) => {
    out[
      flatIndex(
        shape,
        index.map((v, i) => v + paddings[i]![0]),
      )
    ] = x.data[flat]!;
  });
  return { data: out, shape };
}

/** Strided slice without masks: per axis, indices begin, begin+s, … while on the near side of end. */
export function stridedSlice(
  x: Arr,
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
): Arr {
  const counts = x.shape.map((_, d) => {
    const s = strides[d]!;
    return Math.max(0, Math.ceil((end[d]! - begin[d]!) / s));
  });
  const out = new Float64Array(size(counts));
  forEachIndex(counts, (index, flat) => {
    out[flat] =
      x.data[
        flatIndex(
          x.shape,
          index.map((v, d) => begin[d]! + v * strides[d]!),
        )
      ]!;
  });
  return { data: out, shape: counts };
}

/** Mean over the spatial axes of an NHWC tensor (global average pooling). */
export function spatialMean(x: Arr): Arr {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const out = new Float64Array(b * c);
  forEachIndex(x.shape, (index, flat) => {
    out[index[0]! * c + index[3]!]! += x.data[flat]! / (h * w);
  });
  return { data: out, shape: [b, c] };
}

/** Sum of an NHWC tensor over its batch and width axes (0 and 2), shape [h, c]: a reduction over non-adjacent axes. */
export function sumBatchWidth(x: Arr): Arr {
  const [, h, , c] = x.shape as [number, number, number, number];
  const out = new Float64Array(h * c);
  forEachIndex(x.shape, (index, flat) => {
    out[index[1]! * c + index[3]!]! += x.data[flat]!;
  });
  return { data: out, shape: [h, c] };
}

/** Softmax over the last axis. */
export function softmax(x: Arr): Arr {
  const c = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / c; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < c; j++) max = Math.max(max, x.data[r * c + j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) {
      out[r * c + j] = Math.exp(x.data[r * c + j]! - max);
      sum += out[r * c + j]!;
    }
    for (let j = 0; j < c; j++) out[r * c + j]! /= sum;
  }
  return { data: out, shape: x.shape };
}

/** Transpose of any rank: output axis i is input axis perm[i]. */
export function transpose(x: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => x.shape[p]!);
  const inStrides = x.shape.map((_, i) => size(x.shape.slice(i + 1)));
  const out = new Float64Array(x.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < shape.length; i++) src += idx[i]! * inStrides[perm[i]!]!;
    out[o] = x.data[src]!;
    for (let i = shape.length - 1; i >= 0; i--) {
      idx[i]!++;
      if (idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape };
}

/** Layer normalization over the last axis: (x − mean)/sqrt(var + ε)·gamma + beta, biased variance. */
export function layerNorm(x: Arr, gamma: Arr, beta: Arr, epsilon: number): Arr {
  const c = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / c; r++) {
    let mean = 0;
    for (let j = 0; j < c; j++) mean += x.data[r * c + j]!;
    mean /= c;
    let variance = 0;
    for (let j = 0; j < c; j++) variance += (x.data[r * c + j]! - mean) ** 2;
    variance /= c;
    const inv = 1 / Math.sqrt(variance + epsilon);
    for (let j = 0; j < c; j++) {
      out[r * c + j] = (x.data[r * c + j]! - mean) * inv * gamma.data[j]! + beta.data[j]!;
    }
  }
  return { data: out, shape: x.shape };
}

/** Embedding lookup: row `ids[i]` of `table` ([vocab, dim]) per id; ids outside the table give zeros. */
export function embedding(ids: readonly number[], table: Arr): Arr {
  const [vocab, dim] = [table.shape[0]!, table.shape[1]!];
  const out = new Float64Array(ids.length * dim);
  ids.forEach((id, i) => {
    if (id < 0 || id >= vocab) return;
    for (let j = 0; j < dim; j++) out[i * dim + j] = table.data[id * dim + j]!;
  });
  return { data: out, shape: [ids.length, dim] };
}

/**
 * Multi-head scaled dot-product self-attention of x ([batch, T, d]) with the
 * projections kernel ([d, 3d]: query | key | value) and bias ([3d]); heads
 * concatenated, no output projection. `causal` hides later positions.
 */
export function selfAttention(x: Arr, kernel: Arr, bias: Arr, heads: number, causal: boolean): Arr {
  const [batch, t, d] = [x.shape[0]!, x.shape[1]!, x.shape[2]!];
  const dh = d / heads;
  const qkv = addBias(
    matMul(
      { data: x.data, shape: [1, batch * t, d] },
      { data: kernel.data, shape: [1, d, 3 * d] },
      false,
      false,
    ),
    bias,
  );
  const at = (b: number, i: number, part: number, h: number, j: number) =>
    qkv.data[(b * t + i) * 3 * d + part * d + h * dh + j]!;
  const out = new Float64Array(batch * t * d);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < t; i++) {
        const scores = new Float64Array(t);
        for (let k = 0; k < t; k++) {
          let s = 0;
          for (let j = 0; j < dh; j++) s += at(b, i, 0, h, j) * at(b, k, 1, h, j);
          scores[k] = causal && k > i ? Number.NEGATIVE_INFINITY : s / Math.sqrt(dh);
        }
        const p = softmax({ data: scores, shape: [t] }).data;
        for (let j = 0; j < dh; j++) {
          let v = 0;
          for (let k = 0; k < t; k++) v += p[k]! * at(b, k, 2, h, j);
          out[(b * t + i) * d + h * dh + j] = v;
        }
      }
    }
  }
  return { data: out, shape: [batch, t, d] };
}
