import { SolverError } from '../errors.js';
import { checkPoints, nonDominatedIndices, type ObjectivePoint } from './points.js';

/** Options of {@link kneeByDistance}. */
export interface KneeByDistanceOptions {
  /**
   * Points to leave out before the front is formed and normalized — say
   * candidates that collapsed to a constant predictor: kept in the list (and
   * in reports) but never the knee and never an extreme of the normalization.
   * When every point is left out, none is. @default none
   */
  readonly ignore?: (index: number) => boolean;
}

/**
 * The knee of a biobjective front: among the non-dominated points, the one
 * farthest from the line through the front's two extremes (the point with the
 * least f1 and the point with the least f2), measured after normalizing each
 * objective to [0, 1] over the front so that units do not decide the knee.
 * Dominated points, and the points `options.ignore` names, are left out.
 * With one or two distinct non-dominated points every distance is 0 and the
 * extreme with the least f1 is returned.
 * @returns the index of the knee in `points`.
 * @throws SolverError `INVALID_ARGUMENT` for an empty list or a dimension other than 2.
 */
export function kneeByDistance(
  points: readonly ObjectivePoint[],
  options: KneeByDistanceOptions = {},
): number {
  const m = checkPoints(points);
  if (points.length === 0)
    throw new SolverError('INVALID_ARGUMENT', 'kneeByDistance needs at least one point');
  if (m !== 2) throw new SolverError('INVALID_ARGUMENT', `kneeByDistance needs 2 objectives, got ${m}`);
  const kept = points.map((_, i) => i).filter((i) => !(options.ignore?.(i) ?? false));
  const considered = kept.length === 0 ? points.map((_, i) => i) : kept;
  const front = nonDominatedIndices(considered.map((i) => points[i]!)).map((k) => considered[k]!);
  const f1 = front.map((i) => points[i]![0]!);
  const f2 = front.map((i) => points[i]![1]!);
  const lo1 = Math.min(...f1);
  const lo2 = Math.min(...f2);
  const span1 = Math.max(...f1) - lo1 || 1;
  const span2 = Math.max(...f2) - lo2 || 1;
  const x = f1.map((v) => (v - lo1) / span1);
  const y = f2.map((v) => (v - lo2) / span2);
  // On a normalized non-dominated front the extremes are (0, 1) and (1, 0):
  // the line x + y = 1, and the distance of (x, y) below it is (1 − x − y)/√2.
  let best = 0;
  let bestDistance = Number.NEGATIVE_INFINITY;
  let bestF1 = Number.POSITIVE_INFINITY;
  front.forEach((_, k) => {
    const d = (1 - x[k]! - y[k]!) / Math.SQRT2;
    if (d > bestDistance + 1e-12 || (Math.abs(d - bestDistance) <= 1e-12 && x[k]! < bestF1)) {
      best = k;
      bestDistance = d;
      bestF1 = x[k]!;
    }
  });
  return front[best]!;
}

/** One evaluated candidate of a scalarization sweep. */
export interface WeightedResult {
  /** The weights the candidate was trained with. */
  readonly lambda: readonly number[];
  /** Its objective values. */
  readonly f: ObjectivePoint;
}

/**
 * The reference code's rule as it computes it, wrap-around included: over the
 * efficient candidates sorted by λ2 ascending, r = λ1/λ2 (∞ for λ2 = 0),
 * `argmax(|r − roll(r, 1)|) − 1` with NumPy's semantics — `roll` wraps the
 * last element to the front, ∞ − ∞ is NaN, `argmax` returns the first NaN if
 * there is one (else the first maximum), and index −1 is the last element.
 * With λ2 = 0 among the efficient candidates the first difference is ∞ (or
 * NaN), so the rule usually lands on the last efficient candidate.
 */
function referenceLambdaJump(results: readonly WeightedResult[], efficient: readonly number[]): number {
  const n = efficient.length;
  if (n === 0) throw new SolverError('INVALID_ARGUMENT', 'kneeByLambdaJump: no efficient candidate');
  const r = efficient.map((i) => {
    const [l1, l2] = results[i]!.lambda as [number, number];
    return l2 === 0 ? (l1 === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : l1 / l2;
  });
  const d = r.map((v, i) => Math.abs(v - r[(i - 1 + n) % n]!));
  let arg = d.findIndex((v) => Number.isNaN(v));
  if (arg < 0) {
    arg = 0;
    for (let i = 1; i < n; i++) if (d[i]! > d[arg]!) arg = i;
  }
  return efficient[(arg - 1 + n) % n]!;
}

/**
 * The knee rule of the Reiners et al. (2020) reference code, offered for
 * reproduction: among the efficient (non-dominated) candidates, sorted by λ2
 * ascending, compute r = λ1/λ2 and return the candidate just after the largest
 * drop r_k − r_{k+1}.
 *
 * Fragile by construction, which is why {@link kneeByDistance} is the default
 * knee: the choice depends on how the λ grid was spaced, not on the shape of
 * the front; candidates with λ2 = 0 have r = ∞ and are skipped (the reference
 * code's handling of them, and of the first/last element, is off by one and
 * wraps around); ties go to the first drop. Needs at least two efficient
 * candidates with λ2 > 0, else it returns the efficient candidate with the least λ2.
 * `{ reference: true }` computes the reference's expression exactly instead,
 * wrap-around and all (see `referenceLambdaJump` in the source).
 * @returns the index of the chosen candidate in `results`.
 */
export function kneeByLambdaJump(
  results: readonly WeightedResult[],
  options: { readonly reference?: boolean } = {},
): number {
  if (results.length === 0)
    throw new SolverError('INVALID_ARGUMENT', 'kneeByLambdaJump needs at least one result');
  results.forEach((r, i) => {
    if (r.lambda.length !== 2) {
      throw new SolverError(
        'INVALID_ARGUMENT',
        `results[${i}].lambda must have 2 weights, got ${r.lambda.length}`,
      );
    }
  });
  const efficient = nonDominatedIndices(results.map((r) => r.f)).sort(
    (a, b) => results[a]!.lambda[1]! - results[b]!.lambda[1]!,
  );
  if (options.reference === true) return referenceLambdaJump(results, efficient);
  const finite = efficient.filter((i) => results[i]!.lambda[1]! > 0);
  if (finite.length < 2) return finite[0] ?? efficient[0]!;
  const ratio = (i: number) => results[i]!.lambda[0]! / results[i]!.lambda[1]!;
  let best = finite[1]!;
  let bestDrop = Number.NEGATIVE_INFINITY;
  for (let k = 0; k + 1 < finite.length; k++) {
    const drop = ratio(finite[k]!) - ratio(finite[k + 1]!);
    if (drop > bestDrop) {
      bestDrop = drop;
      best = finite[k + 1]!;
    }
  }
  return best;
}
