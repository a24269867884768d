import { SweepError } from './errors.js';

/** Options of {@link preferenceGrid}. */
export interface PreferenceGridOptions {
  /** Length m of each vector (≥ 2). */
  readonly dimensions: number;
  /** Lattice steps n along each edge (≥ 1): weights are multiples of 1/n (of 1 − first). */
  readonly divisions: number;
  /**
   * Fix the first weight to each of these values (in [0, 1]) and spread
   * 1 − first over the other m − 1 weights on the lattice; without it the
   * first weight is on the lattice too.
   */
  readonly first?: readonly number[];
}

/** Every way to write `total` as an ordered sum of `parts` non-negative integers, first part descending. */
function compositions(total: number, parts: number): number[][] {
  if (parts === 1) return [[total]];
  const out: number[][] = [];
  for (let head = total; head >= 0; head--) {
    for (const tail of compositions(total - head, parts - 1)) out.push([head, ...tail]);
  }
  return out;
}

/**
 * Preference vectors on the probability simplex, in a fixed order: the
 * lattice {k/n : Σk = n} (C(n+m−1, m−1) vectors, first weight descending), or
 * with `first` one lattice of the remaining m − 1 weights scaled by
 * (1 − first) per value of `first`. Hotegni et al.'s (2023) fronts are
 * `{ dimensions: 3, divisions: 18, first: [0, 1e-4, 1e-3, 1e-2, 0.1] }`
 * (19 vectors per k0). Each vector sums to 1 up to rounding.
 * @throws SweepError `INVALID_ARGUMENT` on a bad option.
 */
export function preferenceGrid(options: PreferenceGridOptions): number[][] {
  const { dimensions: m, divisions: n, first } = options;
  if (!Number.isInteger(m) || m < 2 || !Number.isInteger(n) || n < 1) {
    throw new SweepError(
      'INVALID_ARGUMENT',
      `preferenceGrid needs integer dimensions ≥ 2 and divisions ≥ 1, got ${m} and ${n}`,
    );
  }
  if (first === undefined) return compositions(n, m).map((c) => c.map((k) => k / n));
  if (first.some((f) => !(f >= 0 && f <= 1))) {
    throw new SweepError(
      'INVALID_ARGUMENT',
      `preferenceGrid: every first weight must be in [0, 1], got [${first.join(', ')}]`,
    );
  }
  const rest = compositions(n, m - 1);
  return first.flatMap((f) => rest.map((c) => [f, ...c.map((k) => ((1 - f) * k) / n)]));
}
