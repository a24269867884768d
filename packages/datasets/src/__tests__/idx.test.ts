import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { fixtureManifest, mnistFixtureDir } from '@moprune/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx, loadMnist, MNIST_FILES, readIdx, readMnistDir } from '../index.js';
import { expectDatasetError, tempDir } from './helpers.js';

const tmp = tempDir('idx');
afterAll(tmp.cleanup);
let fileNo = 0;
function write(bytes: Uint8Array, name = `f${fileNo++}`): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** A copy of the MNIST fixture directory in which `change` may replace files. */
function fixtureCopy(change: Partial<Record<keyof typeof MNIST_FILES, Uint8Array>>): string {
  const dir = join(tmp.dir, `mnist${fileNo++}`);
  mkdirSync(dir);
  for (const [key, name] of Object.entries(MNIST_FILES)) {
    const replacement = change[key as keyof typeof MNIST_FILES];
    if (replacement) writeFileSync(join(dir, name), replacement);
    else copyFileSync(join(mnistFixtureDir, name), join(dir, name));
  }
  return dir;
}

describe('readIdx', () => {
  test.prop(
    [
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.uint8Array({
            minLength: shape.reduce((a, b) => a * b, 1),
            maxLength: shape.reduce((a, b) => a * b, 1),
          }),
        ),
      ),
    ],
    { seed: 4242, numRuns: 40 },
  )('round-trips encodeIdx for any shape and bytes', async ([shape, data]) => {
    const file = write(encodeIdx(shape, data));
    const back = await readIdx(file);
    expect(back.shape).toEqual(shape);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    const gz = write(gzipSync(encodeIdx(shape, data)), `g${fileNo++}.gz`);
    expect(Array.from((await readIdx(gz)).data)).toEqual(Array.from(data));
  });

  it('reads the fixture files with the labels and pixel sums the fixture script wrote', async () => {
    const { train, test } = await readMnistDir(mnistFixtureDir);
    for (const [set, facts] of [
      [train, fixtureManifest.mnist.train],
      [test, fixtureManifest.mnist.test],
    ] as const) {
      expect(set.count).toBe(facts.count);
      expect(Array.from(set.labels)).toEqual(facts.labels);
      const sums = Array.from({ length: set.count }, (_, i) =>
        set.images.subarray(i * 784, i * 784 + 784).reduce((a, b) => a + b, 0),
      );
      expect(sums).toEqual(facts.sums);
    }
  });

  it('rejects a wrong magic number, naming the file and both numbers', async () => {
    const bytes = encodeIdx([2, 3], new Uint8Array(6));
    bytes[2] = 0x0d; // float32 element type
    const file = write(bytes, 'wrong-magic');
    await expectDatasetError(readIdx(file), 'BAD_MAGIC', file, '0x00000d02', '0x000008nn');
    const labels = write(encodeIdx([4], new Uint8Array(4)), 'labels-as-images');
    await expectDatasetError(readIdx(labels, { rank: 3 }), 'BAD_MAGIC', labels, '0x00000801', '0x00000803');
  });

  it('rejects truncated files and trailing bytes, before reading the data', async () => {
    const full = encodeIdx([3, 28, 28], new Uint8Array(3 * 784).fill(7));
    const cut = write(full.subarray(0, full.length - 1), 'cut');
    await expectDatasetError(readIdx(cut), 'TRUNCATED', cut, '[3, 28, 28]', `${full.length - 1} bytes`);
    const header = write(full.subarray(0, 10), 'cut-header');
    await expectDatasetError(readIdx(header), 'TRUNCATED', header);
    const tiny = write(new Uint8Array(2), 'tiny');
    await expectDatasetError(readIdx(tiny), 'TRUNCATED', tiny);
    const long = write(new Uint8Array([...full, 1, 2]), 'long');
    await expectDatasetError(readIdx(long), 'TRAILING_BYTES', long, '2 bytes');
  });

  it('rejects a zero dimension and a missing file', async () => {
    const zero = write(encodeIdx([1, 1, 1], new Uint8Array(1)).fill(0, 8, 12), 'zero-dim');
    await expectDatasetError(readIdx(zero), 'BAD_DIMENSIONS', zero);
    await expectDatasetError(readIdx(join(tmp.dir, 'nope')), 'MISSING_FILES', 'nope');
  });
});

describe('MNIST-format directories', () => {
  it('load through loadMnist({ dir }) with the standard splits', async () => {
    const ds = await loadMnist({ dir: mnistFixtureDir, validationSize: 8, splitSeed: 3 });
    expect(ds.info).toEqual({
      name: 'mnist',
      inputShape: [28, 28, 1],
      classes: [10],
      sizes: { train: 32, validation: 8, test: 10 },
    });
  });

  it('name every missing file at once', async () => {
    const dir = join(tmp.dir, 'empty');
    mkdirSync(dir);
    await expectDatasetError(
      readMnistDir(dir),
      'MISSING_FILES',
      dir,
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    );
  });

  it('reject image/label count mismatches', async () => {
    const dir = fixtureCopy({ trainLabels: encodeIdx([39], new Uint8Array(39)) });
    await expectDatasetError(
      readMnistDir(dir),
      'COUNT_MISMATCH',
      '40 images',
      '39 labels',
      'train-labels-idx1-ubyte',
    );
  });

  it('reject labels out of range', async () => {
    const labels = new Uint8Array(10);
    labels[7] = 10;
    const dir = fixtureCopy({ testLabels: encodeIdx([10], labels) });
    await expectDatasetError(
      readMnistDir(dir),
      'LABEL_OUT_OF_RANGE',
      't10k-labels-idx1-ubyte',
      'label 10 at index 7',
    );
  });

  it('reject images that are not 28×28', async () => {
    const dir = fixtureCopy({ testImages: encodeIdx([10, 27, 29], new Uint8Array(10 * 27 * 29)) });
    await expectDatasetError(readMnistDir(dir), 'BAD_DIMENSIONS', 't10k-images-idx3-ubyte', '27×29');
  });
});
