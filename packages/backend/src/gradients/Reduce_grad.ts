import type { GradConfig, MeanAttrs, NamedAttrMap, SumAttrs } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/** dy of a reduction over `axis`, reshaped with those axes kept as size 1. */
function expanded(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const shape = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) shape[a] = 1;
  return tf.reshape(dy, shape);
}

/**
 * Gradient of Mean: dy / n broadcast back to x's shape. tfjs's own builds a
 * full-size tensor of ones, multiplies by it and then divides the full-size
 * product by n: three passes over an activation (plus filling the ones in
 * JavaScript) for each of the two means in every training-mode batch norm
 * (`tf.moments`). Here the division happens on the small tensor and the
 * broadcast is one Tile (native on wasm and `native`).
 */
export const meanGradConfig: GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as MeanAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
    return { x: () => tf.broadcastTo(tf.div(expanded(dy as tf.Tensor, x, axis), n), x.shape) };
  },
};

/** Gradient of Sum: dy broadcast back to x's shape (one Tile instead of a product with a tensor of ones). */
export const sumGradConfig: GradConfig = {
  kernelName: tf.Sum,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as SumAttrs;
    return { x: () => tf.broadcastTo(expanded(dy as tf.Tensor, x, axis), x.shape) };
  },
};
