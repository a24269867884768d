import '@tensorflow/tfjs-backend-cpu';
import { defineModel, schema as s } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../register.js';
import { checkModelConformance, describeModelConformance } from '../testing/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Built-in models pass the suite a contributor's model runs.
describeModelConformance({ name: 'mlp', config: { type: 'mlp', hidden: [12, 6] }, describe, it });
describeModelConformance({
  name: 'lenet5',
  config: { type: 'lenet5' },
  contexts: [{ inputShape: [28, 28, 1], classes: [10] }],
  groups: 4,
  describe,
  it,
});

// A model that ignores the dataset's classes (always 10 outputs).
defineModel({
  name: 'test-ten-classes',
  description: 'broken: ignores the classes it is built for',
  configSchema: s.object({}),
  create: (_config, ctx) => ({
    name: 'ten',
    inputShape: [...ctx.inputShape],
    nodes: [
      { id: 'flatten', op: 'flatten', inputs: ['input'] },
      { id: 'fc', op: 'dense', inputs: ['flatten'], units: 10 },
    ],
    outputs: ['fc'],
  }),
});

describe('the model conformance suite rejects broken models', () => {
  it('outputs that do not have the dataset’s classes', () =>
    expect(
      checkModelConformance({
        name: 'ten',
        config: { type: 'test-ten-classes' },
        contexts: [{ inputShape: [4, 4, 1], classes: [3] }],
      }),
    ).rejects.toThrow(/output 0 has shape \[3,10\], expected \[3, 3\]/));
  it('an unregistered type', () =>
    expect(checkModelConformance({ name: 'x', config: { type: 'test-nobody' } })).rejects.toThrow(
      /not registered/,
    ));
  it('a config the model refuses', () =>
    expect(checkModelConformance({ name: 'x', config: { type: 'mlp', hidden: [0] } })).rejects.toThrow(
      /its config is refused/,
    ));
});
