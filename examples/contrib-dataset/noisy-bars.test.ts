import { registries } from '@moprune/core';
import { describeDatasetConformance } from '@moprune/datasets/testing';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNoisyBars } from './noisy-bars.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('is created from JSON through the registry, with config errors listed by path', async () => {
  const d = await registries().datasets.create({ type: 'noisy-bars', trainSize: 10, testSize: 0 }, {});
  expect(d.info).toEqual({
    name: 'noisy-bars',
    inputShape: [8, 8, 1],
    classes: [2],
    sizes: { train: 10, validation: 128, test: 0 },
  });
  expect(
    registries()
      .datasets.validate({ type: 'noisy-bars', trainSize: 0, noise: 300 })
      .map((i) => i.path)
      .sort(),
  ).toEqual(['noise', 'trainSize']);
});

it('draws a bar across the image: its row (class 0) or column (class 1) is the brightest', () => {
  const d = createNoisyBars({ trainSize: 20, validationSize: 0, testSize: 0, seed: 4 });
  for (const batch of d.batches('train', { batchSize: 20, shuffle: false })) {
    const x = batch.x.dataSync();
    const y = batch.y[0]!.dataSync();
    for (let i = 0; i < batch.size; i++) {
      const rows = new Array<number>(8).fill(0);
      const cols = new Array<number>(8).fill(0);
      for (let r = 0; r < 8; r++)
        for (let c = 0; c < 8; c++) {
          rows[r]! += x[i * 64 + r * 8 + c]!;
          cols[c]! += x[i * 64 + r * 8 + c]!;
        }
      // A full bar: 8 pixels ≥ (255 − 64)/255 against noise ≤ 64/255 elsewhere.
      const line = y[i] === 1 ? cols : rows;
      expect(Math.max(...line)).toBeGreaterThan(8 * 0.74);
      expect(line.filter((v) => v > 8 * 0.74)).toHaveLength(1);
    }
    batch.dispose();
  }
});

describeDatasetConformance({
  name: 'noisy-bars (contributor example)',
  config: { type: 'noisy-bars', trainSize: 50, validationSize: 20, testSize: 9, seed: 2 },
  describe,
  it,
});
