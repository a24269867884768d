import * as tf from '@tensorflow/tfjs-core';

/**
 * A non-trainable variable holding `initial`'s values; `initial` is disposed.
 * (`tf.variable(t)` keeps `t` alive as a separate tensor, which would leak.)
 */
export function variableFrom(initial: tf.Tensor, trainable = false): tf.Variable {
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}

/** Sets a scalar variable to `value` without leaking the temporary tensor. */
export function assignScalar(v: tf.Variable, value: number): void {
  const t = tf.scalar(value);
  v.assign(t);
  t.dispose();
}
