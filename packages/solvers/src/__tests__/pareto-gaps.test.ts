/**
 * What pareto.test.ts leaves open: the exact text, code and details of every error the Pareto tools
 * throw; boundaries (a point on the reference box, the knee's 1e-12 tie tolerance, λ within 1e-12 of
 * the one handed out, an evaluation cap of exactly 1); hypervolumes checked exactly against an
 * independent cell-counting reference in 1 to 4 objectives; the λ-jump rules on inputs where the
 * answer is not the last candidate; and the ask-tell searches' exact λ sequences, asking ahead and
 * `done` before and after a refill.
 */
import { fc, test } from '@fast-check/vitest';
import { Rng } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import {
  bisectionSearch,
  checkPoints,
  dichotomicSearch,
  dominates,
  gridSearch,
  hypervolume,
  hypervolume2d,
  kneeByDistance,
  kneeByLambdaJump,
  lambda2Grid,
  nonDominated,
  nonDominatedIndices,
  runWeightSearch,
  type WeightSearch,
} from '../index.js';

const solverError = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  expect.objectContaining({ name: 'SolverError', code, message, ...extra });

/** The error a config check throws: one line per issue, each with its path. */
const configError = (code: string, what: string, issues: { path: string; message: string }[]) =>
  solverError(code, `invalid ${what}:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`, {
    issues,
  });

/**
 * Hypervolume by brute force, independent of the sweep and of HSO slicing: cut the reference box
 * along every coordinate any point has and add up the cells whose lower corner some point weakly
 * dominates. Exact for integer coordinates.
 */
function cellHypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const axes = reference.map((r, j) => [...new Set([...points.map((p) => p[j]!), r])].sort((a, b) => a - b));
  let volume = 0;
  const visit = (j: number, corner: number[], size: number): void => {
    if (j === reference.length) {
      if (points.some((p) => p.every((v, k) => v <= corner[k]!))) volume += size;
      return;
    }
    const axis = axes[j]!;
    for (let i = 0; i + 1 < axis.length; i++)
      visit(j + 1, [...corner, axis[i]!], size * (axis[i + 1]! - axis[i]!));
  };
  visit(0, [], 1);
  return volume;
}

/** Hands out every λ `search` proposes, telling `oracle(λ)`; the λ in the order handed out. */
async function lambdasOf(
  search: WeightSearch,
  oracle: (l: readonly number[]) => number[],
): Promise<number[][]> {
  return (await runWeightSearch(search, oracle)).map((r) => [...r.lambda]);
}

/** A convex biobjective front f = (x², (1 − x)²), x = λ2 on the simplex. */
const convex = (l: readonly number[]) => {
  const x = l[1]! / (l[0]! + l[1]!);
  return [x * x, (1 - x) * (1 - x)];
};

const expectLambdas = (actual: number[][], expected: number[][]) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((l, i) => {
    expect(l.length).toBe(2);
    expect(l[0]).toBeCloseTo(expected[i]![0]!, 12);
    expect(l[1]).toBeCloseTo(expected[i]![1]!, 12);
  });
};

describe('points: checks and dominance', () => {
  it('checkPoints names the bad entry (default name "points") with code, message and details', () => {
    expect(checkPoints([])).toBe(0);
    expect(checkPoints([[1, 2, 3]])).toBe(3);
    expect(() => checkPoints([[]])).toThrowError(
      solverError('EMPTY_OBJECTIVES', 'points[0] has no objectives'),
    );
    expect(() => checkPoints([[1, 2], [1, 2], [3]])).toThrowError(
      solverError('INVALID_POINTS', 'points[2] has 1 objectives, points[0] has 2', { details: { index: 2 } }),
    );
    expect(() =>
      checkPoints([
        [1, 2],
        [3, Number.NaN],
      ]),
    ).toThrowError(
      solverError('INVALID_POINTS', 'points[1][1] is not finite (NaN)', {
        details: { index: 1, objective: 1 },
      }),
    );
    expect(() => checkPoints([[Number.NEGATIVE_INFINITY, 2]], 'front')).toThrowError(
      solverError('INVALID_POINTS', 'front[0][0] is not finite (-Infinity)', {
        details: { index: 0, objective: 0 },
      }),
    );
    expect(() => checkPoints([[1], [1, 2]], 'front')).toThrowError(
      solverError('INVALID_POINTS', 'front[1] has 2 objectives, front[0] has 1', { details: { index: 1 } }),
    );
  });

  it('nonDominated checks its input even when there is nothing to compare', () => {
    expect(() => nonDominated([[1, Number.POSITIVE_INFINITY]])).toThrowError(
      solverError('INVALID_POINTS', 'points[0][1] is not finite (Infinity)'),
    );
    expect(nonDominatedIndices([])).toEqual([]);
    expect(nonDominatedIndices([[3, 3]])).toEqual([0]);
    // Each point is compared with every other one, before and after it in the list.
    expect(
      nonDominatedIndices([
        [2, 2],
        [1, 1],
        [3, 0],
        [3, 1],
      ]),
    ).toEqual([1, 2]);
  });

  it('dominates refuses points of different dimensions instead of comparing a prefix', () => {
    expect(() => dominates([1, 2], [1, 2, 3])).toThrowError(
      solverError('INVALID_POINTS', 'cannot compare points of 2 and 3 objectives'),
    );
    expect(() => dominates([0, 0, 0], [1, 1])).toThrowError(
      solverError('INVALID_POINTS', 'cannot compare points of 3 and 2 objectives'),
    );
    // Better in the last objective only, and worse in the last objective only.
    expect(dominates([1, 1, 0], [1, 1, 1])).toBe(true);
    expect(dominates([0, 0, 2], [1, 1, 1])).toBe(false);
  });
});

