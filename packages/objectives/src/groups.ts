import {
  type Infer,
  isJsonObject,
  type Network,
  type ParamSelector,
  type StructureGroup,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { toSelector } from './define.js';
import { ObjectiveError } from './errors.js';
import { effectiveParam, requireParams } from './selector.js';

/**
 * Where the groups of a group norm come from.
 *
 * - `structures`: the network's {@link StructureGroup}s (a unit's column,
 *   bias, BatchNorm entries and its rows in the consumers' kernels; a
 *   filter; a residual block), filtered by kind and node, optionally counting
 *   only the slices whose parameter matches `params`.
 * - `axis`: every index along `axis` of each selected parameter is a group.
 *   `{ params: { ops: ['dense'], roles: ['kernel'] }, axis: 0 }` gives the
 *   rows of each dense kernel `[in, out]`, i.e. one group per *input neuron*,
 *   which is how Hotegni et al.'s reference groups GrOWL.
 */
export type GroupSource =
  | {
      readonly from: 'structures';
      /** `input`: input features, which have groups only when the network gates them. */
      readonly kinds?: readonly ('unit' | 'filter' | 'layer' | 'input')[];
      readonly nodes?: readonly string[];
      /** Only slices of parameters this selector matches count. @default every slice */
      readonly params?: ParamSelector;
    }
  | { readonly from: 'axis'; readonly params: ParamSelector; readonly axis: number };

const STRUCTURE_KINDS = ['unit', 'filter', 'layer', 'input'] as const;

const structuresSchema = s.object({
  from: s.oneOf(['structures', 'axis'] as const).optional(),
  kinds: s.array(s.oneOf(STRUCTURE_KINDS), { minLength: 1 }).optional(),
  nodes: s.array(s.string(), { minLength: 1 }).optional(),
  params: s.paramSelector().optional(),
});

const axisSchema = s.object({
  from: s.literal('axis'),
  params: s.paramSelector(),
  axis: s.integer({ min: 0 }),
});

/** A group source as written in a config (see {@link GroupSource}; `from` defaults to `'structures'`). */
export type GroupSourceConfig =
  | (Omit<Infer<typeof structuresSchema>, 'from'> & { readonly from?: 'structures' })
  | Infer<typeof axisSchema>;

/**
 * The config schema of a group source: `{ from?: 'structures', kinds?, nodes?, params? }`
 * or `{ from: 'axis', params, axis }` (the fields checked are those of the `from` given).
 */
export const groupSourceSchema = s.custom<GroupSourceConfig>(
  "a group source { from?: 'structures', kinds?, nodes?, params? } or { from: 'axis', params, axis }",
  (value, path) =>
    isJsonObject(value) && value.from === 'axis'
      ? axisSchema.issues(value, path)
      : structuresSchema.issues(value, path),
  ['object'],
);

/** The group source a valid config describes (every structure group when absent). */
export function toGroupSource(config: GroupSourceConfig | undefined): GroupSource {
  if (config === undefined) return { from: 'structures' };
  if (config.from === 'axis') {
    return { from: 'axis', params: toSelector(config.params, {}), axis: config.axis };
  }
  const { kinds, nodes, params } = config;
  return {
    from: 'structures',
    ...(kinds ? { kinds } : {}),
    ...(nodes ? { nodes } : {}),
    ...(params ? { params: toSelector(params, {}) } : {}),
  };
}

/** Resolved groups of one network: index plans for computing all group norms at once. */
export interface GroupPlan {
  /** Group ids, in group order. */
  readonly ids: readonly string[];
  /** Owning node of each group (the structure's node, or the parameter's node for `axis` groups). */
  readonly nodes: readonly string[];
  /** Number of parameter entries of each group (slices counted separately). */
  readonly sizes: readonly number[];
  /**
   * Per (parameter, axis): which per-index squared sums feed which group.
   * `index[k]` is an index along `axis`, `segment[k]` the group it adds to.
   */
  readonly parts: readonly {
    readonly param: string;
    readonly axis: number;
    readonly index: Int32Array;
    readonly segment: Int32Array;
  }[];
}

/** Resolves a group source on a network. Throws EMPTY_SELECTION when no group results. */
export function planGroups(net: Network, source: GroupSource, what: string): GroupPlan {
  const ids: string[] = [];
  const nodes: string[] = [];
  const sizes: number[] = [];
  const parts = new Map<string, { param: string; axis: number; index: number[]; segment: number[] }>();
  const add = (param: string, axis: number, indices: readonly number[], group: number) => {
    const key = `${param}\u0000${axis}`;
    let part = parts.get(key);
    if (!part) {
      part = { param, axis, index: [], segment: [] };
      parts.set(key, part);
    }
    for (const i of indices) {
      part.index.push(i);
      part.segment.push(group);
    }
  };
  const shapeOf = (param: string) => net.paramInfo.get(param)!.shape;
  const entriesPerIndex = (param: string, axis: number) => {
    const shape = shapeOf(param);
    return shape.reduce((a, b) => a * b, 1) / shape[axis]!;
  };

  if (source.from === 'axis') {
    for (const param of requireParams(net, source.params, what)) {
      const shape = shapeOf(param);
      if (source.axis >= shape.length) {
        throw new ObjectiveError(
          'SHAPE_MISMATCH',
          `${what}: axis ${source.axis} does not exist on '${param}' of shape [${shape}]`,
        );
      }
      const per = entriesPerIndex(param, source.axis);
      const node = net.paramInfo.get(param)!.node;
      for (let i = 0; i < shape[source.axis]!; i++) {
        add(param, source.axis, [i], ids.length);
        ids.push(`${param}:${source.axis}:${i}`);
        nodes.push(node);
        sizes.push(per);
      }
    }
  } else {
    const allowed = source.params ? new Set(requireParams(net, source.params, what)) : undefined;
    const chosen = net.groups.filter(
      (g: StructureGroup) =>
        (!source.kinds || source.kinds.includes(g.kind)) && (!source.nodes || source.nodes.includes(g.node)),
    );
    for (const g of chosen) {
      const slices = g.slices.filter(
        (s) => net.paramInfo.get(s.param)?.trainable === true && (!allowed || allowed.has(s.param)),
      );
      if (slices.length === 0) continue;
      const group = ids.length;
      let size = 0;
      for (const s of slices) {
        add(s.param, s.axis, s.indices, group);
        size += s.indices.length * entriesPerIndex(s.param, s.axis);
      }
      ids.push(g.id);
      nodes.push(g.node);
      sizes.push(size);
    }
  }
  if (ids.length === 0) {
    throw new ObjectiveError(
      'EMPTY_SELECTION',
      `${what}: the group selection ${JSON.stringify(source)} is empty`,
    );
  }
  return {
    ids,
    nodes,
    sizes,
    parts: [...parts.values()].map((p) => ({
      param: p.param,
      axis: p.axis,
      index: Int32Array.from(p.index),
      segment: Int32Array.from(p.segment),
    })),
  };
}

/**
 * √x for x ≥ 0 with gradient 0 at x = 0 (instead of ∞·0 = NaN): the
 * subgradient of a norm at a zero group is taken as 0. A custom gradient,
 * because comparisons on the tape (for a `where`) have no gradient in tfjs.
 */
export const safeSqrt: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x, save) => {
  const value = tf.sqrt(x as tf.Tensor);
  (save as tf.GradSaveFunc)([value]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const root = saved[0]!;
      const positive = tf.greater(root, 0);
      const half = tf.div(0.5, tf.where(positive, root, tf.onesLike(root)));
      return tf.mul(dy, tf.where(positive, half, tf.zerosLike(root)));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * When a part maps every index k of its axis (in order) to group `first + k`,
 * `first`; otherwise undefined. That is the layout of per-row and per-unit
 * groups, and it lets {@link groupNorms} place the per-index sums with a pad
 * instead of a gather and a segment sum — tfjs' CPU segment sum costs
 * O(groups × entries) (about 1 s for 2,880 rows into 6,090 groups), its
 * gather gradient a segment sum too.
 */
function contiguousSegments(part: GroupPlan['parts'][number], size: number): number | undefined {
  if (part.index.length !== size) return undefined;
  const first = part.segment[0]!;
  for (let k = 0; k < size; k++) {
    if (part.index[k] !== k || part.segment[k] !== first + k) return undefined;
  }
  return first;
}

/**
 * The ℓ2 norm of every group, `[groups]`. Each (parameter, axis) is reduced
 * once to per-index squared sums, then gathered and segment-summed into the
 * groups, so the cost does not grow with the number of groups × slices.
 * Parameters are read through their masks.
 */
export function groupNorms(net: Network, plan: GroupPlan): tf.Tensor1D {
  return tf.tidy(() => {
    let sq: tf.Tensor = tf.zeros([plan.ids.length]);
    for (const part of plan.parts) {
      const w = effectiveParam(net, part.param);
      const others = w.shape.map((_, i) => i).filter((i) => i !== part.axis);
      const perIndex = others.length > 0 ? tf.sum(tf.square(w), others) : tf.square(w);
      const first = contiguousSegments(part, perIndex.shape[0]!);
      sq = tf.add(
        sq,
        first !== undefined
          ? // Index k feeds group first + k: place the sums (no gather, no segment sum).
            tf.pad(perIndex, [[first, plan.ids.length - first - perIndex.shape[0]!]])
          : tf.unsortedSegmentSum(
              tf.gather(perIndex, tf.tensor1d(part.index, 'int32')),
              tf.tensor1d(part.segment, 'int32'),
              plan.ids.length,
            ),
      );
    }
    return safeSqrt(sq) as tf.Tensor1D;
  });
}
