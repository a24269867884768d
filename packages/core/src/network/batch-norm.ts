import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel name of training-mode batch normalization in one call. A backend
 * that registers it (and {@link BATCH_NORM_TRAINING_GRAD_KERNEL}) runs
 * {@link batchNormTraining} as two kernels — one forward, one backward —
 * instead of the dozen small ops `tf.moments` + `tf.batchNorm` and their
 * gradients take (see the contract on {@link batchNormTraining}).
 *
 * Contract — inputs `{ x, scale, offset }`: `x` float32 of rank ≥ 2, channels
 * last; `scale` and `offset` float32 of shape `[C]` (C = x's last axis).
 * Attributes `{ epsilon, relu }` (epsilon > 0; relu boolean, absent = false).
 * Outputs `[y, mean, variance]`: `y` shaped like `x`,
 * `y = scale·(x − mean)/√(variance + epsilon) + offset`, then `max(y, 0)`
 * when `relu` (NaN stays NaN, as `tf.relu`); `mean` and `variance` of shape
 * `[C]`, the moments of `x` over every axis but the last, variance biased
 * (divided by the count, as `tf.moments`).
 */
export const BATCH_NORM_TRAINING_KERNEL = 'MopruneBatchNormTraining';

/**
 * Kernel name of the gradient of {@link BATCH_NORM_TRAINING_KERNEL}.
 *
 * Contract — inputs `{ dy, x, scale, offset, mean, variance }` (shapes as in
 * the forward kernel, `mean`/`variance` its outputs), attributes as the
 * forward call's. Outputs `[dx, dscale, doffset]` with, per channel c over its
 * N values, x̂ = (x − mean)·r, r = 1/√(variance + epsilon) and g = dy — or,
 * with `relu`, g = dy·step(pre) as tfjs's ReLU gradient computes it, pre being
 * the value the forward kernel clamped:
 * `doffset = Σ g`, `dscale = Σ g·x̂`,
 * `dx = scale·r/N · (N·g − doffset − x̂·dscale)` — the exact gradient of the
 * forward output `y` with respect to `x`, the batch statistics included.
 */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'MopruneBatchNormTrainingGrad';

/** Attributes of {@link BATCH_NORM_TRAINING_KERNEL} and its gradient kernel. */
export interface BatchNormTrainingAttrs {
  /** Added to the variance before the square root; > 0. */
  readonly epsilon: number;
  /** Apply a ReLU to the output in the same pass. @default false */
  readonly relu?: boolean;
}

/** Options of {@link batchNormTraining}. */
export interface BatchNormTrainingOptions {
  /**
   * Follow the normalization with a ReLU (`tf.relu(y)`), fused into the same
   * kernels when the backend has them: one pass over the activation fewer
   * forward and backward. @default false
   */
  readonly relu?: boolean;
}

/** Result of {@link batchNormTraining}. */
export interface BatchNormTrainingResult {
  /** The normalized, scaled and shifted activations (after the ReLU when asked for), shaped like `x`. */
  readonly y: tf.Tensor;
  /** Per-channel batch mean, shape `[C]`. */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased batch variance, shape `[C]`. */
  readonly variance: tf.Tensor1D;
}

let gradientRegistered = false;

function registerGradientOnce(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING_KERNEL,
    inputsToSave: ['x', 'scale', 'offset'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      // Only y's gradient is used: the mean and variance outputs feed running
      // statistics and count as constants (documented on batchNormTraining).
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, scale, offset, mean, variance] = saved as [
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
        tf.Tensor,
      ];
      const { epsilon, relu } = attrs as unknown as BatchNormTrainingAttrs;
      const [dx, dscale, doffset] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING_GRAD_KERNEL,
          { dy, x, scale, offset, mean, variance } as unknown as tf.NamedTensorMap,
          { epsilon, relu: relu === true } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      return { x: () => dx!, scale: () => dscale!, offset: () => doffset! };
    },
  });
}

/**
 * True when the active backend registers both batch-norm training kernels,
 * so {@link batchNormTraining} runs them instead of composing tfjs ops.
 */
export function hasBatchNormTrainingKernels(backendName: string = tf.getBackend()): boolean {
  return (
    tf.getKernel(BATCH_NORM_TRAINING_KERNEL, backendName) !== undefined &&
    tf.getKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, backendName) !== undefined
  );
}

/**
 * Training-mode batch normalization over every axis of `x` but the last:
 * `y = scale·(x − μ)/√(σ² + epsilon) + offset` with μ, σ² the batch's own
 * per-channel moments (σ² biased), returned with `y` for running statistics.
 *
 * The gradient of `y` flows to `x` (through μ and σ² as well), `scale` and
 * `offset`. The returned `mean` and `variance` are treated as constants by
 * the gradient — they are meant for moving averages, not for a loss.
 *
 * When the active backend registers {@link BATCH_NORM_TRAINING_KERNEL} and
 * {@link BATCH_NORM_TRAINING_GRAD_KERNEL} (`@moprune/native` does), this is
 * one forward and one backward kernel; otherwise it is `tf.moments` followed
 * by `tf.batchNorm`, differentiated op by op (same values within float
 * rounding). `options.relu` appends a ReLU (fused into the kernels).
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  epsilon: number,
  options: BatchNormTrainingOptions = {},
): BatchNormTrainingResult {
  const relu = options.relu === true;
  if (hasBatchNormTrainingKernels()) {
    registerGradientOnce();
    const [y, mean, variance] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_KERNEL,
        { x, scale, offset } as unknown as tf.NamedTensorMap,
        { epsilon, relu } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const m = tf.moments(x, axes);
  const y = tf.batchNorm(x, m.mean, m.variance, offset, scale, epsilon);
  return { y: relu ? tf.relu(y) : y, mean: m.mean as tf.Tensor1D, variance: m.variance as tf.Tensor1D };
}
