/**
 * What min-norm.test.ts leaves open: the exact results of the closed forms, the errors' codes, messages
 * and details, the Frank–Wolfe start vertex and tie-breaking, the defaults (250 iterations, tolerance
 * 1e-10 relative to max_i ‖g_i‖²) and the tolerance boundary (a gap equal to the threshold stops).
 */
import { describe, expect, it } from 'vitest';
import { frankWolfeMinNorm, minNormTwo, minNormWeights } from '../index.js';

function gram(g: readonly (readonly number[])[]): number[][] {
  return g.map((a) => g.map((b) => a.reduce((s, v, k) => s + v * b[k]!, 0)));
}

const solverError = (code: string, message: string, details?: Record<string, unknown>) =>
  expect.objectContaining({
    name: 'SolverError',
    code,
    message,
    ...(details === undefined ? {} : { details }),
  });

/** e1, e2, e3 and (−1, −1, ½): diagonal (1, 1, 1, 2.25), so the scale of the tolerance is 2.25. */
const FOUR = gram([
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [-1, -1, 0.5],
]);

describe('min-norm closed forms', () => {
  it('two gradients: interior, clipped at either end, and the rounding-level case', () => {
    // g1 = (1, 0), g2 = (−1, 2): c1 = (5 + 1)/(1 + 2 + 5) = 0.75, d = (0.5, 0.5) ⟂ g2 − g1 = (−2, 2).
    expect(minNormTwo(1, -1, 5)).toEqual([0.75, 0.25]);
    // g1 = (2, 0), g2 = (1, 0): c1 = (1 − 2)/1 = −1, clipped to 0: the shorter g2 alone.
    expect(minNormTwo(4, 2, 1)).toEqual([0, 1]);
    // Two zero gradients: ‖g2 − g1‖² = 0 is not > 0, so c1 = 1 (not 0/0).
    expect(minNormTwo(0, 0, 0)).toEqual([1, 0]);
  });

  it('two gradients: g1 = g2 is decided relative to ‖g1‖² + ‖g2‖², not absolutely', () => {
    const big = 2 ** 20;
    // ‖g2 − g1‖² = 2^−24 ≈ 6e−8 ≤ 1e−12·2^21 ≈ 2.1e−6: equal up to rounding, c1 = 1.
    expect(minNormTwo(big, big - 2 ** -25, big)).toEqual([1, 0]);
    // ‖g2 − g1‖² = 2^−14 ≈ 6e−5 > 2.1e−6: resolved, c1 = 2^−15 / 2^−14 = ½.
    expect(minNormTwo(big, big - 2 ** -15, big)).toEqual([0.5, 0.5]);
    // Tiny gradients: ‖g2 − g1‖² = 2^−44 ≈ 6e−14 is far above 1e−12·2^−19 ≈ 2e−18.
    const small = 2 ** -20;
    expect(minNormTwo(small, small - 2 ** -45, small)).toEqual([0.5, 0.5]);
  });

  it('minNormWeights: one and two gradients in closed form, no iterations, no gap', () => {
    expect(minNormWeights([[4]])).toEqual({
      weights: [1],
      normSquared: 4,
      iterations: 0,
      gap: 0,
      converged: true,
    });
    // G of g1 = (1, 0), g2 = (−1, 2): Gc = (0.5, 0.5), ‖d‖² = 0.5.
    expect(
      minNormWeights([
        [1, -1],
        [-1, 5],
      ]),
    ).toEqual({ weights: [0.75, 0.25], normSquared: 0.5, iterations: 0, gap: 0, converged: true });
    // Orthogonal unit gradients: Frank–Wolfe would need one step; the closed form needs none.
    expect(
      minNormWeights([
        [1, 0],
        [0, 1],
      ]),
    ).toEqual({ weights: [0.5, 0.5], normSquared: 0.5, iterations: 0, gap: 0, converged: true });
  });

  it('the closed forms (m ≤ 2) do not use the Frank–Wolfe options', () => {
    // MinNormOptions documents the options for m > 2; an iteration cap of −1 is refused only there.
    expect(minNormWeights([[4]], { maxIterations: -1 }).weights).toEqual([1]);
    expect(
      minNormWeights(
        [
          [1, 0],
          [0, 1],
        ],
        { maxIterations: -1 },
      ).weights,
    ).toEqual([0.5, 0.5]);
    expect(() => minNormWeights(FOUR, { maxIterations: -1 })).toThrowError(
      solverError('INVALID_ARGUMENT', 'maxIterations must be an integer ≥ 0, got -1'),
    );
  });
});

