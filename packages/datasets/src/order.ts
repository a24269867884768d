import { Rng } from '@moprune/core';
import { DatasetError } from './errors.js';

/**
 * The sample order of epoch `epoch` for a split of `n` samples: a uniformly
 * random permutation that is a function of `(seed, epoch)` only (a fresh
 * generator is derived from the seed and forked by the epoch number), so a run
 * resumed mid-epoch sees exactly the order it would have seen.
 */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  return Rng.fromSeed(seed).fork(`moprune/datasets epoch ${epoch}`).permutation(n);
}

/** The two parts of {@link splitIndices}. */
export interface IndexSplit {
  /** Indices kept in the first part, ascending. */
  readonly first: Uint32Array;
  /** Indices moved to the second part, ascending. */
  readonly second: Uint32Array;
}

/**
 * Splits `0 … n−1` into a first part of `n − secondSize` indices and a second
 * part of `secondSize`, uniformly at random from `seed` (one permutation; its
 * last `secondSize` entries form the second part). Both parts are returned
 * sorted so that "the first k samples of a split" means the same samples for
 * every k, in the source's order.
 */
export function splitIndices(n: number, secondSize: number, seed: number): IndexSplit {
  if (!Number.isInteger(secondSize) || secondSize < 0 || secondSize > n) {
    throw new DatasetError('INVALID_OPTIONS', `split size ${secondSize} must be an integer in [0, ${n}]`);
  }
  const perm = Rng.fromSeed(seed).fork('moprune/datasets split').permutation(n);
  const first = perm.slice(0, n - secondSize).sort();
  const second = perm.slice(n - secondSize).sort();
  return { first, second };
}

/** `0 … n−1` as indices. */
export function range(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
