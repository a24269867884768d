import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, it } from 'vitest';
import {
  createChebyshevAlSolver,
  createMadamSolver,
  createSmgdSolver,
  createWeightedSumSolver,
} from '../index.js';
import { describeSolverConformance } from '../testing/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const uniform = (m: number) => Array.from({ length: m }, () => 1 / m);

describeSolverConformance({
  name: 'weighted-sum (adam)',
  create: createWeightedSumSolver,
  config: (m) => ({ type: 'weighted-sum', weights: uniform(m), optimizer: { type: 'adam', lr: 0.01 } }),
  descent: 'weighted',
  stationary: false,
  simplexWeights: true,
  describe,
  it,
});

describeSolverConformance({
  name: 'weighted-sum (sgd momentum)',
  create: createWeightedSumSolver,
  config: (m) => ({
    type: 'weighted-sum',
    weights: uniform(m),
    optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 },
  }),
  objectives: [2],
  descent: 'weighted',
  stationary: false,
  simplexWeights: true,
  describe,
  it,
});

describeSolverConformance({
  name: 'smgd',
  create: createSmgdSolver,
  config: () => ({ type: 'smgd', lr: 0.01, momentum: 0.9, decay: 0.001 }),
  descent: 'every-objective',
  stationary: true,
  simplexWeights: true,
  describe,
  it,
});

describeSolverConformance({
  name: 'madam',
  create: createMadamSolver,
  config: { type: 'madam', lr: 0.01 },
  descent: false,
  stationary: false,
  simplexWeights: true,
  describe,
  it,
});

for (const form of ['textbook', 'reference'] as const) {
  describeSolverConformance({
    name: `chebyshev-al (${form})`,
    create: createChebyshevAlSolver,
    config: (m) => ({ type: 'chebyshev-al', preference: uniform(m), form, outerEvery: 1, mu0: 0.5 }),
    descent: false,
    stationary: false,
    simplexWeights: false,
    describe,
    it,
  });
}
