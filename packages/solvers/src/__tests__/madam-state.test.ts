/**
 * MAdam's per-objective moments as state, pinned: what load() refuses (each malformed slot list,
 * objective count, array shape or size), what a step refuses (another objective count, another
 * variable list shape), how moments follow the variables (a new list of the same shapes, a state
 * loaded before the first step, `previous` entries that are unknown or missing), and what a step
 * reports besides the values.
 */
import type { ComponentState, JsonObject } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMadamSolver } from '../index.js';
import { quadraticProblem } from '../testing/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const mismatch = (message: string | RegExp) =>
  expect.objectContaining({
    name: 'SolverError',
    code: 'STATE_MISMATCH',
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  });

/** Two objectives over x ∈ R⁵ split into variables of shapes [2] and [3, 1]. */
const twoByFive = (start = [3, 3, 3, 3, 3]) =>
  quadraticProblem({
    centers: [
      [1, 2, 3, 4, 5],
      [0, 1, 0, 1, 0],
    ],
    start,
    split: [2, 3],
  });

function arraysOf(s: ComponentState): Record<string, number[]> {
  return Object.fromEntries(Object.entries(s.arrays).map(([k, a]) => [k, Array.from(a.data)]));
}

/** A MAdam solver after two steps on `twoByFive()`, its state, and the problem (to dispose). */
function trained() {
  const q = twoByFive();
  const solver = createMadamSolver({ type: 'madam', lr: 0.1 });
  solver.step(q.problem);
  q.advance();
  solver.step(q.problem);
  return { q, solver, saved: solver.state() };
}

describe('MAdam load()', () => {
  it('refuses each malformed slot list or objective count, naming what it needs', () => {
    const { q, solver, saved } = trained();
    const need = "MAdam state needs 'objectives' and a list of 'slots' { shape, t }";
    const slot0 = (saved.json.slots as JsonObject[])[0]!;
    const broken: JsonObject[] = [
      { slots: 'none' },
      { slots: [null] },
      { slots: [[2]] },
      { slots: [{ ...slot0, t: '2' }] },
      { slots: [{ ...slot0, shape: 2 }] },
      { slots: [{ ...slot0, shape: [2, 1.5] }] },
      { objectives: 1.5 },
      { objectives: -1 },
    ];
    for (const change of broken) {
      const fresh = createMadamSolver({ type: 'madam', lr: 0.1 });
      expect(
        () => fresh.load({ json: { ...saved.json, ...change }, arrays: saved.arrays }),
        JSON.stringify(change),
      ).toThrow(mismatch(need));
      fresh.dispose();
    }
    solver.dispose();
    q.dispose();
  });

  it('refuses a moment array of another rank or with a wrong number of entries', () => {
    const { q, solver, saved } = trained();
    for (const [key, bad] of [
      ['m/0/0', { shape: [2, 1], data: new Float32Array(2) }],
      ['m/0/1', { shape: [3], data: new Float32Array(3) }], // the slot's shape is [3, 1]
      ['m/0/0', { shape: [2], data: new Float32Array(3) }],
    ] as const) {
      const fresh = createMadamSolver({ type: 'madam', lr: 0.1 });
      expect(() => fresh.load({ json: saved.json, arrays: { ...saved.arrays, [key]: bad } })).toThrow(
        mismatch(`MAdam state array '${key}' is missing or has the wrong shape`),
      );
      fresh.dispose();
    }
    solver.dispose();
    q.dispose();
  });
});

