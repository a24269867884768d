import { describePrunerConformance } from '@moprune/pruners/testing';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registries } from '@moprune/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandomPruner, type RandomPrunerConfig } from './random-pruner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('is created from JSON through the registry, with config errors listed', () => {
  expect(registries().pruners.create({ type: 'random', fraction: 0.1 }, undefined).name).toBe('random');
  expect(
    registries()
      .pruners.validate({ type: 'random', fraction: 2, every: 0 })
      .map((i) => i.path),
  ).toEqual(['fraction', 'every']);
});

describePrunerConformance({
  name: 'random (contributor example)',
  create: (c) => createRandomPruner(c as unknown as RandomPrunerConfig),
  config: { type: 'random', fraction: 0.2, every: 2 },
  describe,
  it,
});
