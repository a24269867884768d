import type * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { ComponentState } from '../interfaces.js';
import type { JsonObject } from '../json.js';

/** One named float array of a {@link ComponentState}. */
export type StateArray = ComponentState['arrays'][string];

/**
 * Copies a tensor's values into a state array (a fresh Float32Array, so the
 * state stays valid after the tensor is disposed).
 */
export function tensorToStateArray(t: tf.Tensor): StateArray {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

/**
 * The array `key` of `state`, checked against an expected shape.
 * @throws CoreError `INVALID_ARGUMENT` when the array is missing or its shape differs.
 */
export function requireStateArray(
  state: ComponentState,
  key: string,
  shape: readonly number[],
  owner: string,
): StateArray {
  const a = state.arrays[key];
  if (a === undefined) {
    throw new CoreError('INVALID_ARGUMENT', `${owner} state has no array '${key}'`, { details: { key } });
  }
  const size = shape.reduce((p, d) => p * d, 1);
  if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i]) || a.data.length !== size) {
    throw new CoreError(
      'SHAPE_MISMATCH',
      `${owner} state array '${key}' has shape [${a.shape.join(',')}], expected [${shape.join(',')}]`,
      { details: { key, shape: [...a.shape], expected: [...shape] } },
    );
  }
  return a;
}

/** A deep copy of a state (arrays copied), so a saved state cannot be changed by later steps. */
export function cloneState(state: ComponentState): ComponentState {
  const arrays: Record<string, StateArray> = {};
  for (const [k, a] of Object.entries(state.arrays))
    arrays[k] = { shape: [...a.shape], data: a.data.slice() };
  return { json: structuredClone(state.json) as JsonObject, arrays };
}
