import { owlProx as coreOwlProx, owlWeights } from '@moprune/core';
import { ObjectiveError } from './errors.js';

/** How GrOWL weights θ are generated (Hotegni et al.'s reference offers these two). */
export type GrowlWeightKind = 'spike' | 'linear';

/**
 * GrOWL/OWL weights θ_1 ≥ … ≥ θ_n ≥ 0 for n groups — core's `owlWeights`,
 * the one definition the GrOWL prox pruner uses too.
 * - `spike`: θ = [β1 + β2, β2, β2, …] (the reference's MultiMNIST setting
 *   β1 = 0.8, β2 = 0.2 gives [1.0, 0.2, 0.2, …]).
 * - `linear` (OSCAR-like): θ_i = β1 + β2·(n − i)/n for i = 1…n, the
 *   reference's normalization, so θ stays in [β1, β1 + β2) whatever n is.
 */
export function growlWeights(kind: GrowlWeightKind, n: number, beta1: number, beta2: number): Float32Array {
  // The one definition (core's), shared with the GrOWL prox pruner; it validates n and β.
  return Float32Array.from(owlWeights(kind, n, beta1, beta2));
}

/**
 * The proximal operator of the ordered weighted ℓ1 norm
 * Ω(x) = Σ_i θ_i·|x|_[i] (|x|_[1] ≥ |x|_[2] ≥ …):
 * argmin_x ½‖x − v‖² + Ω(x). Scale θ by the step size for a proximal
 * gradient step. Algorithm (Bogdan et al.'s SLOPE prox; Zeng & Figueiredo):
 * sort |v| decreasingly, subtract θ, project onto non-increasing sequences
 * with the pool-adjacent-violators algorithm, clip at 0, undo the sort and
 * restore the signs. O(n log n). (Core's `owlProx`, the one implementation,
 * with float32 output; bad weights are a CoreError `INVALID_ARGUMENT`.)
 *
 * @param v - any real vector
 * @param weights - θ, non-negative and non-increasing, same length as v
 */
export function owlProx(v: ArrayLike<number>, weights: ArrayLike<number>): Float32Array {
  return Float32Array.from(coreOwlProx(v, weights));
}

/**
 * The GrOWL proximal step expressed as one factor per group: with group
 * norms ‖w_g‖ and weights θ, the prox of Σ θ_i‖w_[i]‖ maps each group to
 * w_g·(p_g/‖w_g‖) where p = owlProx(norms, θ). Returns those factors
 * (in [0, 1]; 0 for groups that become, or already are, zero). Multiply each
 * group's entries by its factor to apply the step.
 */
export function growlProxScales(norms: ArrayLike<number>, weights: ArrayLike<number>): Float32Array {
  for (let i = 0; i < norms.length; i++) {
    if (!(norms[i]! >= 0)) throw new ObjectiveError('INVALID_ARGUMENT', `group norm ${i} is ${norms[i]}`);
  }
  const shrunk = owlProx(norms, weights);
  const out = new Float32Array(norms.length);
  for (let i = 0; i < norms.length; i++) out[i] = norms[i]! > 0 ? shrunk[i]! / norms[i]! : 0;
  return out;
}
