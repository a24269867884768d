import { describeSolverConformance } from '@moprune/solvers/testing';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registries } from '@moprune/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNormalizedSumSolver } from './normalized-sum.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('is created from JSON through the registry, with config errors listed', () => {
  expect(registries().solvers.create({ type: 'normalized-sum' }, undefined).name).toBe('normalized-sum');
  expect(
    registries()
      .solvers.validate({ type: 'normalized-sum', optimizer: { type: 'sgd', lr: -1 }, extra: 1 })
      .map((i) => i.path)
      .sort(),
  ).toEqual(['extra', 'optimizer.lr']);
});

it('steps along the sum of the unit-length gradients, weights inversely proportional to their norms', () => {
  // f1 = ½‖x − a‖², f2 = 50‖x − b‖²: ∇f1 = x − a, ∇f2 = 100(x − b), at x = 0: (−1, 0) and (0, −200).
  const x = tf.variable(tf.tensor1d([0, 0]));
  const a = tf.tensor1d([1, 0]);
  const b = tf.tensor1d([0, 2]);
  const solver = createNormalizedSumSolver({ type: 'normalized-sum', optimizer: { type: 'sgd', lr: 0.1 } });
  const result = solver.step({
    variables: [x],
    m: 2,
    step: 0,
    epoch: 0,
    evaluate: () => [
      tf.mul(0.5, tf.sum(tf.square(tf.sub(x, a)))) as tf.Scalar,
      tf.mul(50, tf.sum(tf.square(tf.sub(x, b)))) as tf.Scalar,
    ],
  });
  // ‖∇f1‖ = 1, ‖∇f2‖ = 200: w = (200, 1)/201; the step −0.1·(w1·(−1, 0) + w2·(0, −200)).
  expect(result.values).toEqual([0.5, 200]);
  expect(result.weights[0]).toBeCloseTo(200 / 201, 6);
  expect(result.weights[1]).toBeCloseTo(1 / 201, 6);
  const [x0, x1] = x.dataSync();
  expect(x0).toBeCloseTo((0.1 * 200) / 201, 6);
  expect(x1).toBeCloseTo((0.1 * 200) / 201, 6);
  solver.dispose?.();
  tf.dispose([x, a, b]);
});

describeSolverConformance({
  name: 'normalized-sum (contributor example)',
  create: createNormalizedSumSolver,
  config: { type: 'normalized-sum', optimizer: { type: 'sgd', lr: 0.01 } },
  descent: 'weighted',
  stationary: false,
  simplexWeights: true,
  describe,
  it,
});
