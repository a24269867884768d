import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArrayDataset, createArrayDataset, type Normalization } from './array-dataset.js';
import { DatasetError } from './errors.js';
import { statOrThrow } from './idx.js';
import { splitIndices } from './order.js';
import { findFiles, resolveDataDir } from './paths.js';

/** The two CIFAR binary formats. */
export type CifarVariant = 'cifar10' | 'cifar100';

const PIXELS = 32 * 32;
const IMAGE_BYTES = 3 * PIXELS;

/** Per-variant facts of the official "binary version" archives. */
export const CIFAR_FORMATS = {
  cifar10: {
    title: 'CIFAR-10',
    folder: 'cifar-10-batches-bin',
    archive: 'cifar-10-binary.tar.gz',
    train: [
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
    ],
    test: ['test_batch.bin'],
    /** Label bytes before each image, and classes of each. */
    labelClasses: [10],
    labelNames: ['label'],
  },
  cifar100: {
    title: 'CIFAR-100',
    folder: 'cifar-100-binary',
    archive: 'cifar-100-binary.tar.gz',
    train: ['train.bin'],
    test: ['test.bin'],
    labelClasses: [20, 100],
    labelNames: ['coarse label', 'fine label'],
  },
} as const;

/** The official page of the CIFAR datasets (University of Toronto). */
export const CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar.html';

/** Images (HWC) and labels (one array per label byte of the record) of CIFAR files. */
export interface CifarArrays {
  /** `count × 32·32·3` bytes, HWC (converted from the files' channel-planar layout). */
  readonly images: Uint8Array;
  /** CIFAR-10: `[label]`; CIFAR-100: `[coarse, fine]`. */
  readonly labels: readonly Uint8Array[];
  readonly count: number;
}

/** Records converted per read: bounds the scratch buffer to a few MB. */
const RECORDS_PER_READ = 1024;

/**
 * Reads one or more CIFAR binary files of the same variant into one array.
 * Each record is the label byte(s) followed by 3072 bytes (1024 red, 1024
 * green, 1024 blue, rows top to bottom); images are converted to HWC on the way
 * in, a bounded chunk at a time. Every file's length is checked before any data is read.
 * @throws DatasetError `MISSING_FILES`, `BAD_RECORD_SIZE`, `LABEL_OUT_OF_RANGE` (naming file and record)
 */
