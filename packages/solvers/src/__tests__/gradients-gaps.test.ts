// A failed step frees every tensor it made (issue 17). The gradient pass used to
// throw from inside the tape when evaluate() returned the wrong number of values
// or threw itself, and the tensors the tape had saved for the backward pass
// (squares, products of the objectives) leaked on every failed step.
import { isMopruneError, type StepProblem } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createChebyshevAlSolver,
  createMadamSolver,
  createSmgdSolver,
  createWeightedSumSolver,
} from '../index.js';
import { quadraticProblem } from '../testing/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isMopruneError(e) ? `${(e as Error).name}:${e.code}` : `untyped:${String(e)}`;
  }
  return 'no error';
}

const solvers = {
  'weighted-sum': () => createWeightedSumSolver({ type: 'weighted-sum', weights: [0.5, 0.5] }),
  smgd: () => createSmgdSolver({ type: 'smgd' }),
  madam: () => createMadamSolver({ type: 'madam' }),
  'chebyshev-al': () => createChebyshevAlSolver({ type: 'chebyshev-al', preference: [0.5, 0.5] }),
};

describe.each(Object.entries(solvers))('%s: a failed step leaks no tensor', (_name, make) => {
  it('evaluate() returning the wrong count, or throwing mid-pass, leaves tf.memory() as it was', () => {
    const q = quadraticProblem({
      centers: [
        [0, 1],
        [1, 0],
      ],
      start: [0.3, 0.4],
    });
    const solver = make();
    solver.step(q.problem); // the solver's own state is made on its first step
    const point = q.point();
    const before = tf.memory().numTensors;
    const tooMany: StepProblem = {
      ...q.problem,
      evaluate: () => [...q.problem.evaluate(), tf.scalar(2)],
    };
    expect(codeOf(() => solver.step(tooMany))).toBe('SolverError:OBJECTIVE_COUNT_MISMATCH');
    expect(tf.memory().numTensors).toBe(before);
    const throwing: StepProblem = {
      ...q.problem,
      evaluate: () => {
        q.problem.evaluate(); // taped work, then a failure
        throw new RangeError('the data loader failed');
      },
    };
    expect(codeOf(() => solver.step(throwing))).toBe('untyped:RangeError: the data loader failed');
    expect(tf.memory().numTensors).toBe(before);
    expect(q.point()).toEqual(point);
    // and the solver still steps afterwards
    solver.step(q.problem);
    expect(q.point()).not.toEqual(point);
    solver.dispose();
    q.dispose();
  });
});
