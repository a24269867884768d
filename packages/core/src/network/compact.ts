import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { Network, StructureGroup } from '../network-types.js';
import type { NetworkSpec, NodeSpec } from '../spec.js';
import { checkedAnalysis, networkFromValues } from './create.js';
import { allZeroAt, effectiveValues, type HostTensor, hostMasks, scaleAt, take, zeroAt } from './host.js';
import { nodeParams } from './params.js';
import {
  consumersOf,
  deriveStructure,
  isChannelwise,
  layoutIndices,
  preservesZero,
  type Structure,
} from './structure.js';
import { INPUT_ID } from './validate.js';

/** Gate values for compaction: one value in [0, 1] per gate of the site (a number for layer sites). */
export type CompactGates = Readonly<Record<string, tf.Tensor | readonly number[] | number>>;

/** Options of {@link compact}. */
export interface CompactOptions {
  /**
   * Deterministic gate values in [0, 1] by gate site id (e.g. a pruner's
   * `θ > ½` decisions, or a hard-concrete gate's evaluation value). A unit
   * whose gate is 0 is removed; a block whose layer gate is 0 becomes its skip
   * path. A value strictly between 0 and 1 is folded into the parameters: into
   * the consumers' input rows of the unit (or, for a gate without a structure
   * group and for a layer gate, into the BatchNorm or dense/conv that produces
   * the channel or the block's branch). That is exact only through ops with
   * f(v·x) = v·f(x) for v > 0 (ReLU, linear, dropout, pooling, flatten, select);
   * anything else on the way is refused with `INVALID_ARGUMENT`. The compacted
   * network applied without gates equals the original applied with these gates.
   * @default no gates (every site open)
   */
  readonly gates?: CompactGates;
}

/** Host-side result of planning a compaction. */
export interface CompactedValues {
  readonly spec: NetworkSpec;
  readonly values: Map<string, HostTensor>;
  readonly masks: Map<string, HostTensor>;
  /** Per kept parameter, the takes that made its new value from the old one (applied in order; absent: unchanged). */
  readonly takes: ReadonlyMap<string, readonly AxisTake[]>;
}

/**
 * One slicing step of a parameter: keep `indices` (ascending) along `axis`. A list of them,
 * applied in order, maps a parameter of a network to its value after {@link compact}.
 */
export interface AxisTake {
  readonly axis: number;
  readonly indices: readonly number[];
}

/** The shape `shape` has after the takes, applied in order. */
export function takenShape(shape: readonly number[], takes: readonly AxisTake[]): number[] {
  const out = [...shape];
  for (const t of takes) out[t.axis] = t.indices.length;
  return out;
}

/**
 * `x` sliced by the takes, applied in order (inside the caller's tidy) — how per-entry state that
 * follows a parameter (optimizer moments, weight averages) is carried over a physical removal.
 */
export function takeAlong(x: tf.Tensor, takes: readonly AxisTake[]): tf.Tensor {
  let out = x;
  for (const t of takes) out = tf.gather(out, tf.tensor1d([...t.indices], 'int32'), t.axis);
  return out;
}

/** Networks made by {@link compact}, with the takes that made each parameter. */
const compactions = new WeakMap<Network, ReadonlyMap<string, readonly AxisTake[]>>();

/**
 * For a network returned by {@link compact}: per parameter name, the takes that made its value
 * from the same-named parameter of the network it was compacted from (an empty list: unchanged) —
 * what carries per-entry state (optimizer moments) over a physical removal. Undefined for any
 * other network.
 */
export function compactionTakes(net: Network): ReadonlyMap<string, readonly AxisTake[]> | undefined {
  return compactions.get(net);
}

/** True when every slice of the group is zero in `values`. */
export function groupIsZero(group: StructureGroup, values: ReadonlyMap<string, HostTensor>): boolean {
  return group.slices.every((s) => allZeroAt(values.get(s.param)!, s.axis, s.indices));
}

/**
 * True when the output of `id` is exactly zero for every input, given that all
 * parameters of `inside` are zero: parameterized nodes then output zero, and
 * zero survives ops with f(0) = 0 (not sigmoid, softmax, logSoftmax).
 */