describe('hypervolume: errors', () => {
  it('an empty reference point is refused even with no points', () => {
    expect(() => hypervolume([], [])).toThrowError(
      solverError('EMPTY_OBJECTIVES', 'the reference point has no objectives'),
    );
    expect(() => hypervolume2d([], [])).toThrowError(
      solverError('EMPTY_OBJECTIVES', 'the reference point has no objectives'),
    );
  });

  it('a reference of the wrong dimension, longer or shorter, is refused with both dimensions', () => {
    expect(() => hypervolume([[1, 1]], [4, 4, 4])).toThrowError(
      solverError('INVALID_REFERENCE_POINT', 'the reference point has 3 objectives, the points have 2'),
    );
    expect(() => hypervolume([[1, 1, 1]], [4, 4])).toThrowError(
      solverError('INVALID_REFERENCE_POINT', 'the reference point has 2 objectives, the points have 3'),
    );
  });

  it('a non-finite reference coordinate is named', () => {
    expect(() => hypervolume([[1, 1]], [4, Number.NaN])).toThrowError(
      solverError('INVALID_REFERENCE_POINT', 'reference[1] is not finite (NaN)'),
    );
    expect(() => hypervolume([], [Number.POSITIVE_INFINITY, 4])).toThrowError(
      solverError('INVALID_REFERENCE_POINT', 'reference[0] is not finite (Infinity)'),
    );
  });

  it('a point beyond the reference is named with its index and objective', () => {
    expect(() =>
      hypervolume(
        [
          [1, 1],
          [2, 5],
        ],
        [4, 4],
      ),
    ).toThrowError(
      solverError(
        'INVALID_REFERENCE_POINT',
        'the reference point does not bound the front: points[1][1] = 5 > reference[1] = 4',
        { details: { index: 1, objective: 1 } },
      ),
    );
    expect(() => hypervolume2d([[4.5, 0]], [4, 4])).toThrowError(
      solverError(
        'INVALID_REFERENCE_POINT',
        'the reference point does not bound the front: points[0][0] = 4.5 > reference[0] = 4',
        { details: { index: 0, objective: 0 } },
      ),
    );
  });

  it('hypervolume2d refuses any other number of objectives', () => {
    expect(() => hypervolume2d([[1, 2, 3]], [2, 3, 4])).toThrowError(
      solverError('INVALID_ARGUMENT', 'hypervolume2d needs 2 objectives, got 3'),
    );
    expect(() => hypervolume2d([[1]], [2])).toThrowError(
      solverError('INVALID_ARGUMENT', 'hypervolume2d needs 2 objectives, got 1'),
    );
  });
});

