import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { owlProx, owlWeights } from '../index.js';

/** ½‖x − v‖² + Σ θ_i |x|_[i]: what owlProx minimizes. */
function proxObjective(x: ArrayLike<number>, v: ArrayLike<number>, theta: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < v.length; i++) f += 0.5 * (x[i]! - v[i]!) ** 2;
  const sorted = Array.from(x, Math.abs).sort((a, b) => b - a);
  for (let i = 0; i < sorted.length; i++) f += theta[i]! * sorted[i]!;
  return f;
}

describe('OWL weights and prox (the one definition objectives and pruners share)', () => {
  it('spike and linear weights by hand (the reference code’s formulas)', () => {
    expect(Array.from(owlWeights('spike', 4, 0.8, 0.2))).toEqual([1, 0.2, 0.2, 0.2]);
    // θ_i = β1 + β2·(n − i)/n, i = 1…n: 0.1 + 0.3·(2/3, 1/3, 0).
    const lin = Array.from(owlWeights('linear', 3, 0.1, 0.3));
    [0.3, 0.2, 0.1].forEach((w, i) => {
      expect(lin[i]).toBeCloseTo(w, 12);
    });
    expect(owlWeights('linear', 0, 1, 1)).toHaveLength(0);
    expect(() => owlWeights('linear', 2.5, 0, 0)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => owlWeights('spike', 2, -1, 0)).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => owlProx([1, 2], [0.1, 0.2])).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('prox by hand: sorted shrinkage, pooling of violators, signs restored, zeros stay +0', () => {
    expect(Array.from(owlProx([3, -1, 2], [2, 1, 0.5]))).toEqual([1, -0.5, 1]);
    expect(Array.from(owlProx([1, 1], [0.8, 0.2]))).toEqual([0.5, 0.5]);
    expect(Object.is(owlProx([-0.1, 0], [1, 1])[0], 0)).toBe(true);
  });

  const vec = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 8 });
  test.prop(
    [
      vec,
      fc.constantFrom('spike', 'linear'),
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc.integer({ min: 1, max: 1000 }),
    ],
    {
      seed: 41,
      numRuns: 60,
    },
  )('the prox is the minimizer: no nearby point has a lower objective', (v, kind, b1, b2, seed) => {
    const theta = owlWeights(kind, v.length, b1, b2);
    const x = owlProx(v, theta);
    const fx = proxObjective(x, v, theta);
    let s = seed;
    const rand = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647 - 0.5;
    };
    for (let k = 0; k < 20; k++) {
      const y = Array.from(x, (xi) => xi + 0.05 * rand());
      expect(proxObjective(y, v, theta)).toBeGreaterThanOrEqual(fx - 1e-9);
    }
  });
});
