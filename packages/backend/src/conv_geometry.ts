import * as tf from '@tensorflow/tfjs-core';

/** Padding of the two spatial dimensions as `[top, bottom, left, right]`; entries may be negative (= crop). */
export type SpatialPads = readonly [number, number, number, number];

/**
 * A 2-D NHWC convolution whose spatial padding may be negative on any side.
 * tfjs convolutions accept only non-negative explicit padding, so the
 * negative part becomes a crop of the input first (rows that a negative pad
 * removes would never be read anyway). Both convolution-gradient rewrites
 * below need this, because their derived paddings can go below zero, e.g.
 * when a 'valid' forward convolution skipped trailing input rows.
 */
export function conv2dWithPads(
  input: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: [number, number],
  dilations: [number, number],
  pads: SpatialPads,
): tf.Tensor4D {
  const [top, bottom, left, right] = pads;
  const [, h, w] = input.shape;
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  const cropped =
    cropTop + cropBottom + cropLeft + cropRight === 0
      ? input
      : tf.slice(
          input,
          [0, cropTop, cropLeft, 0],
          [-1, h - cropTop - cropBottom, w - cropLeft - cropRight, -1],
        );
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ];
  return tf.conv2d(cropped, filter, strides, padding, 'NHWC', dilations);
}

/**
 * dL/dW of an NHWC conv2d as ONE forward convolution: the batch becomes the
 * channel being reduced over. With x → xᵀ = [Cin, H, W, B] as input and
 * dy → dyᵀ = [OH, OW, B, Cout] as filter,
 *   dW[kh,kw,ci,co] = Σ_{oh,ow,b} x[b, oh·s − pt + kh·d, …, ci] · dy[b, oh, ow, co]
 * is a convolution of xᵀ with dyᵀ whose stride is the forward dilation d and
 * whose dilation is the forward stride s. The top/left pads are the forward
 * ones; bottom/right are chosen so the output is exactly KH × KW (negative =
 * the forward convolution never read those input rows).
 * This beats tfjs's Conv2DBackpropFilter by 10–1000× on cpu and wasm (wasm has
 * no such kernel at all) because forward convolution is the tuned path.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const xT = tf.transpose(x, [3, 1, 2, 0]);
  const dyT = tf.transpose(dy, [1, 2, 0, 3]);
  const bottom = (kh - 1) * dh + (oh - 1) * sh + 1 - h - padInfo.top;
  const right = (kw - 1) * dw + (ow - 1) * sw + 1 - w - padInfo.left;
  const out = conv2dWithPads(xT, dyT, [dh, dw], [sh, sw], [padInfo.top, bottom, padInfo.left, right]);
  return tf.transpose(out, [1, 2, 0, 3]);
}

/** One phase of a strided axis: which filter taps reach it and how the upstream gradient lines up. */
interface AxisPhase {
  /** First filter tap of the phase. */
  readonly firstTap: number;
  /** Number of taps (q, q+s, q+2s, … < K); 0 when the stride exceeds the filter. */
  readonly taps: number;
  /** Output length of the phase: input positions r, r+s, … < length. */
  readonly length: number;
  /** Padding before dy in the phase's stride-1 correlation (may be negative = crop). */
  readonly before: number;
  /** Padding after dy (may be negative). */
  readonly after: number;
}

/**
 * Input positions i ≡ r (mod s) receive gradient only from filter taps
 * k ≡ (r + pad) (mod s), through dy[(i + pad − k)/s]; per phase r that is a
 * stride-1 correlation of dy with every s-th tap, flipped.
 */
function axisPhases(
  length: number,
  outLength: number,
  filter: number,
  stride: number,
  pad: number,
): AxisPhase[] {
  return Array.from({ length: stride }, (_, r) => {
    const firstTap = (r + pad) % stride;
    const taps = firstTap < filter ? Math.ceil((filter - firstTap) / stride) : 0;
    const phaseLength = Math.ceil((length - r) / stride);
    const offset = (r + pad - firstTap) / stride;
    const before = taps - 1 - offset;
    return {
      firstTap,
      taps,
      length: phaseLength,
      before,
      after: phaseLength - outLength + taps - 1 - before,
    };
  });
}

/** Zero-pads axis `axis` of `t` at the end up to `size`. */
function padAxisTo(t: tf.Tensor4D, axis: number, size: number): tf.Tensor4D {
  const extra = size - (t.shape[axis] ?? 0);
  if (extra === 0) return t;
  const pads = t.shape.map((_, i): [number, number] => (i === axis ? [0, extra] : [0, 0]));
  return tf.pad(t, pads);
}

/** Interleaves phase results along `axis`: out[…, m·s + r, …] = parts[r][…, m, …]. */
function interleave(parts: tf.Tensor4D[], axis: number): tf.Tensor4D {
  if (parts.length === 1) return parts[0]!;
  const longest = Math.max(...parts.map((p) => p.shape[axis] ?? 0));
  const stacked = tf.stack(
    parts.map((p) => padAxisTo(p, axis, longest)),
    axis + 1,
  );
  const shape = [...parts[0]!.shape] as [number, number, number, number];
  shape[axis] = longest * parts.length;
  return tf.reshape(stacked, shape);
}

/**
 * dL/dx of an NHWC conv2d, as forward convolutions only. With unit strides
 * it is one convolution of dy with the filter flipped in space and with
 * in/out channels swapped, padded by (K−1)·d − pad on top/left: wasm's
 * XNNPACK forward convolution runs this ~5× faster than its
 * Conv2DBackpropInput kernel. With stride s (dilation is then 1: tfjs
 * forbids both > 1) the input splits into s×s phases, each a stride-1
 * convolution with every s-th filter tap ({@link axisPhases}), interleaved
 * afterwards: the same arithmetic as the forward pass instead of wasm's
 * Conv2DBackpropInput, which took 4–8× the forward time on ResNet-20's
 * downsampling convolutions.
 */
export function conv2dInputGrad(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const swapped = tf.transpose(filter, [0, 1, 3, 2]);
  if (sh === 1 && sw === 1) {
    const top = (kh - 1) * dh - padInfo.top;
    const left = (kw - 1) * dw - padInfo.left;
    const bottom = h - oh + (kh - 1) * dh - top;
    const right = w - ow + (kw - 1) * dw - left;
    return conv2dWithPads(dy, tf.reverse(swapped, [0, 1]), [1, 1], [dh, dw], [top, bottom, left, right]);
  }
  const rows = axisPhases(h, oh, kh, sh, padInfo.top);
  const cols = axisPhases(w, ow, kw, sw, padInfo.left);
  const cin = xShape[3];
  const rowParts = rows.map((row) => {
    const parts = cols.map((col) => {
      if (row.taps === 0 || col.taps === 0 || row.length === 0 || col.length === 0)
        return tf.zeros([xShape[0], row.length, col.length, cin]) as tf.Tensor4D;
      const taps = tf.stridedSlice(
        swapped,
        [row.firstTap, col.firstTap, 0, 0],
        [kh, kw, swapped.shape[2], cin],
        [sh, sw, 1, 1],
      ) as tf.Tensor4D;
      return conv2dWithPads(
        dy,
        tf.reverse(taps, [0, 1]),
        [1, 1],
        [1, 1],
        [row.before, row.after, col.before, col.after],
      );
    });
    return interleave(parts, 2);
  });
  const full = interleave(rowParts, 1);
  return full.shape[1] === h && full.shape[2] === w ? full : tf.slice(full, [0, 0, 0, 0], [-1, h, w, -1]);
}