export async function readCifarFiles(files: readonly string[], variant: CifarVariant): Promise<CifarArrays> {
  const format = CIFAR_FORMATS[variant];
  const labelBytes = format.labelClasses.length;
  const record = labelBytes + IMAGE_BYTES;
  const counts: number[] = [];
  for (const file of files) {
    const { size } = await statOrThrow(file);
    if (size === 0 || size % record !== 0) {
      throw new DatasetError(
        'BAD_RECORD_SIZE',
        `${file}: ${size} bytes is not a positive multiple of the ${format.title} record size ${record} (${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + 3072 pixel bytes)${size % (record === 3073 ? 3074 : 3073) === 0 && size > 0 ? `; it looks like a ${record === 3073 ? 'CIFAR-100' : 'CIFAR-10'} file` : ''}`,
        { details: { file, size, recordSize: record } },
      );
    }
    counts.push(size / record);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(total * IMAGE_BYTES);
  const labels = format.labelClasses.map(() => new Uint8Array(total));
  const scratch = new Uint8Array(Math.min(RECORDS_PER_READ, Math.max(...counts)) * record);
  let base = 0;
  for (const [f, file] of files.entries()) {
    const handle = await open(file, 'r');
    try {
      const count = counts[f]!;
      for (let r0 = 0; r0 < count; r0 += RECORDS_PER_READ) {
        const n = Math.min(RECORDS_PER_READ, count - r0);
        const want = n * record;
        let got = 0;
        while (got < want) {
          const { bytesRead } = await handle.read(scratch, got, want - got, r0 * record + got);
          if (bytesRead === 0) {
            throw new DatasetError(
              'TRUNCATED',
              `${file}: file ended while reading record ${r0 + got / record}`,
              {
                details: { file },
              },
            );
          }
          got += bytesRead;
        }
        for (let r = 0; r < n; r++) {
          const src = r * record;
          const sample = base + r0 + r;
          for (let t = 0; t < labelBytes; t++) {
            const label = scratch[src + t]!;
            const classes = format.labelClasses[t]!;
            if (label >= classes) {
              throw new DatasetError(
                'LABEL_OUT_OF_RANGE',
                `${file}: record ${r0 + r} has ${format.labelNames[t]} ${label}, not in [0, ${classes})`,
                { details: { file, record: r0 + r, label } },
              );
            }
            labels[t]![sample] = label;
          }
          const px = src + labelBytes;
          const dst = sample * IMAGE_BYTES;
          for (let p = 0; p < PIXELS; p++) {
            images[dst + 3 * p] = scratch[px + p]!;
            images[dst + 3 * p + 1] = scratch[px + PIXELS + p]!;
            images[dst + 3 * p + 2] = scratch[px + 2 * PIXELS + p]!;
          }
        }
      }
    } finally {
      await handle.close();
    }
    base += counts[f]!;
  }
  return { images, labels, count: total };
}

/** Help text for missing CIFAR files: which files go where and where to get them. */
export function cifarHelp(variant: CifarVariant, dataDir = '<dataDir>'): string {
  const f = CIFAR_FORMATS[variant];
  return (
    `Download the "binary version" of ${f.title} (${f.archive}) from the official CIFAR page of the ` +
    `University of Toronto, ${CIFAR_URL}, and extract it into ${dataDir} (tar xzf ${f.archive} -C ${dataDir}), ` +
    `which creates ${join(dataDir, f.folder)}/ with ${[...f.train, ...f.test].join(', ')}.`
  );
}

/**
 * The training and test sets of a CIFAR variant from `dataDir`, which holds the
 * extracted folder (`cifar-10-batches-bin/` or `cifar-100-binary/`) or is that folder.
 * @throws DatasetError `MISSING_FILES` listing every missing file, and the errors of {@link readCifarFiles}
 */
export async function readCifarDir(
  variant: CifarVariant,
  dataDir: string | undefined,
): Promise<{ train: CifarArrays; test: CifarArrays }> {
  const f = CIFAR_FORMATS[variant];
  const root = resolveDataDir(dataDir, f.title, cifarHelp(variant));
  const names = [...f.train, ...f.test];
  const direct = findFiles(root, names, false);
  const folder = join(root, f.folder);
  const files = direct.every((p) => p !== undefined) ? direct : findFiles(folder, names, false);
  const missing = names.filter((_, i) => files[i] === undefined);
  if (missing.length > 0) {
    throw new DatasetError(
      'MISSING_FILES',
      `${f.title}: missing in ${folder}: ${missing.join(', ')}.\n${cifarHelp(variant, root)}`,
      { details: { dir: folder, missing } },
    );
  }
  const paths = files as string[];
  const [train, test] = await Promise.all([
    readCifarFiles(paths.slice(0, f.train.length), variant),
    readCifarFiles(paths.slice(f.train.length), variant),
  ]);
  return { train, test };
}

/** Options shared by {@link loadCifar10} and {@link loadCifar100}. */
export interface CifarOptions {
  /**
   * Directory holding the extracted `cifar-10-batches-bin/` / `cifar-100-binary/` folder (or that folder itself).
   * @default the registry context's dataDir, else the MOPRUNE_DATA_DIR environment variable
   */
  readonly dataDir?: string;
  /** Training samples moved to the validation split. @default 0 */
  readonly validationSize?: number;
  /** Seed of the train/validation split. @default 0 */
  readonly splitSeed?: number;
  /** Pixel normalization; `'zscore'` uses per-channel statistics of the training split. @default 'scale' */
  readonly normalization?: Normalization;
}

/** Options of {@link loadCifar100}. */
export interface Cifar100Options extends CifarOptions {
  /** Which labels: the 100 fine classes, the 20 coarse superclasses, or both as two tasks `[coarse, fine]`. @default 'fine' */
  readonly labels?: 'fine' | 'coarse' | 'both';
}

function cifarDataset(
  name: string,
  arrays: { train: CifarArrays; test: CifarArrays },
  classes: number[],
  pick: (labels: readonly Uint8Array[]) => Uint8Array[],
  options: CifarOptions,
): ArrayDataset {
  const { train, test } = arrays;
  const split = splitIndices(train.count, options.validationSize ?? 0, options.splitSeed ?? 0);
  const trainLabels = pick(train.labels);
  return createArrayDataset({
    name,
    inputShape: [32, 32, 3],
    classes,
    splits: {
      train: { images: train.images, labels: trainLabels, indices: split.first },
      validation: { images: train.images, labels: trainLabels, indices: split.second },
      test: { images: test.images, labels: pick(test.labels) },
    },
    ...(options.normalization === undefined ? {} : { normalization: options.normalization }),
  });
}

/** CIFAR-10 from the official binary files: 50,000 train / 10,000 test, `[32, 32, 3]`, 10 classes. */
export async function loadCifar10(options: CifarOptions = {}): Promise<ArrayDataset> {
  const arrays = await readCifarDir('cifar10', options.dataDir);
  return cifarDataset('cifar10', arrays, [10], (l) => [l[0]!], options);
}

/** CIFAR-100 from the official binary files: 50,000 train / 10,000 test, `[32, 32, 3]`. */
export async function loadCifar100(options: Cifar100Options = {}): Promise<ArrayDataset> {
  const which = options.labels ?? 'fine';
  if (which !== 'fine' && which !== 'coarse' && which !== 'both') {
    throw new DatasetError(
      'INVALID_OPTIONS',
      `cifar100: labels must be 'fine', 'coarse' or 'both', got '${which}'`,
    );
  }
  const arrays = await readCifarDir('cifar100', options.dataDir);
  const classes = which === 'fine' ? [100] : which === 'coarse' ? [20] : [20, 100];
  const pick = (l: readonly Uint8Array[]) =>
    which === 'fine' ? [l[1]!] : which === 'coarse' ? [l[0]!] : [l[0]!, l[1]!];
  return cifarDataset('cifar100', arrays, classes, pick, options);
}
