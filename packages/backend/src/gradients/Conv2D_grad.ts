import type { Conv2DAttrs, GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad } from '../conv_geometry.js';

/** Backends whose Conv2DBackprop* kernels lose to the forward-convolution rewrite (or are missing). */
const REWRITE_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/**
 * True when the active backend should run its own Conv2DBackpropInput/Filter
 * kernels: it has both and is not one of {@link REWRITE_BACKENDS}. A GPU
 * (`tensorflow` via tfjs-node-gpu: cuDNN) or a native backend that ships
 * tuned backprop kernels keeps them.
 */
function backendKernelsPreferred(): boolean {
  const backend = tf.getBackend();
  return (
    !REWRITE_BACKENDS.has(backend) &&
    tf.getKernel(tf.Conv2DBackpropFilter, backend) !== undefined &&
    tf.getKernel(tf.Conv2DBackpropInput, backend) !== undefined
  );
}

/**
 * Gradient of Conv2D for every stride, padding (incl. explicit and
 * dimRoundingMode) and dilation — tfjs's own refuses dilations > 1. On cpu
 * and wasm, and on any backend without backprop kernels, both gradients are
 * forward convolutions (see {@link conv2dFilterGrad}, {@link conv2dInputGrad});
 * elsewhere the backend's kernels run when the dilation is 1. NCHW is
 * handled by transposing to NHWC, the only layout every backend's conv2d supports.
 */
export const conv2DGradConfig: GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
    const nchw = dataFormat === 'NCHW';
    // Explicit NCHW padding lists [batch, channel, height, width]; reorder it for the NHWC computation.
    const padNhwc = nchw && Array.isArray(pad) ? [pad[0], pad[2], pad[3], pad[1]] : pad;
    const toNhwc = (t: tf.Tensor4D) => (nchw ? tf.transpose(t, [0, 2, 3, 1]) : t);
    const xNhwc = toNhwc(x);
    const dyNhwc = toNhwc(dy as tf.Tensor4D);
    const info = tf.backend_util.computeConv2DInfo(
      xNhwc.shape,
      filter.shape,
      strides,
      dilations,
      padNhwc as Conv2DAttrs['pad'],
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const stock = info.dilationHeight === 1 && info.dilationWidth === 1 && backendKernelsPreferred();
    const kernelAttrs = {
      strides,
      pad: padNhwc,
      dataFormat: 'NHWC',
      dimRoundingMode,
    } as unknown as NamedAttrMap;
    return {
      x: () => {
        const dx = stock
          ? (tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dyNhwc, filter }, {
              ...kernelAttrs,
              inputShape: xNhwc.shape,
            } as unknown as NamedAttrMap) as tf.Tensor4D)
          : conv2dInputGrad(xNhwc.shape, dyNhwc, filter, info);
        return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
      },
      filter: () =>
        stock
          ? (tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xNhwc, dy: dyNhwc }, {
              ...kernelAttrs,
              filterShape: filter.shape,
            } as unknown as NamedAttrMap) as tf.Tensor4D)
          : conv2dFilterGrad(xNhwc, dyNhwc, info),
    };
  },
};