describe('hypervolume: values', () => {
  it('a point on the boundary of the reference box is accepted and adds nothing', () => {
    expect(hypervolume2d([[4, 1]], [4, 4])).toBe(0);
    expect(hypervolume2d([[1, 4]], [4, 4])).toBe(0);
    expect(hypervolume2d([[4, 4]], [4, 4])).toBe(0);
    expect(
      hypervolume2d(
        [
          [1, 4],
          [2, 2],
        ],
        [4, 4],
      ),
    ).toBe(4);
    expect(hypervolume([[1, 4, 1]], [4, 4, 4])).toBe(0);
    expect(hypervolume([[1, 1, 4]], [4, 4, 4])).toBe(0);
    expect(hypervolume([[5]], [5])).toBe(0);
  });

  it('one objective: the reference minus the least value; no point: 0', () => {
    expect(hypervolume([[3], [2], [4]], [5])).toBe(3);
    expect(hypervolume([[2], [3]], [5])).toBe(3);
    expect(hypervolume([], [5])).toBe(0);
    expect(hypervolume([], [1, 2, 3])).toBe(0);
  });

  it('2-D: points in any order, ties in f1, dominated points before the point that dominates them', () => {
    // (1,3), (2,2), (3,1) with ref (4,4): 3 + 2 + 1 = 6, whatever the order.
    const stairs = [
      [3, 1],
      [1, 3],
      [2, 2],
    ];
    expect(hypervolume2d(stairs, [4, 4])).toBe(6);
    expect(hypervolume(stairs, [4, 4])).toBe(6);
    // The worse of two points with the same f1 listed first: only the better counts.
    expect(
      hypervolume2d(
        [
          [2, 3],
          [1, 3],
          [1, 2],
        ],
        [4, 4],
      ),
    ).toBe(6);
    // A dominated point (greater f2 than a point of less f1) adds nothing, not a negative strip.
    expect(
      hypervolume2d(
        [
          [2, 2],
          [1, 1],
        ],
        [3, 3],
      ),
    ).toBe(4);
  });

  it('a dominated point changes nothing, bit for bit, and m-D agrees bit for bit with the 2-D sweep', () => {
    // (1, 0.3) is dominated by (1, 0.1): the volume is the single box (2 − 1)·(1 − 0.1) = 0.9 exactly,
    // not 0.7 + 0.2 rounded (0.8999999999999999).
    const ref = [2, 1];
    expect(hypervolume2d([[1, 0.1]], ref)).toBe(0.9);
    expect(
      hypervolume2d(
        [
          [1, 0.3],
          [1, 0.1],
        ],
        ref,
      ),
    ).toBe(0.9);
    expect(
      hypervolume(
        [
          [1, 0.3],
          [1, 0.1],
        ],
        ref,
      ),
    ).toBe(0.9);
    const front = [
      [0.1, 0.7],
      [0.3, 0.2],
      [0.2, 0.3],
      [0.7, 0.1],
    ];
    expect(hypervolume(front, [1.1, 0.9])).toBe(hypervolume2d(front, [1.1, 0.9]));
  });

  it('3-D hand-computed: points not sorted along the last objective', () => {
    // (2,2,1), (1,3,2), (3,1,0) with ref (4,4,4): slabs z ∈ [0,1): box 1·3 = 3;
    // z ∈ [1,2): (3,1) ∪ (2,2) = 3 + 4 − 2 = 5; z ∈ [2,4): (3,1), (2,2), (1,3) = 6, twice: 12.
    const p = [
      [2, 2, 1],
      [1, 3, 2],
      [3, 1, 0],
    ];
    expect(hypervolume(p, [4, 4, 4])).toBe(3 + 5 + 12);
    expect(cellHypervolume(p, [4, 4, 4])).toBe(20);
    // Two points equal in the last objective: the slab counts their union once.
    expect(
      hypervolume(
        [
          [1, 2, 1],
          [2, 1, 1],
        ],
        [3, 3, 2],
      ),
    ).toBe(3);
  });

  test.prop(
    [
      fc
        .integer({ min: 1, max: 4 })
        .chain((m) =>
          fc
            .array(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: m, maxLength: m }), { maxLength: 7 })
            .map((points) => ({ m, points })),
        ),
    ],
    { seed: 170, numRuns: 150 },
  )('1 to 4 objectives: exactly the cell-counting volume (integer coordinates)', ({ m, points }) => {
    const ref = new Array<number>(m).fill(7);
    expect(hypervolume(points, ref)).toBe(cellHypervolume(points, ref));
    if (m === 2) expect(hypervolume2d(points, ref)).toBe(cellHypervolume(points, ref));
  });
});

