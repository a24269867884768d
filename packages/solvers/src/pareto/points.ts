import { SolverError } from '../errors.js';

/** A point in objective space (all objectives minimized). */
export type ObjectivePoint = readonly number[];

/**
 * Checks that `points` is a non-ragged list of finite vectors with at least
 * one objective, and returns the dimension m (0 for an empty list).
 * @throws SolverError `EMPTY_OBJECTIVES` for zero-length vectors, `INVALID_POINTS` otherwise.
 */
export function checkPoints(points: readonly ObjectivePoint[], what = 'points'): number {
  if (points.length === 0) return 0;
  const m = points[0]!.length;
  if (m === 0) throw new SolverError('EMPTY_OBJECTIVES', `${what}[0] has no objectives`);
  points.forEach((p, i) => {
    if (p.length !== m) {
      throw new SolverError(
        'INVALID_POINTS',
        `${what}[${i}] has ${p.length} objectives, ${what}[0] has ${m}`,
        { details: { index: i } },
      );
    }
    p.forEach((v, j) => {
      if (!Number.isFinite(v)) {
        throw new SolverError('INVALID_POINTS', `${what}[${i}][${j}] is not finite (${v})`, {
          details: { index: i, objective: j },
        });
      }
    });
  });
  return m;
}

/**
 * True when `a` Pareto-dominates `b` (minimization): `a` is no worse in every
 * objective and strictly better in at least one. Equal points do not dominate each other.
 */
export function dominates(a: ObjectivePoint, b: ObjectivePoint): boolean {
  if (a.length !== b.length) {
    throw new SolverError(
      'INVALID_POINTS',
      `cannot compare points of ${a.length} and ${b.length} objectives`,
    );
  }
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x > y) return false;
    if (x < y) strictly = true;
  }
  return strictly;
}

/**
 * Indices of the non-dominated points, in input order. Duplicates of a
 * non-dominated point are all kept (equal points do not dominate each other),
 * so filtering is idempotent: `nonDominated(nonDominated(p))` equals `nonDominated(p)`.
 * O(n²·m), meant for fronts of at most a few thousand points.
 * @throws SolverError `INVALID_POINTS` / `EMPTY_OBJECTIVES` on ragged or non-finite input.
 */
export function nonDominatedIndices(points: readonly ObjectivePoint[]): number[] {
  checkPoints(points);
  const keep: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    let dominated = false;
    for (let j = 0; j < points.length && !dominated; j++) {
      if (j !== i && dominates(points[j]!, p)) dominated = true;
    }
    if (!dominated) keep.push(i);
  }
  return keep;
}

/** The non-dominated points, in input order (see {@link nonDominatedIndices}). */
export function nonDominated<P extends ObjectivePoint>(points: readonly P[]): P[] {
  return nonDominatedIndices(points).map((i) => points[i]!);
}
