import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cifarFixtureDataDir, fixtureManifest, mnistFixtureDir } from '@moprune/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArrayDataset,
  cifar10MnistSplits,
  composeCifar10Mnist,
  composeMultiMnist,
  loadCifar10Mnist,
  loadMnist,
  loadMultiMnist,
  type MultiMnistOptions,
  multiMnistSplits,
  readCifarDir,
  splitIndices,
} from '../index.js';
import { expectDatasetError, tempDir, useCpuBackend } from './helpers.js';

useCpuBackend();
const tmp = tempDir('builders');
afterAll(tmp.cleanup);

const img = (a: Uint8Array, i: number, n = 784) => a.subarray(i * n, i * n + n);

describe('MultiMNIST builder (on a subset of the real MNIST)', () => {
  const sizes = { trainSize: 300, validationSize: 100, testSize: 60 };
  const options: MultiMnistOptions = { ...sizes, seed: 7, cacheDir: tmp.dir };
  let mnist: ArrayDataset;
  beforeAll(async () => {
    mnist = await loadMnist();
  });

  it('pairs each left digit with another digit of the same part and labels (left, right)', async () => {
    const { splits, cache } = await multiMnistSplits(options);
    expect(cache).toBe('built');
    const src = mnist.raw('train');
    const parts = splitIndices(400, 100, 7);
    for (const [name, indices] of [
      ['train', parts.first],
      ['validation', parts.second],
    ] as const) {
      const split = splits[name];
      expect(split.images.length).toBe(indices.length * 784);
      expect(Array.from(split.labels[0]!)).toEqual(Array.from(indices, (i) => src.labels[0]![i]));
      for (let k = 0; k < 5; k++) {
        const left = img(src.images, indices[k]!);
        const right = [...indices].filter(
          (j) =>
            j !== indices[k] &&
            Buffer.from(composeMultiMnist(left, img(src.images, j))).equals(img(split.images, k)),
        );
        expect(right.length, `sample ${k} of ${name} has a right digit from its own part`).toBeGreaterThan(0);
        expect(right.map((j) => src.labels[0]![j])).toContain(split.labels[1]![k]);
      }
    }
    expect(splits.test.labels[0]).toEqual(mnist.raw('test').labels[0]!.subarray(0, 60));
  });

  it('is deterministic, cached, and changes with the seed', async () => {
    const first = await multiMnistSplits(options);
    expect(first.cache).toBe('hit');
    const fresh = await multiMnistSplits({ ...options, cache: false });
    expect(fresh.cache).toBe('disabled');
    expect(Buffer.from(fresh.splits.train.images).equals(first.splits.train.images)).toBe(true);
    expect(Buffer.from(fresh.splits.test.labels[1]!).equals(first.splits.test.labels[1]!)).toBe(true);
    const other = await multiMnistSplits({ ...options, seed: 8, cache: false });
    expect(Buffer.from(other.splits.train.images).equals(first.splits.train.images)).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rebuilds a corrupt cache file instead of using it', async () => {
    const good = await multiMnistSplits(options);
    const file = good.cacheFile!;
    const pristine = readFileSync(file);
    const reference = Buffer.from(good.splits.validation.images);
    const corruptions: [string, (b: Buffer) => Buffer][] = [
      [
        'a flipped payload byte',
        (b) => {
          const c = Buffer.from(b);
          c[c.length - 1000]! ^= 0xff;
          return c;
        },
      ],
      ['a truncated file', (b) => b.subarray(0, b.length - 10)],
      [
        'a damaged header',
        (b) => {
          const c = Buffer.from(b);
          c.write('}', 20);
          return c;
        },
      ],
      [
        'a wrong magic',
        (b) => {
          const c = Buffer.from(b);
          c[0] = 0;
          return c;
        },
      ],
      ['an empty file', () => Buffer.alloc(0)],
    ];
    for (const [what, corrupt] of corruptions) {
      writeFileSync(file, corrupt(pristine));
      const rebuilt = await multiMnistSplits(options);
      expect(rebuilt.cache, what).toBe('rebuilt-corrupt');
      expect(Buffer.from(rebuilt.splits.validation.images).equals(reference), what).toBe(true);
      expect(readFileSync(file).equals(pristine), `${what}: cache rewritten`).toBe(true);
    }
  });

  it('rejects sizes the source cannot give before reading anything', async () => {
    await expectDatasetError(
      multiMnistSplits({ trainSize: 55_000, validationSize: 10_000 }),
      'INVALID_OPTIONS',
      '65000',
    );
    await expectDatasetError(multiMnistSplits({ testSize: -1 }), 'INVALID_OPTIONS', 'testSize');
  });

  it('gives a two-task dataset with [left, right] labels', async () => {
    const ds = await loadMultiMnist(options);
    expect(ds.info).toEqual({
      name: 'multi-mnist',
      inputShape: [28, 28, 1],
      classes: [10, 10],
      sizes: { train: 300, validation: 100, test: 60 },
    });
    const [batch] = ds.batches('train', { batchSize: 32, layout: 'flat', labels: 'onehot' });
    expect(batch!.x.shape).toEqual([32, 784]);
    expect(batch!.y.map((t) => t.shape)).toEqual([
      [32, 10],
      [32, 10],
    ]);
    batch!.dispose();
  });
});

