import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSmgdSolver, createWeightedSumSolver } from '../index.js';
import { describeSolverConformance, type SolverConformanceOptions } from '../testing/index.js';
import { ignoresAnObjective, leavesStationaryPoints } from './fixtures/broken-solvers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs the suite with a collecting `it`: each check's outcome by name (undefined = passed). */
async function outcomes(
  options: Omit<SolverConformanceOptions, 'describe' | 'it'>,
): Promise<Map<string, Error | undefined>> {
  const tests: [string, () => void | Promise<void>][] = [];
  describeSolverConformance({
    ...options,
    describe: (_name, fn) => void fn(),
    it: (name, fn) => void tests.push([name, fn]),
  });
  const out = new Map<string, Error | undefined>();
  for (const [name, fn] of tests) {
    try {
      await fn();
      out.set(name, undefined);
    } catch (e) {
      out.set(name, e as Error);
    }
  }
  return out;
}

describe('the solver conformance suite rejects broken solvers', () => {
  it('a solver that ignores an objective while claiming to lower every one', async () => {
    const r = await outcomes({
      name: 'ignores-an-objective',
      create: createWeightedSumSolver,
      config: ignoresAnObjective,
      descent: 'every-objective',
      stationary: false,
      simplexWeights: true,
    });
    const name = (m: number) =>
      `[m=${m}] near the Pareto set, where the gradients conflict, one small step lowers every objective (none is ignored)`;
    expect(r.get(name(2))?.message).toMatch(/objective 1 did not decrease/);
    expect(r.get(name(3))?.message).toMatch(/did not decrease/);
  });

  it('a solver that steps away from a Pareto-stationary point', async () => {
    const r = await outcomes({
      name: 'leaves-stationary-points',
      create: createWeightedSumSolver,
      config: leavesStationaryPoints,
      descent: 'weighted',
      stationary: true,
      simplexWeights: true,
    });
    expect(r.get('[m=2] the step vanishes at a Pareto-stationary point')).toBeInstanceOf(Error);
    expect(r.get('[m=3] the step vanishes at a Pareto-stationary point')).toBeInstanceOf(Error);
  });

  it('and passes a real multi-gradient solver on every check', async () => {
    const r = await outcomes({
      name: 'smgd',
      create: createSmgdSolver,
      config: () => ({ type: 'smgd', lr: 0.01, momentum: 0.9 }),
      descent: 'every-objective',
      stationary: true,
      simplexWeights: true,
    });
    expect([...r].filter(([, e]) => e !== undefined).map(([n, e]) => `${n}: ${e!.message}`)).toEqual([]);
    expect(r.size).toBeGreaterThan(10);
  });
});
