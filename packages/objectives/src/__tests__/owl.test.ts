import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { growlProxScales, growlWeights, owlProx } from './imports.js';

/** ½‖x − v‖² + Σ θ_i |x|_[i]: what the prox minimizes. */
function proxObjective(x: ArrayLike<number>, v: ArrayLike<number>, theta: ArrayLike<number>): number {
  let quad = 0;
  const abs: number[] = [];
  for (let i = 0; i < v.length; i++) {
    quad += 0.5 * (x[i]! - v[i]!) ** 2;
    abs.push(Math.abs(x[i]!));
  }
  abs.sort((a, b) => b - a);
  return quad + abs.reduce((s, a, i) => s + theta[i]! * a, 0);
}

describe('growlWeights', () => {
  it('spike = [β1 + β2, β2, …]; linear = β1 + β2·(n − i)/n', () => {
    expect(Array.from(growlWeights('spike', 4, 0.8, 0.2))).toEqual(
      [1, 0.2, 0.2, 0.2].map((x) => Math.fround(x)),
    );
    const lin = Array.from(growlWeights('linear', 3, 0.1, 0.3));
    [0.3, 0.2, 0.1].forEach((x, i) => {
      expect(lin[i]).toBeCloseTo(x, 6);
    });
  });
});

describe('owlProx', () => {
  it('subtracts θ in sorted order when no pooling is needed', () => {
    // |v| sorted: 3 (idx 0), 2 (idx 2), 1 (idx 1); minus θ = [2, 1, 0.5] → 1, 1, 0.5.
    expect(Array.from(owlProx([3, -1, 2], [2, 1, 0.5]))).toEqual([1, -0.5, 1]);
  });

  it('pools adjacent violators: v = [1, 0.9], θ = [1, 0.1] gives [0.4, 0.4]', () => {
    // z = [0, 0.8] violates the order; the pooled mean 0.4 satisfies 2t − 0.8 = 0.
    const x = owlProx([1, 0.9], [1, 0.1]);
    expect(x[0]).toBeCloseTo(0.4, 6);
    expect(x[1]).toBeCloseTo(0.4, 6);
  });

  it('clips at zero and keeps zeros', () => {
    expect(Array.from(owlProx([0.5, 0, -0.2], [1, 1, 1]))).toEqual([0, 0, 0]);
  });

  it('rejects increasing or negative weights and a length mismatch', () => {
    expect(() => owlProx([1, 2], [0.1, 0.2])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => owlProx([1, 2], [0.1, -1])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => owlProx([1, 2], [0.1])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  const vectorAndWeights = fc.integer({ min: 1, max: 7 }).chain((n) =>
    fc.record({
      v: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n }),
      theta: fc
        .array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: n, maxLength: n })
        .map((t) => t.sort((a, b) => b - a)),
      delta: fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { minLength: n, maxLength: n }),
    }),
  );

  test.prop([vectorAndWeights], { seed: 20261122, numRuns: 300 })(
    'is the minimizer: no nearby point has a lower prox objective',
    ({ v, theta, delta }) => {
      const x = owlProx(v, theta);
      const moved = Array.from(x, (xi, i) => xi + delta[i]!);
      // Float32 output: allow its rounding error.
      expect(proxObjective(x, v, theta)).toBeLessThanOrEqual(proxObjective(moved, v, theta) + 1e-5);
    },
  );
});

describe('growlProxScales', () => {
  it('maps group norms through the OWL prox and returns new/old factors', () => {
    // Norms [5, 1, 0], θ = [1, 0.2, 0.2]: prox → [4, 0.8, 0]; factors [0.8, 0.8, 0].
    const s = growlProxScales([5, 1, 0], [1, 0.2, 0.2]);
    expect(s[0]).toBeCloseTo(0.8, 6);
    expect(s[1]).toBeCloseTo(0.8, 6);
    expect(s[2]).toBe(0);
  });
});
