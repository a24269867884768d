import { fc, test } from '@fast-check/vitest';
import { isMopruneError, Rng } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import {
  bisectionSearch,
  dichotomicSearch,
  dominates,
  hypervolume,
  hypervolume2d,
  kneeByDistance,
  kneeByLambdaJump,
  lambda2Grid,
  nonDominated,
  REINERS2020_LAMBDA2_GRID,
  runWeightSearch,
  type WeightSearch,
} from '../index.js';

// Grid coordinates keep volumes well above rounding error, so strict comparisons are meaningful.
const coord = fc.integer({ min: 0, max: 100 }).map((v) => v / 10);
const points = (m: number, max = 12) =>
  fc.array(fc.array(coord, { minLength: m, maxLength: m }), { maxLength: max });

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(isMopruneError(e, code), String(e)).toBe(true);
    expect((e as Error).name).toBe('SolverError');
    return;
  }
  throw new Error(`expected a SolverError ${code}`);
}

describe('dominance and non-dominated filter', () => {
  it('dominates is strict in one objective', () => {
    expect(dominates([1, 2], [1, 3])).toBe(true);
    expect(dominates([1, 2], [1, 2])).toBe(false);
    expect(dominates([0, 3], [1, 2])).toBe(false);
  });

  it('filters a hand-made set', () => {
    const p = [
      [1, 5],
      [2, 2],
      [3, 3],
      [5, 1],
      [2, 2],
    ];
    expect(nonDominated(p)).toEqual([
      [1, 5],
      [2, 2],
      [5, 1],
      [2, 2],
    ]);
  });

  test.prop([points(3, 20)], { seed: 11 })(
    'is idempotent and keeps exactly the non-dominated points',
    (p) => {
      const once = nonDominated(p);
      expect(nonDominated(once)).toEqual(once);
      for (const q of p) {
        const isDominated = p.some((r) => dominates(r, q));
        expect(once.includes(q)).toBe(!isDominated);
      }
    },
  );

  it('rejects ragged and non-finite points', () => {
    expectCode(() => nonDominated([[1, 2], [1]]), 'INVALID_POINTS');
    expectCode(() => nonDominated([[1, Number.NaN]]), 'INVALID_POINTS');
    expectCode(() => nonDominated([[]]), 'EMPTY_OBJECTIVES');
  });
});

describe('hypervolume', () => {
  it('matches hand-computed 2-D and 3-D values', () => {
    // Staircase: (1,3),(2,2),(3,1) with ref (4,4): 3·1 + 2·1 + 1·1 = 6.
    expect(
      hypervolume2d(
        [
          [1, 3],
          [2, 2],
          [3, 1],
        ],
        [4, 4],
      ),
    ).toBeCloseTo(6, 12);
    expect(
      hypervolume(
        [
          [1, 3],
          [2, 2],
          [3, 1],
        ],
        [4, 4],
      ),
    ).toBeCloseTo(6, 12);
    // Two boxes in 3-D: [0,2]×[0,1]×[0,1] ∪ [0,1]×[0,2]×[0,1] → 2 + 2 − 1 = 3 (ref (2,2,1)).
    expect(
      hypervolume(
        [
          [0, 1, 0],
          [1, 0, 0],
        ],
        [2, 2, 1],
      ),
    ).toBeCloseTo(3, 12);
    // One point: the box volume.
    expect(hypervolume([[1, 2, 3, 4]], [2, 4, 6, 8])).toBeCloseTo(1 * 2 * 3 * 4, 12);
    expect(hypervolume([], [1, 1])).toBe(0);
  });

  test.prop([points(2, 15), fc.array(coord, { minLength: 2, maxLength: 2 })], { seed: 12 })(
    'm-D equals 2-D on 2-D inputs; dominated points change nothing; a new non-dominated point never lowers it',
    (p, q) => {
      const ref = [11, 11];
      const hv = hypervolume2d(p, ref);
      expect(hypervolume(p, ref)).toBeCloseTo(hv, 9);
      expect(hypervolume2d(nonDominated(p), ref)).toBeCloseTo(hv, 9);
      const added = hypervolume2d([...p, q], ref);
      if (p.some((r) => dominates(r, q) || r.every((v, i) => v === q[i]))) expect(added).toBeCloseTo(hv, 9);
      else expect(added).toBeGreaterThanOrEqual(hv - 1e-9);
      if (!p.some((r) => dominates(r, q) || r.every((v, i) => v === q[i]))) {
        // Strictly inside the reference box, a non-dominated point adds volume.
        if (q.every((v) => v < 11)) expect(added).toBeGreaterThan(hv);
      }
    },
  );

  test.prop([points(3, 8)], { seed: 13, numRuns: 20 })(
    '3-D agrees with a seeded Monte-Carlo estimate',
    (p) => {
      const ref = [10, 10, 10];
      const exact = hypervolume(p, ref);
      const rng = Rng.fromSeed(5);
      const n = 20_000;
      let hits = 0;
      for (let s = 0; s < n; s++) {
        const x = [rng.uniform(0, 10), rng.uniform(0, 10), rng.uniform(0, 10)];
        if (p.some((q) => q.every((v, i) => v <= x[i]!))) hits++;
      }
      const estimate = (hits / n) * 1000;
      // Binomial standard error ≤ 1000·0.5/√n ≈ 3.5; allow 5 of them.
      expect(Math.abs(estimate - exact)).toBeLessThan(18);
    },
  );

  test.prop([points(3, 10), points(3, 4)], { seed: 14 })(
    '3-D: monotone under adding points and unchanged by dominated ones',
    (p, extra) => {
      const ref = [10, 10, 10];
      const hv = hypervolume(p, ref);
      expect(hypervolume([...p, ...extra], ref)).toBeGreaterThanOrEqual(hv - 1e-9);
      expect(hypervolume(nonDominated(p), ref)).toBeCloseTo(hv, 9);
      const dominated = p.map((q) => q.map((v) => Math.min(10, v + 0.5)));
      expect(hypervolume([...p, ...dominated], ref)).toBeCloseTo(hv, 9);
    },
  );

  it('rejects a reference point that does not bound the front', () => {
    expectCode(() => hypervolume2d([[1, 5]], [4, 4]), 'INVALID_REFERENCE_POINT');
    expectCode(() => hypervolume([[1, 1]], [4, 4, 4]), 'INVALID_REFERENCE_POINT');
    expectCode(() => hypervolume([[1, 1]], [4, Number.NaN]), 'INVALID_REFERENCE_POINT');
  });
});