function outputIsZero(id: string, byId: ReadonlyMap<string, NodeSpec>, inside: ReadonlySet<string>): boolean {
  if (id === INPUT_ID || !inside.has(id)) return false;
  const node = byId.get(id)!;
  switch (node.op) {
    case 'dense':
    case 'conv2d':
    case 'batchNorm':
    case 'mix':
      return true;
    case 'add':
      return node.inputs.every((i) => outputIsZero(i, byId, inside));
    default:
      return preservesZero(node) && outputIsZero(node.inputs[0]!, byId, inside);
  }
}

/**
 * True when a layer group is dead: all its parameters are zero and its branch
 * then outputs exactly zero, so the block equals its skip path.
 */
export function layerIsDead(
  group: StructureGroup,
  spec: NetworkSpec,
  structure: Structure,
  values: ReadonlyMap<string, HostTensor>,
): boolean {
  if (!groupIsZero(group, values)) return false;
  const add = spec.nodes.find((n) => n.id === group.node)!;
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  return outputIsZero(add.inputs[1]!, byId, new Set(structure.branches.get(group.node) ?? []));
}

function gateArray(site: string, g: tf.Tensor | readonly number[] | number, size: number): Float32Array {
  const data =
    typeof g === 'number'
      ? Float32Array.of(g)
      : Array.isArray(g)
        ? Float32Array.from(g)
        : (g as tf.Tensor).dataSync();
  if (data.length !== size) {
    throw new CoreError('INVALID_ARGUMENT', `gates['${site}'] needs ${size} values, got ${data.length}`, {
      details: { site },
    });
  }
  for (const v of data) {
    if (!(v >= 0 && v <= 1)) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `gates['${site}'] must hold values in [0, 1] for compaction, got ${v}`,
        {
          details: { site },
        },
      );
    }
  }
  return Float32Array.from(data);
}

/**
 * Folds a closed unit gate (channel `c` of gate node `gateId`) into the
 * parameters: either by zeroing the whole structure group it owns, or by
 * walking back through ops with f(0) = 0 to the BatchNorm (gamma, beta) or
 * dense/conv (kernel column, bias) that produces the channel and zeroing it
 * there. Exact only when nothing else reads the channel on the way.
 */
function foldClosedGate(
  gateId: string,
  c: number,
  spec: NetworkSpec,
  structure: Structure,
  values: Map<string, HostTensor>,
): void {
  const site = structure.gateSites.find((s) => s.id === gateId)!;
  const gid = site.groups[c];
  if (gid !== undefined) {
    const group = structure.groups.find((g) => g.id === gid)!;
    for (const s of group.slices) zeroAt(values.get(s.param)!, s.axis, s.indices);
    return;
  }
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const consumers = consumersOf(spec);
  const fail = (why: string) =>
    new CoreError('INVALID_ARGUMENT', `cannot fold closed gate ${c} of site '${gateId}': ${why}`, {
      details: { site: gateId, index: c },
    });
  let node = byId.get(byId.get(gateId)!.inputs[0]!);
  for (;;) {
    if (!node) throw fail('the channel comes straight from the network input');
    if (consumers.get(node.id)!.length !== 1) throw fail(`'${node.id}' also feeds other nodes`);
    if (node.op === 'batchNorm') {
      zeroAt(values.get(`${node.id}/gamma`)!, 0, [c]);
      zeroAt(values.get(`${node.id}/beta`)!, 0, [c]);
      return;
    }
    if (node.op === 'dense' || node.op === 'conv2d') {
      const k = values.get(`${node.id}/kernel`)!;
      zeroAt(k, k.shape.length - 1, [c]);
      const b = values.get(`${node.id}/bias`);
      if (b) zeroAt(b, 0, [c]);
      return;
    }
    if (!isChannelwise(node) || !preservesZero(node))
      throw fail(`'${node.id}' (${node.op}) does not map zero to zero per channel`);
    node = byId.get(node.inputs[0]!);
  }
}