describe('kneeByDistance: errors and tie tolerance', () => {
  it('refuses an empty list and any dimension but 2, with its own messages', () => {
    expect(() => kneeByDistance([])).toThrowError(
      solverError('INVALID_ARGUMENT', 'kneeByDistance needs at least one point'),
    );
    expect(() => kneeByDistance([[0, 1, 2]])).toThrowError(
      solverError('INVALID_ARGUMENT', 'kneeByDistance needs 2 objectives, got 3'),
    );
    expect(() => kneeByDistance([[0], [1]])).toThrowError(
      solverError('INVALID_ARGUMENT', 'kneeByDistance needs 2 objectives, got 1'),
    );
  });

  it('a distance larger by exactly 1e-12 (as computed) is not larger: the earlier point stays', () => {
    // On the unit square the distances are (1 − x − y)/√2; y of the third point was searched so that
    // its distance is the second's plus 1e-12 in floating point. It has the greater f1, so a tie keeps
    // the second point too.
    const pts = [
      [0, 1],
      [0.348, 0.247],
      [0.552, 0.0429999999985857],
      [1, 0],
    ];
    const d = (p: number[]) => (1 - p[0]! - p[1]!) / Math.SQRT2;
    expect(d(pts[2]!)).toBe(d(pts[1]!) + 1e-12);
    expect(kneeByDistance(pts)).toBe(1);
    // Just past the tolerance, the farther point wins.
    expect(kneeByDistance([pts[0]!, pts[1]!, [0.552, 0.042999999998], pts[3]!])).toBe(2);
  });

  it('distances exactly 1e-12 apart tie, and the tie goes to the point with less f1', () => {
    // Found by search: points just below the line x + y = 1 whose distances (as computed) are
    // 2.5e-12 and exactly 1e-12 less. The nearer one has the lesser f1, so it is the knee.
    const p = [0.9999999999955591, 9.053581925678861e-13];
    const c = [0.9999999999933387, 4.5400178041912945e-12];
    const d = (q: number[]) => (1 - q[0]! - q[1]!) / Math.SQRT2;
    expect(Math.abs(d(c) - d(p))).toBe(1e-12);
    expect(kneeByDistance([[0, 1], p, c, [1, 0]])).toBe(2);
    // Listed the other way round, the point with less f1 is already the best: still c.
    expect(kneeByDistance([[0, 1], c, p, [1, 0]])).toBe(1);
  });

  it('a tie with the farthest point: a later point with less f1 and the same distance wins', () => {
    // (0.6, 0.1) and (0.1, 0.6) are equally far below the extremes' line; (0.1, 0.6) has less f1.
    expect(
      kneeByDistance([
        [1, 0],
        [0.6, 0.1],
        [0.1, 0.6],
        [0, 1],
      ]),
    ).toBe(2);
  });

  it('points with one value of f1 (or f2): no span to normalize by, the first non-dominated point', () => {
    expect(
      kneeByDistance([
        [2, 5],
        [2, 3],
        [2, 3],
      ]),
    ).toBe(1);
    expect(
      kneeByDistance([
        [4, 1],
        [3, 1],
      ]),
    ).toBe(1);
  });
});

describe('kneeByLambdaJump', () => {
  it('refuses an empty list and λ of another length, naming the entry', () => {
    expect(() => kneeByLambdaJump([])).toThrowError(
      solverError('INVALID_ARGUMENT', 'kneeByLambdaJump needs at least one result'),
    );
    expect(() =>
      kneeByLambdaJump([
        { lambda: [0.5, 0.5], f: [1, 1] },
        { lambda: [0.5, 0.25, 0.25], f: [2, 0] },
      ]),
    ).toThrowError(solverError('INVALID_ARGUMENT', 'results[1].lambda must have 2 weights, got 3'));
    expect(() => kneeByLambdaJump([{ lambda: [1], f: [1, 1] }], { reference: true })).toThrowError(
      solverError('INVALID_ARGUMENT', 'results[0].lambda must have 2 weights, got 1'),
    );
  });

  it('equal drops: the first wins', () => {
    // Sorted by λ2 (1/4, 1/3, 1/2): r = λ1/λ2 = 3, 2, 1 exactly in floating point, drops 1 and 1;
    // the first wins: the candidate after the first drop, λ = (2/3, 1/3), not (1/2, 1/2).
    const results = [
      { lambda: [1 / 2, 1 / 2], f: [3, 1] },
      { lambda: [3 / 4, 1 / 4], f: [1, 5] },
      { lambda: [2 / 3, 1 / 3], f: [2, 3] },
    ];
    expect(3 / 4 / (1 / 4) - 2 / 3 / (1 / 3)).toBe(2 / 3 / (1 / 3) - 1 / 2 / (1 / 2));
    expect(kneeByLambdaJump(results)).toBe(2);
  });

  it('dominated candidates are not efficient and play no part', () => {
    // Without the dominated (5, 5), r = 9, 1 and the knee is (0.5, 0.5); with it, r = 9, 4, 1 and the
    // largest drop 9 → 4 would choose the dominated candidate.
    const results = [
      { lambda: [0.9, 0.1], f: [1, 4] },
      { lambda: [0.8, 0.2], f: [5, 5] },
      { lambda: [0.5, 0.5], f: [2, 1] },
    ];
    expect(kneeByLambdaJump(results)).toBe(2);
    expect(kneeByLambdaJump(results, { reference: true })).toBe(2);
  });

  it('reference rule: the largest difference in the middle of the list', () => {
    // λ need not be on the simplex here. Sorted by λ2: r = 1, 10, 2; |r − roll(r, 1)| = (1, 9, 8):
    // argmax 1, minus 1 → the first candidate.
    const results = [
      { lambda: [2, 0.2], f: [2, 2] },
      { lambda: [0.1, 0.1], f: [1, 3] },
      { lambda: [0.6, 0.3], f: [3, 1] },
    ];
    expect(kneeByLambdaJump(results, { reference: true })).toBe(1);
    // The own rule on the same list: drops 1 − 10 = −9 and 10 − 2 = 8, the candidate after the second.
    expect(kneeByLambdaJump(results)).toBe(2);
  });

  it('reference rule with two candidates: both differences are equal, the first maximum wins', () => {
    // r = 9, 1: differences (8, 8), argmax 0, minus 1 wraps to the last: λ = (0.5, 0.5).
    const results = [
      { lambda: [0.5, 0.5], f: [2, 1] },
      { lambda: [0.9, 0.1], f: [1, 4] },
    ];
    expect(kneeByLambdaJump(results, { reference: true })).toBe(0);
  });

  it('reference rule: λ = (0, 0) gives r = NaN (0/0), not ∞', () => {
    // Sorted by λ2 (stable): (0, 0), (1, 0), (0.5, 0.5): r = (NaN, ∞, 1), differences (NaN, NaN, ∞):
    // the first NaN is at 0, minus 1 → the last candidate. With r = ∞ for (0, 0) the first NaN would
    // be at 1 (∞ − ∞), choosing (0, 0).
    const results = [
      { lambda: [0, 0], f: [1, 9] },
      { lambda: [1, 0], f: [2, 5] },
      { lambda: [0.5, 0.5], f: [3, 1] },
    ];
    expect(kneeByLambdaJump(results, { reference: true })).toBe(2);
  });

  it('reference rule: λ2 = −0 counts as λ2 = 0 (r = +∞)', () => {
    // r = (∞, ∞, 9): differences (∞, NaN, ∞), first NaN at 1 → the first candidate. Computing λ1/λ2
    // for λ2 = −0 would give −∞ and no NaN at all.
    const results = [
      { lambda: [1, 0], f: [0.1, 100] },
      { lambda: [1, -0], f: [0.09, 101] },
      { lambda: [0.9, 0.1], f: [0.5, 2] },
    ];
    expect(kneeByLambdaJump(results, { reference: true })).toBe(0);
  });
});