describe('MAdam steps and the variables they bind to', () => {
  it('refuses another objective count, and a list with one variable of another shape', () => {
    const { q, solver } = trained();
    const three = quadraticProblem({
      centers: [
        [1, 2, 3, 4, 5],
        [0, 1, 0, 1, 0],
        [5, 4, 3, 2, 1],
      ],
      split: [2, 3],
    });
    expect(() => solver.step(three.problem)).toThrow(
      mismatch('MAdam holds moments for 2 objectives, the problem has 3'),
    );
    const reshaped = quadraticProblem({
      centers: [
        [1, 2, 3, 4, 5, 6],
        [0, 1, 0, 1, 0, 1],
      ],
      split: [2, 4],
    });
    expect(() => solver.step(reshaped.problem)).toThrow(
      mismatch(
        'the variable list changed shape since the moments were created; call resetVariables() after physical removal',
      ),
    );
    const fewer = quadraticProblem({
      centers: [
        [1, 2],
        [0, 1],
      ],
    });
    expect(() => solver.step(fewer.problem)).toThrow(mismatch(/^the variable list changed shape/));
    for (const p of [three, reshaped, fewer, q]) p.dispose();
    solver.dispose();
  });

  it('a new list of the same shapes takes over the moments: resetVariables with it keeps them', () => {
    const { q, solver, saved } = trained();
    const other = twoByFive(q.point());
    solver.step(other.problem); // binds the slots to other's variables
    const after = solver.state();
    solver.resetVariables?.(other.variables);
    expect(arraysOf(solver.state())).toEqual(arraysOf(after));
    expect(arraysOf(after)).not.toEqual(arraysOf(saved));
    solver.dispose();
    q.dispose();
    other.dispose();
  });

  it('resetVariables with the same variables keeps every moment', () => {
    const { q, solver, saved } = trained();
    solver.resetVariables?.(q.variables);
    expect(arraysOf(solver.state())).toEqual(arraysOf(saved));
    solver.dispose();
    q.dispose();
  });

  it('a previous variable the solver never saw restarts its moments', () => {
    const { q, solver, saved } = trained();
    const stranger = twoByFive();
    solver.resetVariables?.(q.variables, stranger.variables);
    const s = solver.state();
    expect(Object.keys(s.arrays).sort()).toEqual(Object.keys(saved.arrays).sort());
    for (const [k, a] of Object.entries(s.arrays))
      expect(
        Array.from(a.data).every((x) => x === 0),
        k,
      ).toBe(true);
    solver.dispose();
    q.dispose();
    stranger.dispose();
  });

  it('a state loaded before the first step binds by index, also when previous has no entry for a variable', () => {
    const { q, solver, saved } = trained();
    for (const previous of [undefined, [undefined, undefined]]) {
      const fresh = createMadamSolver({ type: 'madam', lr: 0.1 });
      fresh.load(saved);
      fresh.resetVariables?.(q.variables, previous);
      expect(arraysOf(fresh.state()), JSON.stringify(previous)).toEqual(arraysOf(saved));
      fresh.dispose();
    }
    // the first variable changed shape: it restarts, the second still binds to slot 1 by index
    const wider = quadraticProblem({
      centers: [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [0, 1, 0, 1, 0, 1, 0, 1],
      ],
      split: [5, 3],
    });
    const fresh = createMadamSolver({ type: 'madam', lr: 0.1 });
    fresh.load(saved);
    fresh.resetVariables?.(wider.variables, [undefined, undefined]);
    const s = arraysOf(fresh.state());
    const want = arraysOf(saved);
    for (const k of ['m/0/1', 'v/0/1', 'm/1/1', 'v/1/1']) expect(s[k], k).toEqual(want[k]);
    for (const k of ['m/0/0', 'v/0/0']) expect(s[k], k).toEqual([0, 0, 0, 0, 0]);
    fresh.dispose();
    wider.dispose();
    solver.dispose();
    q.dispose();
  });

  it('a variable shrunk by a removal keeps the moments of its surviving entries (sliced by the takes) and its t', () => {
    const { q, solver, saved } = trained();
    // The second variable [3, 1] loses its entry 1 (a pruned unit): its successor is [2, 1].
    const small = quadraticProblem({
      centers: [
        [1, 2, 3, 5],
        [0, 1, 0, 0],
      ],
      split: [2, 2],
    });
    solver.resetVariables?.(small.variables, q.variables, [undefined, [{ axis: 0, indices: [0, 2] }]]);
    const s = solver.state();
    const was = arraysOf(saved);
    const now = arraysOf(s);
    for (const k of ['m/0/1', 'v/0/1', 'm/1/1', 'v/1/1']) {
      expect(now[k], k).toEqual([was[k]![0], was[k]![2]]);
      expect(s.arrays[k]!.shape, k).toEqual([2, 1]);
    }
    // the first variable kept its shape and its moments
    for (const k of ['m/0/0', 'v/0/0', 'm/1/0', 'v/1/0']) expect(now[k], k).toEqual(was[k]);
    expect((s.json.slots as JsonObject[]).map((x) => [x.shape, x.t])).toEqual([
      [[2], 2],
      [[2, 1], 2],
    ]);
    expect(now['m/0/1']!.some((x) => x !== 0)).toBe(true);
    // a take that does not produce the new shape restarts the moments
    const fresh = trained();
    fresh.solver.resetVariables?.(small.variables, fresh.q.variables, [
      undefined,
      [{ axis: 0, indices: [0] }],
    ]);
    const restarted = arraysOf(fresh.solver.state());
    expect(restarted['m/0/1']).toEqual([0, 0]);
    expect((fresh.solver.state().json.slots as JsonObject[]).map((x) => x.t)).toEqual([2, 0]);
    fresh.solver.dispose();
    fresh.q.dispose();
    solver.dispose();
    q.dispose();
    small.dispose();
  });

  it('a step reports the norm of the common direction and the Frank–Wolfe iterations', () => {
    // one objective: the min-norm direction is its gradient, 2(x − c) = (−2, −4) at x = 0
    const q = quadraticProblem({ centers: [[1, 2]] });
    const solver = createMadamSolver({ type: 'madam', lr: 0.1 });
    const r = solver.step(q.problem);
    expect(r.extra?.directionNorm).toBeCloseTo(Math.sqrt(20), 5);
    expect(r.extra?.frankWolfeIterations).toBe(0);
    solver.dispose();
    q.dispose();
  });

  it('config errors name the solver', () => {
    expect(() => createMadamSolver({ type: 'madam', lr: -1 })).toThrow(/madam solver config/);
  });
});
