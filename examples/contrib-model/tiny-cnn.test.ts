import { countParams, registries } from '@moprune/core';
import { describeModelConformance } from '@moprune/models/testing';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { TinyCnnError, tinyCnn } from './tiny-cnn.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('is built from JSON through the registry for the run’s data, config errors listed by path', () => {
  const spec = registries().models.create({ type: 'tiny-cnn' }, { inputShape: [28, 28, 1], classes: [10] });
  // conv1 3·3·1·8 + 8, conv2 3·3·8·16 + 16, dense 16·10 + 10.
  expect(countParams(spec)).toBe(80 + 1168 + 170);
  expect(
    registries()
      .models.validate({ type: 'tiny-cnn', filters: [8], gates: 'layers' })
      .map((i) => i.path)
      .sort(),
  ).toEqual(['filters', 'gates']);
});

it('refuses a two-task dataset with its typed error', () => {
  expect(() => tinyCnn({}, { inputShape: [28, 28, 1], classes: [10, 10] })).toThrow(TinyCnnError);
  try {
    tinyCnn({}, { inputShape: [28, 28, 1], classes: [10, 10] });
  } catch (e) {
    expect(e).toMatchObject({ name: 'TinyCnnError', code: 'INCOMPATIBLE_INPUT' });
  }
});

describeModelConformance({
  name: 'tiny-cnn (contributor example)',
  config: { type: 'tiny-cnn', gates: 'units' },
  contexts: [
    { inputShape: [28, 28, 1], classes: [10] },
    { inputShape: [8, 8, 3], classes: [4] },
  ],
  describe,
  it,
});
