import { type Network, type ParamSelector, selectParams } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { ObjectiveError } from './errors.js';

/** A selector as JSON-ish text, for error messages. */
function describe(selector: ParamSelector): string {
  return JSON.stringify(selector);
}

/**
 * Names of the parameters of `net` that `selector` matches (core's {@link selectParams}), in the
 * network's parameter order. Throws UNKNOWN_PARAMETER for a listed name the network lacks and
 * EMPTY_SELECTION when nothing matches (a selector that silently selects nothing would make an
 * objective silently zero).
 */
export function requireParams(net: Network, selector: ParamSelector, what = 'objective'): string[] {
  if (selector.names) {
    const missing = selector.names.filter((n) => !net.paramInfo.has(n));
    if (missing.length > 0) {
      throw new ObjectiveError(
        'UNKNOWN_PARAMETER',
        `${what}: the network has no parameter ${missing.map((m) => `'${m}'`).join(', ')}`,
        { details: { missing } },
      );
    }
  }
  const out = selectParams(net, selector);
  if (out.length === 0) {
    throw new ObjectiveError(
      'EMPTY_SELECTION',
      `${what}: selector ${describe(selector)} matches no parameter`,
      {
        details: { selector },
      },
    );
  }
  return out;
}

/**
 * The parameter as the forward pass sees it: `w ⊙ mask` when it has a mask,
 * so penalties agree with `Network.apply` and masked entries get zero gradient.
 */
export function effectiveParam(net: Network, name: string): tf.Tensor {
  const w = net.params.get(name);
  if (!w) throw new ObjectiveError('UNKNOWN_PARAMETER', `the network has no parameter '${name}'`);
  const mask = net.getMask(name);
  return mask ? tf.mul(w, mask) : w;
}

/**
 * Caches something derived from a network's static structure. Keyed weakly
 * by the Network object, so a compacted replacement network gets a fresh entry.
 */
export class PerNetwork<T> {
  private readonly cache = new WeakMap<Network, T>();
  constructor(private readonly build: (net: Network) => T) {}
  get(net: Network): T {
    let v = this.cache.get(net);
    if (v === undefined) {
      v = this.build(net);
      this.cache.set(net, v);
    }
    return v;
  }
}
