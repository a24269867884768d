import { CoreError } from './errors.js';

/**
 * The ordered weighted ℓ1 (OWL) norm Ω(x) = Σ_i θ_i·|x|_[i] (|x|_[1] ≥ |x|_[2] ≥ …)
 * and its proximal operator — the one definition that `@moprune/objectives`
 * (the differentiable GrOWL penalty) and `@moprune/pruners` (the GrOWL prox
 * pruner) both use, so the penalty a solver sees and the prox a pruner applies
 * are the same norm (GrOWL: Oswal et al. 2016, Zhang et al. 2018; the θ
 * families of Hotegni et al. 2023's reference code).
 */

/** The OWL weight families. */
export type OwlWeightKind = 'spike' | 'linear';

/**
 * The OWL weights θ_1 ≥ … ≥ θ_n ≥ 0 for n entries:
 * - `spike`: θ = [β1 + β2, β2, β2, …] (the reference's MultiMNIST setting
 *   β1 = 0.8, β2 = 0.2 gives [1.0, 0.2, 0.2, …]);
 * - `linear` (OSCAR-like): θ_i = β1 + β2·(n − i)/n for i = 1…n — the
 *   reference's normalization, so θ stays in [β1, β1 + β2) whatever n is.
 * @throws CoreError `INVALID_ARGUMENT` for a negative or fractional n, or β < 0.
 */
export function owlWeights(kind: OwlWeightKind, n: number, beta1: number, beta2: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new CoreError('INVALID_ARGUMENT', `n must be a count, got ${n}`);
  if (!(beta1 >= 0) || !(beta2 >= 0)) {
    throw new CoreError('INVALID_ARGUMENT', `beta1 and beta2 must be ≥ 0, got ${beta1}, ${beta2}`);
  }
  if (kind !== 'spike' && kind !== 'linear') {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `OWL weights: kind must be 'spike' or 'linear', got ${String(kind)}`,
    );
  }
  const theta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    theta[i] = kind === 'spike' ? (i === 0 ? beta1 + beta2 : beta2) : beta1 + (beta2 * (n - (i + 1))) / n;
  }
  return theta;
}

function checkOwlWeights(n: number, weights: ArrayLike<number>): void {
  if (weights.length !== n) {
    throw new CoreError('INVALID_ARGUMENT', `OWL weights have length ${weights.length}, values ${n}`);
  }
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || (i > 0 && w > weights[i - 1]!)) {
      throw new CoreError('INVALID_ARGUMENT', 'OWL weights must be non-negative and non-increasing');
    }
  }
}

/**
 * The proximal operator of the OWL norm: argmin_x ½‖x − v‖² + Σ_i θ_i·|x|_[i].
 * Scale θ by the step size for a proximal gradient step. Sort |v|
 * decreasingly, subtract θ, project onto non-increasing sequences with the
 * pool-adjacent-violators algorithm, clip at 0, undo the sort and restore the
 * signs (ties keep their input order). O(n log n).
 * @param v - any real vector
 * @param weights - θ, non-negative and non-increasing, same length as v
 * @throws CoreError `INVALID_ARGUMENT` when θ is not so.
 */
export function owlProx(v: ArrayLike<number>, weights: ArrayLike<number>): Float64Array {
  const n = v.length;
  checkOwlWeights(n, weights);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => Math.abs(v[b]!) - Math.abs(v[a]!) || a - b,
  );
  const sums = new Float64Array(n);
  const lens = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    sums[top] = Math.abs(v[order[i]!]!) - weights[i]!;
    lens[top] = 1;
    top++;
    while (top > 1 && sums[top - 2]! / lens[top - 2]! <= sums[top - 1]! / lens[top - 1]!) {
      sums[top - 2]! += sums[top - 1]!;
      lens[top - 2]! += lens[top - 1]!;
      top--;
    }
  }
  const out = new Float64Array(n);
  let k = 0;
  for (let b = 0; b < top; b++) {
    const value = Math.max(0, sums[b]! / lens[b]!);
    for (let j = 0; j < lens[b]!; j++, k++) {
      const idx = order[k]!;
      // value > 0 only when |v| > 0, so zeros stay +0 (no −0 for negative inputs).
      out[idx] = value > 0 ? Math.sign(v[idx]!) * value : 0;
    }
  }
  return out;
}