describe('min-norm input checks', () => {
  it('no gradients', () => {
    const e = solverError('EMPTY_OBJECTIVES', 'the min-norm problem needs at least one gradient');
    expect(() => minNormWeights([])).toThrowError(e);
    expect(() => frankWolfeMinNorm([])).toThrowError(e);
  });

  it('a Gram matrix that is not square names the row', () => {
    expect(() => minNormWeights([[1, 0], [0]])).toThrowError(
      solverError('INVALID_ARGUMENT', 'Gram matrix row 1 has 1 entries, expected 2'),
    );
    expect(() =>
      frankWolfeMinNorm([
        [1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1],
      ]),
    ).toThrowError(solverError('INVALID_ARGUMENT', 'Gram matrix row 1 has 4 entries, expected 3'));
  });

  it('a non-finite entry names the objective (diagonal) or the pair (off-diagonal), first in row order', () => {
    expect(() =>
      minNormWeights([
        [1, 0, 0],
        [0, Number.NaN, 0],
        [0, 0, 1],
      ]),
    ).toThrowError(
      solverError('NON_FINITE_GRADIENT', 'the gradient of objective 1 hold NaN or Infinity (G[1][1] = NaN)', {
        objective: 1,
        other: 1,
      }),
    );
    expect(() =>
      minNormWeights([
        [1, 0, 0],
        [0, 1, Number.POSITIVE_INFINITY],
        [0, Number.POSITIVE_INFINITY, 1],
      ]),
    ).toThrowError(
      solverError(
        'NON_FINITE_GRADIENT',
        'the gradients of objectives 1 and 2 hold NaN or Infinity (G[1][2] = Infinity)',
        { objective: 1, other: 2 },
      ),
    );
  });

  it('Frank–Wolfe options: an integer cap ≥ 0 and a tolerance ≥ 0', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => frankWolfeMinNorm(FOUR, { maxIterations: bad })).toThrowError(
        solverError('INVALID_ARGUMENT', `maxIterations must be an integer ≥ 0, got ${bad}`),
      );
    }
    for (const bad of [-0.001, Number.NaN]) {
      expect(() => frankWolfeMinNorm(FOUR, { tolerance: bad })).toThrowError(
        solverError('INVALID_ARGUMENT', `tolerance must be ≥ 0, got ${bad}`),
      );
    }
    expect(frankWolfeMinNorm(FOUR, { maxIterations: 0, tolerance: 0 }).iterations).toBe(0);
  });
});

