import { Rng, type SplitName } from '@moprune/core';
import { ArrayDataset } from './array-dataset.js';
import { DatasetError } from './errors.js';

/** Options of {@link queryCount}. */
export interface QueryCountOptions {
  /** Tokens per sequence, the query included (≥ 3). @default 16 */
  readonly length?: number;
  /** Token vocabulary: ids in `[0, vocab)` (2–256). @default 8 */
  readonly vocab?: number;
  /** Largest count; the classes are 0…maxCount (≤ length − 1). @default 5 */
  readonly maxCount?: number;
  /** Sequences per split. @default { train: 20000, validation: 2000, test: 4000 } */
  readonly sizes?: Partial<Readonly<Record<SplitName, number>>>;
  /** Seed of every draw. @default 0 */
  readonly seed?: number;
}

const DEFAULT_SIZES: Readonly<Record<SplitName, number>> = { train: 20000, validation: 2000, test: 4000 };

/**
 * A synthetic sequence-classification task that needs attention: a sequence
 * of `length` tokens whose first token is the query q; the label is how many
 * of the other `length − 1` tokens equal q (0…maxCount, drawn uniformly, so
 * the classes are balanced and chance is 1/(maxCount + 1)). The other
 * positions hold q at `label` uniformly drawn places and tokens ≠ q
 * elsewhere. A model that mean-pools over positions must first move q to
 * every position (attention to position 0), then compare each token with it
 * (feed-forward), so a bag of tokens cannot solve it.
 *
 * Samples are made from `seed` alone (a fork per split), the same on every
 * machine. Inputs are token ids as floats (`inputShape` `[length, 1, 1]`,
 * normalization `'none'`): use `layout: 'flat'` or let the network reshape.
 * @throws DatasetError `INVALID_OPTIONS` naming every bad option.
 */
export function queryCount(options: QueryCountOptions = {}): ArrayDataset {
  const length = options.length ?? 16;
  const vocab = options.vocab ?? 8;
  const maxCount = options.maxCount ?? 5;
  const seed = options.seed ?? 0;
  const sizes = { ...DEFAULT_SIZES, ...(options.sizes ?? {}) };
  const problems: string[] = [];
  const int = (v: number, min: number, max: number, name: string) => {
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  int(length, 3, 4096, 'length');
  int(vocab, 2, 256, 'vocab');
  int(maxCount, 1, Math.max(1, length - 1), 'maxCount');
  int(seed, 0, Number.MAX_SAFE_INTEGER, 'seed');
  for (const split of ['train', 'validation', 'test'] as const) int(sizes[split], 0, 1e7, `sizes.${split}`);
  if (problems.length > 0) {
    throw new DatasetError('INVALID_OPTIONS', `query-count: ${problems.join('; ')}`);
  }
  const root = Rng.fromSeed(seed);
  const make = (split: SplitName) => {
    const n = sizes[split];
    const rng = root.fork(split);
    const images = new Uint8Array(n * length);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const q = rng.int(vocab);
      const count = rng.int(maxCount + 1);
      const row = images.subarray(i * length, (i + 1) * length);
      row[0] = q;
      const places = rng.permutation(length - 1);
      for (let k = 0; k < length - 1; k++) {
        // The first `count` places hold q; the rest a token drawn from the vocabulary without q.
        const other = rng.int(vocab - 1);
        row[1 + places[k]!] = k < count ? q : other >= q ? other + 1 : other;
      }
      labels[i] = count;
    }
    return { images, labels: [labels] };
  };
  return new ArrayDataset({
    name: 'query-count',
    inputShape: [length, 1, 1],
    classes: [maxCount + 1],
    normalization: 'none',
    splits: { train: make('train'), validation: make('validation'), test: make('test') },
  });
}
