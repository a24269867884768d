/**
 * The dataset conformance suite. Any dataset — ours or a contributor's — runs every check with one
 * call in a test file, handing it the test framework's `describe` and `it` (as the pruner, solver and
 * objective suites take them; the checks are the suite's own, so vitest and jest both run it):
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeDatasetConformance } from '@moprune/datasets/testing';
 * describeDatasetConformance({ name: 'noisy-bars', config: { type: 'noisy-bars', trainSize: 64 }, describe, it });
 * ```
 *
 * Checks: the config builds through the registry and an unknown key is refused by its path;
 * `info` is well formed (an `[H, W, C]` shape, ≥ 2 classes per task, split sizes); per split and
 * batch size, `batchCount` is what `batches` yields, the batches cover the split exactly once in
 * both layouts (`image`, `flat`) and label forms (`sparse`, `onehot`), with `limit` and `dropLast`
 * honoured and labels inside their classes; the order is a function of (seed, epoch) — the same
 * twice, another epoch reorders the training split and the same samples, `startBatch` resumes inside
 * it; evaluation splits are not shuffled; no tensor is left behind once batches are disposed.
 */
import {
  type Batch,
  type BatchOptions,
  conformanceCheck as check,
  conformanceCheckConfig,
  type Dataset,
  type DatasetContext,
  type DefineFn,
  type JsonObject,
  registries,
  type SplitName,
} from '@moprune/core';

/** The test framework's `describe`/`it` shape every moprune conformance suite takes (`DefineFn` of `@moprune/core`). */
export type { DefineFn };

import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link checkDatasetConformance}. */
export interface DatasetConformanceOptions {
  /** Name shown in the test report. */
  readonly name: string;
  /** The config to test (its `type` registered, e.g. by `defineDataset`); keep it small. */
  readonly config: JsonObject;
  /** What the registry's `create` gets (data and cache directories). @default {} */
  readonly context?: DatasetContext;
  /** Batch sizes tried. @default [7, 32] */
  readonly batchSizes?: readonly number[];
}

/** Options of {@link describeDatasetConformance}. */
export interface DatasetConformanceSuiteOptions extends DatasetConformanceOptions {
  /** The test framework's `describe`. */
  readonly describe: DefineFn;
  /** The test framework's `it`. */
  readonly it: DefineFn;
}

const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

/** Builds the dataset through the registry, after checking its config there. */
async function build(o: DatasetConformanceOptions): Promise<Dataset> {
  const registry = registries().datasets;
  conformanceCheckConfig(registry, o.config, 'Dataset');
  return await registry.create(o.config, o.context ?? {});
}

function checkInfo(d: Dataset): void {
  const { inputShape, classes, sizes } = d.info;
  check(
    inputShape.length === 3 && inputShape.every((n) => Number.isInteger(n) && n > 0),
    `info.inputShape must be [H, W, C] of positive integers, is ${JSON.stringify(inputShape)}`,
  );
  check(
    classes.length > 0 && classes.every((c) => Number.isInteger(c) && c >= 2),
    `info.classes must list ≥ 2 classes per task, is ${JSON.stringify(classes)}`,
  );
  for (const s of SPLITS) {
    check(
      Number.isInteger(sizes[s]) && sizes[s] >= 0,
      `info.sizes.${s} must be an integer ≥ 0, is ${sizes[s]}`,
    );
  }
  check(sizes.train > 0, 'the training split is empty');
}

