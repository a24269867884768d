import type { Issue } from './errors.js';
import type { JsonValue } from './json.js';
import type { Network, ParamRole } from './network-types.js';
import { paramSelector } from './schema.js';

/**
 * Chooses a set of parameters by what they are — the one selector every package's `params` option
 * takes (objectives, pruners, the config schema's `s.paramSelector()`), so a config can say
 * "dense kernels only" (`{ ops: ['dense'], roles: ['kernel'] }`) or
 * "conv kernels" (`{ ops: ['conv2d'], roles: ['kernel'] }`) without naming
 * layers. Fields combine with AND; an absent field matches everything.
 */
export interface ParamSelector {
  /** Ops of the owning node (`'dense'`, `'conv2d'`, `'batchNorm'`, `'mix'`). */
  readonly ops?: readonly string[];
  /** Parameter roles. */
  readonly roles?: readonly ParamRole[];
  /** Node ids. */
  readonly nodes?: readonly string[];
  /** Exact parameter names (`${node}/${role}`). */
  readonly names?: readonly string[];
  /** Parameter names or node ids to leave out (e.g. the output layer). */
  readonly exclude?: readonly string[];
  /** Leave out non-trainable state (BatchNorm moving statistics). @default true */
  readonly trainableOnly?: boolean;
}

/** The names of the parameters of `net` that `selector` matches, in network order. */
export function selectParams(net: Network, selector: ParamSelector = {}): string[] {
  const out: string[] = [];
  for (const info of net.paramInfo.values()) {
    if ((selector.trainableOnly ?? true) && !info.trainable) continue;
    if (selector.ops && !selector.ops.includes(info.op)) continue;
    if (selector.roles && !selector.roles.includes(info.role)) continue;
    if (selector.nodes && !selector.nodes.includes(info.node)) continue;
    if (selector.names && !selector.names.includes(info.name)) continue;
    if (selector.exclude && (selector.exclude.includes(info.name) || selector.exclude.includes(info.node)))
      continue;
    out.push(info.name);
  }
  return out;
}

/** Every problem with a JSON parameter selector, with paths under `path` (the schema's {@link paramSelector} check). */
export function validateParamSelector(value: JsonValue | undefined, path: string): Issue[] {
  return value === undefined ? [] : paramSelector().issues(value, path);
}
