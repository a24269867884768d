import { SolverError } from '../errors.js';
import { checkPoints, type ObjectivePoint } from './points.js';

/**
 * Checks the reference point: same dimension as the points, finite, and weakly
 * worse than every point in every objective (so every point's box is well defined).
 */
function checkReference(points: readonly ObjectivePoint[], reference: ObjectivePoint): number {
  const m = checkPoints(points);
  if (reference.length === 0)
    throw new SolverError('EMPTY_OBJECTIVES', 'the reference point has no objectives');
  if (m !== 0 && reference.length !== m) {
    throw new SolverError(
      'INVALID_REFERENCE_POINT',
      `the reference point has ${reference.length} objectives, the points have ${m}`,
    );
  }
  reference.forEach((r, j) => {
    if (!Number.isFinite(r)) {
      throw new SolverError('INVALID_REFERENCE_POINT', `reference[${j}] is not finite (${r})`);
    }
  });
  points.forEach((p, i) => {
    p.forEach((v, j) => {
      if (v > reference[j]!) {
        throw new SolverError(
          'INVALID_REFERENCE_POINT',
          `the reference point does not bound the front: points[${i}][${j}] = ${v} > reference[${j}] = ${reference[j]}`,
          { details: { index: i, objective: j } },
        );
      }
    });
  });
  return reference.length;
}

/** Exact 2-D hypervolume of already-checked points: sort by f1, sweep f2. */
function sweep2d(points: readonly ObjectivePoint[], r0: number, r1: number): number {
  const sorted = [...points].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let volume = 0;
  let bestF2 = r1;
  for (const p of sorted) {
    const f2 = p[1]!;
    if (f2 < bestF2) {
      volume += (r0 - p[0]!) * (bestF2 - f2);
      bestF2 = f2;
    }
  }
  return volume;
}

/** HSO slicing on the last objective, recursing down to the 2-D sweep. */
function slice(points: readonly ObjectivePoint[], reference: ObjectivePoint, m: number): number {
  if (points.length === 0) return 0;
  if (m === 1) return reference[0]! - Math.min(...points.map((p) => p[0]!));
  if (m === 2) return sweep2d(points, reference[0]!, reference[1]!);
  const last = m - 1;
  const sorted = [...points].sort((a, b) => a[last]! - b[last]!);
  const lower = reference.slice(0, last);
  let volume = 0;
  for (let k = 0; k < sorted.length; k++) {
    const top = k + 1 < sorted.length ? sorted[k + 1]![last]! : reference[last]!;
    const depth = top - sorted[k]![last]!;
    if (depth <= 0) continue;
    // The slab between this point's last coordinate and the next one is covered
    // exactly by the (m−1)-D projections of the points at or below it.
    const projected = sorted.slice(0, k + 1).map((p) => p.slice(0, last));
    volume += depth * slice(projected, lower, last);
  }
  return volume;
}

/**
 * Exact hypervolume (Lebesgue measure of the region dominated by `points` and
 * bounded by `reference`) for two objectives: sort by f1 and sweep, O(n log n).
 * @throws SolverError `INVALID_REFERENCE_POINT` when some point is worse than the reference in an objective.
 */
export function hypervolume2d(points: readonly ObjectivePoint[], reference: ObjectivePoint): number {
  const m = checkReference(points, reference);
  if (m !== 2) throw new SolverError('INVALID_ARGUMENT', `hypervolume2d needs 2 objectives, got ${m}`);
  return sweep2d(points, reference[0]!, reference[1]!);
}

/**
 * Exact hypervolume for any number of objectives by HSO slicing (slice along
 * the last objective, recurse on the projections, 2-D sweep at the bottom).
 * Exponential in m in the worst case: meant for small m (≤ 4–5) and fronts
 * of at most a few hundred points. Dominated points and duplicates do not
 * change the result. Points equal to the reference in some objective add 0.
 * @throws SolverError `INVALID_REFERENCE_POINT` when some point is worse than the reference in an objective.
 */
export function hypervolume(points: readonly ObjectivePoint[], reference: ObjectivePoint): number {
  const m = checkReference(points, reference);
  return slice(points, reference, m);
}