describe('weight searches: config errors', () => {
  it('grid: an empty list, an empty λ, a λ of another length', () => {
    expect(() => gridSearch({ lambdas: [] })).toThrowError(
      configError('INVALID_CONFIG', 'grid search', [{ path: 'lambdas', message: 'needs at least one λ' }]),
    );
    expect(() => gridSearch({ lambdas: [[]] })).toThrowError(
      configError('EMPTY_OBJECTIVES', 'grid search', [
        { path: 'lambdas[0]', message: 'needs at least one weight' },
      ]),
    );
    expect(() =>
      gridSearch({
        lambdas: [
          [1, 0],
          [0.5, 0.25, 0.25],
          [0, 1],
        ],
      }),
    ).toThrowError(
      configError('OBJECTIVE_COUNT_MISMATCH', 'grid search', [
        { path: 'lambdas[1]', message: 'needs 2 weights, got 3' },
      ]),
    );
  });

  it('grid: negative, non-finite, and not summing to 1, each entry reported', () => {
    expect(() => gridSearch({ lambdas: [[1.5, -0.5]] })).toThrowError(
      configError('WEIGHTS_OFF_SIMPLEX', 'grid search', [
        { path: 'lambdas[0]', message: 'weights must be finite and ≥ 0, got [1.5, -0.5]' },
      ]),
    );
    expect(() =>
      gridSearch({
        lambdas: [
          [1, 0],
          [Number.NaN, 1],
        ],
      }),
    ).toThrowError(
      configError('WEIGHTS_OFF_SIMPLEX', 'grid search', [
        { path: 'lambdas[1]', message: 'weights must be finite and ≥ 0, got [NaN, 1]' },
      ]),
    );
    expect(() =>
      gridSearch({
        lambdas: [
          [0.5, 0.6],
          [0.25, 0.25],
        ],
      }),
    ).toThrowError(
      configError('WEIGHTS_OFF_SIMPLEX', 'grid search', [
        { path: 'lambdas[0]', message: 'weights must sum to 1, got 1.1' },
        { path: 'lambdas[1]', message: 'weights must sum to 1, got 0.5' },
      ]),
    );
    // Issues of different codes: INVALID_CONFIG, every one listed.
    expect(() =>
      gridSearch({
        lambdas: [
          [0.5, 0.6],
          [1, 0, 0],
        ],
      }),
    ).toThrowError(
      configError('INVALID_CONFIG', 'grid search', [
        { path: 'lambdas[0]', message: 'weights must sum to 1, got 1.1' },
        { path: 'lambdas[1]', message: 'needs 2 weights, got 3' },
      ]),
    );
    // Zero weights are on the simplex; a sum off by less than 1e-9 is 1.
    expect(
      gridSearch({
        lambdas: [
          [0, 1],
          [1 - 1e-10, 0],
        ],
      }).next(),
    ).toEqual([0, 1]);
  });

  it('adaptive searches: empty or wrong initial λ, a cap that is not an integer ≥ 1', () => {
    for (const [make, what] of [
      [bisectionSearch, 'bisection search'],
      [dichotomicSearch, 'dichotomic search'],
    ] as const) {
      expect(() => make({ initial: [] })).toThrowError(
        configError('INVALID_CONFIG', what, [{ path: 'initial', message: 'needs at least one λ' }]),
      );
      expect(() =>
        make({
          initial: [
            [1, 0],
            [0.5, 0.25, 0.25],
          ],
        }),
      ).toThrowError(
        configError('OBJECTIVE_COUNT_MISMATCH', what, [
          { path: 'initial[1]', message: 'needs 2 weights, got 3' },
        ]),
      );
      expect(() => make({ maxEvaluations: 1.5 })).toThrowError(
        configError('INVALID_CONFIG', what, [
          { path: 'maxEvaluations', message: 'must be an integer ≥ 1, got 1.5' },
        ]),
      );
      expect(() => make({ maxEvaluations: 0 })).toThrowError(
        configError('INVALID_CONFIG', what, [
          { path: 'maxEvaluations', message: 'must be an integer ≥ 1, got 0' },
        ]),
      );
      expect(() => make({ initial: [[2, -1]], maxEvaluations: -1 })).toThrowError(
        configError('INVALID_CONFIG', what, [
          { path: 'initial[0]', message: 'weights must be finite and ≥ 0, got [2, -1]' },
          { path: 'maxEvaluations', message: 'must be an integer ≥ 1, got -1' },
        ]),
      );
    }
  });

  it('dichotomic: the seed must be a non-negative integer; 0 is one', () => {
    expect(() => dichotomicSearch({ seed: -1 })).toThrowError(
      configError('INVALID_CONFIG', 'dichotomic search', [
        { path: 'seed', message: 'must be a non-negative integer, got -1' },
      ]),
    );
    expect(() => dichotomicSearch({ seed: 1.5 })).toThrowError(
      configError('INVALID_CONFIG', 'dichotomic search', [
        { path: 'seed', message: 'must be a non-negative integer, got 1.5' },
      ]),
    );
    expect(dichotomicSearch({ seed: 0 }).next()).toEqual([1, 0]);
  });
});

