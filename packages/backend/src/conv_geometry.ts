import type { Conv2DAttrs } from '@tensorflow/tfjs-core';
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

/**
 * dL/dx of an NHWC conv2d. With unit strides it is the forward convolution
 * of dy with the filter flipped in space and with in/out channels swapped,
 * padded by (K−1)·d − pad on top/left: wasm's XNNPACK forward convolution
 * runs this ~5× faster than its Conv2DBackpropInput kernel. Strided
 * convolutions (dilation is then 1: tfjs forbids both > 1) use the backend's
 * Conv2DBackpropInput kernel, which every backend has.
 */
export function conv2dInputGrad(
  xShape: [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  pad: Conv2DAttrs['pad'],
  dimRoundingMode: Conv2DAttrs['dimRoundingMode'],
): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  if (sh !== 1 || sw !== 1) {
    return tf.conv2dTranspose(dy, filter, xShape, [sh, sw], pad, dimRoundingMode);
  }
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  const top = (kh - 1) * dh - padInfo.top;
  const left = (kw - 1) * dw - padInfo.left;
  const bottom = h - oh + (kh - 1) * dh - top;
  const right = w - ow + (kw - 1) * dw - left;
  return conv2dWithPads(dy, flipped, [1, 1], [dh, dw], [top, bottom, left, right]);
}
