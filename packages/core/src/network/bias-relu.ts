import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel name of a bias addition followed by a ReLU in one call. A backend
 * that registers it (and {@link BIAS_ADD_RELU_GRAD_KERNEL}) runs
 * {@link biasAddRelu} as one forward and one backward kernel instead of
 * `tf.add` + `tf.relu` and their gradients (an elementwise pass each, a
 * ReLU-gradient pass and a reduction for the bias).
 *
 * Contract — inputs `{ x, bias }`: `x` float32 of rank ≥ 1, channels last;
 * `bias` float32 of shape `[C]` (C = x's last axis). No attributes. Output
 * `y` shaped like `x`: `y = max(x + bias, 0)` per channel, as `tf.relu` of
 * `tf.add` computes it (NaN stays NaN).
 */
export const BIAS_ADD_RELU_KERNEL = 'MopruneBiasAddRelu';

/**
 * Kernel name of the gradient of {@link BIAS_ADD_RELU_KERNEL}.
 *
 * Contract — inputs `{ dy, y }`: `y` the forward kernel's output, `dy` of the
 * same shape (float32). Outputs `[dx, dbias]`: `dx = dy·step(y)` exactly as
 * tfjs's ReLU gradient computes `dy·step(x + bias)` (step is 1 above 0, 0 at
 * or below, NaN for NaN — so `y` decides it as well as the pre-activation
 * does), and `dbias` of shape `[C]`, the sum of `dx` over every axis but the
 * last.
 */
export const BIAS_ADD_RELU_GRAD_KERNEL = 'MopruneBiasAddReluGrad';

let gradientRegistered = false;

function registerGradientOnce(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BIAS_ADD_RELU_KERNEL,
    inputsToSave: [],
    outputsToSave: [true],
    gradFunc: (dys, saved) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [y] = saved as [tf.Tensor];
      const [dx, dbias] = tf
        .engine()
        .runKernel(BIAS_ADD_RELU_GRAD_KERNEL, { dy, y } as unknown as tf.NamedTensorMap) as tf.Tensor[];
      return { x: () => dx!, bias: () => dbias! };
    },
  });
}

/**
 * True when the active backend registers both bias + ReLU kernels, so
 * {@link biasAddRelu} runs them instead of composing tfjs ops.
 */
export function hasBiasAddReluKernels(backendName: string = tf.getBackend()): boolean {
  return (
    tf.getKernel(BIAS_ADD_RELU_KERNEL, backendName) !== undefined &&
    tf.getKernel(BIAS_ADD_RELU_GRAD_KERNEL, backendName) !== undefined
  );
}

/**
 * `relu(x + bias)` for a per-channel `bias` of shape `[C]` over `x`'s last
 * axis — a dense or convolution layer's bias and activation.
 *
 * When the active backend registers {@link BIAS_ADD_RELU_KERNEL} and
 * {@link BIAS_ADD_RELU_GRAD_KERNEL} (`@moprune/native` does), this is one
 * forward kernel and one backward kernel that returns both gradients;
 * otherwise it is `tf.relu(tf.add(x, bias))`, differentiated op by op (the
 * same values; the bias gradient may differ by float summation order). The
 * gradient flows to `x` and `bias` either way.
 *
 * Shapes are the caller's contract (`createNetwork` validates its specs);
 * on the kernel path a bias that does not match the last axis is the
 * backend's typed error.
 */
export function biasAddRelu(x: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  if (hasBiasAddReluKernels()) {
    registerGradientOnce();
    return tf
      .engine()
      .runKernel(BIAS_ADD_RELU_KERNEL, { x, bias } as unknown as tf.NamedTensorMap) as tf.Tensor;
  }
  return tf.relu(tf.add(x, bias));
}
