import { owlWeights as coreOwlWeights, owlProx } from '@moprune/core';

/**
 * The proximal operator of the ordered weighted ℓ1 (OWL) norm, applied to
 * group norms (GrOWL; Oswal et al. 2016, Zhang et al. 2018):
 * prox(v) = argmin_x ½‖x − v‖² + Σ_i w_i·|x|_[i], with w non-increasing and
 * |x|_[i] the i-th largest magnitude. For non-negative v it is computed by
 * sorting v decreasingly, subtracting w, projecting onto the non-increasing
 * cone (pool-adjacent-violators) and clipping at zero.
 */
export function proxOwl(
  values: Float64Array | Float32Array,
  weights: Float64Array | Float32Array,
): Float64Array {
  const n = values.length;
  if (weights.length !== n) throw new RangeError(`proxOwl: ${n} values but ${weights.length} weights`);
  // The one implementation, shared with @moprune/objectives' GrOWL penalty.
  return owlProx(values, weights);
}

/**
 * GrOWL weight families — the same θ as `@moprune/objectives`' GrOWL penalty
 * (core's `owlWeights`), so the prox this pruner applies and the penalty a
 * solver differentiates are one norm.
 */
export type OwlWeights =
  /** θ = [β1 + β2, β2, β2, …]: the first (largest) group gets the extra β1 (the "spike" of Hotegni et al.'s reference: β1 = 0.8, β2 = 0.2). */
  | { readonly type: 'spike'; readonly beta1: number; readonly beta2: number }
  /** θ_i = β1 + β2·(n − i)/n, i = 1…n (OSCAR-like, linearly decaying; the reference's normalization). */
  | { readonly type: 'linear'; readonly beta1: number; readonly beta2: number };

/** The n OWL weights (non-increasing) of a family. */
export function owlWeights(spec: OwlWeights, n: number): Float64Array {
  return coreOwlWeights(spec.type, n, spec.beta1, spec.beta2);
}
