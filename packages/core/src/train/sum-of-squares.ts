import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel name of the sum of squares of a list of tensors in one call (a
 * gradient's squared norm, which every solver logs each step). A backend that
 * registers it runs {@link sumOfSquares} as one kernel instead of a square and
 * a sum per tensor and an addition of the sums.
 *
 * Contract — inputs: an array of float32 tensors of any shapes (as `AddN`'s).
 * No attributes. Output: a float32 scalar, `Σ_tensors Σ_i x_i²`. NaN or ±∞ in
 * any input makes it NaN or +∞. Not differentiable (no gradient is registered).
 */
export const SUM_OF_SQUARES_KERNEL = 'MopruneSumOfSquares';

/** True when the active backend runs {@link SUM_OF_SQUARES_KERNEL}. */
export function hasSumOfSquaresKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(SUM_OF_SQUARES_KERNEL, backendName) !== undefined;
}

/**
 * `Σ_tensors Σ_i x_i²` of float32 `tensors` as a scalar tensor — a gradient
 * list's squared norm. One {@link SUM_OF_SQUARES_KERNEL} call when the active
 * backend registers it (`@moprune/native` does, summing in double); otherwise
 * `tf.square`, `tf.sum` and `tf.addN` (the same value up to float rounding).
 * An empty list gives 0. Not meant for differentiation.
 */
export function sumOfSquares(tensors: readonly tf.Tensor[]): tf.Scalar {
  if (tensors.length === 0) return tf.scalar(0);
  if (hasSumOfSquaresKernel())
    return tf
      .engine()
      .runKernel(SUM_OF_SQUARES_KERNEL, [...tensors] as unknown as tf.NamedTensorMap) as tf.Scalar;
  return tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.square(t)))) as tf.Scalar);
}