/** Ops through which a per-channel factor v > 0 passes unchanged: f(v·x) = v·f(x). */
function isHomogeneous(node: NodeSpec): boolean {
  if (node.op === 'activation') return node.fn === 'relu' || node.fn === 'linear';
  return ['gate', 'dropout', 'maxPool', 'avgPool', 'globalAvgPool', 'flatten', 'select'].includes(node.op);
}

/**
 * Folds a factor `v` ∈ (0, 1) that multiplies the output channel `c` of `startId` (the input of a gate node, or
 * the branch input of a gated add when `c` is undefined: every channel) into the parameters that
 * produce it: walking back through ops with f(v·x) = v·f(x) to a BatchNorm (gamma, beta) or a
 * dense/conv (kernel column, bias). Exact only when nothing else reads the channel on the way.
 */
function scaleProducer(
  startId: string,
  c: number | undefined,
  v: number,
  spec: NetworkSpec,
  values: Map<string, HostTensor>,
  what: string,
): void {
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const consumers = consumersOf(spec);
  const fail = (why: string) =>
    new CoreError('INVALID_ARGUMENT', `cannot fold the fractional gate value ${v} of ${what}: ${why}`, {
      details: { site: startId, ...(c === undefined ? {} : { index: c }) },
    });
  const at = (t: HostTensor, axis: number) =>
    c === undefined
      ? scaleAt(
          t,
          axis,
          Array.from({ length: t.shape[axis]! }, (_, i) => i),
          v,
        )
      : scaleAt(t, axis, [c], v);
  let node = byId.get(startId);
  for (;;) {
    if (!node) throw fail('the channel comes straight from the network input');
    if (consumers.get(node.id)!.length !== 1) throw fail(`'${node.id}' also feeds other nodes`);
    if (node.op === 'batchNorm') {
      at(values.get(`${node.id}/gamma`)!, 0);
      at(values.get(`${node.id}/beta`)!, 0);
      return;
    }
    if (node.op === 'dense' || node.op === 'conv2d') {
      const k = values.get(`${node.id}/kernel`)!;
      at(k, k.shape.length - 1);
      const b = values.get(`${node.id}/bias`);
      if (b) at(b, 0);
      return;
    }
    if (!isHomogeneous(node)) throw fail(`'${node.id}' (${node.op}) does not commute with a positive factor`);
    node = byId.get(node.inputs[0]!);
  }
}

/** What folding fractional unit gates reads of the spec, computed once per {@link foldGates}. */
interface FractionalFold {
  readonly consumers: ReturnType<typeof consumersOf>;
  /** `param|axis` of every dense/conv kernel's input axis. */
  readonly inputAxis: ReadonlySet<string>;
  readonly groups: ReadonlyMap<string, Structure['groups'][number]>;
  /** Per gated node: whether every path from it to the next dense/conv commutes with a positive factor. */
  readonly forward: Map<string, boolean>;
}

function fractionalFold(spec: NetworkSpec, structure: Structure): FractionalFold {
  return {
    consumers: consumersOf(spec),
    inputAxis: new Set(
      spec.nodes.flatMap((n) =>
        n.op === 'dense' ? [`${n.id}/kernel|0`] : n.op === 'conv2d' ? [`${n.id}/kernel|2`] : [],
      ),
    ),
    groups: new Map(structure.groups.map((g) => [g.id, g])),
    forward: new Map(),
  };
}

/**
 * Folds the factor `v` ∈ (0, 1) of unit gate `c` of site `site`: into the consumers' input rows of
 * its structure group when every path from the gate to them commutes with a positive factor, else
 * into the producer (see {@link scaleProducer}).
 */
