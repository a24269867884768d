import { fc, test } from '@fast-check/vitest';
import { isMopruneError } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import { frankWolfeMinNorm, minNormTwo, minNormWeights } from '../index.js';

const entry = fc.double({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true });
/** m gradients in n dimensions, as rows. */
const gradients = (m: number, n: number) =>
  fc.array(fc.array(entry, { minLength: n, maxLength: n }), { minLength: m, maxLength: m });
const mAndGradients = fc
  .integer({ min: 2, max: 6 })
  .chain((m) => fc.integer({ min: 1, max: 8 }).chain((n) => gradients(m, n)));

function gram(g: readonly (readonly number[])[]): number[][] {
  return g.map((a) => g.map((b) => a.reduce((s, v, k) => s + v * b[k]!, 0)));
}

function combine(g: readonly (readonly number[])[], c: readonly number[]): number[] {
  return g[0]!.map((_, k) => g.reduce((s, row, i) => s + c[i]! * row[k]!, 0));
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, k) => s + v * b[k]!, 0);

/**
 * Checks the first 30 Frank–Wolfe iterates on G (the iterate after k steps is what the solver returns
 * when capped at k): on the simplex; ‖d‖² never increases; along each step Δ = w − w_prev the
 * derivative of wᵀGw at the new iterate, 2·Δᵀ(Gw), is zero (an exact line search) unless the step was
 * cut at the simplex's boundary (a weight dropped to exactly 0, or a vertex reached).
 */
function checkIterates(G: number[][]): void {
  const scale = Math.max(1e-12, ...G.map((row, i) => row[i]!));
  let previous = frankWolfeMinNorm(G, { maxIterations: 0, tolerance: 0 });
  for (let k = 1; k <= 30; k++) {
    const r = frankWolfeMinNorm(G, { maxIterations: k, tolerance: 0 });
    const w = r.weights;
    expect(w.every((c) => c >= 0)).toBe(true);
    expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    expect(r.normSquared).toBeLessThanOrEqual(previous.normSquared + 1e-12 * scale);
    const delta = w.map((v, i) => v - previous.weights[i]!);
    const size = Math.max(...delta.map(Math.abs));
    const slope = dot(
      delta,
      G.map((row) => dot(row, w)),
    );
    const boundary = w.some((v, i) => v === 0 && previous.weights[i]! > 0) || w.some((v) => v === 1);
    if (!boundary && size > 1e-9) expect(Math.abs(slope)).toBeLessThan(1e-7 * scale * size);
    previous = r;
  }
}

