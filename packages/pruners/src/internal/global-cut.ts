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
 * Fan-in of each target: a kernel's entries per output unit (the product of every dimension but the
 * last); any other parameter (a bias, a normalization gain or shift) takes the fan-in of its layer's
 * kernel (`<layer>/kernel`), and 1 when its layer has none.
 */
export function fanIns(net: Network, targets: readonly string[]): number[] {
  const ofKernel = (name: string): number | undefined => {
    const shape = net.params.get(name)?.shape;
    return shape === undefined || shape.length < 2
      ? undefined
      : shape.slice(0, -1).reduce((a, b) => a * b, 1);
  };
  return targets.map((name) => {
    if (name.endsWith('/kernel')) return ofKernel(name) ?? 1;
    const slash = name.lastIndexOf('/');
    return (slash < 0 ? undefined : ofKernel(`${name.slice(0, slash)}/kernel`)) ?? 1;
  });
}

/**
 * Masks the `prune` live weights of smallest |w| across all targets (one
 * global ranking) and re-applies the masks. With `scales`, target i is ranked
 * by |w|·scales[i] instead. Returns the new masks.
 */
export function applyGlobalCut(
  net: Network,
  state: CutState,
  prune: number,
  scales?: readonly number[],
): Float32Array[] {
  const ranked =
    scales === undefined
      ? state.magnitudes
      : state.magnitudes.map((m, i) => (scales[i] === 1 ? m : m.map((x) => x * scales[i]!)));
  const keep = keepLargest(ranked, state.live, prune);
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
