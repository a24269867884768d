import type { GradConfig, NamedAttrMap, StridedSliceAttrs } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Spreads `t` along `axis` so element i lands at i·step, with zeros between
 * (length (n−1)·step + 1): expand, zero-pad the new axis, fold it back.
 */
function spread(t: tf.Tensor, axis: number, step: number): tf.Tensor {
  const n = t.shape[axis] ?? 0;
  const expanded = tf.expandDims(t, axis + 1);
  const pads = expanded.shape.map((_, i): [number, number] => (i === axis + 1 ? [0, step - 1] : [0, 0]));
  const shape = [...t.shape];
  shape[axis] = n * step;
  const folded = tf.reshape(tf.pad(expanded, pads), shape);
  const size = t.shape.map((d, i) => (i === axis ? (n - 1) * step + 1 : d));
  return tf.slice(
    folded,
    t.shape.map(() => 0),
    size,
  );
}

/**
 * Gradient of StridedSlice, which tfjs does not ship (so e.g. ResNet option-A
 * shortcuts `x[:, ::2, ::2, :]` cannot train on stock tfjs). The upstream
 * gradient is scattered back to the positions the slice read: per axis,
 * reversed for negative strides, spread by the stride, then zero-padded to
 * the input's extent. All mask semantics come from tfjs's own `sliceInfo`.
 */
export const stridedSliceGradConfig: GradConfig = {
  kernelName: tf.StridedSlice,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor];
    const { begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask } =
      attrs as unknown as StridedSliceAttrs;
    return {
      x: () => {
        const info = tf.slice_util.sliceInfo(
          x.shape,
          begin,
          end,
          strides,
          beginMask,
          endMask,
          ellipsisMask,
          newAxisMask,
          shrinkAxisMask,
        );
        // Elements read per input axis (shrunk axes read one); finalShapeSparse omits shrunk axes.
        const counts = info.begin.map((b, d) =>
          Math.max(0, Math.ceil((info.end[d]! - b) / info.strides[d]!)),
        );
        if (counts.some((d) => d === 0)) return tf.zerosLike(x);
        let g = tf.reshape(dy as tf.Tensor, counts);
        const pads: [number, number][] = [];
        for (let axis = 0; axis < x.shape.length; axis++) {
          const n = counts[axis] ?? 1;
          const stride = info.strides[axis] ?? 1;
          const b = info.begin[axis] ?? 0;
          const step = Math.abs(stride);
          // First (lowest) index read along this axis.
          const first = stride > 0 ? b : b - (n - 1) * step;
          if (stride < 0) g = tf.reverse(g, axis);
          if (step > 1 && n > 1) g = spread(g, axis, step);
          const extent = (n - 1) * step + 1;
          pads.push([first, (x.shape[axis] ?? 1) - first - extent]);
        }
        return tf.pad(g, pads);
      },
    };
  },
};
