import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { defineObjective, schema as s } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkObjectiveConformance, describeObjectiveConformance } from '../testing/index.js';
import { createObjective } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Built-in objectives pass the suite a contributor's objective runs.
describeObjectiveConformance({
  name: 'crossEntropy',
  create: (c) => createObjective(c),
  config: { type: 'crossEntropy' },
  describe,
  it,
});
describeObjectiveConformance({
  name: 'l1 of the kernels',
  create: (c) => createObjective(c),
  config: { type: 'l1', params: { roles: ['kernel'] } },
  describe,
  it,
});

// Broken objectives, each breaking one check: the suite must reject every one.
const empty = s.object({});
const leaky = defineObjective({
  name: 'test-leaky',
  description: 'leaves a tensor behind',
  configSchema: empty,
  create: (config) => ({
    name: 'leaky',
    config,
    value: (ctx) => {
      tf.keep(tf.scalar(1));
      return tf.mean(ctx.outputs[0]!) as tf.Scalar;
    },
  }),
});
let draws = 0;
const restless = defineObjective({
  name: 'test-restless',
  description: 'changes on every evaluation',
  configSchema: empty,
  create: (config) => ({
    name: 'restless',
    config,
    // A different value on every evaluation (a hidden counter, say unseeded sampling).
    value: (ctx) => tf.add(tf.mean(ctx.outputs[0]!), draws++) as tf.Scalar,
  }),
});
const flat = defineObjective({
  name: 'test-flat',
  description: 'a constant',
  configSchema: empty,
  create: (config) => ({ name: 'flat', config, value: () => tf.scalar(1) }),
});
const lost = defineObjective({
  name: 'test-lost-config',
  description: 'forgets its scale',
  configSchema: s.object({ scale: s.number() }),
  // Its config does not record `scale`: rebuilt from it, another objective.
  create: (config) => ({
    name: 'lost',
    config: { type: 'test-lost-config', scale: 1 },
    value: (ctx) => tf.mul(tf.mean(ctx.outputs[0]!), config.scale) as tf.Scalar,
  }),
});

describe('the objective conformance suite rejects broken objectives', () => {
  const rejects = async (
    definition: { create: (c: never, ctx: never) => unknown },
    config: object,
    why: RegExp,
  ) => {
    await expect(
      checkObjectiveConformance({
        name: 'broken',
        create: (c) => definition.create(c as never, undefined as never) as never,
        config: config as never,
        runs: 1,
      }),
    ).rejects.toThrow(why);
  };
  it('a tensor left behind by every evaluation', () =>
    rejects(leaky, { type: 'test-leaky' }, /left 1 tensor/));
  it('a value that changes between two evaluations', () =>
    rejects(restless, { type: 'test-restless' }, /evaluated twice/));
  it('no gradient while claimed differentiable', () =>
    rejects(flat, { type: 'test-flat' }, /gradient is zero/));
  it('a config that does not rebuild the same objective', () =>
    rejects(lost, { type: 'test-lost-config', scale: 3 }, /rebuilt from its config/));
  it('an unregistered type', () => rejects(flat, { type: 'test-nobody' }, /not registered/));
});
