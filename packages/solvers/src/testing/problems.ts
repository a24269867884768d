import type { StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link quadraticProblem}. */
export interface QuadraticProblemOptions {
  /** Centers c_i (one row per objective, all of one length n ≥ 1). */
  readonly centers: readonly (readonly number[])[];
  /** Positive diagonal curvatures s_ij (same shape as `centers`). @default all 1 */
  readonly scales?: readonly (readonly number[])[];
  /** Starting point x (length n). @default zeros */
  readonly start?: readonly number[];
  /**
   * Split of x into variables: sizes summing to n (each variable gets shape
   * `[size]`, the second and later ones `[size, 1]` to exercise ranks). @default one variable
   */
  readonly split?: readonly number[];
}

/** A step problem of m separable quadratics plus helpers to read and move its point. */
export interface QuadraticProblem {
  readonly problem: StepProblem;
  /** The variables holding x (owned; freed by `dispose`). */
  readonly variables: readonly tf.Variable[];
  /** x as numbers. */
  point(): number[];
  /** Sets x. */
  setPoint(x: readonly number[]): void;
  /** f(x) as numbers, computed in plain JS (float64). */
  values(x?: readonly number[]): number[];
  /** ∇f_i(x) as numbers (float64). */
  gradients(x?: readonly number[]): number[][];
  /** Advances the step/epoch counters reported by `problem`. */
  advance(epochEnd?: boolean): void;
  dispose(): void;
}

/**
 * m separable quadratics f_i(x) = Σ_j s_ij·(x_j − c_ij)². With unit
 * curvatures the Pareto set is the convex hull of the centers and every
 * point of it is Pareto-stationary (the weights that express x as a convex
 * combination of the centers make the gradients cancel). For conformance
 * and property tests of solvers.
 */
export function quadraticProblem(options: QuadraticProblemOptions): QuadraticProblem {
  const { centers } = options;
  const m = centers.length;
  const n = centers[0]?.length ?? 0;
  const scales = options.scales ?? centers.map((row) => row.map(() => 1));
  const split = options.split ?? [n];
  let offset = 0;
  const variables: tf.Variable[] = split.map((size, k) => {
    const init = Array.from({ length: size }, (_, j) => options.start?.[offset + j] ?? 0);
    offset += size;
    const t = k === 0 ? tf.tensor1d(init) : tf.tensor2d(init, [size, 1]);
    const v = tf.variable(t, true);
    t.dispose();
    return v;
  });
  const c = tf.tensor2d(centers.map((r) => [...r]));
  const s = tf.tensor2d(scales.map((r) => [...r]));
  let step = 0;
  let epoch = 0;
  const point = () => variables.flatMap((v) => Array.from(v.dataSync()));
  const values = (x: readonly number[] = point()) =>
    centers.map((row, i) => row.reduce((acc, cij, j) => acc + scales[i]![j]! * (x[j]! - cij) ** 2, 0));
  const gradients = (x: readonly number[] = point()) =>
    centers.map((row, i) => row.map((cij, j) => 2 * scales[i]![j]! * (x[j]! - cij)));
  const problem: StepProblem = {
    variables,
    m,
    get step() {
      return step;
    },
    get epoch() {
      return epoch;
    },
    evaluate(): tf.Scalar[] {
      const x = tf.concat(variables.map((v) => tf.reshape(v, [-1])));
      const sq = tf.mul(s, tf.square(tf.sub(x, c)));
      const rows = tf.sum(sq, 1);
      // tfjs's gradient of unstack fails when it has a single output (it stacks the lone upstream
      // gradient as if it were a list): one objective is read out by a reshape instead.
      return m === 1 ? [tf.reshape(rows, []) as tf.Scalar] : (tf.unstack(rows) as tf.Scalar[]);
    },
  };
  return {
    problem,
    variables,
    point,
    values,
    gradients,
    setPoint(x: readonly number[]) {
      let at = 0;
      for (const v of variables) {
        const size = v.size;
        const t = tf.tensor(x.slice(at, at + size), v.shape);
        v.assign(t);
        t.dispose();
        at += size;
      }
    },
    advance(epochEnd = false) {
      step++;
      if (epochEnd) epoch++;
    },
    dispose() {
      for (const v of variables) v.dispose();
      c.dispose();
      s.dispose();
    },
  };
}
