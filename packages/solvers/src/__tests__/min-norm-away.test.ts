/**
 * Frank–Wolfe with away steps, iterate by iterate (issue 17): frankWolfeMinNorm
 * against a reference written here from the algorithm's definition (Lacoste-Julien
 * & Jaggi's away-step Frank–Wolfe with exact line search on cᵀGc), compared at
 * every iteration cap, so that a wrong away vertex, a missing away step, a drop
 * that does not zero its vertex or a wrong step limit changes some cap's result.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { frankWolfeMinNorm } from '../index.js';

/** The reference: plain loops over the simplex, state as numbers, ties to the lowest index. */
function reference(G: number[][], cap: number) {
  const m = G.length;
  const Gc = (c: number[]) => G.map((row) => row.reduce((s, g, j) => s + g * c[j]!, 0));
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
  let start = 0;
  for (let i = 1; i < m; i++) if (G[i]![i]! < G[start]![start]!) start = i;
  let c: number[] = G.map((_, i) => (i === start ? 1 : 0));
  let gap = 0;
  let it = 0;
  const tol = 1e-10 * Math.max(...G.map((r, i) => r[i]!));
  while (true) {
    const g = Gc(c);
    const q = dot(c, g);
    const toward = g.indexOf(Math.min(...g));
    let away = -1;
    for (let i = 0; i < m; i++) if (c[i]! > 0 && (away < 0 || g[i]! > g[away]!)) away = i;
    const fw = q - g[toward]!;
    const aw = g[away]! - q;
    gap = Math.max(fw, aw, 0);
    if (gap <= tol || it >= cap) break;
    it++;
    let d: number[];
    let limit: number;
    if (fw >= aw) {
      d = c.map((v, i) => (i === toward ? 1 : 0) - v);
      limit = 1;
    } else {
      d = c.map((v, i) => v - (i === away ? 1 : 0));
      limit = c[away]! / (1 - c[away]!);
    }
    const slope = dot(d, g); // d·Gc, negative along a descent direction
    const curv = dot(d, Gc(d));
    const step = curv > 0 ? Math.min(limit, -slope / curv) : limit;
    c = c.map((v, i) => v + step * d[i]!);
    if (fw < aw && step >= limit) c[away] = 0; // a full away step drops its vertex exactly
    c = c.map((v) => Math.max(0, v));
    const sum = c.reduce((s, v) => s + v, 0);
    c = c.map((v) => v / sum);
  }
  return { weights: c, gap, iterations: it };
}

function expectClose(
  actual: { weights: number[]; gap: number; iterations: number },
  expected: ReturnType<typeof reference>,
) {
  expect(actual.iterations).toBe(expected.iterations);
  actual.weights.forEach((w, i) => {
    if (expected.weights[i] === 0) expect(w).toBe(0);
    else expect(w).toBeCloseTo(expected.weights[i]!, 9);
  });
  expect(actual.gap).toBeCloseTo(expected.gap, 9);
}

describe('frankWolfeMinNorm, iterate by iterate', () => {
  it('drops the vertex an away step empties to exactly 0 (a 3-gradient case that needs it)', () => {
    const G = [
      [8, 4, -2],
      [4, 10, -11],
      [-2, -11, 13],
    ];
    // The optimum is (0, 8/15, 7/15) with ‖d‖² = 0.2; the start vertex (8) must be dropped on the way.
    const r5 = frankWolfeMinNorm(G, { maxIterations: 5 });
    expect(r5.weights[0]).toBe(0);
    for (let cap = 0; cap <= 40; cap++)
      expectClose(frankWolfeMinNorm(G, { maxIterations: cap }), reference(G, cap));
    const full = frankWolfeMinNorm(G);
    expect(full.converged).toBe(true);
    expect(full.weights[0]).toBe(0);
    expect(full.weights[1]).toBeCloseTo(8 / 15, 9);
    expect(full.weights[2]).toBeCloseTo(7 / 15, 9);
    expect(full.normSquared).toBeCloseTo(0.2, 9);
  });

  test.prop(
    [
      fc.integer({ min: 3, max: 5 }).chain((m) =>
        fc.array(fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 3, maxLength: 3 }), {
          minLength: m,
          maxLength: m,
        }),
      ),
    ],
    { seed: 17, numRuns: 60 },
  )('matches the reference at every cap on Gram matrices of integer gradients', (grads) => {
    const G = grads.map((a) => grads.map((b) => a.reduce((s, v, k) => s + v * b[k]!, 0)));
    if (G.some((r, i) => r[i] === 0)) return; // a zero gradient: stationary at once, covered elsewhere
    for (let cap = 0; cap <= 25; cap++)
      expectClose(frankWolfeMinNorm(G, { maxIterations: cap }), reference(G, cap));
  });
});