/** Per-sample fingerprints of one epoch (sum and weighted sum of each sample's inputs, its labels), after checking every batch. */
function epoch(d: Dataset, split: SplitName, options: BatchOptions): string[] {
  const { inputShape, classes, sizes } = d.info;
  const perSample = inputShape[0] * inputShape[1] * inputShape[2];
  const n = Math.min(sizes[split], options.limit ?? Number.POSITIVE_INFINITY);
  const where = `${split}, ${JSON.stringify(options)}`;
  const expected = options.dropLast ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
  const count = d.batchCount(split, options);
  check(
    count === expected - (options.startBatch ?? 0),
    `${where}: batchCount ${count}, expected ${expected - (options.startBatch ?? 0)}`,
  );
  const before = tf.memory().numTensors;
  const prints: string[] = [];
  let seen = 0;
  for (const batch of d.batches(split, options) as Iterable<Batch>) {
    try {
      seen++;
      const b = batch.size;
      check(b > 0 && b <= options.batchSize, `${where}: a batch of ${b}`);
      const xShape = options.layout === 'flat' ? [b, perSample] : [b, ...inputShape];
      check(
        JSON.stringify(batch.x.shape) === JSON.stringify(xShape),
        `${where}: x has shape ${JSON.stringify(batch.x.shape)}, expected ${JSON.stringify(xShape)}`,
      );
      check(
        batch.y.length === classes.length,
        `${where}: ${batch.y.length} label tensors for ${classes.length} task(s)`,
      );
      const x = batch.x.dataSync();
      check(x.every(Number.isFinite), `${where}: an input is not finite`);
      const labels = batch.y.map((y, t) => {
        const v = y.dataSync();
        if (options.labels === 'onehot') {
          check(
            JSON.stringify(y.shape) === JSON.stringify([b, classes[t]]),
            `${where}: one-hot labels of shape ${JSON.stringify(y.shape)}`,
          );
          return Array.from({ length: b }, (_, i) => {
            const row = Array.from(v.slice(i * classes[t]!, (i + 1) * classes[t]!));
            check(
              row.filter((z) => z === 1).length === 1 && row.every((z) => z === 0 || z === 1),
              `${where}: a one-hot row ${JSON.stringify(row)}`,
            );
            return row.indexOf(1);
          });
        }
        check(
          JSON.stringify(y.shape) === JSON.stringify([b]),
          `${where}: sparse labels of shape ${JSON.stringify(y.shape)}`,
        );
        return Array.from(v, (c) => {
          check(
            Number.isInteger(c) && c >= 0 && c < classes[t]!,
            `${where}: label ${c} outside [0, ${classes[t]})`,
          );
          return c;
        });
      });
      for (let i = 0; i < b; i++) {
        let sum = 0;
        let weighted = 0;
        for (let k = 0; k < perSample; k++) {
          const value = x[i * perSample + k]!;
          sum += value;
          weighted += value * ((k % 97) + 1);
        }
        prints.push(`${sum.toFixed(4)}|${weighted.toFixed(3)}|${labels.map((l) => l[i]).join(',')}`);
      }
    } finally {
      batch.dispose();
    }
  }
  check(seen === count, `${where}: batches yielded ${seen} batches, batchCount said ${count}`);
  check(
    tf.memory().numTensors === before,
    `${where}: ${tf.memory().numTensors - before} tensor(s) left after disposing every batch`,
  );
  const covered = options.dropLast ? expected * options.batchSize : n;
  if ((options.startBatch ?? 0) === 0)
    check(prints.length === covered, `${where}: ${prints.length} samples in the epoch, expected ${covered}`);
  return prints;
}

const sorted = (xs: readonly string[]) => [...xs].sort().join('\n');

/** Every check once; rejects with the first broken one (what {@link describeDatasetConformance} runs). */
export async function checkDatasetConformance(o: DatasetConformanceOptions): Promise<void> {
  const d = await build(o);
  checkInfo(d);
  for (const batchSize of o.batchSizes ?? [7, 32]) checkBatches(d, batchSize);
}

function checkBatches(d: Dataset, batchSize: number): void {
  for (const split of SPLITS) {
    if (d.info.sizes[split] === 0) continue;
    const base = { batchSize, seed: 3 };
    const first = epoch(d, split, { ...base, epoch: 0 });
    check(
      sorted(epoch(d, split, { ...base, epoch: 0, layout: 'flat', labels: 'onehot' })) === sorted(first),
      `${split}: the flat, one-hot epoch holds other samples than the image, sparse one`,
    );
    check(
      epoch(d, split, { ...base, epoch: 0 }).join() === first.join(),
      `${split}: the same (seed, epoch) gave another order`,
    );
    const later = epoch(d, split, { ...base, epoch: 1 });
    check(sorted(later) === sorted(first), `${split}: epoch 1 holds other samples than epoch 0`);
    if (split === 'train' && first.length > 2 && new Set(first).size > 2) {
      check(later.join() !== first.join(), 'train: epoch 1 is in the same order as epoch 0 (no shuffle)');
    }
    if (split !== 'train')
      check(later.join() === first.join(), `${split}: an evaluation split is shuffled by default`);
    const resumed = epoch(d, split, { ...base, epoch: 1, startBatch: 1 });
    check(
      resumed.join() === later.slice(Math.min(batchSize, later.length)).join(),
      `${split}: startBatch 1 does not continue the epoch after its first batch`,
    );
    const limit = Math.max(1, Math.floor(d.info.sizes[split] / 2));
    epoch(d, split, { ...base, limit });
    epoch(d, split, { ...base, dropLast: true });
  }
}

/** Registers the conformance tests of one dataset with the framework's `describe`/`it`. */
export function describeDatasetConformance(o: DatasetConformanceSuiteOptions): void {
  o.describe(`dataset conformance: ${o.name}`, () => {
    o.it(
      'builds through the registry from its JSON config (an unknown key refused by its path), with a well-formed info',
      async () => {
        checkInfo(await build(o));
      },
    );
    for (const batchSize of o.batchSizes ?? [7, 32]) {
      o.it(
        `batch size ${batchSize}: every split covered once per epoch in every layout and label form; order a function of (seed, epoch); startBatch, limit, dropLast; no leaks`,
        async () => checkBatches(await build(o), batchSize),
      );
    }
  });
}
