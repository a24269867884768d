import { type JsonObject, type Network, networkFromState, networkToState } from '@moprune/core';
import { loadLatestCheckpoint, writeCheckpoint } from './checkpoint.js';

/**
 * Saves a network (spec, weights, masks) and extra JSON as a checkpoint
 * directory under `dir` (atomic, SHA-256-checked, one kept), e.g. a run's
 * best-validation model.
 */
export function saveNetworkSnapshot(dir: string, net: Network, step: number, extra: JsonObject = {}): string {
  const s = networkToState(net);
  return writeCheckpoint(dir, { json: { ...s.json, extra }, arrays: s.arrays }, { step, keep: 1 });
}

/**
 * Loads the snapshot {@link saveNetworkSnapshot} wrote in `dir`.
 * @returns undefined when there is none.
 * @throws CoreError `CHECKPOINT_CORRUPT` when it does not verify.
 */
export function loadNetworkSnapshot(
  dir: string,
): { net: Network; step: number; extra: JsonObject } | undefined {
  const ckpt = loadLatestCheckpoint(dir);
  if (ckpt === undefined) return undefined;
  return {
    net: networkFromState(ckpt.state),
    step: ckpt.step,
    extra: (ckpt.state.json.extra ?? {}) as JsonObject,
  };
}
