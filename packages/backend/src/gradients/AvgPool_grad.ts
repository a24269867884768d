import type { AvgPoolAttrs, GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/** Per output position along one axis, how many window taps fall inside the input. */
function inBounds(
  outLength: number,
  inLength: number,
  filter: number,
  stride: number,
  before: number,
): number[] {
  return Array.from({ length: outLength }, (_, o) => {
    const start = o * stride - before;
    return Math.min(inLength, start + filter) - Math.max(0, start);
  });
}

/**
 * Gradient of AvgPool that matches its forward pass. With 'same' padding the
 * forward op averages only the in-bounds taps of a border window, but tfjs
 * 4.22's AvgPoolGrad kernels (cpu and wasm) divide by the full window size,
 * so border gradients come out too small (found by the gradient suite). The
 * upstream gradient is therefore rescaled by window size / in-bounds count
 * before the backend's AvgPoolGrad kernel spreads it.
 */
export const avgPoolGradConfig: GradConfig = {
  kernelName: tf.AvgPool,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as AvgPoolAttrs;
    return {
      x: () => {
        const x4 = x.rank === 3 ? tf.expandDims<tf.Tensor4D>(x, 0) : x;
        let dy4 =
          (dy as tf.Tensor).rank === 3 ? tf.expandDims<tf.Tensor4D>(dy as tf.Tensor, 0) : (dy as tf.Tensor4D);
        const info = tf.backend_util.computePool2DInfo(
          x4.shape,
          filterSize,
          strides,
          1,
          pad,
          dimRoundingMode,
        );
        const rows = inBounds(
          info.outHeight,
          info.inHeight,
          info.filterHeight,
          info.strideHeight,
          info.padInfo.top,
        );
        const cols = inBounds(
          info.outWidth,
          info.inWidth,
          info.filterWidth,
          info.strideWidth,
          info.padInfo.left,
        );
        const full = info.filterHeight * info.filterWidth;
        if (rows.some((r) => r !== info.filterHeight) || cols.some((c) => c !== info.filterWidth)) {
          const scale = new Float32Array(info.outHeight * info.outWidth);
          rows.forEach((r, i) => {
            cols.forEach((c, j) => {
              scale[i * info.outWidth + j] = full / (r * c);
            });
          });
          dy4 = tf.mul(dy4, tf.tensor4d(scale, [1, info.outHeight, info.outWidth, 1]));
        }
        const dx = tf.engine().runKernel(tf.AvgPoolGrad, { dy: dy4, input: x4 }, {
          filterSize,
          strides,
          pad,
          dimRoundingMode,
        } as unknown as NamedAttrMap) as tf.Tensor4D;
        return x.rank === 3 ? tf.squeeze(dx, [0]) : dx;
      },
    };
  },
};
