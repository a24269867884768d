import { createNetwork, registries } from '@moprune/core';
import { describeObjectiveConformance } from '@moprune/objectives/testing';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMaxNorm } from './max-norm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('is created from JSON through the registry, with config errors listed by path', () => {
  expect(registries().objectives.create({ type: 'max-norm', maxNorm: 2 }, undefined).config).toMatchObject({
    type: 'max-norm',
    maxNorm: 2,
  });
  expect(
    registries()
      .objectives.validate({ type: 'max-norm', maxNorm: 0, extra: 1 })
      .map((i) => i.path)
      .sort(),
  ).toEqual(['extra', 'maxNorm']);
});

it('is Σ max(0, ‖w_unit‖ − c)² over the units of every kernel: zero for short units', () => {
  const net = createNetwork(
    {
      name: 'two-units',
      inputShape: [2],
      nodes: [{ id: 'fc', op: 'dense', inputs: ['input'], units: 2 }],
      outputs: ['fc'],
    },
    { seed: 1 },
  );
  // Unit 0: (3, 4), norm 5; unit 1: (0.6, 0.8), norm 1 — with c = 2 only unit 0 pays: (5 − 2)² = 9.
  const kernel = tf.tensor2d([
    [3, 0.6],
    [4, 0.8],
  ]);
  net.params.get('fc/kernel')!.assign(kernel);
  const objective = createMaxNorm({ type: 'max-norm', maxNorm: 2 });
  const x = tf.zeros([1, 2]);
  const v = objective.value({
    net,
    outputs: [],
    batch: { x, y: [], size: 1, dispose: () => {} },
    gateProbabilities: {},
    training: true,
  });
  expect(v.dataSync()[0]).toBeCloseTo(9, 4);
  tf.dispose([v, x, kernel]);
  net.dispose();
});

describeObjectiveConformance({
  name: 'max-norm (contributor example)',
  create: createMaxNorm,
  // c below the initial norms, so the penalty (and its gradient) is not zero on the suite's networks.
  config: { type: 'max-norm', maxNorm: 0.1 },
  describe,
  it,
});