describe('knee selection', () => {
  it('picks the point farthest from the extremes line on normalized objectives', () => {
    // Objective scales differ by 1000×; normalization makes (0.2, 0.2) the knee.
    const front = [
      [0, 1000],
      [200, 200],
      [600, 50],
      [1000, 0],
      [700, 900],
    ];
    expect(kneeByDistance(front)).toBe(1);
    expect(kneeByDistance([[3, 4]])).toBe(0);
  });

  it('ignored points (collapsed candidates) neither become the knee nor stretch the normalization', () => {
    // A front like the Reiners grid's: the useful candidates, then networks collapsed to the constant
    // predictor (f1 = ln 10, f2 = 0) that pull the normalized f1 axis so far that every useful point
    // has x ≈ 0 and the sparsest useful point wins.
    const useful = [
      [0.04, 2750],
      [0.05, 840],
      [0.069, 272],
      [0.081, 186],
      [0.103, 108],
      [0.164, 49],
      [0.204, 35],
    ];
    const collapsed = [[2.301, 0.001]];
    const all = [...useful, ...collapsed];
    expect(kneeByDistance(all)).not.toBe(kneeByDistance(useful));
    expect(kneeByDistance(all, { ignore: (i) => i >= useful.length })).toBe(kneeByDistance(useful));
    // Ignoring everything is ignoring nothing.
    expect(kneeByDistance(all, { ignore: () => true })).toBe(kneeByDistance(all));
  });

  test.prop(
    [
      fc.array(
        fc.tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true })),
        {
          minLength: 1,
          maxLength: 12,
        },
      ),
      fc.array(
        fc.tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true })),
        {
          maxLength: 12,
        },
      ),
      fc.integer({ min: 0, max: 1000 }),
    ],
    { seed: 18 },
  )(
    'adding any number of ignored points, anywhere in the list, never changes the knee',
    (good, bad, shuffleSeed) => {
      const rng = Rng.fromSeed(shuffleSeed);
      // Interleave the ignored points at random positions; remember which are which.
      const items = [...good.map((p) => ({ p, ignored: false })), ...bad.map((p) => ({ p, ignored: true }))];
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      const goodOrder = items.filter((it) => !it.ignored).map((it) => it.p);
      const knee = kneeByDistance(
        items.map((it) => it.p),
        { ignore: (i) => items[i]!.ignored },
      );
      expect(items[knee]!.ignored).toBe(false);
      expect(items[knee]!.p).toEqual(goodOrder[kneeByDistance(goodOrder)]);
    },
  );

  test.prop(
    [
      fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })), {
        minLength: 1,
        maxLength: 10,
      }),
      fc.double({ min: 0.25, max: 40, noNaN: true }),
      fc.double({ min: 0.25, max: 40, noNaN: true }),
      fc.double({ min: -500, max: 500, noNaN: true }),
      fc.double({ min: -500, max: 500, noNaN: true }),
    ],
    { seed: 27 },
  )(
    'the knee does not depend on the units or the origin of either objective (f ↦ s·f + o, s > 0)',
    (points, s1, s2, o1, o2) => {
      const moved = points.map(([a, b]) => [s1 * a + o1, s2 * b + o2]);
      expect(kneeByDistance(moved)).toBe(kneeByDistance(points));
    },
  );

  it('equally distant points: the knee is the one with the least f1, wherever it is in the list', () => {
    // (0.25, 0.5) and (0.5, 0.25) both lie (1 − 0.75)/√2 below the extremes' line; listed in
    // either order, the one with the least f1 wins. A third, farther point beats both.
    const a = [0.25, 0.5];
    const b = [0.5, 0.25];
    const ends = [
      [0, 1],
      [1, 0],
    ];
    expect(kneeByDistance([ends[0]!, b, a, ends[1]!])).toBe(2);
    expect(kneeByDistance([ends[0]!, a, b, ends[1]!])).toBe(1);
    expect(kneeByDistance([ends[0]!, a, b, ends[1]!, [0.3, 0.3]])).toBe(4);
    // Two points (every distance 0): the extreme with the least f1.
    expect(kneeByDistance([ends[1]!, ends[0]!])).toBe(1);
    // The same point twice: the first of the two.
    expect(kneeByDistance([ends[0]!, a, [...a], ends[1]!])).toBe(1);
  });

  it('λ-jump rule: the largest drop wins wherever it is; one candidate with λ2 > 0 is returned as is', () => {
    // r = λ1/λ2 = 24, 19, 1: drops 5 and 18, so the candidate after the second drop.
    const results = [
      { lambda: [0.96, 0.04], f: [0.1, 50] },
      { lambda: [0.95, 0.05], f: [0.2, 30] },
      { lambda: [0.5, 0.5], f: [0.9, 2] },
    ];
    expect(kneeByLambdaJump(results)).toBe(2);
    // Listed in another order, the same candidate (the rule sorts by λ2).
    expect(kneeByLambdaJump([results[2]!, results[0]!, results[1]!])).toBe(0);
    // Only one candidate has λ2 > 0 (the other is λ = (1, 0)): that one.
    expect(
      kneeByLambdaJump([
        { lambda: [1, 0], f: [0.1, 50] },
        { lambda: [0.9, 0.1], f: [0.3, 10] },
      ]),
    ).toBe(1);
    // Exactly two have: the one after the (only) drop, the larger λ2.
    expect(
      kneeByLambdaJump([
        { lambda: [1, 0], f: [0.1, 50] },
        { lambda: [0.9, 0.1], f: [0.3, 10] },
        { lambda: [0.5, 0.5], f: [0.8, 4] },
      ]),
    ).toBe(2);
    // None has: the efficient candidate with the least λ2.
    expect(kneeByLambdaJump([{ lambda: [1, 0], f: [0.1, 50] }])).toBe(0);
  });

  it('reference rule: the candidate after the largest drop of λ1/λ2', () => {
    const results = [
      { lambda: [1, 0], f: [0.1, 100] },
      { lambda: [0.99, 0.01], f: [0.2, 20] },
      { lambda: [0.98, 0.02], f: [0.3, 10] },
      { lambda: [0.5, 0.5], f: [1, 5] },
    ];
    // Ratios 99, 49, 1: drops 50 (→ index 2) and 48.
    expect(kneeByLambdaJump(results)).toBe(2);
    // The reference's own expression: r = (∞, 99, 49, 1); |r − roll(r, 1)| = (∞, ∞, 50, 48);
    // argmax = 0 (the first maximum), minus 1 = −1: the last efficient candidate.
    expect(kneeByLambdaJump(results, { reference: true })).toBe(3);
    // Without λ2 = 0: r = (99, 49, 1), differences (98, 50, 48): argmax 0 → −1 → the last again.
    expect(kneeByLambdaJump(results.slice(1), { reference: true })).toBe(2);
    // The largest drop in the middle (98 → 1) does not win: the wrapped first difference is larger.
    const wrap = [
      { lambda: [0.5, 0.5], f: [1, 5] },
      { lambda: [0.99, 0.01], f: [0.2, 20] },
      { lambda: [0.98, 0.01], f: [0.3, 10] },
      { lambda: [1 / 3, 2 / 3], f: [2, 1] },
    ];
    // Sorted by λ2: (0.99, 0.01)→99, (0.98, 0.01)→98, (0.5, 0.5)→1, (1/3, 2/3)→0.5; differences
    // (98.5, 1, 97, 0.5): argmax 0 → −1 → the last, index 3 in the input.
    expect(kneeByLambdaJump(wrap, { reference: true })).toBe(3);
    // ∞ − ∞ is NaN, and NumPy's argmax returns the first NaN: two λ2 = 0 candidates, equal λ1.
    const nan = [
      { lambda: [1, 0], f: [0.1, 100] },
      { lambda: [1, 0], f: [0.09, 101] },
      { lambda: [0.9, 0.1], f: [0.5, 2] },
    ];
    // r = (∞, ∞, 9): differences (∞, NaN, ∞): first NaN at 1 → index 0 of the sorted list.
    expect(kneeByLambdaJump(nan, { reference: true })).toBe(0);
  });
});

