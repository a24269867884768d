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
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  // PAVA for a non-increasing fit of z = v_sorted − w.
  const blockSum: number[] = [];
  const blockLen: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    blockSum.push(Math.abs(values[i]!) - weights[k]!);
    blockLen.push(1);
    while (blockSum.length > 1) {
      const last = blockSum.length - 1;
      if (blockSum[last - 1]! / blockLen[last - 1]! > blockSum[last]! / blockLen[last]!) break;
      blockSum[last - 1]! += blockSum[last]!;
      blockLen[last - 1]! += blockLen[last]!;
      blockSum.pop();
      blockLen.pop();
    }
  }
  const out = new Float64Array(n);
  let k = 0;
  for (let b = 0; b < blockSum.length; b++) {
    const mean = Math.max(0, blockSum[b]! / blockLen[b]!);
    for (let j = 0; j < blockLen[b]!; j++) out[order[k++]!] = mean;
  }
  return out;
}

/** GrOWL weight families. */
export type OwlWeights =
  /** θ = [β1 + β2, β2, β2, …]: the first (largest) group gets the extra β1 (the "spike" of Hotegni et al.'s reference: β1 = 0.8, β2 = 0.2). */
  | { readonly type: 'spike'; readonly beta1: number; readonly beta2: number }
  /** θ_i = λ1 + λ2·(n − i) (OSCAR-like, linearly decaying). */
  | { readonly type: 'linear'; readonly lambda1: number; readonly lambda2: number };

/** The n OWL weights (non-increasing) of a family. */
export function owlWeights(spec: OwlWeights, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    w[i] =
      spec.type === 'spike'
        ? spec.beta2 + (i === 0 ? spec.beta1 : 0)
        : spec.lambda1 + spec.lambda2 * (n - 1 - i);
  }
  return w;
}
