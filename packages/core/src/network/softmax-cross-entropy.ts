import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel name of softmax cross-entropy from logits against sparse labels in one
 * call. A backend that registers it (and {@link SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL})
 * runs {@link softmaxCrossEntropy} as one forward and one backward kernel
 * instead of about ten composed ops (max, subtract, exp, sum, log, one-hot,
 * compare, multiply, select, sum, negate, divide) and their gradients — at
 * the batch sizes of LeNet training their per-call cost outweighs the arithmetic.
 *
 * Contract — inputs `{ logits, labels }`: `logits` float32 `[n, k]`; `labels`
 * int32 `[n]`. Attribute `divisor` (a positive number). Outputs `[loss, probabilities]`:
 * `loss` a float32 scalar, `(Σ_i lse_i − (x_i,label_i − max_i)) / divisor` with
 * `lse_i = log Σ_j exp(x_ij − max_i)`, the row terms summed in double; a row
 * whose label is outside `[0, k)` adds 0. `probabilities` float32 `[n, k]`, the
 * row softmax `exp(x_ij − max_i) / Σ_j exp(x_ij − max_i)` (the gradient reads it).
 * NaN or ±∞ in a row makes the loss NaN or ±∞.
 */
export const SOFTMAX_CROSS_ENTROPY_KERNEL = 'MopruneSoftmaxCrossEntropy';

/**
 * Kernel name of the gradient of {@link SOFTMAX_CROSS_ENTROPY_KERNEL}.
 *
 * Contract — inputs `{ dy, probabilities, labels }`: `dy` the float32 scalar
 * gradient of the loss, `probabilities` the forward kernel's second output,
 * `labels` as in the forward kernel. Attribute `divisor` as in the forward call.
 * Output `dlogits` float32 `[n, k]`: `(dy / divisor)·(p_ij − [j = label_i])`,
 * and 0 on every entry of a row whose label is outside `[0, k)`.
 */
export const SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL = 'MopruneSoftmaxCrossEntropyGrad';

let gradientRegistered = false;

function registerGradientOnce(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: SOFTMAX_CROSS_ENTROPY_KERNEL,
    inputsToSave: ['labels'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [labels, probabilities] = saved as [tf.Tensor, tf.Tensor];
      return {
        logits: () =>
          tf
            .engine()
            .runKernel(
              SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
              { dy, probabilities, labels } as unknown as tf.NamedTensorMap,
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor,
        labels: () => tf.zerosLike(labels),
      };
    },
  });
}

/**
 * True when the active backend registers both softmax cross-entropy kernels,
 * so {@link softmaxCrossEntropy} runs them instead of composing tfjs ops.
 */
export function hasSoftmaxCrossEntropyKernels(backendName: string = tf.getBackend()): boolean {
  return (
    tf.getKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, backendName) !== undefined &&
    tf.getKernel(SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL, backendName) !== undefined
  );
}

/**
 * Cross-entropy of `logits` (`[n, k]`, unnormalized) against sparse int32
 * `labels` (`[n]`), summed over the rows and divided by `divisor` (n for the
 * mean, 1 for the sum): `Σ_i −log softmax(x_i)[label_i] / divisor`.
 *
 * When the active backend registers {@link SOFTMAX_CROSS_ENTROPY_KERNEL} and
 * {@link SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL} (`@moprune/native` does), this is
 * one forward and one backward kernel; otherwise tfjs ops (`logSoftmax`,
 * one-hot, a sum), differentiated op by op — the same value up to float
 * rounding. Either way a label outside `[0, k)` adds 0 and its row gets no
 * gradient; checking labels is the caller's business (the `crossEntropy`
 * objective of `@moprune/objectives` does it). Shapes and dtypes are the
 * caller's contract.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, divisor: number): tf.Scalar {
  if (hasSoftmaxCrossEntropyKernels()) {
    registerGradientOnce();
    const [loss, probabilities] = tf
      .engine()
      .runKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, { logits, labels } as unknown as tf.NamedTensorMap, {
        divisor,
      }) as tf.Tensor[];
    probabilities!.dispose();
    return loss as tf.Scalar;
  }
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const target = tf.oneHot(labels, logits.shape[1]!);
    // Entries with target 0 add exactly 0, even where log p is −∞.
    const terms = tf.where(tf.greater(target, 0), tf.mul(target, logp), tf.zerosLike(logp));
    return tf.div(tf.neg(tf.sum(terms)), divisor) as tf.Scalar;
  });
}
