import type { Conv2DAttrs, GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad } from '../conv_geometry.js';

/**
 * Gradient of Conv2D for every stride, padding (incl. explicit and
 * dimRoundingMode) and dilation — tfjs's own refuses dilations > 1 — computed
 * with forward convolutions (see {@link conv2dFilterGrad}). NCHW is handled
 * by transposing to NHWC, the only layout every backend's conv2d supports.
 */
export const conv2DGradConfig: GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
    const nchw = dataFormat === 'NCHW';
    const toNhwc = (t: tf.Tensor4D) => (nchw ? tf.transpose(t, [0, 2, 3, 1]) : t);
    const xNhwc = toNhwc(x);
    const dyNhwc = toNhwc(dy as tf.Tensor4D);
    const info = tf.backend_util.computeConv2DInfo(
      xNhwc.shape,
      filter.shape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    return {
      x: () => {
        const dx = conv2dInputGrad(xNhwc.shape, dyNhwc, filter, info);
        return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
      },
      filter: () => conv2dFilterGrad(xNhwc, dyNhwc, info),
    };
  },
};