describe('weight searches: tell', () => {
  it('refuses a λ not handed out, a wrong number of values and non-finite values, with messages', () => {
    const s = bisectionSearch();
    expect(() => s.tell([0.3, 0.7], [1, 1])).toThrowError(
      solverError('INVALID_ARGUMENT', 'tell(): λ = [0.3, 0.7] was not handed out by next()'),
    );
    const l = s.next()!;
    expect(l).toEqual([1, 0]);
    // Another λ while one is outstanding, one agreeing in some weights only, one with an extra weight.
    expect(() => s.tell([0.3, 0.7], [1, 1])).toThrowError(
      solverError('INVALID_ARGUMENT', 'tell(): λ = [0.3, 0.7] was not handed out by next()'),
    );
    expect(() => s.tell([1, 0.5], [1, 1])).toThrowError(
      solverError('INVALID_ARGUMENT', 'tell(): λ = [1, 0.5] was not handed out by next()'),
    );
    expect(() => s.tell([1, 0, 0], [1, 1])).toThrowError(
      solverError('INVALID_ARGUMENT', 'tell(): λ = [1, 0, 0] was not handed out by next()'),
    );
    expect(() => s.tell(l, [1, 1, 1])).toThrowError(
      solverError('OBJECTIVE_COUNT_MISMATCH', 'tell(): expected 2 objective values, got 3'),
    );
    expect(() => s.tell(l, [Number.POSITIVE_INFINITY, 1])).toThrowError(
      solverError('NON_FINITE_VALUE', 'tell(): f[0] is not finite (Infinity)'),
    );
    expect(() => s.tell(l, [1, Number.NaN])).toThrowError(
      solverError('NON_FINITE_VALUE', 'tell(): f[1] is not finite (NaN)'),
    );
    // Nothing refused was recorded, and λ is still outstanding.
    expect(s.results).toEqual([]);
    expect(s.done).toBe(false);
  });

  it('accepts a λ within 1e-12 per weight of the one handed out and records the one handed out', () => {
    const s = gridSearch({
      lambdas: [
        [1, 0],
        [0, 1],
      ],
    });
    expect(s.next()).toEqual([1, 0]);
    s.tell([1, 1e-12], [0, 1]);
    expect(s.results).toEqual([{ lambda: [1, 0], f: [0, 1] }]);
    expect(s.next()).toEqual([0, 1]);
    expect(() => s.tell([1.1e-12, 1], [1, 0])).toThrowError(
      solverError('INVALID_ARGUMENT', 'tell(): λ = [1.1e-12, 1] was not handed out by next()'),
    );
  });

  it('candidates asked ahead can be told in any order; results are in the order told', () => {
    const s = gridSearch({
      lambdas: [
        [1, 0],
        [0.5, 0.5],
        [0, 1],
      ],
    });
    const [a, b, c] = [s.next()!, s.next()!, s.next()!];
    expect(s.next()).toBeUndefined();
    // Every λ handed out, none told: not done.
    expect(s.done).toBe(false);
    s.tell(c, [1, 0]);
    s.tell(a, [0, 1]);
    expect(s.done).toBe(false);
    s.tell(b, [0.4, 0.4]);
    expect(s.done).toBe(true);
    expect(s.results.map((r) => r.lambda)).toEqual([c, a, b]);
  });
});

