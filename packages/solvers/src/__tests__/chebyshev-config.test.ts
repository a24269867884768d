/**
 * The Chebyshev-AL solver's config and bookkeeping, pinned: reference and λ0 lengths against the
 * preference (code, path, message), λ0 ≥ 0 with 0 allowed, the defaults λ0 = 1/m and t0 (from the
 * first values, or as given), an outer update that has seen no step changes nothing, the outer
 * iteration count, and the errors naming the solver.
 */
import type { JsonObject } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { chebyshevAlSolver, createChebyshevAlSolver } from '../index.js';
import { quadraticProblem } from '../testing/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { type: 'chebyshev-al', preference: [0.25, 0.25, 0.5] };

const three = () =>
  quadraticProblem({
    centers: [
      [1, 0],
      [0, 1],
      [1, 1],
    ],
    start: [0, 0],
  });

describe('Chebyshev-AL config', () => {
  it('reference and lambda0 need one entry per objective (OBJECTIVE_COUNT_MISMATCH, each named)', () => {
    expect(chebyshevAlSolver.validate({ ...base, reference: [0, 0], lambda0: [0.5, 0.5, 0, 1] })).toEqual([
      {
        path: 'reference',
        message: 'needs 3 entries (one per objective), got 2',
        code: 'OBJECTIVE_COUNT_MISMATCH',
      },
      {
        path: 'lambda0',
        message: 'needs 3 entries (one per objective), got 4',
        code: 'OBJECTIVE_COUNT_MISMATCH',
      },
    ]);
    expect(chebyshevAlSolver.validate({ ...base, reference: [0, 0, 0], lambda0: [1, 1, 1] })).toEqual([]);
  });

  it('a config without preference is refused naming it, also when reference or lambda0 is given', () => {
    for (const extra of [{}, { reference: [0, 0] }, { lambda0: [1, 1] }]) {
      expect(
        () => createChebyshevAlSolver({ type: 'chebyshev-al', ...extra } as never),
        JSON.stringify(extra),
      ).toThrow(
        expect.objectContaining({
          name: 'SolverError',
          code: 'INVALID_CONFIG',
          issues: [{ path: 'preference', message: 'is required' }],
        }),
      );
    }
  });

  it('lambda0 entries must be ≥ 0; 0 is allowed', () => {
    expect(chebyshevAlSolver.validate({ ...base, lambda0: [0, 0, 1] })).toEqual([]);
    expect(chebyshevAlSolver.validate({ ...base, lambda0: [1, -0.5, 1] })).toEqual([
      expect.objectContaining({
        path: 'lambda0',
        message: 'multipliers of inequality constraints must be ≥ 0',
      }),
    ]);
    expect(() => createChebyshevAlSolver({ ...base, lambda0: [1, -0.5, 1] })).toThrow(
      /^invalid chebyshev-al solver config:/,
    );
  });

  it('defaults: λ0 = 1/m each; t0 recorded only when given', () => {
    const solver = createChebyshevAlSolver(base);
    expect(solver.config.lambda0).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect('t0' in solver.config).toBe(false);
    solver.dispose();
    const given = createChebyshevAlSolver({ ...base, t0: 7 });
    expect(given.config.t0).toBe(7);
    given.dispose();
  });

  it('t starts at the largest scaled objective, or at t0 when given', () => {
    const q = three();
    // at x = 0: f = (1, 1, 2); scaled k_i·[(f_i − 0) + ε·Σf] with ε = 1e-4: the largest is 0.5·(2 + 4e-4)
    const auto = createChebyshevAlSolver({ ...base, optimizer: { type: 'sgd', lr: 0 } });
    auto.step(q.problem);
    expect(auto.state().json.t).toBeCloseTo(0.5 * (2 + 4e-4), 6);
    auto.dispose();
    const given = createChebyshevAlSolver({ ...base, t0: 7, optimizer: { type: 'sgd', lr: 0 } });
    given.step(q.problem);
    expect(given.state().json.t).toBe(7);
    given.dispose();
    q.dispose();
  });
});

describe('Chebyshev-AL steps and outer updates', () => {
  it('refuses a problem with another objective count, naming both', () => {
    const q = quadraticProblem({
      centers: [
        [1, 0],
        [0, 1],
      ],
    });
    const solver = createChebyshevAlSolver(base);
    expect(() => solver.step(q.problem)).toThrow(
      expect.objectContaining({
        code: 'OBJECTIVE_COUNT_MISMATCH',
        message: 'the Chebyshev-AL solver has a preference for 3 objectives but the problem has 2',
      }),
    );
    solver.dispose();
    q.dispose();
  });

  it('an outer update with no step since the last changes nothing; one after steps counts once', () => {
    const solver = createChebyshevAlSolver({ ...base, outerEvery: 1 });
    const before = solver.state().json;
    solver.endEpoch?.(0);
    const after = solver.state().json as JsonObject;
    expect([after.lambda, after.mu, after.outerIterations]).toEqual([before.lambda, before.mu, 0]);
    const q = three();
    solver.step(q.problem);
    solver.endEpoch?.(1);
    const updated = solver.state().json as JsonObject;
    expect(updated.outerIterations).toBe(1);
    expect(updated.mu).toBe(2); // μ0 = 1, ρ = 2
    expect((updated.lambda as number[]).every(Number.isFinite)).toBe(true);
    solver.dispose();
    q.dispose();
  });

  it("a removal slices the optimizer's moments of a shrunk variable and keeps t's, through previous and takes", () => {
    const big = quadraticProblem({
      centers: [
        [1, 2, 3, 4, 5],
        [0, 1, 0, 1, 0],
      ],
      start: [3, 3, 3, 3, 3],
      split: [2, 3],
    });
    const solver = createChebyshevAlSolver({
      type: 'chebyshev-al',
      preference: [0.5, 0.5],
      optimizer: { type: 'adam', lr: 0.1 },
    });
    solver.step(big.problem);
    big.advance();
    solver.step(big.problem);
    const was = solver.state();
    // The second variable [3, 1] loses its entry 1: its successor is [2, 1]; the first is replaced as is.
    const small = quadraticProblem({
      centers: [
        [1, 2, 3, 5],
        [0, 1, 0, 0],
      ],
      split: [2, 2],
    });
    solver.resetVariables?.(small.variables, big.variables, [undefined, [{ axis: 0, indices: [0, 2] }]]);
    const now = solver.state();
    const values = (st: typeof was, k: string) => Array.from(st.arrays[k]!.data);
    for (const k of ['optimizer/1/m', 'optimizer/1/v']) {
      expect(values(now, k), k).toEqual([values(was, k)[0], values(was, k)[2]]);
      expect(now.arrays[k]!.shape, k).toEqual([2, 1]);
    }
    // the first variable and t (the last entry) keep their moments and step counts
    for (const k of ['optimizer/0/m', 'optimizer/0/v', 'optimizer/2/m', 'optimizer/2/v'])
      expect(values(now, k), k).toEqual(values(was, k));
    const entries = (st: typeof was) =>
      ((st.json.optimizer as JsonObject).entries as JsonObject[]).map((e) => [e.t, e.shape]);
    expect(entries(now)).toEqual([
      [2, [2]],
      [2, [2, 1]],
      [2, []],
    ]);
    expect(values(was, 'optimizer/2/m').some((x) => x !== 0)).toBe(true);
    solver.dispose();
    big.dispose();
    small.dispose();
  });
});
