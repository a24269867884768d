import type { Network } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';

/** The current 0/1 mask of `param` as a Float32Array (all ones when it has none). */
export async function maskValues(net: Network, param: string): Promise<Float32Array> {
  const mask = net.getMask(param);
  const variable = net.params.get(param)!;
  if (!mask) return new Float32Array(variable.size).fill(1);
  return (await mask.data()) as Float32Array;
}

/** Sets a mask from 0/1 values (copied into a tensor of the parameter's shape). */
export function setMaskValues(net: Network, param: string, values: Float32Array): void {
  const variable = net.params.get(param)!;
  const t = tf.tensor(values, variable.shape, 'float32');
  net.setMask(param, t);
  t.dispose();
}

/** Number of zeros in a 0/1 mask array. */
export function countZeros(values: Float32Array): number {
  let z = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) z++;
  return z;
}

/**
 * The magnitude below which exactly `prune` of the `live` entries fall: returns
 * a boolean keep-array over all entries (`live[i]` false entries stay pruned).
 * Ties at the threshold are broken by lower index first pruned, so exactly
 * `prune` live entries are removed (the schedule is met to the weight).
 */
export function keepLargest(
  magnitudes: readonly Float32Array[],
  live: readonly Float32Array[],
  prune: number,
): Float32Array[] {
  const keep = live.map((l) => Float32Array.from(l));
  if (prune <= 0) return keep;
  // The order is (|w|, array, index): find the `prune`-th smallest live |w| (t) by selection over
  // the live magnitudes alone, then prune every live entry below t and, in array-then-index order,
  // as many entries equal to t as are still missing — the same entries as sorting the triples, without
  // sorting (LeNet-300-100's 266k weights: a few ms instead of ~150 ms for the comparator sort).
  let liveCount = 0;
  for (const l of live) for (let i = 0; i < l.length; i++) if (l[i] !== 0) liveCount++;
  const mags = new Float32Array(liveCount);
  let k = 0;
  for (let a = 0; a < live.length; a++) {
    const l = live[a]!;
    const m = magnitudes[a]!;
    for (let i = 0; i < l.length; i++) if (l[i] !== 0) mags[k++] = Math.abs(m[i]!);
  }
  const n = Math.min(prune, liveCount);
  if (n === 0) return keep;
  if (n === liveCount) {
    for (let a = 0; a < keep.length; a++) keep[a]!.fill(0);
    return keep;
  }
  // A NaN magnitude ranks after every number: with n past the numbers, t is NaN.
  let numbers = 0;
  for (let j = 0; j < liveCount; j++) if (!Number.isNaN(mags[j]!)) mags[numbers++] = mags[j]!;
  const t = n > numbers ? Number.NaN : selectNth(mags, numbers, n - 1);
  const nanT = Number.isNaN(t);
  const less = (v: number) => (nanT ? !Number.isNaN(v) : v < t);
  let below = 0;
  for (let j = 0; j < numbers; j++) if (less(mags[j]!)) below++;
  let ties = n - below;
  for (let a = 0; a < live.length; a++) {
    const l = live[a]!;
    const m = magnitudes[a]!;
    const out = keep[a]!;
    for (let i = 0; i < l.length; i++) {
      if (l[i] === 0) continue;
      const v = Math.abs(m[i]!);
      if (less(v)) out[i] = 0;
      else if (ties > 0 && (nanT ? Number.isNaN(v) : v === t)) {
        out[i] = 0;
        ties--;
      }
    }
  }
  return keep;
}

/** Zeros of the targets' masks, their total size, and the ratio (a pruner's `metrics()` core). */
export function maskSparsity(
  net: Network,
  targets: readonly string[],
): { sparsity: number; zeros: number; total: number } {
  let zeros = 0;
  let total = 0;
  for (const name of targets) {
    total += net.params.get(name)!.size;
    const m = net.getMask(name);
    if (m) zeros += countZeros(m.dataSync() as Float32Array);
  }
  return { sparsity: total === 0 ? 0 : zeros / total, zeros, total };
}

/**
 * The k-th smallest (0-based) of the first `size` entries of `a` (numbers, no NaN), reordering them:
 * quickselect with a three-way partition, so runs of equal values (zeros of pruned-then-regrown
 * weights) cost one pass, and a median-of-three pivot at fixed positions (deterministic).
 */
export function selectNth(a: Float32Array, size: number, k: number): number {
  let lo = 0;
  let hi = size - 1;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    // a[lo..lt) < pivot, a[lt..i) = pivot, a(gt..hi] > pivot.
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = a[i]!;
      if (v < pivot) {
        a[i] = a[lt]!;
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt]!;
        a[gt] = v;
        gt--;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[lo]!;
}
