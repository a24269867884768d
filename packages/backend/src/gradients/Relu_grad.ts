import type { GradConfig } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel name a tfjs backend may register to compute ReLU's gradient in one
 * pass; `@moprune/native` does. Contract — inputs `{ dy, x }` (float32, same
 * shape), no attributes, one output shaped like `x`:
 * `dx = dy · step(x)` exactly as tfjs's stock gradient computes it — `dy`
 * where `x > 0`, `dy · 0` where `x ≤ 0` (so NaN for an infinite or NaN `dy`),
 * NaN where `x` is NaN.
 */
export const RELU_GRAD_KERNEL = 'MopruneReluGrad';

/**
 * Gradient of Relu: one {@link RELU_GRAD_KERNEL} call on a backend that has
 * it, else tfjs's own `dy · step(x)` (two passes over the activation: Step,
 * then Multiply — 8% of a ResNet-20 training step on `native`).
 */
export const reluGradConfig: GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x] = saved as [tf.Tensor];
    const g = dy as tf.Tensor;
    return {
      x: () =>
        g.dtype === 'float32' && tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend()) !== undefined
          ? (tf
              .engine()
              .runKernel(RELU_GRAD_KERNEL, { dy: g, x } as unknown as tf.NamedTensorMap) as tf.Tensor)
          : tf.mul(g, tf.cast(tf.step(x), 'float32')),
    };
  },
};