describe('Cifar10Mnist builder (on the fixtures)', () => {
  const options = {
    dataDir: cifarFixtureDataDir,
    mnistDir: mnistFixtureDir,
    trainSize: 10,
    validationSize: 5,
    testSize: 4,
    seed: 3,
    cacheDir: tmp.dir,
  };

  it('blends digit i over CIFAR image i and labels (class, digit)', async () => {
    const { splits, cache } = await cifar10MnistSplits(options);
    expect(cache).toBe('built');
    const cifar = await readCifarDir('cifar10', cifarFixtureDataDir);
    const mnist = await loadMnist({ dir: mnistFixtureDir });
    const digits = mnist.raw('train');
    const parts = splitIndices(15, 5, 3);
    const cifarLabels = fixtureManifest.cifar10.train.flatMap((f) => f.labels);
    for (const [name, indices] of [
      ['train', parts.first],
      ['validation', parts.second],
    ] as const) {
      const split = splits[name];
      expect(Array.from(split.labels[0]!)).toEqual(Array.from(indices, (i) => cifarLabels[i]));
      expect(Array.from(split.labels[1]!)).toEqual(
        Array.from(indices, (i) => fixtureManifest.mnist.train.labels[i]),
      );
      indices.forEach((i, k) => {
        const expected = composeCifar10Mnist(img(cifar.train.images, i, 3072), img(digits.images, i));
        expect(Buffer.from(img(split.images, k, 3072)).equals(expected)).toBe(true);
      });
    }
    expect(Array.from(splits.test.labels[0]!)).toEqual(fixtureManifest.cifar10.test[0]!.labels);
    // The fixture digits have black borders (rectangles start at row/column ≥ 4): the corner pixel is pure CIFAR.
    expect(Array.from(splits.test.images.subarray(0, 3))).toEqual(
      Array.from(cifar.test.images.subarray(0, 3)),
    );
    expect((await cifar10MnistSplits(options)).cache).toBe('hit');
  });

  it('gives a two-task [32, 32, 3] dataset, z-scored on its training split when asked', async () => {
    const ds = await loadCifar10Mnist({ ...options, normalization: 'zscore' });
    expect(ds.info.inputShape).toEqual([32, 32, 3]);
    expect(ds.info.classes).toEqual([10, 10]);
    expect(ds.info.sizes).toEqual({ train: 10, validation: 5, test: 4 });
    expect(ds.stats.std.every((s) => s > 0 && s < 1)).toBe(true);
  });

  it('says which CIFAR files are missing', async () => {
    await expectDatasetError(
      cifar10MnistSplits({ ...options, dataDir: tmp.dir }),
      'MISSING_FILES',
      'cifar-10-batches-bin',
      'data_batch_1.bin',
    );
    await expectDatasetError(
      cifar10MnistSplits({ ...options, trainSize: 11 }),
      'INVALID_OPTIONS',
      '15 source',
    );
  });
});
