import type { Issue } from './errors.js';
import type { JsonValue } from './json.js';
import type { Network, ParamRole } from './network-types.js';

/**
 * Chooses a set of parameters by what they are, so a config can say
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

const ROLES: readonly ParamRole[] = [
  'kernel',
  'bias',
  'gamma',
  'beta',
  'movingMean',
  'movingVariance',
  'alpha',
];

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

/** Every problem with a JSON parameter selector, with paths under `path`. */
export function validateParamSelector(value: JsonValue | undefined, path: string): Issue[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [
      {
        path,
        message: 'a parameter selector must be an object like { "ops": ["dense"], "roles": ["kernel"] }',
      },
    ];
  }
  const issues: Issue[] = [];
  const known = new Set(['ops', 'roles', 'nodes', 'names', 'exclude', 'trainableOnly']);
  for (const key of Object.keys(value)) {
    if (!known.has(key))
      issues.push({ path: `${path}.${key}`, message: `unknown field; one of: ${[...known].join(', ')}` });
  }
  for (const key of ['ops', 'roles', 'nodes', 'names', 'exclude'] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      issues.push({ path: `${path}.${key}`, message: 'must be an array of strings' });
    } else if (key === 'roles') {
      for (const r of v) {
        if (!ROLES.includes(r as ParamRole)) {
          issues.push({
            path: `${path}.roles`,
            message: `unknown role '${String(r)}'; one of: ${ROLES.join(', ')}`,
          });
        }
      }
    }
  }
  if (value.trainableOnly !== undefined && typeof value.trainableOnly !== 'boolean') {
    issues.push({ path: `${path}.trainableOnly`, message: 'must be a boolean' });
  }
  return issues;
}