describe('weight-search strategies', () => {
  /** A convex biobjective front f = (x², (1 − x)²), minimized in closed form per λ. */
  const convex = (l: readonly number[]) => {
    const x = l[1]! / (l[0]! + l[1]!);
    return [x * x, (1 - x) * (1 - x)];
  };

  it('the Reiners grid hands out its 26 λ in order, then stops', async () => {
    const search = lambda2Grid();
    const results = await runWeightSearch(search, convex);
    expect(results.map((r) => r.lambda[1])).toEqual([...REINERS2020_LAMBDA2_GRID]);
    expect(results.every((r) => Math.abs(r.lambda[0]! + r.lambda[1]! - 1) < 1e-15)).toBe(true);
    expect(search.done).toBe(true);
  });

  it('bisection starts at (1,0), (0.9,0.1) and proposes midpoints of neighbours, capped', async () => {
    const search = bisectionSearch({ maxEvaluations: 5 });
    const results = await runWeightSearch(search, convex);
    expect(results.map((r) => r.lambda.map((v) => Math.round(v * 1e12) / 1e12))).toEqual([
      [1, 0],
      [0.9, 0.1],
      [0.95, 0.05],
      // Neighbours are ordered by f2 ascending, i.e. λ2 descending on this front.
      [0.925, 0.075],
      [0.975, 0.025],
    ]);
    expect(search.done).toBe(true);
    expect((await runWeightSearch(bisectionSearch(), convex)).length).toBe(20);
  });

  it('bisection drops dominated candidates from the neighbour list', () => {
    const search = bisectionSearch({
      initial: [
        [1, 0],
        [0.5, 0.5],
        [0, 1],
      ],
      maxEvaluations: 10,
    });
    const told = [
      [0, 10],
      [20, 20],
      [10, 0],
    ];
    for (const f of told) search.tell(search.next()!, f);
    // (20,20) is dominated, so only (1,0)–(0,1) are neighbours: midpoint (0.5,0.5) was tried → done.
    expect(search.next()).toBeUndefined();
    expect(search.done).toBe(true);
  });

  it('dichotomic proposes the normal of the segment between neighbours', () => {
    const search = dichotomicSearch({
      initial: [
        [1, 0],
        [0, 1],
      ],
    });
    search.tell(search.next()!, [0, 4]);
    search.tell(search.next()!, [1, 0]);
    // A = (1,0), B = (0,4) sorted by f2: d = (−1, 4) → λ = (4, 1)/5.
    const l = search.next()!;
    expect(l[0]).toBeCloseTo(0.8, 15);
    expect(l[1]).toBeCloseTo(0.2, 15);
  });

  it('dichotomic search proposes nothing between two candidates with the same objective values', async () => {
    // Every λ gives the same point: the two initial candidates coincide, there is no segment to take the
    // normal of (0/0), and the search ends after them instead of proposing λ = (NaN, NaN).
    const flat = await runWeightSearch(
      dichotomicSearch({
        initial: [
          [1, 0],
          [0, 1],
        ],
      }),
      () => [1, 2],
    );
    expect(flat.map((r) => r.lambda)).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('deterministic dichotomic search ends on a linear front; the seeded variant perturbs repeats', async () => {
    const linear = (l: readonly number[]) => (l[0]! >= l[1]! ? [0, 1] : [1, 0]);
    const det = await runWeightSearch(
      dichotomicSearch({
        initial: [
          [1, 0],
          [0, 1],
        ],
      }),
      linear,
    );
    expect(det.length).toBe(3);
    const stoch = dichotomicSearch({
      initial: [
        [1, 0],
        [0, 1],
      ],
      seed: 3,
      maxEvaluations: 6,
    });
    const r1 = await runWeightSearch(stoch, linear);
    expect(r1.length).toBe(6);
    for (const r of r1.slice(3)) {
      expect(r.lambda[0]).toBeGreaterThanOrEqual(0.45);
      expect(r.lambda[0]).toBeLessThanOrEqual(0.5);
      // A perturbed λ stays on the simplex.
      expect(r.lambda[0]! + r.lambda[1]!).toBeCloseTo(1, 12);
    }
    const r2 = await runWeightSearch(
      dichotomicSearch({
        initial: [
          [1, 0],
          [0, 1],
        ],
        seed: 3,
        maxEvaluations: 6,
      }),
      linear,
    );
    expect(r2).toEqual(r1);
  });

  it('adaptive searches build proposals from the non-dominated candidates only, when some λ give dominated points', () => {
    // Training runs that go wrong: for λ2/(λ1 + λ2) in (0.6, 0.9) the oracle
    // returns (0.5, 0.5), dominated by the initial candidate at λ = (0.5, 0.5)
    // and lying between front points in f2, so a search that paired it with a
    // neighbour would propose a λ no pair of Pareto points gives.
    const stuck = (l: readonly number[]) => {
      const x = l[1]! / (l[0]! + l[1]!);
      return x > 0.6 && x < 0.9 ? [0.5, 0.5] : convex(l);
    };
    const strictlyDominates = (a: readonly number[], b: readonly number[]) =>
      a.every((v, j) => v <= b[j]!) && a.some((v, j) => v < b[j]!);
    const midpoint = (a: readonly number[], b: readonly number[]) => [
      (a[0]! + b[0]!) / 2,
      (a[1]! + b[1]!) / 2,
    ];
    const normal = (a: readonly number[], b: readonly number[]) => {
      const d1 = b[0]! - a[0]!;
      const d2 = b[1]! - a[1]!;
      return [d2 / (d2 - d1), -d1 / (d2 - d1)];
    };
    const initial = [
      [1, 0],
      [0.5, 0.5],
      [0, 1],
    ];
    type Candidate = { lambda: number[]; f: number[] };
    const searches: [WeightSearch, (a: Candidate, b: Candidate) => number[]][] = [
      [bisectionSearch({ initial, maxEvaluations: 12 }), (a, b) => midpoint(a.lambda, b.lambda)],
      [dichotomicSearch({ initial, maxEvaluations: 12 }), (a, b) => normal(a.f, b.f)],
    ];
    for (const [search, proposalFrom] of searches) {
      const told: Candidate[] = [];
      for (let lambda = search.next(); lambda; lambda = search.next()) {
        if (told.length >= initial.length) {
          // Pareto candidates so far, computed here rather than by the search.
          const pareto = told.filter((p) => !told.some((q) => strictlyDominates(q.f, p.f)));
          const fromPareto = pareto.flatMap((a) =>
            pareto.filter((b) => b !== a).map((b) => proposalFrom(a, b)),
          );
          expect(
            fromPareto.some((l) => Math.abs(l[0]! - lambda[0]!) < 1e-12),
            `λ = [${lambda.join(', ')}] is not built from two Pareto candidates`,
          ).toBe(true);
        }
        const f = stuck(lambda);
        told.push({ lambda, f });
        search.tell(lambda, f);
      }
      // The oracle really gave dominated points, and the search kept proposing past them.
      const f = told.map((p) => p.f);
      expect(nonDominated(f).length).toBeLessThan(f.length);
      expect(told.length).toBeGreaterThan(initial.length + 2);
    }
  });

  it('rejects λ off the simplex and unknown tells', () => {
    expectCode(() => lambda2Grid([1.5]), 'WEIGHTS_OFF_SIMPLEX');
    expectCode(() => bisectionSearch({ initial: [[0.5, 0.6]] }), 'WEIGHTS_OFF_SIMPLEX');
    expectCode(() => bisectionSearch({ maxEvaluations: 0 }), 'INVALID_CONFIG');
    const s = bisectionSearch();
    expectCode(() => s.tell([0.3, 0.7], [1, 1]), 'INVALID_ARGUMENT');
    const l = s.next()!;
    expectCode(() => s.tell(l, [1, Number.NaN]), 'NON_FINITE_VALUE');
  });
});
