import { fc, test } from '@fast-check/vitest';
import type { Batch, BatchOptions } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createArrayDataset, epochOrder, splitIndices } from '../index.js';
import { expectDatasetError, useCpuBackend } from './helpers.js';

useCpuBackend();

/** A dataset whose sample i is the two bytes (i >> 8, i & 255), labels (i % 10, i % 7), so batches reveal indices. */
function indexDataset(n: number, validation = 0, splitSeed = 0) {
  const images = new Uint8Array(2 * n);
  const a = new Uint8Array(n);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    images[2 * i] = i >> 8;
    images[2 * i + 1] = i & 255;
    a[i] = i % 10;
    b[i] = i % 7;
  }
  const split = splitIndices(n, validation, splitSeed);
  const labels = [a, b];
  return createArrayDataset({
    name: 'index',
    inputShape: [1, 2, 1],
    classes: [10, 7],
    splits: {
      train: { images, labels, indices: split.first },
      validation: { images, labels, indices: split.second },
      test: { images, labels },
    },
  });
}

/** The sample indices of every batch, read back from the batch tensors (batches disposed). */
function indicesOf(batches: Iterable<Batch>): number[][] {
  const out: number[][] = [];
  for (const batch of batches) {
    const x = batch.x.dataSync();
    const ids: number[] = [];
    for (let k = 0; k < batch.size; k++)
      ids.push(Math.round(x[2 * k]! * 255) * 256 + Math.round(x[2 * k + 1]! * 255));
    const [ya, yb] = batch.y.map((t) => Array.from(t.dataSync()));
    expect(ya).toEqual(ids.map((i) => i % 10));
    expect(yb).toEqual(ids.map((i) => i % 7));
    out.push(ids);
    batch.dispose();
  }
  return out;
}

const sizes = fc.record({
  n: fc.integer({ min: 1, max: 300 }),
  batchSize: fc.integer({ min: 1, max: 64 }),
  seed: fc.nat({ max: 1_000_000 }),
  epoch: fc.nat({ max: 1000 }),
});

describe('batches', () => {
  test.prop([sizes], { seed: 1001, numRuns: 60 })(
    'an epoch visits every sample exactly once, in batchCount batches',
    ({ n, batchSize, seed, epoch }) => {
      const ds = indexDataset(n);
      const opts: BatchOptions = { batchSize, seed, epoch };
      const batches = indicesOf(ds.batches('train', opts));
      expect(batches.length).toBe(ds.batchCount('train', opts));
      expect(batches.slice(0, -1).every((b) => b.length === batchSize)).toBe(true);
      expect(
        batches
          .flat()
          .slice()
          .sort((x, y) => x - y),
      ).toEqual(Array.from({ length: n }, (_, i) => i));
    },
  );

  test.prop([sizes.filter(({ n }) => n >= 10)], { seed: 1002, numRuns: 40 })(
    'the order is a function of (seed, epoch): equal for equal, different for a different seed or epoch',
    ({ n, batchSize, seed, epoch }) => {
      const ds = indexDataset(n);
      const order = (s: number, e: number) =>
        indicesOf(ds.batches('train', { batchSize, seed: s, epoch: e })).flat();
      const base = order(seed, epoch);
      expect(order(seed, epoch)).toEqual(base);
      expect(Array.from(epochOrder(n, seed, epoch))).toEqual(base);
      expect(order(seed + 1, epoch)).not.toEqual(base);
      expect(order(seed, epoch + 1)).not.toEqual(base);
    },
  );

  test.prop([sizes, fc.nat()], { seed: 1003, numRuns: 40 })(
    'startBatch resumes mid-epoch with exactly the remaining batches',
    ({ n, batchSize, seed, epoch }, pick) => {
      const ds = indexDataset(n);
      const full = indicesOf(ds.batches('train', { batchSize, seed, epoch }));
      const startBatch = pick % (full.length + 1);
      const opts = { batchSize, seed, epoch, startBatch };
      expect(ds.batchCount('train', opts)).toBe(full.length - startBatch);
      expect(indicesOf(ds.batches('train', opts))).toEqual(full.slice(startBatch));
    },
  );

  test.prop([fc.integer({ min: 2, max: 300 }), fc.nat({ max: 300 }), fc.nat({ max: 10_000 })], {
    seed: 1004,
    numRuns: 60,
  })(
    'splitIndices partitions 0…n−1 into sorted parts of the asked sizes, deterministically',
    (n, v, seed) => {
      const second = v % (n + 1);
      const s = splitIndices(n, second, seed);
      expect(s.first.length).toBe(n - second);
      expect(s.second.length).toBe(second);
      const all = [...s.first, ...s.second].sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      expect([...s.first]).toEqual([...s.first].sort((a, b) => a - b));
      expect(splitIndices(n, second, seed)).toEqual(s);
    },
  );

  it('keeps train and validation disjoint and batches only the split', () => {
    const ds = indexDataset(100, 20, 9);
    expect(ds.info.sizes).toEqual({ train: 80, validation: 20, test: 100 });
    const train = indicesOf(ds.batches('train', { batchSize: 7, seed: 1 })).flat();
    const val = indicesOf(ds.batches('validation', { batchSize: 7 })).flat();
    expect(new Set([...train, ...val]).size).toBe(100);
    expect(val).toEqual([...ds.raw('validation').indices]);
    expect(indexDataset(100, 20, 10).raw('validation').indices).not.toEqual(ds.raw('validation').indices);
  });

  it('does not shuffle validation and test unless asked; limit takes the first samples of the split', () => {
    const ds = indexDataset(50);
    expect(indicesOf(ds.batches('test', { batchSize: 16 })).flat()).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    const limited = indicesOf(ds.batches('test', { batchSize: 4, limit: 10 }));
    expect(limited.flat()).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const shuffled = indicesOf(ds.batches('test', { batchSize: 50, shuffle: true, seed: 3 })).flat();
    expect(shuffled).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const limitedTrain = indicesOf(ds.batches('train', { batchSize: 3, limit: 9, seed: 5 })).flat();
    expect(limitedTrain.sort((a, b) => a - b)).toEqual(Array.from({ length: 9 }, (_, i) => i));
  });

  it('drops a smaller last batch when asked', () => {
    const ds = indexDataset(10);
    expect(ds.batchCount('train', { batchSize: 4 })).toBe(3);
    expect(ds.batchCount('train', { batchSize: 4, dropLast: true })).toBe(2);
    expect(indicesOf(ds.batches('train', { batchSize: 4, dropLast: true })).map((b) => b.length)).toEqual([
      4, 4,
    ]);
  });

  it('gives flat or NHWC inputs and sparse int32 or one-hot float32 labels', () => {
    const ds = indexDataset(12);
    const [image] = ds.batches('test', { batchSize: 5 });
    expect(image!.x.shape).toEqual([5, 1, 2, 1]);
    expect(image!.x.dtype).toBe('float32');
    expect(image!.y.map((t) => [t.shape, t.dtype])).toEqual([
      [[5], 'int32'],
      [[5], 'int32'],
    ]);
    image!.dispose();
    const [flat] = ds.batches('test', { batchSize: 5, layout: 'flat', labels: 'onehot' });
    expect(flat!.x.shape).toEqual([5, 2]);
    expect(flat!.y.map((t) => [t.shape, t.dtype])).toEqual([
      [[5, 10], 'float32'],
      [[5, 7], 'float32'],
    ]);
    expect(Array.from(flat!.y[1]!.dataSync().subarray(3 * 7, 4 * 7))).toEqual([0, 0, 0, 1, 0, 0, 0]);
    flat!.dispose();
  });

  it('allocates only the batch: no tensor outlives dispose()', () => {
    const ds = indexDataset(100);
    const before = tf.memory().numTensors;
    let batches = 0;
    for (const batch of ds.batches('train', { batchSize: 8, labels: 'onehot' })) {
      expect(tf.memory().numTensors).toBe(before + 3);
      batch.dispose();
      batches++;
    }
    expect(batches).toBe(13);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options when batches() is called, before any batch', async () => {
    const ds = indexDataset(10);
    await expectDatasetError(() => ds.batches('train', { batchSize: 0 }), 'INVALID_OPTIONS', 'batchSize');
    await expectDatasetError(
      () => ds.batches('train', { batchSize: 2, startBatch: 6 }),
      'INVALID_OPTIONS',
      'startBatch 6',
    );
    await expectDatasetError(
      () => ds.batches('train', { batchSize: 2, labels: 'dense' as 'sparse', seed: -1 }),
      'INVALID_OPTIONS',
      'labels',
      'seed',
    );
    await expectDatasetError(
      () => ds.batchCount('nope' as 'train', { batchSize: 1 }),
      'INVALID_OPTIONS',
      'nope',
    );
  });
});