describe('Frank–Wolfe details', () => {
  it('starts at the first of the shortest gradients', () => {
    // Diagonal (1, 1, 1, 2.25): vertex 0. At e_0, Gw = (1, 0, 0, −1) and q = 1: FW gap 1 − (−1) = 2.
    expect(frankWolfeMinNorm(FOUR, { maxIterations: 0 })).toEqual({
      weights: [1, 0, 0, 0],
      normSquared: 1,
      iterations: 0,
      gap: 2,
      converged: false,
    });
    // The shortest last: (3, 0), (0, 2), (1, 1), norms² 9, 4, 2.
    const last = gram([
      [3, 0],
      [0, 2],
      [1, 1],
    ]);
    expect(frankWolfeMinNorm(last, { maxIterations: 0 }).weights).toEqual([0, 0, 1]);
    // Ties after the first: norms² 4, 1, 1 → vertex 1.
    const middle = gram([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(frankWolfeMinNorm(middle, { maxIterations: 0 }).weights).toEqual([0, 1, 0]);
  });

  it('steps toward the first of the vertices with the least g_i·d', () => {
    // g0 = (0, 0, 1) (shortest), g1 = (2, 0, 0), g2 = (0, 2, 0): from e_0, Gw = (1, 0, 0), a tie between
    // vertices 1 and 2; toward vertex 1 the gap is 1 and the curvature 4 − 0 + 1 = 5, so γ = 0.2.
    const G = gram([
      [0, 0, 1],
      [2, 0, 0],
      [0, 2, 0],
    ]);
    const one = frankWolfeMinNorm(G, { maxIterations: 1, tolerance: 0 });
    expect(one.weights).toEqual([0.8, 0.2, 0]);
    expect(one.iterations).toBe(1);
    // d = (0.4, 0, 0.8): ‖d‖² = 0.8, and the next FW vertex is 2 (g2·d = 0): gap 0.8 − 0 = 0.8.
    expect(one.normSquared).toBeCloseTo(0.8, 15);
    expect(one.gap).toBeCloseTo(0.8, 15);
    expect(one.converged).toBe(false);
  });

  it('caps at 250 iterations by default', () => {
    // With tolerance 0 this hull never reaches a zero gap in floating point.
    const r = frankWolfeMinNorm(FOUR, { tolerance: 0 });
    expect(r.iterations).toBe(250);
    expect(r.converged).toBe(false);
    expect(r).toEqual(frankWolfeMinNorm(FOUR, { tolerance: 0, maxIterations: 250 }));
    expect(frankWolfeMinNorm(FOUR, { tolerance: 0, maxIterations: 251 }).iterations).toBe(251);
  });

  it('the default tolerance is 1e-10 relative to the largest ‖g_i‖²', () => {
    const r = frankWolfeMinNorm(FOUR);
    expect(r).toEqual(frankWolfeMinNorm(FOUR, { tolerance: 1e-10 }));
    expect(r.converged).toBe(true);
    expect(r.gap).toBeLessThanOrEqual(1e-10 * 2.25);
    // The previous iterate's gap is above the threshold (so the stop is the first one under it) …
    const before = frankWolfeMinNorm(FOUR, { tolerance: 0, maxIterations: r.iterations - 1 });
    expect(before.gap).toBeGreaterThan(1e-10 * 2.25);
    // … and the threshold is not 1e-10 · the smallest ‖g_i‖² (= 1e-10): some gap lies in between.
    expect(frankWolfeMinNorm(FOUR, { tolerance: 1e-10 / 2.25 }).iterations).toBeGreaterThan(r.iterations);
    // Scaling every gradient by 32 scales G by 1024 and the gaps with it: the same iterations.
    const scaled = frankWolfeMinNorm(FOUR.map((row) => row.map((v) => v * 1024)));
    expect(scaled.iterations).toBe(r.iterations);
    expect(scaled.converged).toBe(true);
    for (const [i, w] of scaled.weights.entries()) expect(w).toBeCloseTo(r.weights[i]!, 12);
  });

  it('a gap equal to the threshold stops, converged', () => {
    // Gaps of the capped runs (the gap after k steps); with tolerance gap_k / 2.25 the threshold is gap_k.
    for (const k of [1, 5, 7]) {
      const capped = frankWolfeMinNorm(FOUR, { tolerance: 0, maxIterations: k });
      const tolerance = capped.gap / 2.25;
      expect(tolerance * 2.25).toBe(capped.gap);
      const r = frankWolfeMinNorm(FOUR, { tolerance });
      expect(r.iterations).toBe(k);
      expect(r.gap).toBe(capped.gap);
      expect(r.converged).toBe(true);
      expect(r.weights).toEqual(capped.weights);
    }
  });
});