function foldFractionalGate(
  site: Structure['gateSites'][number],
  c: number,
  v: number,
  spec: NetworkSpec,
  fold: FractionalFold,
  values: Map<string, HostTensor>,
): void {
  const gid = site.groups[c];
  if (gid !== undefined) {
    const forwardOk = (id: string): boolean => {
      let ok = fold.forward.get(id);
      if (ok === undefined) {
        ok = fold.consumers
          .get(id)!
          .every((n) => n.op === 'dense' || n.op === 'conv2d' || (isHomogeneous(n) && forwardOk(n.id)));
        fold.forward.set(id, ok);
      }
      return ok;
    };
    if (forwardOk(site.id)) {
      const group = fold.groups.get(gid)!;
      // The group's slices of the consumers' input axes — not the producer's own kernel column,
      // which lies on a dense kernel's axis 1 or a conv kernel's axis 3.
      for (const s of group.slices)
        if (fold.inputAxis.has(`${s.param}|${s.axis}`) && !s.param.startsWith(`${site.gatedNode}/`))
          scaleAt(values.get(s.param)!, s.axis, s.indices, v);
      return;
    }
  }
  scaleProducer(byIdInput(spec, site.id), c, v, spec, values, `gate ${c} of site '${site.id}'`);
}

/** The input node id of node `id`. */
function byIdInput(spec: NetworkSpec, id: string): string {
  return spec.nodes.find((n) => n.id === id)!.inputs[0]!;
}

/**
 * Folds gate values into host parameter copies (in place): closed unit
 * gates are zeroed into the parameters (see foldClosedGate), fractional ones
 * scaled into them (see foldFractionalGate; a fractional layer gate into its
 * branch's last BatchNorm or dense/conv); returns the ids of gated adds whose
 * layer gate is closed.
 */
export function foldGates(
  spec: NetworkSpec,
  structure: Structure,
  values: Map<string, HostTensor>,
  gates: CompactGates,
): Set<string> {
  const removedAdds = new Set<string>();
  const unitGates: [string, Float32Array][] = [];
  for (const [site, g] of Object.entries(gates)) {
    const gs = structure.gateSites.find((s) => s.id === site);
    if (!gs) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `gates['${site}']: network '${spec.name}' has no such gate site`,
        {
          details: { site },
        },
      );
    }
    const v = gateArray(site, g, gs.size);
    if (gs.kind === 'unit') unitGates.push([site, v]);
    else if (v[0] === 0) removedAdds.add(site);
    else if (v[0]! < 1) {
      const add = spec.nodes.find((n) => n.id === site)!;
      scaleProducer(add.inputs[1]!, undefined, v[0]!, spec, values, `layer gate '${site}'`);
    }
  }
  const removedNodes = new Set([...removedAdds].flatMap((a) => structure.branches.get(a) ?? []));
  let fold: FractionalFold | undefined;
  for (const [site, v] of unitGates) {
    if (removedNodes.has(site)) continue;
    const gs = structure.gateSites.find((s) => s.id === site)!;
    v.forEach((x, c) => {
      if (x === 0) foldClosedGate(site, c, spec, structure, values);
      else if (x < 1) {
        fold ??= fractionalFold(spec, structure);
        foldFractionalGate(gs, c, x, spec, fold, values);
      }
    });
  }
  return removedAdds;
}

/**
 * Reads only the input features `keep` (indices into the output of `source`): a `select` node after
 * `source` that its readers now read — or, when `source` is such a node already, its indices narrowed.
 */
function selectFeatures(spec: NetworkSpec, source: string, keep: readonly number[]): NetworkSpec {
  const at = spec.nodes.findIndex((n) => n.id === source);
  const src = spec.nodes[at];
  if (src?.op === 'select') {
    const nodes = [...spec.nodes];
    nodes[at] = { ...src, indices: keep.map((i) => src.indices[i]!) };
    return { ...spec, nodes };
  }
  const taken = new Set(spec.nodes.map((n) => n.id));
  let id = `${source}.select`;
  for (let k = 2; taken.has(id); k++) id = `${source}.select${k}`;
  const select: NodeSpec = { id, op: 'select', inputs: [source], indices: [...keep] };
  const rewired = spec.nodes.map(
    (n) => ({ ...n, inputs: n.inputs.map((i) => (i === source ? id : i)) }) as NodeSpec,
  );
  rewired.splice(at + 1, 0, select);
  return { ...spec, nodes: rewired, outputs: spec.outputs.map((o) => (o === source ? id : o)) };
}

/** Ops whose output is non-negative wherever their (first) input is. */
const KEEPS_SIGN = new Set(['padShortcut', 'maxPool', 'avgPool', 'globalAvgPool', 'flatten', 'select']);

