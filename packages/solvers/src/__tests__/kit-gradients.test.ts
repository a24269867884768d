/**
 * The kit's gradient helpers a contributor's solver is built from, pinned by their contract: the
 * problem checks (m = 1 is a problem, m = 0 or no variables is not), the error each check throws
 * (code, message, details, cause), NO_GRADIENT for variables that are not trainable however many,
 * the problem's own error kept when the pass cannot even finish, and Gram matrices and norms with
 * missing gradients.
 */
import type { StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { SolverError } from '../errors.js';
import {
  checkGradientNorm,
  checkProblem,
  checkValues,
  gradientsOf,
  gramMatrix,
  squaredNorm,
} from '../kit.js';
import { thrown } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function problemOf(variables: tf.Variable[], m: number, evaluate: () => tf.Scalar[]): StepProblem {
  return { m, variables, evaluate, step: 0, epoch: 0 };
}

describe('checkProblem', () => {
  it('accepts one objective; refuses none or a non-integer count (EMPTY_OBJECTIVES) and no variables', () => {
    const v = tf.variable(tf.scalar(1));
    expect(() => checkProblem(problemOf([v], 1, () => []))).not.toThrow();
    for (const m of [0, -1, 1.5]) {
      const e = thrown(() => checkProblem(problemOf([v], m, () => [])));
      expect([e.code, e.message]).toEqual([
        'EMPTY_OBJECTIVES',
        `the step problem has no objectives (m = ${m})`,
      ]);
    }
    const e = thrown(() => checkProblem(problemOf([], 2, () => [])));
    expect([e.code, e.message]).toEqual(['INVALID_ARGUMENT', 'the step problem has no variables']);
    v.dispose();
  });
});

describe('gradientsOf', () => {
  it('names both counts when evaluate() returns the wrong number of values', () => {
    const v = tf.variable(tf.scalar(2));
    const e = thrown(() =>
      gradientsOf(
        problemOf([v], 3, () => [tf.mul(v, 1) as tf.Scalar]),
        [v],
        (x) => x[0]!,
      ),
    );
    expect([e.code, e.message]).toEqual([
      'OBJECTIVE_COUNT_MISMATCH',
      'evaluate() returned 1 values, the problem declares m = 3',
    ]);
    v.dispose();
  });

  it('NO_GRADIENT, with the engine’s error as its cause, for 1 or 12 variables none of which is trainable', () => {
    for (const count of [1, 12]) {
      const vars = Array.from({ length: count }, (_, i) => tf.variable(tf.scalar(i), false));
      const e = thrown(() =>
        gradientsOf(
          problemOf(vars, 1, () => [tf.addN(vars) as tf.Scalar]),
          vars,
          (x) => x[0]!,
        ),
      );
      expect([e.code, e.message], `${count}`).toEqual([
        'NO_GRADIENT',
        'an objective does not depend on any trainable variable',
      ]);
      expect((e.cause as Error).message).toMatch(/none of the \d+ variables is trainable/);
      tf.dispose(vars);
    }
  });

  it('other engine errors pass unchanged: an op without a gradient is not NO_GRADIENT', () => {
    const v = tf.variable(tf.tensor([1, 3, 2]));
    let caught: unknown;
    try {
      gradientsOf(
        problemOf([v], 1, () => [tf.sum(tf.topk(v, 2).values) as tf.Scalar]),
        [v],
        (x) => x[0]!,
      );
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).not.toBeInstanceOf(SolverError);
    expect((caught as Error).message).toMatch(/gradient/i);
    v.dispose();
  });

  it('an error of the problem wins over the failure of the pass it broke (a disposed variable)', () => {
    const v = tf.variable(tf.scalar(1));
    v.dispose();
    const boom = new Error('boom');
    let caught: unknown;
    try {
      gradientsOf(
        problemOf([v], 1, () => {
          throw boom;
        }),
        [v],
        (x) => x[0]!,
      );
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(boom);
  });
});

describe('checkValues and checkGradientNorm', () => {
  it('NON_FINITE_VALUE names the first non-finite objective, in the message and the details', () => {
    expect(() => checkValues([0, -3, 1e30])).not.toThrow();
    const e = thrown(() => checkValues([1, Number.NaN, Number.POSITIVE_INFINITY]));
    expect([e.code, e.message, e.details]).toEqual([
      'NON_FINITE_VALUE',
      'objective 1 has the non-finite value NaN',
      { objective: 1 },
    ]);
  });

  it('NON_FINITE_GRADIENT names the objective when there is one, else the combined gradient', () => {
    expect(() => checkGradientNorm(4, 0)).not.toThrow();
    const one = thrown(() => checkGradientNorm(Number.NaN, 2));
    expect([one.code, one.message, one.details]).toEqual([
      'NON_FINITE_GRADIENT',
      'the gradient of objective 2 holds NaN or Infinity',
      { objective: 2 },
    ]);
    const combined = thrown(() => checkGradientNorm(Number.POSITIVE_INFINITY));
    expect([combined.code, combined.message, combined.details]).toEqual([
      'NON_FINITE_GRADIENT',
      'the combined gradient holds NaN or Infinity',
      {},
    ]);
    expect(Object.keys(combined.details ?? {})).toEqual([]); // no `objective` key at all, not one set to undefined
  });
});

describe('gramMatrix and squaredNorm with missing gradients', () => {
  it('a missing gradient counts as zero, also when a pair shares no variable', () => {
    const g = tf.tensor([1, 2]);
    const h = tf.tensor([3]);
    expect(
      gramMatrix([
        [g, null],
        [null, h],
      ]),
    ).toEqual([
      [5, 0],
      [0, 9],
    ]);
    expect(squaredNorm([null, h])).toBe(9);
    expect(squaredNorm([null, null])).toBe(0);
    tf.dispose([g, h]);
  });
});
