/**
 * SMGD's edges, pinned: minNormOver with several prefixes (any one selects a variable) and its
 * error listing at most 8 variable names; one objective (whose value is still checked); a variable
 * no objective depends on, left alone.
 */
import type { StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmgdSolver, createWeightedSumSolver } from '../index.js';
import { twoObjectives } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const made: tf.Variable[] = [];
afterEach(() => {
  tf.dispose(made.splice(0));
});

let tags = 0;
/** Scalar variables named `<tag>/<name>`, each starting at 0. */
function variables(names: readonly string[]): tf.Variable[] {
  const tag = `smgdgaps${tags++}`;
  const vs = names.map((n) => tf.tidy(() => tf.variable(tf.scalar(0), true, `${tag}/${n}`)));
  made.push(...vs);
  return vs;
}

describe('SMGD minNormOver', () => {
  it('a variable matching any one of several prefixes enters the Gram matrix', () => {
    // over a alone: g1 = −2, g2 = 2 → c = (½, ½) (over both it would be 2/13)
    const solver = createSmgdSolver({
      type: 'smgd',
      lr: 0.1,
      momentum: 0,
      minNormOver: ['trunk.', 'shared.'],
    });
    const r = solver.step(twoObjectives(variables(['shared.w', 'head.w'])));
    expect(r.weights[0]).toBeCloseTo(0.5, 6);
    solver.dispose();
  });

  it('matching nothing is INVALID_CONFIG listing the prefixes and up to 8 variable names', () => {
    const stepOn = (vs: tf.Variable[]) => () => {
      const solver = createSmgdSolver({ type: 'smgd', minNormOver: ['trunk.', 'body.'] });
      try {
        solver.step(twoObjectives(vs));
      } finally {
        solver.dispose();
      }
    };
    expect(stepOn(variables(['a', 'b']))).toThrow(
      expect.objectContaining({
        name: 'SolverError',
        code: 'INVALID_CONFIG',
        message: 'smgd minNormOver [trunk., body.] matches none of the 2 variables (a, b)',
        issues: [{ path: 'minNormOver', message: 'matches no variable' }],
      }),
    );
    expect(stepOn(variables(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']))).toThrow(
      expect.objectContaining({
        message:
          'smgd minNormOver [trunk., body.] matches none of the 8 variables (v1, v2, v3, v4, v5, v6, v7, v8)',
      }),
    );
    expect(stepOn(variables(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']))).toThrow(
      expect.objectContaining({
        message:
          'smgd minNormOver [trunk., body.] matches none of the 9 variables (v1, v2, v3, v4, v5, v6, v7, v8, …)',
      }),
    );
  });
});

describe('SMGD edges', () => {
  it('one objective: its non-finite value is refused before any step', () => {
    const [a] = variables(['a']);
    const problem: StepProblem = {
      variables: [a!],
      m: 1,
      step: 0,
      epoch: 0,
      evaluate: () => [tf.mul(tf.square(a!), Number.NaN) as tf.Scalar],
    };
    const solver = createSmgdSolver();
    expect(() => solver.step(problem)).toThrow(expect.objectContaining({ code: 'NON_FINITE_VALUE' }));
    expect(a!.dataSync()[0]).toBe(0);
    solver.dispose();
  });

  it('a variable no objective depends on is left alone; the others step', () => {
    const vs = variables(['a', 'b', 'unused']);
    const solver = createSmgdSolver({ type: 'smgd', lr: 0.1, momentum: 0 });
    solver.step(twoObjectives(vs));
    expect(vs[2]!.dataSync()[0]).toBe(0);
    expect(vs[1]!.dataSync()[0]).not.toBe(0);
    solver.dispose();
  });
});

describe('config and count errors name the solver', () => {
  it('SMGD and weighted-sum config errors; weighted-sum weights against the objective count', () => {
    expect(() => createSmgdSolver({ type: 'smgd', lr: -1 })).toThrow(/^invalid smgd solver config:/);
    expect(() => createWeightedSumSolver({ type: 'weighted-sum', weights: [2] })).toThrow(
      /^invalid weighted-sum solver config:/,
    );
    const solver = createWeightedSumSolver({ type: 'weighted-sum', weights: [0.25, 0.25, 0.5] });
    expect(() => solver.step(twoObjectives(variables(['a', 'b'])))).toThrow(
      expect.objectContaining({
        code: 'OBJECTIVE_COUNT_MISMATCH',
        message: 'the weighted-sum solver has 3 weights but the problem has 2 objectives',
      }),
    );
    solver.dispose();
  });
});

describe("SMGD with the problem's evaluateOne", () => {
  it('takes objective 2 onward alone (one evaluation each, not all m), with the same step as without it', () => {
    const run = (withOne: boolean) => {
      const vs = variables(['a', 'b']);
      const base = twoObjectives(vs);
      const calls = { all: 0, one: [] as number[] };
      const problem: StepProblem = {
        ...base,
        evaluate: () => {
          calls.all += 1;
          return base.evaluate();
        },
        ...(withOne
          ? {
              evaluateOne: (i: number) => {
                calls.one.push(i);
                const all = base.evaluate();
                tf.dispose(all.filter((_, j) => j !== i));
                return all[i]!;
              },
            }
          : {}),
      };
      const solver = createSmgdSolver({ type: 'smgd', lr: 0.1, momentum: 0.9 });
      const result = solver.step(problem);
      solver.dispose();
      return { calls, result, values: vs.map((v) => v.dataSync()[0]) };
    };
    const before = tf.memory().numTensors;
    const plain = run(false);
    const one = run(true);
    expect(plain.calls).toEqual({ all: 2, one: [] });
    expect(one.calls).toEqual({ all: 1, one: [1] });
    expect(one.values).toEqual(plain.values);
    expect(one.result).toEqual(plain.result);
    // g1 = (−2, −6), g2 = (2, 0): c = (2/13, 11/13); the step moved both variables.
    expect(one.values.every((x) => x !== 0)).toBe(true);
    tf.dispose(made.splice(0));
    expect(tf.memory().numTensors).toBe(before);
  });
});