/**
 * Drops every ReLU whose input is already non-negative — a ReLU's output, directly or through ops
 * that keep the sign (a shortcut's subsampling and zero padding, pooling, flatten, select) — unless
 * it is an output of the network. A removed residual block leaves exactly this: the ReLU after its
 * add reads the skip path, which in a post-activation ResNet is the previous block's ReLU output.
 * relu(relu(z)) = relu(z), and the gradient relu'(relu(z))·relu'(z) = relu'(z), so the function and
 * the training step are unchanged — one pass over a full-width activation less per removed block.
 */
function dropRedundantRelus(spec: NetworkSpec): NetworkSpec {
  const outputs = new Set(spec.outputs);
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const alias = new Map<string, string>();
  const resolve = (id: string): string => alias.get(id) ?? id;
  const nonNegative = (id: string): boolean => {
    const n = byId.get(id);
    if (n === undefined) return false; // the network's input
    if (n.op === 'activation') return n.fn === 'relu';
    return KEEPS_SIGN.has(n.op) && nonNegative(resolve(n.inputs[0]!));
  };
  for (const n of spec.nodes) {
    if (n.op !== 'activation' || n.fn !== 'relu' || outputs.has(n.id)) continue;
    const input = resolve(n.inputs[0]!);
    if (nonNegative(input)) alias.set(n.id, input);
  }
  if (alias.size === 0) return spec;
  return {
    ...spec,
    nodes: spec.nodes
      .filter((n) => !alias.has(n.id))
      .map((n) => ({ ...n, inputs: n.inputs.map(resolve) }) as NodeSpec),
  };
}

/** Removes the nodes of blocks in `removedAdds` (each add becomes its skip input) and every node no output needs. */
function removeBlocks(spec: NetworkSpec, removedAdds: ReadonlySet<string>): NetworkSpec {
  if (removedAdds.size === 0) return spec;
  const alias = new Map<string, string>();
  const resolve = (id: string): string => alias.get(id) ?? id;
  for (const n of spec.nodes) if (removedAdds.has(n.id)) alias.set(n.id, resolve(n.inputs[0]!));
  const rewired = spec.nodes
    .filter((n) => !removedAdds.has(n.id))
    .map((n) => ({ ...n, inputs: n.inputs.map(resolve) }) as NodeSpec);
  const outputs = spec.outputs.map(resolve);
  const byId = new Map(rewired.map((n) => [n.id, n]));
  const needed = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === INPUT_ID || needed.has(id)) continue;
    needed.add(id);
    stack.push(...byId.get(id)!.inputs);
  }
  return { ...spec, nodes: rewired.filter((n) => needed.has(n.id)), outputs };
}

/**
 * Plans and performs a compaction on host copies of the parameters: folds
 * closed gates, removes closed or dead blocks (and ReLUs left reading a
 * non-negative input, see {@link dropRedundantRelus}), then removes every
 * unit/filter whose structure group is entirely zero. A layer keeps at least one unit
 * (its group stays zero) so that no tensor gets a zero-sized axis.
 *
 * Units are removed only when their whole group is zero — including bias and
 * BatchNorm beta. A unit with zero incoming weights but a non-zero bias
 * outputs a constant and is kept: folding that constant into the consumer's
 * bias is exact for dense consumers but not for 'same'-padded convolutions,
 * whose zero padding makes the constant's contribution position-dependent.
 */