describe('weight searches: what they propose, and when they end', () => {
  it('a grid hands out repeated λ once and then ends', async () => {
    const s = gridSearch({
      lambdas: [
        [1, 0],
        [0, 1],
        [1, 0],
        [0.5, 0.5],
      ],
    });
    expect(await lambdasOf(s, convex)).toEqual([
      [1, 0],
      [0, 1],
      [0.5, 0.5],
    ]);
    expect(s.done).toBe(true);
    expect(await lambdasOf(lambda2Grid([0.5, 0.25]), convex)).toEqual([
      [0.5, 0.5],
      [0.75, 0.25],
    ]);
  });

  it('bisection: three generations of midpoints on a convex front', async () => {
    const l2 = [0, 0.1, 0.05, 0.075, 0.025, 0.0875, 0.0625, 0.0375, 0.0125];
    expectLambdas(
      await lambdasOf(bisectionSearch({ maxEvaluations: 9 }), convex),
      l2.map((v) => [1 - v, v]),
    );
  });

  it('bisection with a cap of 1 evaluates one λ; a cap stops the search with proposals left', async () => {
    expect(await lambdasOf(bisectionSearch({ maxEvaluations: 1 }), convex)).toEqual([[1, 0]]);
    const s = bisectionSearch({ maxEvaluations: 3 });
    expect((await runWeightSearch(s, convex)).length).toBe(3);
    // Two more midpoints could be proposed, but the cap is reached.
    expect(s.done).toBe(true);
    expect(s.next()).toBeUndefined();
  });

  it('done looks ahead: after the initial λ are told it is false while a midpoint is still to come', () => {
    const s = bisectionSearch({
      initial: [
        [1, 0],
        [0, 1],
      ],
    });
    s.tell(s.next()!, [0, 1]);
    expect(s.done).toBe(false);
    s.tell(s.next()!, [1, 0]);
    expect(s.done).toBe(false);
    expect(s.next()).toEqual([0.5, 0.5]);
    expect(s.done).toBe(false);
  });

  it('asking ahead: no proposal while candidates are outstanding, proposals once they are told', () => {
    const s = bisectionSearch({
      initial: [
        [1, 0],
        [0, 1],
      ],
    });
    const a = s.next()!;
    const b = s.next()!;
    // The queue is empty but the outstanding candidates are not told: nothing to propose from yet.
    expect(s.next()).toBeUndefined();
    expect(s.done).toBe(false);
    s.tell(a, [0, 1]);
    expect(s.next()).toBeUndefined();
    s.tell(b, [1, 0]);
    expect(s.next()).toEqual([0.5, 0.5]);
  });

  it('bisection proposes from the front as it is when the queue runs out, not from a partial one', () => {
    // (0.5, 0.5) gives (5, 5), which is Pareto with (0, 10) until (0, 1) gives (4, 4): then the only
    // neighbours are (1, 0) and (0, 1), whose midpoint was tried. Nothing is proposed between (1, 0)
    // and (0.5, 0.5).
    const s = bisectionSearch({
      initial: [
        [1, 0],
        [0.5, 0.5],
        [0, 1],
      ],
    });
    for (const f of [
      [0, 10],
      [5, 5],
      [4, 4],
    ]) {
      s.tell(s.next()!, f);
    }
    expect(s.next()).toBeUndefined();
    expect(s.done).toBe(true);
  });

  it('dichotomic: the normals between neighbours of a polygonal front, in f2 order, until every pair is closed', async () => {
    // Weighted-sum minimizer over five points (first on ties within 1e-9): the search finds every
    // vertex. Generations: (0.5, 0.5) → (3, 3); between (10,0)–(3,3) d = (−7, 3) → (0.3, 0.7),
    // between (3,3)–(0,10) d = (−3, 7) → (0.7, 0.3); then the normals of the four edges, each of
    // which returns one of its ends; then every normal repeats and closes its pair.
    const vertices = [
      [0, 10],
      [1, 6],
      [3, 3],
      [6, 1],
      [10, 0],
    ];
    const oracle = (l: readonly number[]) => {
      const value = (p: number[]) => l[0]! * p[0]! + l[1]! * p[1]!;
      const best = Math.min(...vertices.map(value));
      return [...vertices.find((p) => value(p) <= best + 1e-9)!];
    };
    const s = dichotomicSearch({
      initial: [
        [1, 0],
        [0, 1],
      ],
    });
    const results = await runWeightSearch(s, oracle);
    expectLambdas(
      results.map((r) => [...r.lambda]),
      [
        [1, 0],
        [0, 1],
        [0.5, 0.5],
        [0.3, 0.7],
        [0.7, 0.3],
        [0.2, 0.8],
        [0.4, 0.6],
        [0.6, 0.4],
        [0.8, 0.2],
      ],
    );
    expect(s.done).toBe(true);
    expect(nonDominated(results.map((r) => r.f)).length).toBeGreaterThanOrEqual(5);
  });

  it('dichotomic on a convex parabola: the normal of each chord is the midpoint λ, default start and cap', async () => {
    // f = (x², (1 − x)²): the chord between x = a and x = b has normal λ2 = (a + b)/2.
    const l2 = [0, 0.1, 0.05, 0.075, 0.025, 0.0875, 0.0625, 0.0375, 0.0125];
    const all = await lambdasOf(dichotomicSearch(), convex);
    expect(all.length).toBe(20);
    expectLambdas(
      all.slice(0, 9),
      l2.map((v) => [1 - v, v]),
    );
  });

  it('the seeded dichotomic search perturbs only repeated λs: without a repeat it follows the deterministic one', async () => {
    // The front f = (t², (1 − t)²): the weighted-sum minimizer for λ is t = λ2, so every normal is new:
    // (½, ½), then (¼, ¾) and (¾, ¼).
    const curved = (l: readonly number[]) => [l[1]! ** 2, l[0]! ** 2];
    const run = (seed?: number) =>
      lambdasOf(
        dichotomicSearch({
          initial: [
            [1, 0],
            [0, 1],
          ],
          maxEvaluations: 5,
          ...(seed === undefined ? {} : { seed }),
        }),
        curved,
      );
    const expected = [
      [1, 0],
      [0, 1],
      [0.5, 0.5],
      [0.25, 0.75],
      [0.75, 0.25],
    ];
    expect(await run()).toEqual(expected);
    expect(await run(7)).toEqual(expected);
  });

  it('polling done between evaluations changes nothing: the proposals come from every initial point, in front order', async () => {
    // Three initial λs on the front f = (λ2², λ1²): (0, 1), (¼, ¼), (1, 0). Sorted by f2 the neighbours'
    // normals are (¼, ¾), then (¾, ¼). A search that proposed while initial λs were still queued would
    // see only the first two points and queue (¾, ¼) first.
    const curved = (l: readonly number[]) => [l[1]! ** 2, l[0]! ** 2];
    const make = () =>
      dichotomicSearch({
        initial: [
          [1, 0],
          [0.5, 0.5],
          [0, 1],
        ],
        maxEvaluations: 5,
      });
    const polled = make();
    const asked: number[][] = [];
    while (!polled.done) {
      const l = polled.next()!;
      asked.push(l);
      polled.tell(l, curved(l));
    }
    const expected = [
      [1, 0],
      [0.5, 0.5],
      [0, 1],
      [0.25, 0.75],
      [0.75, 0.25],
    ];
    expect(asked).toEqual(expected);
    expect(await lambdasOf(make(), curved)).toEqual(expected);
  });

  it('the seeded dichotomic search draws each perturbed λ1 from [0.9·λ1, λ1] of the seeded stream', async () => {
    // A linear front: every λ with λ1 ≥ λ2 gives (0, 1), every other (1, 0). The normal (0.5, 0.5)
    // repeats from the second generation on; each generation draws one λ1 ∈ [0.45, 0.5).
    const linear = (l: readonly number[]) => (l[0]! >= l[1]! ? [0, 1] : [1, 0]);
    const all = await lambdasOf(
      dichotomicSearch({
        initial: [
          [1, 0],
          [0, 1],
        ],
        seed: 7,
        maxEvaluations: 7,
      }),
      linear,
    );
    const rng = Rng.fromSeed(7);
    const drawn = [1, 2, 3, 4].map(() => rng.uniform(0.45, 0.5));
    expect(all).toEqual([[1, 0], [0, 1], [0.5, 0.5], ...drawn.map((l1) => [l1, 1 - l1])]);
  });
});