describe('normalization', () => {
  const images = new Uint8Array([0, 255, 51, 255, 255, 153]);
  const validation = new Uint8Array([0, 0, 0]);
  const test = new Uint8Array([255, 0, 255]);
  const make = (normalization?: 'zscore' | 'scale') =>
    createArrayDataset({
      name: 'rgb',
      inputShape: [1, 1, 3],
      classes: [2],
      splits: {
        train: { images, labels: [new Uint8Array([0, 1])] },
        validation: { images: validation, labels: [new Uint8Array([0])] },
        test: { images: test, labels: [new Uint8Array([1])] },
      },
      ...(normalization ? { normalization } : {}),
    });

  it('divides by 255 by default', () => {
    const [batch] = make().batches('test', { batchSize: 1 });
    expect(Array.from(batch!.x.dataSync())).toEqual([1, 0, 1]);
    batch!.dispose();
  });

  it('z-scores each channel with the mean and std of the training split only', () => {
    const ds = make('zscore');
    // Channel 0: 0 and 1 → mean .5, std .5; channel 1: constant 1 → std 0 → 1; channel 2: .2, .6 → mean .4, std .2.
    expect(ds.stats.mean.map((m) => +m.toFixed(6))).toEqual([0.5, 1, 0.4]);
    expect(ds.stats.std.map((s) => +s.toFixed(6))).toEqual([0.5, 1, 0.2]);
    const [batch] = ds.batches('test', { batchSize: 1 });
    const x = Array.from(batch!.x.dataSync());
    expect(x[0]).toBeCloseTo(1, 5);
    expect(x[1]).toBeCloseTo(-1, 5);
    expect(x[2]).toBeCloseTo(3, 5);
    batch!.dispose();
  });

  it('rejects datasets whose labels or sizes do not fit', async () => {
    await expectDatasetError(
      () =>
        createArrayDataset({
          name: 'bad',
          inputShape: [1, 1, 3],
          classes: [2],
          splits: {
            train: { images, labels: [new Uint8Array([0, 2])] },
            validation: { images: validation, labels: [new Uint8Array([0])] },
            test: { images: test, labels: [new Uint8Array([1])] },
          },
        }),
      'LABEL_OUT_OF_RANGE',
      'label 2',
    );
    await expectDatasetError(
      () =>
        createArrayDataset({
          name: 'bad',
          inputShape: [1, 1, 3],
          classes: [2],
          splits: {
            train: { images, labels: [new Uint8Array([0])] },
            validation: { images: validation, labels: [new Uint8Array([0])] },
            test: { images: test, labels: [new Uint8Array([1])] },
          },
        }),
      'COUNT_MISMATCH',
      '2 images but 1 labels',
    );
  });
});