export function compactValues(
  spec: NetworkSpec,
  values: Map<string, HostTensor>,
  masks: Map<string, HostTensor>,
  gates: CompactGates = {},
): CompactedValues {
  let structure = deriveStructure(spec, checkedAnalysis(spec).infos);
  const removedAdds = foldGates(spec, structure, values, gates);
  for (const g of structure.groups) {
    if (g.kind === 'layer' && layerIsDead(g, spec, structure, values)) removedAdds.add(g.node);
  }

  let current = dropRedundantRelus(removeBlocks(spec, removedAdds));
  if (current !== spec) {
    structure = deriveStructure(current, checkedAnalysis(current).infos);
  }

  // Per parameter, the (axis, indices) takes to apply; per node, its new width.
  const takes = new Map<string, { axis: number; indices: number[] }[]>();
  const addTake = (param: string, axis: number, indices: number[]) => {
    if (!values.has(param)) return;
    const list = takes.get(param) ?? [];
    list.push({ axis, indices });
    takes.set(param, list);
  };
  const widths = new Map<string, number>();
  const groupsByNode = new Map<string, StructureGroup[]>();
  for (const g of structure.groups) {
    if (g.kind === 'layer') continue;
    const list = groupsByNode.get(g.node) ?? [];
    list.push(g);
    groupsByNode.set(g.node, list);
  }
  let selected: { readonly source: string; readonly keep: readonly number[] } | undefined;
  for (const [nodeId, flow] of structure.flows) {
    const groups = groupsByNode.get(nodeId)!;
    const keep = groups.filter((g) => !groupIsZero(g, values)).map((g) => g.index);
    if (keep.length === 0) keep.push(0);
    if (keep.length === flow.channels) continue;
    if (flow.input) {
      // Input features: the data keeps its shape; a select node reads the kept ones.
      selected = { source: nodeId, keep };
    } else {
      widths.set(nodeId, keep.length);
      const kernel = values.get(`${nodeId}/kernel`)!;
      addTake(`${nodeId}/kernel`, kernel.shape.length - 1, keep);
      addTake(`${nodeId}/bias`, 0, keep);
    }
    const expand = (layout: { repeat: number; stride: number }) => {
      const out: number[] = [];
      for (let p = 0; p < layout.repeat; p++) for (const c of keep) out.push(layoutIndices(layout, c)[p]!);
      return out;
    };
    for (const bn of flow.batchNorms) {
      const idx = expand(bn);
      for (const role of ['gamma', 'beta', 'movingMean', 'movingVariance'])
        addTake(`${bn.node}/${role}`, 0, idx);
    }
    for (const k of flow.consumers) addTake(`${k.node}/kernel`, k.axis, expand(k));
  }

  current = {
    ...current,
    nodes: current.nodes.map((n) => {
      const w = widths.get(n.id);
      if (w === undefined) return n;
      return n.op === 'dense' ? { ...n, units: w } : { ...n, filters: w };
    }) as NodeSpec[],
  };
  if (selected !== undefined) current = selectFeatures(current, selected.source, selected.keep);
  const infos = checkedAnalysis(current).infos;
  const kept = new Set(
    current.nodes.flatMap((n, i) => nodeParams(n, infos[i]!.inputShapes).map((p) => p.name)),
  );
  const slice = (src: ReadonlyMap<string, HostTensor>) => {
    const out = new Map<string, HostTensor>();
    for (const [name, t] of src) {
      if (!kept.has(name)) continue;
      let v = t;
      for (const { axis, indices } of takes.get(name) ?? []) v = take(v, axis, indices);
      out.set(name, v);
    }
    return out;
  };
  const keptTakes = new Map<string, readonly AxisTake[]>();
  for (const name of values.keys()) if (kept.has(name)) keptTakes.set(name, takes.get(name) ?? []);
  return { spec: current, values: slice(values), masks: slice(masks), takes: keptTakes };
}

/**
 * A new, smaller network with dead units/filters, dead or gated-off
 * blocks and the ReLUs they leave redundant physically removed (see {@link compactValues} for the rules); the
 * original is left untouched. Variables start from the original's masked
 * values; masks carry over, sliced. For every input,
 * `compact(net, { gates }).apply(x)` equals `net.apply(x, { gates })` in
 * inference mode, to float tolerance.
 */
export function compact(net: Network, options: CompactOptions = {}): Network {
  const planned = compactValues(net.spec, effectiveValues(net), hostMasks(net), options.gates);
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, t] of planned.values) tensors.set(name, tf.tensor(t.data, [...t.shape], 'float32'));
  try {
    const out = networkFromValues(planned.spec, tensors);
    for (const [name, m] of planned.masks) {
      const mt = tf.tensor(m.data, [...m.shape], 'float32');
      out.setMask(name, mt);
      mt.dispose();
    }
    compactions.set(out, planned.takes);
    return out;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
