import '@tensorflow/tfjs-backend-cpu';
import { type Batch, type Dataset, defineDataset, schema as s } from '@moprune/core';
import { cifarFixtureDataDir } from '@moprune/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createArrayDataset } from '../index.js';
import '../register.js';
import { checkDatasetConformance, describeDatasetConformance } from '../testing/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// A built-in dataset (the committed CIFAR-10 fixture files: 15 images) passes the suite a contributor's runs.
describeDatasetConformance({
  name: 'cifar10 (fixture files)',
  config: { type: 'cifar10', dataDir: cifarFixtureDataDir, validationSize: 3 },
  batchSizes: [4],
  describe,
  it,
});

/** 12 + 4 + 4 distinct 2×2×1 images (pixel = sample index), labels of 3 classes. */
function honest(): Dataset {
  const part = (from: number, n: number) => ({
    images: Uint8Array.from({ length: n * 4 }, (_, k) => from + Math.floor(k / 4)),
    labels: [Uint8Array.from({ length: n }, (_, i) => (from + i) % 3)],
  });
  return createArrayDataset({
    name: 'honest',
    inputShape: [2, 2, 1],
    classes: [3],
    splits: { train: part(0, 12), validation: part(100, 4), test: part(200, 4) },
  });
}

/** A dataset that breaks one promise, registered under `name`. */
function broken(name: string, wrap: (d: Dataset) => Dataset) {
  defineDataset({
    name,
    description: `broken: ${name}`,
    configSchema: s.object({}),
    create: () => wrap(honest()),
  });
  return { type: name };
}

const lyingCount = broken('test-lying-count', (d) => ({
  info: d.info,
  batches: (split, o) => d.batches(split, o),
  batchCount: (split, o) => d.batchCount(split, o) + 1,
}));
const repeats = broken('test-repeats', (d) => ({
  info: d.info,
  // Every epoch serves the first batch twice and drops the last: not every sample once.
  *batches(split, o) {
    const all = [...d.batches(split, o)];
    const first = d
      .batches(split, { ...o, startBatch: 0 })
      [Symbol.iterator]()
      .next().value as Batch;
    for (const b of all.slice(0, -1)) yield b;
    all[all.length - 1]!.dispose();
    yield first;
  },
  batchCount: (split, o) => d.batchCount(split, o),
}));
const leaks = broken('test-leaks', (d) => ({
  info: d.info,
  *batches(split, o) {
    for (const b of d.batches(split, o)) yield { ...b, dispose: () => b.x.dispose() } as Batch;
  },
  batchCount: (split, o) => d.batchCount(split, o),
}));
const unshuffled = broken('test-unshuffled', (d) => ({
  info: d.info,
  batches: (split, o) => d.batches(split, { ...o, epoch: 0 }),
  batchCount: (split, o) => d.batchCount(split, o),
}));

describe('the dataset conformance suite rejects broken datasets', () => {
  const rejects = (config: { type: string }, why: RegExp) =>
    expect(checkDatasetConformance({ name: 'broken', config, batchSizes: [5] })).rejects.toThrow(why);
  it('passes the honest one', () =>
    expect(
      checkDatasetConformance({ name: 'honest', config: broken('test-honest', (d) => d), batchSizes: [5] }),
    ).resolves.toBeUndefined());
  it('a batchCount that is not what batches yields', () => rejects(lyingCount, /batchCount/));
  it('an epoch that serves a sample twice and misses another', () =>
    rejects(repeats, /other samples|samples in the epoch/));
  it('batches whose dispose leaves a tensor', () => rejects(leaks, /left after disposing/));
  it('a training split in the same order every epoch', () => rejects(unshuffled, /no shuffle/));
  it('an unknown key in the config', () =>
    expect(
      checkDatasetConformance({
        name: 'x',
        config: { type: 'cifar10', dataDir: cifarFixtureDataDir, colour: 1 },
      }),
    ).rejects.toThrow(/its config is refused/));
});
