import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Small data files in the real formats, made by `scripts/make-fixtures.mjs`
 * (deterministic; a test regenerates them and fails if a byte changes).
 */

/** The fixture data directory (`test-fixtures/data`). */
export const fixturesDir: string = fileURLToPath(new URL('../data/', import.meta.url));

/** MNIST-format directory: `train-images-idx3-ubyte` (40×28×28), `train-labels-idx1-ubyte`, `t10k-…` (10). */
export const mnistFixtureDir: string = fileURLToPath(new URL('../data/mnist/', import.meta.url));

/**
 * A CIFAR data directory laid out like the official archives:
 * `cifar-10-batches-bin/data_batch_1..5.bin` (3 records each), `test_batch.bin` (4),
 * `cifar-100-binary/train.bin` (8), `test.bin` (4).
 */
export const cifarFixtureDataDir: string = fixturesDir;

/** The script that made the fixtures: `node <script> [outDir]`. */
export const makeFixturesScript: string = fileURLToPath(
  new URL('../scripts/make-fixtures.mjs', import.meta.url),
);

/** Per-split facts of the MNIST-format fixture. */
export interface MnistFixtureSplit {
  readonly count: number;
  readonly labels: readonly number[];
  /** Sum of each image's 784 pixel bytes. */
  readonly sums: readonly number[];
}

/** One CIFAR-10 fixture file. */
export interface Cifar10FixtureFile {
  readonly file: string;
  readonly labels: readonly number[];
  /** Sum of each image's 3072 pixel bytes. */
  readonly sums: readonly number[];
}

/** One CIFAR-100 fixture file. */
export interface Cifar100FixtureSplit {
  readonly count: number;
  readonly coarse: readonly number[];
  readonly fine: readonly number[];
  readonly sums: readonly number[];
}

/** What the fixture script wrote (`data/manifest.json`). */
export interface FixtureManifest {
  readonly seed: number;
  readonly mnist: { readonly train: MnistFixtureSplit; readonly test: MnistFixtureSplit };
  readonly cifar10: {
    readonly train: readonly Cifar10FixtureFile[];
    readonly test: readonly Cifar10FixtureFile[];
  };
  readonly cifar100: { readonly train: Cifar100FixtureSplit; readonly test: Cifar100FixtureSplit };
  /** SHA-256 (hex) of every data file, by path relative to the data directory. */
  readonly files: Readonly<Record<string, string>>;
}

/** The fixture manifest. */
export const fixtureManifest: FixtureManifest = JSON.parse(
  readFileSync(new URL('../data/manifest.json', import.meta.url), 'utf8'),
) as FixtureManifest;
