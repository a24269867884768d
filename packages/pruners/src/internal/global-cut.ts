import type { Network } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { countZeros, keepLargest, maskValues, setMaskValues } from './masks.js';

/** Live masks and magnitudes of the target parameters, read once. */
export interface CutState {
  readonly targets: readonly string[];
  readonly magnitudes: Float32Array[];
  readonly live: Float32Array[];
  readonly liveCount: number;
  readonly total: number;
}

/** Reads the targets' weights and masks. */
export async function readCutState(net: Network, targets: readonly string[]): Promise<CutState> {
  const magnitudes: Float32Array[] = [];
  const live: Float32Array[] = [];
  let total = 0;
  let zeros = 0;
  for (const name of targets) {
    magnitudes.push((await net.params.get(name)!.data()) as Float32Array);
    const m = await maskValues(net, name);
    live.push(m);
    total += m.length;
    zeros += countZeros(m);
  }
  return { targets, magnitudes, live, liveCount: total - zeros, total };
}

/**
 * Masks the `prune` live weights of smallest |w| across all targets (one
 * global ranking) and re-applies the masks. Returns the new masks.
 */
export function applyGlobalCut(net: Network, state: CutState, prune: number): Float32Array[] {
  const keep = keepLargest(state.magnitudes, state.live, prune);
  for (const [i, name] of state.targets.entries()) setMaskValues(net, name, keep[i]!);
  net.applyMasks();
  return keep;
}

/** Restores masks and weights saved by {@link readCutState} (undoes a trial cut). */
export function restoreCut(net: Network, state: CutState): void {
  for (const [i, name] of state.targets.entries()) {
    setMaskValues(net, name, state.live[i]!);
    const v = net.params.get(name)!;
    // `magnitudes` holds the signed weights as read; put them back.
    const saved = tf.tensor(state.magnitudes[i]!, v.shape, 'float32');
    v.assign(saved);
    saved.dispose();
  }
  net.applyMasks();
}