describe('min-norm weights', () => {
  it('closed form: hand-computed cases', () => {
    // g1 = (1,0), g2 = (0,1): c = (½, ½).
    expect(minNormTwo(1, 0, 1)).toEqual([0.5, 0.5]);
    // g1 = (1,0), g2 = (2,0): min norm at g1 (c1 = (g2−g1)·g2/‖g2−g1‖² = 2 → clipped to 1).
    expect(minNormTwo(1, 2, 4)).toEqual([1, 0]);
    // Equal gradients: c1 = 1 by convention.
    expect(minNormTwo(2, 2, 2)).toEqual([1, 0]);
    // Opposite gradients g and −g: the origin, c = (½, ½).
    expect(minNormTwo(1, -1, 1)).toEqual([0.5, 0.5]);
  });

  test.prop([mAndGradients], { seed: 21, numRuns: 200 })(
    'lie on the simplex and satisfy the optimality conditions',
    (g) => {
      const G = gram(g);
      const r = minNormWeights(G, { tolerance: 1e-14, maxIterations: 5000 });
      expect(r.weights.every((c) => c >= 0)).toBe(true);
      expect(Math.abs(r.weights.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      const d = combine(g, r.weights);
      const d2 = dot(d, d);
      expect(r.normSquared).toBeCloseTo(d2, 8);
      const scale = Math.max(1, ...G.map((row, i) => row[i]!));
      const tol = 1e-6 * scale;
      g.forEach((gi, i) => {
        const gd = dot(gi, d);
        // g_i·d ≥ ‖d‖² for every i (so no objective increases along −d to first order) …
        expect(gd).toBeGreaterThanOrEqual(d2 - tol);
        expect(gd).toBeGreaterThanOrEqual(-tol);
        // … with equality on the support.
        if (r.weights[i]! > 1e-6) expect(Math.abs(gd - d2)).toBeLessThan(tol);
      });
    },
  );

  test.prop(
    [fc.integer({ min: 2, max: 5 }).chain((m) => fc.tuple(gradients(m, m + 3), fc.nat())), fc.nat()],
    {
      seed: 22,
      numRuns: 100,
    },
  )('are invariant to permuting the objectives', ([g, k]) => {
    const m = g.length;
    const perm = Array.from({ length: m }, (_, i) => (i + k) % m).reverse();
    const a = minNormWeights(gram(g), { tolerance: 1e-15, maxIterations: 10000 });
    const b = minNormWeights(gram(perm.map((i) => g[i]!)), { tolerance: 1e-15, maxIterations: 10000 });
    // The min-norm point d is unique; the weights are unique when the gradients are
    // affinely independent (generic in m + 3 dimensions), up to conditioning.
    const da = combine(g, a.weights);
    const db = combine(
      perm.map((i) => g[i]!),
      b.weights,
    );
    for (const [i, v] of da.entries()) expect(v).toBeCloseTo(db[i]!, 5);
    expect(a.normSquared).toBeCloseTo(b.normSquared, 8);
    // Objective perm[i] of the original is objective i of the permuted problem.
    perm.forEach((p, i) => {
      expect(b.weights[i]).toBeCloseTo(a.weights[p]!, 4);
    });
  });

  test.prop([gradients(2, 5)], { seed: 23, numRuns: 200 })(
    'closed form for 2 agrees with Frank–Wolfe',
    (g) => {
      const G = gram(g);
      const closed = minNormWeights(G);
      const fw = frankWolfeMinNorm(G, { tolerance: 1e-15, maxIterations: 10000 });
      expect(closed.normSquared).toBeCloseTo(fw.normSquared, 8);
      const scale = Math.max(1, G[0]![0]!, G[1]![1]!);
      // Where the minimizer is unique (g1 ≠ g2), the weights agree too.
      if (G[0]![0]! - 2 * G[0]![1]! + G[1]![1]! > 1e-6 * scale)
        expect(closed.weights[0]).toBeCloseTo(fw.weights[0]!, 4);
    },
  );

  test.prop(
    [
      fc
        .integer({ min: 2, max: 5 })
        .chain((m) =>
          fc.tuple(
            gradients(m - 1, 6),
            fc.array(fc.double({ min: 0.05, max: 1, noNaN: true }), { minLength: m, maxLength: m }),
          ),
        ),
    ],
    { seed: 24, numRuns: 100 },
  )('the direction vanishes at a Pareto-stationary point', ([free, raw]) => {
    const sum = raw.reduce((a, b) => a + b, 0);
    const w = raw.map((v) => v / sum);
    const m = w.length;
    // g_m = −Σ_{i<m} w_i g_i / w_m, so Σ w_i g_i = 0.
    const last = free[0]!.map((_, k) => -free.reduce((s, gi, i) => s + w[i]! * gi[k]!, 0) / w[m - 1]!);
    const g = [...free, last];
    const G = gram(g);
    const scale = Math.max(1, ...G.map((row, i) => row[i]!));
    const r = minNormWeights(G, { tolerance: 1e-14, maxIterations: 20000 });
    expect(r.normSquared).toBeLessThan(1e-8 * scale);
  });

  test.prop(
    [
      fc
        .integer({ min: 3, max: 6 })
        .chain((m) => fc.integer({ min: 1, max: 6 }).chain((n) => gradients(m, n))),
    ],
    { seed: 29, numRuns: 150 },
  )(
    'Frank–Wolfe iterates: on the simplex, ‖d‖² never increases, and every step is an exact line search unless it stops at the boundary',
    (g) => {
      checkIterates(gram(g));
    },
  );

  it('the same for a hull where Frank–Wolfe takes away steps that stop inside the simplex', () => {
    // Found by a search over small integer gradients: Frank–Wolfe moves away from a vertex without
    // dropping it (0.01 < γ < γmax), a step random hulls rarely take (their away steps drop a vertex).
    checkIterates(
      gram([
        [1, 3, 4],
        [-3, 1, -3],
        [0, 1, 2],
        [4, 0, -3],
      ]),
    );
  });

  it('hand-computed: the min-norm point on an edge of a triangle, the third weight exactly 0', () => {
    // g1 = (−1, −1), g2 = (2, 3), g3 = (−3, 2). Starting at g1 (the shortest), the Frank–Wolfe step
    // toward g2 (the least g_i·g1 = −5) has gap 2 + 5 = 7 and curvature 13 + 10 + 2 = 25: γ = 0.28, so
    // c = (0.72, 0.28, 0) and d = (−0.16, 0.12), orthogonal to g2 − g1 = (3, 4), with g3·d = 0.72 ≥ ‖d‖² = 0.04:
    // optimal.
    const r = frankWolfeMinNorm(
      gram([
        [-1, -1],
        [2, 3],
        [-3, 2],
      ]),
    );
    expect(r.weights[0]).toBeCloseTo(0.72, 12);
    expect(r.weights[1]).toBeCloseTo(0.28, 12);
    expect(r.weights[2]).toBe(0);
    expect(r.normSquared).toBeCloseTo(0.04, 12);
    expect(r.converged).toBe(true);
  });

  it('reports the iteration cap honestly', () => {
    const g = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [-1, -1, 0.5],
    ];
    const capped = frankWolfeMinNorm(gram(g), { maxIterations: 1, tolerance: 0 });
    expect(capped.iterations).toBe(1);
    expect(capped.converged).toBe(false);
    const full = frankWolfeMinNorm(gram(g), { maxIterations: 1000 });
    expect(full.converged).toBe(true);
    expect(full.iterations).toBeLessThan(1000);
  });

  it('rejects empty and non-finite input with typed errors', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isMopruneError(e) ? e.code : 'untyped';
      }
      return 'none';
    };
    expect(code(() => minNormWeights([]))).toBe('EMPTY_OBJECTIVES');
    expect(
      code(() =>
        minNormWeights([
          [1, Number.NaN],
          [Number.NaN, 1],
        ]),
      ),
    ).toBe('NON_FINITE_GRADIENT');
    expect(
      code(() =>
        minNormWeights([
          [1, 0, 0],
          [0, Number.POSITIVE_INFINITY, 0],
          [0, 0, 1],
        ]),
      ),
    ).toBe('NON_FINITE_GRADIENT');
  });
});
