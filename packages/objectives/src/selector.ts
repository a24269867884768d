import type { JsonObject, Network, ParamRole } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigReader } from './config.js';
import { ObjectiveError } from './errors.js';

/** Every {@link ParamRole}, for validation. */
export const PARAM_ROLES: readonly ParamRole[] = [
  'kernel',
  'bias',
  'gamma',
  'beta',
  'movingMean',
  'movingVariance',
  'alpha',
];

/**
 * Chooses parameters of a network by JSON. Every given field must match
 * (they combine with AND); an empty selector selects every trainable
 * parameter. Examples: `{ ops: ['dense'], roles: ['kernel'] }` = dense
 * kernels only; `{ names: ['fc1/kernel'] }` = one parameter by name.
 */
export interface ParamSelector {
  /** Ops of the owning node (`'dense'`, `'conv2d'`, `'batchNorm'`, `'mix'`, or a custom op). */
  readonly ops?: readonly string[];
  /** Parameter roles. */
  readonly roles?: readonly ParamRole[];
  /** Owning node ids. */
  readonly nodes?: readonly string[];
  /** Explicit parameter names (`${node}/${role}`); each must exist in the network. */
  readonly names?: readonly string[];
  /** Only trainable parameters (BatchNorm moving statistics are not). @default true */
  readonly trainableOnly?: boolean;
}

/** Parses a selector at `path`, recording problems in `reader.issues`. */
export function parseSelector(config: JsonObject, reader: ConfigReader, path: string): ParamSelector {
  const r = new ConfigReader(config, reader.issues, path);
  const ops = r.stringArray('ops');
  const roles = r.stringArray('roles', PARAM_ROLES) as ParamRole[] | undefined;
  const nodes = r.stringArray('nodes');
  const names = r.stringArray('names');
  const trainableOnly = r.boolean('trainableOnly', true);
  r.rejectUnknown();
  return {
    ...(ops ? { ops } : {}),
    ...(roles ? { roles } : {}),
    ...(nodes ? { nodes } : {}),
    ...(names ? { names } : {}),
    trainableOnly,
  };
}

/** Reads an optional selector field of `reader`'s object (`fallback` when absent). */
export function readSelector(reader: ConfigReader, key: string, fallback: ParamSelector): ParamSelector {
  const obj = reader.object(key);
  return obj ? parseSelector(obj, reader, reader.at(key)) : fallback;
}

/** A selector as JSON-ish text, for error messages. */
function describe(selector: ParamSelector): string {
  return JSON.stringify(selector);
}

/**
 * Names of the parameters of `net` that `selector` matches, in the network's
 * parameter order. Throws UNKNOWN_PARAMETER for a listed name the network
 * lacks and EMPTY_SELECTION when nothing matches (a selector that silently
 * selects nothing would make an objective silently zero).
 */
export function selectParams(net: Network, selector: ParamSelector, what = 'objective'): string[] {
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
  const out: string[] = [];
  for (const [name, info] of net.paramInfo) {
    if ((selector.trainableOnly ?? true) && !info.trainable) continue;
    if (selector.ops && !selector.ops.includes(info.op)) continue;
    if (selector.roles && !selector.roles.includes(info.role)) continue;
    if (selector.nodes && !selector.nodes.includes(info.node)) continue;
    if (selector.names && !selector.names.includes(name)) continue;
    out.push(name);
  }
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
