import type { StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkProblem,
  checkValues,
  disposeGradients,
  gradientsOf,
  gramMatrix,
  objectiveGradients,
  type VariableGradients,
} from '../internal/gradients.js';
import { type MinNormOptions, type MinNormResult, minNormWeights } from '../min-norm.js';

/** The per-objective gradients of a step and their min-norm combination. */
export interface MultiGradientStep {
  readonly values: number[];
  /** grads[i][v]: gradient of objective i w.r.t. variable v (caller disposes via {@link disposeGradients}). */
  readonly grads: VariableGradients[];
  /**
   * The min-norm weights c of the scaled gradients g_i/s_i (`scales` all 1 without a
   * scaling): the direction is Σ (c_i/s_i)·g_i.
   */
  readonly minNorm: MinNormResult & { readonly scales: readonly number[] };
  /** The Gram matrix of the unscaled gradients, G_ij = g_i·g_j (over the `gramOver` variables when given). */
  readonly gram: readonly (readonly number[])[];
}

/**
 * m backward passes (one per objective; each re-runs the forward pass), the
 * Gram matrix from per-variable dot products, and the min-norm weights.
 * On any error every gradient is disposed before rethrowing, so a failed
 * step leaves the variables and the tensor count untouched. The m passes
 * only see the same function when `problem.evaluate()` is deterministic
 * within a step (dropout masks and sampled gates fixed per step by the
 * loop); otherwise each objective's gradient belongs to another sample.
 * With `gramOver` (one flag per variable) the Gram matrix, and so the min-norm
 * weights, come from the flagged variables' gradients only (MGDA's shared
 * parameters); `grads` still covers every variable.
 */
export function multiGradientStep(
  problem: StepProblem,
  variables: readonly tf.Variable[],
  options: MinNormOptions,
  scale?: (values: readonly number[], gram: readonly (readonly number[])[]) => readonly number[],
  gramOver?: readonly boolean[],
): MultiGradientStep {
  checkProblem(problem);
  const grads: VariableGradients[] = [];
  let values: number[] = [];
  try {
    for (let i = 0; i < problem.m; i++) {
      // The first pass reads every value (logged, checked); the others take objective i alone,
      // without a forward pass when it does not read the network's outputs.
      grads.push(
        i === 0
          ? gradientsOf(
              problem,
              variables,
              (fs) => fs[0]!,
              (v) => {
                values = v;
              },
            )
          : objectiveGradients(problem, variables, i),
      );
      if (i === 0) checkValues(values);
    }
    const gram = gramMatrix(
      gramOver === undefined ? grads : grads.map((g) => g.map((x, v) => (gramOver[v] ? x : null))),
    );
    const scales = scale === undefined ? values.map(() => 1) : [...scale(values, gram)];
    // Gram matrix of g_i/s_i: G_ij/(s_i·s_j).
    const scaled = gram.map((row, i) => row.map((x, j) => x / (scales[i]! * scales[j]!)));
    const minNorm = { ...minNormWeights(scaled, options), scales };
    return { values, grads, minNorm, gram };
  } catch (e) {
    disposeGradients(grads);
    throw e;
  }
}

/**
 * d_v = Σ_i c_i g_{i,v} per variable; null where no objective has a gradient
 * (such a variable is left alone). Caller disposes.
 */
export function combineGradients(
  grads: readonly VariableGradients[],
  weights: readonly number[],
): (tf.Tensor | null)[] {
  const count = grads[0]?.length ?? 0;
  return Array.from({ length: count }, (_, v) => {
    const present = grads.map((g, i) => [g[v], weights[i]!] as const).filter(([g]) => g);
    if (present.length === 0) return null;
    // One term is just its scaled gradient (no AddN call).
    if (present.length === 1) return tf.tidy(() => tf.mul(present[0]![0]!, present[0]![1]));
    return tf.tidy(() => tf.addN(present.map(([g, c]) => tf.mul(g!, c))));
  });
}
