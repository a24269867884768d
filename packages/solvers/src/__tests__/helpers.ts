import type { StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { SolverError } from '../errors.js';

/** The SolverError `fn` throws (fails when it throws none, or anything else). */
export function thrown(fn: () => unknown): SolverError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SolverError);
    return e as SolverError;
  }
  throw new Error('expected a SolverError, none was thrown');
}

/**
 * f1 = (a − 1)² + (b − 3)², f2 = (a + 1)² + b² over the first two of `vs` (the rest unused): at
 * a = b = 0, g1 = (−2, −6) and g2 = (2, 0).
 */
export function twoObjectives(vs: tf.Variable[]): StepProblem {
  const [a, b] = vs as [tf.Variable, tf.Variable];
  return {
    variables: vs,
    m: 2,
    step: 0,
    epoch: 0,
    evaluate: () => [
      tf.add(tf.square(tf.sub(a, 1)), tf.square(tf.sub(b, 3))) as tf.Scalar,
      tf.add(tf.square(tf.add(a, 1)), tf.square(b)) as tf.Scalar,
    ],
  };
}
