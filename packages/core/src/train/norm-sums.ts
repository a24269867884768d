import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel name of the sum of squares of a list of tensors in one call (a
 * gradient's squared norm, which every solver logs each step; a squared-ℓ2
 * penalty). A backend that registers it runs {@link sumOfSquares} as one
 * kernel instead of a square and a sum per tensor and an addition of the sums.
 *
 * Contract — inputs: an array of float32 tensors of any shapes (as `AddN`'s).
 * No attributes. Output: a float32 scalar, `Σ_tensors Σ_i x_i²`. NaN or ±∞ in
 * any input makes it NaN or +∞. Its gradient (registered by core) is `2·x·dy`
 * for each input, computed with ordinary ops.
 */
export const SUM_OF_SQUARES_KERNEL = 'MopruneSumOfSquares';

/**
 * Kernel name of the sum of absolute values of a list of tensors in one call
 * (an ℓ1 penalty). Contract as {@link SUM_OF_SQUARES_KERNEL}, with output
 * `Σ_tensors Σ_i |x_i|`. Its gradient (registered by core) is `sign(x)·dy` for
 * each input, with sign 0 at 0: the subgradient 0 that keeps exactly-zero
 * (pruned) weights where they are, as Keras' regularizers do.
 */
export const SUM_OF_ABS_KERNEL = 'MopruneSumOfAbs';

let gradientsRegistered = false;

function registerGradientsOnce(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  const perInput =
    (grad: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor) =>
    (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const d = Array.isArray(dy) ? dy[0]! : dy;
      const ders: Record<string, () => tf.Tensor> = {};
      saved.forEach((x, i) => {
        ders[i] = () => grad(x, d);
      });
      return ders;
    };
  tf.registerGradient({
    kernelName: SUM_OF_SQUARES_KERNEL,
    saveAllInputs: true,
    gradFunc: perInput((x, dy) => tf.mul(x, tf.mul(dy, 2))),
  });
  tf.registerGradient({
    kernelName: SUM_OF_ABS_KERNEL,
    saveAllInputs: true,
    gradFunc: perInput((x, dy) => tf.mul(tf.sign(x), dy)),
  });
}

/** True when the active backend runs {@link SUM_OF_SQUARES_KERNEL}. */
export function hasSumOfSquaresKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(SUM_OF_SQUARES_KERNEL, backendName) !== undefined;
}

/** True when the active backend runs {@link SUM_OF_ABS_KERNEL}. */
export function hasSumOfAbsKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(SUM_OF_ABS_KERNEL, backendName) !== undefined;
}

/**
 * `Σ_tensors Σ_i x_i²` of float32 `tensors` as a scalar tensor — a gradient
 * list's squared norm, a squared-ℓ2 penalty. One {@link SUM_OF_SQUARES_KERNEL}
 * call when the active backend registers it (`@moprune/native` does, summing in
 * double); otherwise `tf.square`, `tf.sum` and `tf.addN` (the same value up to
 * float rounding). Differentiable either way (`2·x` per input). An empty list gives 0.
 */
export function sumOfSquares(tensors: readonly tf.Tensor[]): tf.Scalar {
  return fusedSum(SUM_OF_SQUARES_KERNEL, tensors, (t) => tf.sum(tf.square(t)));
}

/**
 * `Σ_tensors Σ_i |x_i|` of float32 `tensors` as a scalar tensor — an ℓ1
 * penalty — whose gradient is `sign(x)` (0 at 0, unlike `tf.abs`'s −1). One
 * {@link SUM_OF_ABS_KERNEL} call when the active backend registers it
 * (`@moprune/native` does, summing in double); otherwise `x·sign(x)` summed per
 * tensor and added (the same value up to float rounding, the same gradient). An
 * empty list gives 0.
 */
export function sumOfAbs(tensors: readonly tf.Tensor[]): tf.Scalar {
  return fusedSum(SUM_OF_ABS_KERNEL, tensors, (t) => tf.sum(tf.mul(t, tf.sign(t))));
}

/** One `kernel` call over `tensors` where the backend registers it, else `part` per tensor added up. */
function fusedSum(
  kernel: string,
  tensors: readonly tf.Tensor[],
  part: (t: tf.Tensor) => tf.Tensor,
): tf.Scalar {
  if (tensors.length === 0) return tf.scalar(0);
  if (tf.getKernel(kernel, tf.getBackend()) !== undefined) {
    registerGradientsOnce();
    return tf.engine().runKernel(kernel, [...tensors] as unknown as tf.NamedTensorMap) as tf.Scalar;
  }
  return tf.tidy(() => tf.addN(tensors.map(part)) as tf.Scalar);
}
