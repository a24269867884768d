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
  // Collect live entries as (|w|, array, index) and select the `prune` smallest.
  let liveCount = 0;
  for (const l of live) for (let i = 0; i < l.length; i++) if (l[i] !== 0) liveCount++;
  const mags = new Float32Array(liveCount);
  const owner = new Uint32Array(liveCount);
  const index = new Uint32Array(liveCount);
  let k = 0;
  for (let a = 0; a < live.length; a++) {
    const l = live[a]!;
    const m = magnitudes[a]!;
    for (let i = 0; i < l.length; i++) {
      if (l[i] === 0) continue;
      mags[k] = Math.abs(m[i]!);
      owner[k] = a;
      index[k] = i;
      k++;
    }
  }
  const order = Uint32Array.from({ length: liveCount }, (_, i) => i);
  order.sort((x, y) => mags[x]! - mags[y]! || owner[x]! - owner[y]! || index[x]! - index[y]!);
  const n = Math.min(prune, liveCount);
  for (let r = 0; r < n; r++) {
    const j = order[r]!;
    keep[owner[j]!]![index[j]!] = 0;
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
