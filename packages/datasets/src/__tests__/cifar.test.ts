import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cifarFixtureDataDir, fixtureManifest } from '@moprune/test-fixtures';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CIFAR_URL, loadCifar10, loadCifar100, readCifarDir, readCifarFiles } from '../index.js';
import { expectDatasetError, tempDir, useCpuBackend } from './helpers.js';

useCpuBackend();

const tmp = tempDir('cifar');
afterAll(tmp.cleanup);
const savedEnv = process.env.MOPRUNE_DATA_DIR;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.MOPRUNE_DATA_DIR;
  else process.env.MOPRUNE_DATA_DIR = savedEnv;
});

const sumOf = (a: Uint8Array, i: number, n: number) =>
  a.subarray(i * n, i * n + n).reduce((s, v) => s + v, 0);

describe('CIFAR-10 binary files', () => {
  it('read the fixture batches with their labels, pixel sums and HWC layout', async () => {
    const { train, test } = await readCifarDir('cifar10', cifarFixtureDataDir);
    const facts = fixtureManifest.cifar10;
    expect(train.count).toBe(15);
    expect(test.count).toBe(4);
    expect(Array.from(train.labels[0]!)).toEqual(facts.train.flatMap((f) => f.labels));
    expect(Array.from(test.labels[0]!)).toEqual(facts.test[0]!.labels);
    expect(Array.from({ length: 15 }, (_, i) => sumOf(train.images, i, 3072))).toEqual(
      facts.train.flatMap((f) => f.sums),
    );
    // Record 1 of data_batch_2 is training sample 4; pixel (row 2, col 5) of each colour plane.
    const raw = readFileSync(join(cifarFixtureDataDir, 'cifar-10-batches-bin', 'data_batch_2.bin'));
    const rec = 3073;
    const p = 2 * 32 + 5;
    for (let ch = 0; ch < 3; ch++) {
      expect(train.images[4 * 3072 + 3 * p + ch]).toBe(raw[rec + 1 + ch * 1024 + p]);
    }
  });

  it('make a dataset with a seeded validation split and NHWC batches', async () => {
    const ds = await loadCifar10({ dataDir: cifarFixtureDataDir, validationSize: 5 });
    expect(ds.info.sizes).toEqual({ train: 10, validation: 5, test: 4 });
    expect(ds.info.inputShape).toEqual([32, 32, 3]);
    const [batch] = [...ds.batches('test', { batchSize: 4 })];
    expect(batch!.x.shape).toEqual([4, 32, 32, 3]);
    batch!.dispose();
  });

  it('find the files from MOPRUNE_DATA_DIR and when dataDir is the extracted folder itself', async () => {
    process.env.MOPRUNE_DATA_DIR = cifarFixtureDataDir;
    expect((await loadCifar10()).info.sizes.train).toBe(15);
    delete process.env.MOPRUNE_DATA_DIR;
    const folder = await loadCifar10({ dataDir: join(cifarFixtureDataDir, 'cifar-10-batches-bin') });
    expect(folder.info.sizes.test).toBe(4);
  });

  it('say which files to put where and where to get them', async () => {
    const dir = join(tmp.dir, 'partial');
    mkdirSync(join(dir, 'cifar-10-batches-bin'), { recursive: true });
    copyFileSync(
      join(cifarFixtureDataDir, 'cifar-10-batches-bin', 'data_batch_1.bin'),
      join(dir, 'cifar-10-batches-bin', 'data_batch_1.bin'),
    );
    await expectDatasetError(
      loadCifar10({ dataDir: dir }),
      'MISSING_FILES',
      join(dir, 'cifar-10-batches-bin'),
      'data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin',
      'binary version',
      'cifar-10-binary.tar.gz',
      'University of Toronto',
      CIFAR_URL,
    );
    delete process.env.MOPRUNE_DATA_DIR;
    await expectDatasetError(loadCifar10(), 'MISSING_FILES', 'MOPRUNE_DATA_DIR', 'dataDir', CIFAR_URL);
  });

  it('reject a file whose length is not a multiple of the record size', async () => {
    const file = join(tmp.dir, 'odd.bin');
    writeFileSync(file, new Uint8Array(3073 * 2 + 100));
    await expectDatasetError(readCifarFiles([file], 'cifar10'), 'BAD_RECORD_SIZE', file, '3073');
    const c100 = join(tmp.dir, 'c100.bin');
    writeFileSync(c100, new Uint8Array(3074 * 3));
    await expectDatasetError(
      readCifarFiles([c100], 'cifar10'),
      'BAD_RECORD_SIZE',
      'looks like a CIFAR-100 file',
    );
    const empty = join(tmp.dir, 'empty.bin');
    writeFileSync(empty, new Uint8Array(0));
    await expectDatasetError(readCifarFiles([empty], 'cifar10'), 'BAD_RECORD_SIZE', empty);
  });

  it('reject labels out of range, naming file and record', async () => {
    const file = join(tmp.dir, 'bad-label.bin');
    const bytes = new Uint8Array(3073 * 3);
    bytes[3073 * 2] = 10;
    writeFileSync(file, bytes);
    await expectDatasetError(
      readCifarFiles([file], 'cifar10'),
      'LABEL_OUT_OF_RANGE',
      file,
      'record 2',
      'label 10',
    );
  });
});

describe('CIFAR-100 binary files', () => {
  it('read coarse and fine labels, as one or two tasks', async () => {
    const facts = fixtureManifest.cifar100;
    const fine = await loadCifar100({ dataDir: cifarFixtureDataDir });
    expect(fine.info.classes).toEqual([100]);
    expect(Array.from(fine.raw('train').labels[0]!)).toEqual(facts.train.fine);
    const coarse = await loadCifar100({ dataDir: cifarFixtureDataDir, labels: 'coarse' });
    expect(Array.from(coarse.raw('test').labels[0]!)).toEqual(facts.test.coarse);
    const both = await loadCifar100({ dataDir: cifarFixtureDataDir, labels: 'both' });
    expect(both.info.classes).toEqual([20, 100]);
    expect(both.info.sizes).toEqual({ train: 8, validation: 0, test: 4 });
    const [batch] = [...both.batches('test', { batchSize: 4, labels: 'onehot' })];
    expect(batch!.y.map((t) => t.shape)).toEqual([
      [4, 20],
      [4, 100],
    ]);
    const sums = Array.from({ length: 8 }, (_, i) => sumOf(both.raw('train').images, i, 3072));
    expect(sums).toEqual(facts.train.sums);
    batch!.dispose();
  });

  it('reject a coarse label ≥ 20 and a fine label ≥ 100', async () => {
    const bytes = new Uint8Array(3074 * 2);
    bytes[0] = 20;
    const coarse = join(tmp.dir, 'coarse.bin');
    writeFileSync(coarse, bytes);
    await expectDatasetError(readCifarFiles([coarse], 'cifar100'), 'LABEL_OUT_OF_RANGE', 'coarse label 20');
    bytes[0] = 0;
    bytes[3074 + 1] = 100;
    const fine = join(tmp.dir, 'fine.bin');
    writeFileSync(fine, bytes);
    await expectDatasetError(
      readCifarFiles([fine], 'cifar100'),
      'LABEL_OUT_OF_RANGE',
      'record 1',
      'fine label 100',
    );
  });

  it('name the missing CIFAR-100 files', async () => {
    await expectDatasetError(
      loadCifar100({ dataDir: tmp.dir }),
      'MISSING_FILES',
      'cifar-100-binary',
      'train.bin, test.bin',
      'cifar-100-binary.tar.gz',
    );
  });
});
