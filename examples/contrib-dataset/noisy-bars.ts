/**
 * An example contributor dataset, written in one file against public entry points only
 * (`@moprune/core`, `@moprune/datasets`; `@moprune/datasets/testing` in its test): 8×8 grey images
 * of one horizontal (class 0) or vertical (class 1) bar at a random position, on uniform noise —
 * generated from a seed, so it needs no files. `createArrayDataset` of `@moprune/datasets` does the
 * batching (shuffle by seed and epoch, layouts, label forms, `limit`, `dropLast`, `startBatch`).
 */
import { type Dataset, defineDataset, Rng, schema as s } from '@moprune/core';
import { createArrayDataset, type SplitSource } from '@moprune/datasets';

/** Config of {@link createNoisyBars}. */
export interface NoisyBarsConfig {
  readonly type: 'noisy-bars';
  /** Samples per split. @default 512 / 128 / 128 */
  readonly trainSize?: number;
  readonly validationSize?: number;
  readonly testSize?: number;
  /** Seed of the images (each split draws from its own stream). @default 0 */
  readonly seed?: number;
  /** Noise amplitude, 0–255. @default 64 */
  readonly noise?: number;
}

const SIDE = 8;

/** One split of `n` images drawn from `rng`. */
function split(n: number, rng: Rng, noise: number): SplitSource {
  const images = new Uint8Array(n * SIDE * SIDE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const vertical = rng.next() < 0.5;
    const at = Math.floor(rng.next() * SIDE);
    labels[i] = vertical ? 1 : 0;
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        const bar = vertical ? c === at : r === at;
        const v = (bar ? 255 - noise : 0) + rng.next() * noise;
        images[i * SIDE * SIDE + r * SIDE + c] = Math.round(v);
      }
    }
  }
  return { images, labels: [labels] };
}

/** The noisy-bars dataset of {@link NoisyBarsConfig}. */
export function createNoisyBars(config: Partial<NoisyBarsConfig> = {}): Dataset {
  const noise = config.noise ?? 64;
  const root = Rng.fromSeed(config.seed ?? 0);
  return createArrayDataset({
    name: 'noisy-bars',
    inputShape: [SIDE, SIDE, 1],
    classes: [2],
    splits: {
      train: split(config.trainSize ?? 512, root.fork('train'), noise),
      validation: split(config.validationSize ?? 128, root.fork('validation'), noise),
      test: split(config.testSize ?? 128, root.fork('test'), noise),
    },
  });
}

const size = s.integer({ min: 0 }).optional();

/** The `noisy-bars` dataset, registered: `{ "type": "noisy-bars", "trainSize": 512 }` builds it. */
export const noisyBarsDataset = defineDataset({
  name: 'noisy-bars',
  description: '8×8 images of a horizontal or vertical bar on noise, generated from a seed (2 classes)',
  configSchema: s.object({
    trainSize: s.integer({ min: 1 }).optional(),
    validationSize: size,
    testSize: size,
    seed: size,
    noise: s.number({ min: 0, max: 255 }).optional(),
  }),
  create: (config) => createNoisyBars(config),
});
