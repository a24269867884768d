import {
  assertBackend,
  type Batch,
  type BatchOptions,
  type Dataset,
  type DatasetInfo,
  gatherByteRows,
  type SplitName,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { DatasetError } from './errors.js';
import { epochOrder, range } from './order.js';

/**
 * How pixel bytes become floats, per batch:
 * - `'scale'`: v / 255, in [0, 1] (the default; what MNIST-family papers use).
 * - `'zscore'`: per channel, (v / 255 − mean_c) / std_c with mean and
 *   (population) standard deviation computed over the **training split** only,
 *   so validation and test statistics never leak into the inputs (the usual
 *   VGG/ResNet-on-CIFAR preprocessing).
 * - `'none'`: the byte values as they are (0–255): token ids of a sequence
 *   dataset, which an `embedding` node reads as integers.
 */
export type Normalization = 'scale' | 'zscore' | 'none';

/** The samples of one split, as bytes. */
export interface SplitSource {
  /** Images of the source, `H·W·C` bytes per sample, HWC (NHWC without the batch axis). */
  readonly images: Uint8Array;
  /** Labels, one array per task, one byte per source sample. */
  readonly labels: readonly Uint8Array[];
  /** Source sample indices that form this split, in split order. @default every sample, in order */
  readonly indices?: Uint32Array;
}

/** Options of {@link createArrayDataset}. */
export interface ArrayDatasetOptions {
  /** Dataset name (shown in logs). */
  readonly name: string;
  /** Per-sample shape `[H, W, C]`. */
  readonly inputShape: readonly [number, number, number];
  /** Classes per task. */
  readonly classes: readonly number[];
  /** The three splits; an empty split has zero indices. */
  readonly splits: Readonly<Record<SplitName, SplitSource>>;
  /** Pixel normalization. @default 'scale' */
  readonly normalization?: Normalization;
}

/** Per-channel affine map applied to v/255: `(v/255 − mean[c]) / std[c]`. */
export interface NormalizationStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

interface Plan {
  readonly split: SplitName;
  readonly n: number;
  readonly batchSize: number;
  readonly count: number;
  readonly startBatch: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly epoch: number;
  readonly onehot: boolean;
  readonly flat: boolean;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * A {@link Dataset} whose splits are held as bytes (`Uint8Array`, one byte per
 * pixel) and normalized batch by batch: producing a batch allocates only that
 * batch's floats and its tensors.
 */
export class ArrayDataset implements Dataset {
  readonly info: DatasetInfo;
  /** The normalization this dataset applies (`'scale'` is mean 0, std 1). */
  readonly normalization: Normalization;
  /** The per-channel statistics in use. */
  readonly stats: NormalizationStats;
  private readonly splits: Readonly<Record<SplitName, Required<SplitSource>>>;
  private readonly sampleSize: number;
  /** 256-entry lookup table per channel: byte → normalized float. */
  private readonly lut: Float32Array;

  constructor(options: ArrayDatasetOptions) {
    const { name, inputShape, classes } = options;
    const [h, w, c] = inputShape;
    if (![h, w, c].every((d) => Number.isInteger(d) && d > 0)) {
      throw new DatasetError('INVALID_OPTIONS', `${name}: inputShape must be three positive integers`);
    }
    if (classes.length === 0 || !classes.every((k) => Number.isInteger(k) && k > 0 && k <= 256)) {
      throw new DatasetError(
        'INVALID_OPTIONS',
        `${name}: classes must be integers in [1, 256], one per task`,
      );
    }
    this.sampleSize = h * w * c;
    const splits = {} as Record<SplitName, Required<SplitSource>>;
    for (const split of SPLITS) {
      const src = options.splits[split];
      const total = src.images.length / this.sampleSize;
      if (!Number.isInteger(total)) {
        throw new DatasetError(
          'INVALID_OPTIONS',
          `${name} ${split}: ${src.images.length} image bytes is not a multiple of ${this.sampleSize}`,
        );
      }
      if (src.labels.length !== classes.length) {
        throw new DatasetError(
          'INVALID_OPTIONS',
          `${name} ${split}: ${src.labels.length} label arrays for ${classes.length} tasks`,
        );
      }
      src.labels.forEach((labels, t) => {
        if (labels.length !== total) {
          throw new DatasetError(
            'COUNT_MISMATCH',
            `${name} ${split}: ${total} images but ${labels.length} labels for task ${t}`,
          );
        }
        const k = classes[t]!;
        const bad = labels.findIndex((l) => l >= k);
        if (bad >= 0) {
          throw new DatasetError(
            'LABEL_OUT_OF_RANGE',
            `${name} ${split}: label ${labels[bad]} of sample ${bad} (task ${t}) is not in [0, ${k})`,
          );
        }
      });
      const indices = src.indices ?? range(total);
      if (indices.some((i) => i >= total)) {
        throw new DatasetError('INVALID_OPTIONS', `${name} ${split}: a split index is ≥ ${total}`);
      }
      splits[split] = { images: src.images, labels: src.labels, indices };
    }
    this.splits = splits;
    this.normalization = options.normalization ?? 'scale';
    if (this.normalization !== 'scale' && this.normalization !== 'zscore' && this.normalization !== 'none') {
      throw new DatasetError(
        'INVALID_OPTIONS',
        `${name}: normalization must be 'scale', 'zscore' or 'none', got '${String(this.normalization)}'`,
      );
    }
    this.stats =
      this.normalization === 'zscore'
        ? channelStats(splits.train, c, this.sampleSize)
        : { mean: new Array<number>(c).fill(0), std: new Array<number>(c).fill(1) };
    this.lut = new Float32Array(256 * c);
    for (let ch = 0; ch < c; ch++) {
      for (let v = 0; v < 256; v++) {
        this.lut[ch * 256 + v] =
          this.normalization === 'none' ? v : (v / 255 - this.stats.mean[ch]!) / this.stats.std[ch]!;
      }
    }
    this.info = {
      name,
      inputShape: [h, w, c],
      classes: [...classes],
      sizes: {
        train: splits.train.indices.length,
        validation: splits.validation.indices.length,
        test: splits.test.indices.length,
      },
    };
  }

  /**
   * The bytes of a split: the shared image and label arrays and the source
   * indices that form the split (sample k of the split is source sample `indices[k]`).
   */
  raw(split: SplitName): Required<SplitSource> {
    return this.splits[split];
  }

  batchCount(split: SplitName, options: BatchOptions): number {
    const plan = this.plan(split, options);
    return plan.count - plan.startBatch;
  }

  batches(split: SplitName, options: BatchOptions): Iterable<Batch> {
    const plan = this.plan(split, options);
    assertBackend(`${this.info.name}.batches`);
    return { [Symbol.iterator]: () => this.iterate(plan) };
  }

  private plan(split: SplitName, options: BatchOptions): Plan {
    if (!SPLITS.includes(split)) {
      throw new DatasetError(
        'INVALID_OPTIONS',
        `unknown split '${String(split)}'; one of ${SPLITS.join(', ')}`,
      );
    }
    const { batchSize, seed = 0, epoch = 0, startBatch = 0, limit, dropLast = false } = options;
    const labels = options.labels ?? 'sparse';
    const layout = options.layout ?? 'image';
    const problems: string[] = [];
    if (!isNonNegInt(batchSize) || batchSize === 0)
      problems.push(`batchSize must be a positive integer, got ${batchSize}`);
    if (!isNonNegInt(seed)) problems.push(`seed must be a non-negative integer, got ${seed}`);
    if (!isNonNegInt(epoch)) problems.push(`epoch must be a non-negative integer, got ${epoch}`);
    if (!isNonNegInt(startBatch))
      problems.push(`startBatch must be a non-negative integer, got ${startBatch}`);
    if (limit !== undefined && !isNonNegInt(limit))
      problems.push(`limit must be a non-negative integer, got ${limit}`);
    if (labels !== 'sparse' && labels !== 'onehot')
      problems.push(`labels must be 'sparse' or 'onehot', got '${labels}'`);
    if (layout !== 'image' && layout !== 'flat')
      problems.push(`layout must be 'image' or 'flat', got '${layout}'`);
    if (problems.length > 0) {
      throw new DatasetError('INVALID_OPTIONS', `${this.info.name} batches: ${problems.join('; ')}`);
    }
    const size = this.splits[split].indices.length;
    const n = limit === undefined ? size : Math.min(limit, size);
    const count = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
    if (startBatch > count) {
      throw new DatasetError(
        'INVALID_OPTIONS',
        `${this.info.name} batches: startBatch ${startBatch} is past the ${count} batches of the epoch`,
      );
    }
    return {
      split,
      n,
      batchSize,
      count,
      startBatch,
      shuffle: options.shuffle ?? split === 'train',
      seed,
      epoch,
      onehot: labels === 'onehot',
      flat: layout === 'flat',
    };
  }

  private *iterate(plan: Plan): Generator<Batch> {
    const src = this.splits[plan.split];
    const order = plan.shuffle ? epochOrder(plan.n, plan.seed, plan.epoch) : undefined;
    for (let b = plan.startBatch; b < plan.count; b++) {
      const start = b * plan.batchSize;
      const end = Math.min(start + plan.batchSize, plan.n);
      const picks = new Uint32Array(end - start);
      for (let k = start; k < end; k++) picks[k - start] = src.indices[order ? order[k]! : k]!;
      yield this.makeBatch(src, picks, plan);
    }
  }

  private makeBatch(src: Required<SplitSource>, picks: Uint32Array, plan: Plan): Batch {
    const n = picks.length;
    const shape = plan.flat ? [n, this.sampleSize] : [n, ...this.info.inputShape];
    // One native pass into the backend's recycled memory where the backend has the kernel (native does).
    const x = gatherByteRows(src.images, picks, this.sampleSize, this.lut, shape);
    const y = this.info.classes.map((k, t) => {
      const labels = src.labels[t]!;
      if (plan.onehot) {
        const oh = new Float32Array(n * k);
        for (let i = 0; i < n; i++) oh[i * k + labels[picks[i]!]!] = 1;
        return tf.tensor2d(oh, [n, k], 'float32');
      }
      const sparse = new Int32Array(n);
      for (let i = 0; i < n; i++) sparse[i] = labels[picks[i]!]!;
      return tf.tensor1d(sparse, 'int32');
    });
    return {
      x,
      y,
      size: n,
      dispose() {
        x.dispose();
        for (const t of y) t.dispose();
      },
    };
  }
}

/** Per-channel mean and population std of v/255 over a split; a zero std becomes 1. */
function channelStats(
  split: Required<SplitSource>,
  channels: number,
  sampleSize: number,
): NormalizationStats {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  const { images, indices } = split;
  for (const i of indices) {
    const from = i * sampleSize;
    for (let p = 0; p < sampleSize; p++) {
      const v = images[from + p]! / 255;
      const ch = p % channels;
      sum[ch]! += v;
      sq[ch]! += v * v;
    }
  }
  const count = (indices.length * sampleSize) / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < channels; ch++) {
    const m = count > 0 ? sum[ch]! / count : 0;
    const variance = count > 0 ? Math.max(0, sq[ch]! / count - m * m) : 0;
    mean.push(m);
    std.push(variance > 0 ? Math.sqrt(variance) : 1);
  }
  return { mean, std };
}

/**
 * Builds a {@link Dataset} from byte arrays, e.g. your own data in the same
 * shape the built-in loaders use.
 * @throws DatasetError `INVALID_OPTIONS`, `COUNT_MISMATCH`, `LABEL_OUT_OF_RANGE`
 */
export function createArrayDataset(options: ArrayDatasetOptions): ArrayDataset {
  return new ArrayDataset(options);
}
