import { isMopruneError, type StepProblem, sumOfSquares } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { SolverError } from '../errors.js';

/** Gradients of one scalar w.r.t. the problem's variables, in variable order; null where it does not depend on one. */
export type VariableGradients = (tf.Tensor | null)[];

/**
 * Checks the parts of a step problem every solver relies on.
 * @throws SolverError `EMPTY_OBJECTIVES` for m < 1, `INVALID_ARGUMENT` for an empty variable list.
 */
export function checkProblem(problem: StepProblem): void {
  if (!Number.isInteger(problem.m) || problem.m < 1) {
    throw new SolverError('EMPTY_OBJECTIVES', `the step problem has no objectives (m = ${problem.m})`);
  }
  if (problem.variables.length === 0) {
    throw new SolverError('INVALID_ARGUMENT', 'the step problem has no variables');
  }
}

/**
 * One forward + backward pass: the gradient of `combine(values)` w.r.t.
 * `variables`, where `values` are the problem's m objective values. When
 * `onValues` is given it receives the values as numbers (read inside the
 * pass, so no extra forward pass is needed for logging).
 * @throws SolverError `OBJECTIVE_COUNT_MISMATCH` when evaluate() returns other than m values,
 *   `NO_GRADIENT` when the combined scalar depends on no trainable variable.
 */
export function gradientsOf(
  problem: StepProblem,
  variables: readonly tf.Variable[],
  combine: (values: tf.Scalar[]) => tf.Scalar,
  onValues?: (values: number[]) => void,
): VariableGradients {
  return passGradients(variables, () => {
    const values = problem.evaluate();
    if (values.length !== problem.m) {
      throw new SolverError(
        'OBJECTIVE_COUNT_MISMATCH',
        `evaluate() returned ${values.length} values, the problem declares m = ${problem.m}`,
      );
    }
    onValues?.(values.map((v) => v.dataSync()[0]!));
    return combine(values);
  });
}

/**
 * The gradient of objective `i` alone: through the problem's `evaluateOne` when it has one (no
 * forward pass for an objective of the parameters only, e.g. an ℓ1 penalty), else as
 * {@link gradientsOf} picking `values[i]` — the same gradients either way.
 */
export function objectiveGradients(
  problem: StepProblem,
  variables: readonly tf.Variable[],
  i: number,
): VariableGradients {
  const one = problem.evaluateOne;
  if (one === undefined) return gradientsOf(problem, variables, (values) => values[i]!);
  return passGradients(variables, () => one.call(problem, i));
}

/** One backward pass of `scalar()` (which runs the forward pass) w.r.t. `variables`. */
function passGradients(variables: readonly tf.Variable[], scalar: () => tf.Scalar): VariableGradients {
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  // An error inside the pass (evaluate() throwing or returning the wrong count,
  // onValues or combine throwing) is held and the pass is finished on a zero
  // that depends on the variables: the engine frees the tensors its tape saved
  // for the backward pass only when the pass ends, so throwing from inside it
  // would leak them on every failed step.
  let failed = false;
  let failure: unknown;
  try {
    // Inside tidy, so that tensors of a pass that throws (e.g. no gradient) are freed.
    result = tf.tidy(() =>
      tf.variableGrads(() => {
        try {
          return scalar();
        } catch (e) {
          failed = true;
          failure = e;
          return tf.mul(tf.addN(variables.map((v) => tf.sum(v))), 0) as tf.Scalar;
        }
      }, variables as tf.Variable[]),
    );
  } catch (e) {
    if (failed) throw failure;
    if (isMopruneError(e)) throw e;
    if (
      e instanceof Error &&
      /connection between any variable|none of the .* variables is trainable/.test(e.message)
    ) {
      throw new SolverError('NO_GRADIENT', 'an objective does not depend on any trainable variable', {
        cause: e,
      });
    }
    throw e;
  }
  if (failed) {
    result.value.dispose();
    for (const g of Object.values(result.grads)) g.dispose();
    throw failure;
  }
  result.value.dispose();
  return variables.map((v) => result.grads[v.name] ?? null);
}

/** Throws `NON_FINITE_VALUE` naming the first objective whose value is NaN or ±∞. */
export function checkValues(values: readonly number[]): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      throw new SolverError('NON_FINITE_VALUE', `objective ${i} has the non-finite value ${v}`, {
        details: { objective: i },
      });
    }
  });
}

/** Disposes every gradient of every list. */
export function disposeGradients(lists: readonly VariableGradients[]): void {
  for (const list of lists) for (const g of list) g?.dispose();
}

/**
 * The Gram matrix G_ij = g_i·g_j of m gradient lists, computed as
 * Σ_variables sum(g_i ⊙ g_j) without concatenating the variables (the diagonal
 * through core's `sumOfSquares`), read back in one transfer. Missing gradients
 * count as zero.
 */
export function gramMatrix(grads: readonly VariableGradients[]): number[][] {
  const m = grads.length;
  const pairs: [number, number][] = [];
  for (let i = 0; i < m; i++) for (let j = i; j < m; j++) pairs.push([i, j]);
  const packed = tf.tidy(() =>
    tf.stack(
      pairs.map(([i, j]) => {
        // A diagonal entry is a squared norm: one fused call over the list where the backend has it.
        if (i === j) return sumOfSquares(grads[i]!.filter((g): g is tf.Tensor => g !== null));
        const terms: tf.Tensor[] = [];
        grads[i]!.forEach((gi, v) => {
          const gj = grads[j]![v];
          if (gi && gj) terms.push(tf.sum(tf.mul(gi, gj)));
        });
        return terms.length > 0 ? tf.addN(terms) : tf.scalar(0);
      }),
    ),
  );
  const data = packed.dataSync();
  packed.dispose();
  const gram = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  pairs.forEach(([i, j], k) => {
    gram[i]![j] = data[k]!;
    gram[j]![i] = data[k]!;
  });
  return gram;
}

/** Throws `NON_FINITE_GRADIENT` when a squared gradient norm is not finite. */
export function checkGradientNorm(normSquared: number, objective?: number): void {
  if (!Number.isFinite(normSquared)) {
    const which =
      objective === undefined ? 'the combined gradient' : `the gradient of objective ${objective}`;
    throw new SolverError('NON_FINITE_GRADIENT', `${which} holds NaN or Infinity`, {
      details: objective === undefined ? {} : { objective },
    });
  }
}

/** Σ_variables sum(g²) of one gradient list, as a number. */
export function squaredNorm(grads: VariableGradients): number {
  const present = grads.filter((g): g is tf.Tensor => g !== null);
  if (present.length === 0) return 0;
  const total = sumOfSquares(present);
  const value = total.dataSync()[0]!;
  total.dispose();
  return value;
}
