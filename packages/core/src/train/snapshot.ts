import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { ComponentState } from '../interfaces.js';
import type { JsonObject } from '../json.js';
import { networkFromValues } from '../network/index.js';
import type { Network } from '../network-types.js';
import type { NetworkSpec } from '../spec.js';
import { requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';

/** The JSON half of {@link networkToState}. */
export interface NetworkStateJson {
  readonly spec: NetworkSpec;
  /** Parameter names, each stored as array `param/<name>`. */
  readonly params: readonly string[];
  /** Parameters with a mask, each stored as array `mask/<name>`. */
  readonly masks: readonly string[];
}

/**
 * A network as a {@link ComponentState}: the spec (it changes under
 * compaction) and parameter names in JSON, every parameter (BatchNorm moving
 * statistics included) as `param/<name>` and every mask as `mask/<name>`.
 */
export function networkToState(net: Network): ComponentState {
  const arrays: Record<string, StateArray> = {};
  const params: string[] = [];
  for (const [name, v] of net.params) {
    arrays[`param/${name}`] = tensorToStateArray(v);
    params.push(name);
  }
  const masks = net.maskedParams();
  for (const name of masks) arrays[`mask/${name}`] = tensorToStateArray(net.getMask(name)!);
  const json: NetworkStateJson = { spec: net.spec, params, masks };
  return { json: json as unknown as JsonObject, arrays };
}

/**
 * Copies parameters and masks of a {@link networkToState} state into `net`
 * (whose spec must match), removing masks the state does not have.
 * @throws CoreError `CHECKPOINT_CORRUPT` when a parameter is missing, `SHAPE_MISMATCH` on a shape difference.
 */
export function assignNetworkState(net: Network, state: ComponentState): void {
  const j = state.json as unknown as NetworkStateJson;
  const names = new Set(j.params);
  for (const name of net.params.keys()) {
    if (!names.has(name)) {
      throw new CoreError(
        'CHECKPOINT_CORRUPT',
        `the saved state has no parameter '${name}' of network '${net.spec.name}'`,
      );
    }
  }
  for (const [name, v] of net.params) {
    const a = requireStateArray(state, `param/${name}`, v.shape, 'network');
    tf.tidy(() => v.assign(tf.tensor(a.data, [...a.shape], 'float32')));
  }
  const masked = new Set(j.masks);
  for (const name of net.maskedParams()) if (!masked.has(name)) net.setMask(name, null);
  for (const name of j.masks) {
    const v = net.params.get(name)!;
    const a = requireStateArray(state, `mask/${name}`, v.shape, 'network');
    const m = tf.tensor(a.data, [...a.shape], 'float32');
    net.setMask(name, m);
    m.dispose();
  }
}

/** Builds a new network from a {@link networkToState} state (its own spec, weights and masks). */
export function networkFromState(state: ComponentState): Network {
  const j = state.json as unknown as NetworkStateJson;
  const values = new Map<string, tf.Tensor>();
  try {
    for (const name of j.params) {
      const a = state.arrays[`param/${name}`];
      if (a === undefined)
        throw new CoreError('CHECKPOINT_CORRUPT', `the saved state has no array 'param/${name}'`);
      values.set(name, tf.tensor(a.data, [...a.shape], 'float32'));
    }
    const net = networkFromValues(j.spec, values);
    assignNetworkState(net, state);
    return net;
  } finally {
    tf.dispose([...values.values()]);
  }
}
