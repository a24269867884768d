import type { GateSite, NodeInfo, ParamSlice, StructureGroup } from '../network-types.js';
import type { NetworkSpec, NodeSpec } from '../spec.js';
import { nodeParams } from './params.js';
import { INPUT_ID } from './validate.js';

/**
 * Where one output channel of a prunable node lives in a downstream tensor:
 * the entries `p·stride + c` for `p < repeat` (a flatten of `[H, W, C]` spreads
 * channel c over `H·W` positions with stride C; otherwise repeat = 1).
 */
export interface ChannelLayout {
  readonly repeat: number;
  readonly stride: number;
}

/** Everything a unit/filter of one prunable node (or an input feature) touches. */
export interface ChannelFlow {
  /** The dense/conv node whose output channels these are; for input features, their source (see `input`). */
  readonly node: string;
  /**
   * True for the network's input features: `node` is the input itself (a flat input), the flatten
   * that reads it, or the `select` compaction put after either. Such a flow exists only when a gate
   * owns the features (input-feature gates); its groups have kind `input`.
   */
  readonly input?: boolean;
  readonly channels: number;
  /** BatchNorm nodes on the way, with the channel layout at each. */
  readonly batchNorms: readonly (ChannelLayout & { readonly node: string })[];
  /** Consuming dense (kernel axis 0) and conv (kernel axis 2) nodes. */
  readonly consumers: readonly (ChannelLayout & { readonly node: string; readonly axis: number })[];
  /** The gate node every path from `node` passes through (first one on a fan-out-free chain), if any. */
  readonly gate?: string;
}

/** Structure groups and gate sites of a spec, plus the channel flows they came from. */
export interface Structure {
  readonly groups: StructureGroup[];
  readonly gateSites: GateSite[];
  /** Prunable nodes by id. */
  readonly flows: ReadonlyMap<string, ChannelFlow>;
  /** For each gated add: the nodes that exist only to feed its branch (removed with the block). */
  readonly branches: ReadonlyMap<string, readonly string[]>;
}

/** Ops that act on each channel separately and keep the channel axis last. */
const PER_CHANNEL = new Set(['batchNorm', 'gate', 'dropout', 'maxPool', 'avgPool', 'globalAvgPool']);
/** Activations that act per element (softmax/logSoftmax couple the channels). */
const ELEMENTWISE = new Set(['relu', 'elu', 'tanh', 'sigmoid', 'linear']);

/** True when the op maps an all-zero channel to an all-zero channel. */
export function preservesZero(node: NodeSpec): boolean {
  if (node.op === 'activation') return ['relu', 'elu', 'tanh', 'linear'].includes(node.fn);
  return ['gate', 'dropout', 'maxPool', 'avgPool', 'globalAvgPool', 'flatten'].includes(node.op);
}

/** Consumers of every node (and of the input), in spec order. */
export function consumersOf(spec: NetworkSpec): Map<string, NodeSpec[]> {
  const out = new Map<string, NodeSpec[]>([[INPUT_ID, []]]);
  for (const n of spec.nodes) out.set(n.id, []);
  for (const n of spec.nodes) for (const i of new Set(n.inputs)) out.get(i)!.push(n);
  return out;
}

/** True when the op passes each channel through on its own (so a channel can be followed through it). */
export function isChannelwise(node: NodeSpec): boolean {
  return PER_CHANNEL.has(node.op) || (node.op === 'activation' && ELEMENTWISE.has(node.fn));
}

/**
 * Follows the output channels of dense/conv node `start` to the dense/conv
 * nodes that consume them. Returns undefined when they cannot be removed on
 * their own: they reach a network output, a softmax, an `add`, a `mix` or a
 * `padShortcut`. Those channels are tied to other nodes' channels; grouping
 * tied channels across residual streams is left out on purpose (see
 * {@link deriveStructure}).
 */
function followChannels(
  startId: string,
  channels: number,
  shapes: ReadonlyMap<string, readonly number[]>,
  consumers: ReadonlyMap<string, NodeSpec[]>,
  outputs: ReadonlySet<string>,
): ChannelFlow | undefined {
  const batchNorms: (ChannelLayout & { node: string })[] = [];
  const cons: (ChannelLayout & { node: string; axis: number })[] = [];
  let gate: string | undefined;
  let chain = true;
  const visit = (id: string, layout: ChannelLayout): boolean => {
    if (outputs.has(id)) return false;
    const next = consumers.get(id)!;
    if (next.length !== 1) chain = false;
    for (const n of next) {
      if (n.op === 'dense' || n.op === 'conv2d') {
        cons.push({ node: n.id, axis: n.op === 'dense' ? 0 : 2, ...layout });
        continue;
      }
      let nextLayout = layout;
      if (n.op === 'flatten') {
        // Flattening [H, W, C] or [T, C] spreads channel c over every position, with stride C.
        const s = shapes.get(id)!;
        if (s.length >= 2) {
          nextLayout = { repeat: s.slice(0, -1).reduce((a, b) => a * b, 1), stride: s[s.length - 1]! };
        }
      } else if (!isChannelwise(n)) {
        return false;
      }
      if (n.op === 'batchNorm') batchNorms.push({ node: n.id, ...layout });
      // A gate owns the groups only if a closed gate makes the channel's
      // contribution to every consumer exactly zero: it must lie on every path
      // (no fan-out before it), gate channels (not flattened positions), and
      // everything after it must map 0 to 0 (not BatchNorm, not sigmoid).
      if (n.op === 'gate' && chain && gate === undefined && layout.repeat === 1) gate = n.id;
      else if (gate !== undefined && !preservesZero(n)) gate = undefined;
      if (!visit(n.id, nextLayout)) return false;
    }
    return true;
  };
  if (!visit(startId, { repeat: 1, stride: channels })) return undefined;
  return { node: startId, channels, batchNorms, consumers: cons, ...(gate === undefined ? {} : { gate }) };
}

/**
 * The node whose output is the input features as a vector: the input itself when it is flat, else a
 * `flatten` that is its only reader — and the `select` after either when compaction put one there.
 */
function featureSource(spec: NetworkSpec, consumers: ReadonlyMap<string, NodeSpec[]>): string | undefined {
  let id = INPUT_ID;
  if (spec.inputShape.length !== 1) {
    const next = consumers.get(INPUT_ID)!;
    if (next.length !== 1 || next[0]!.op !== 'flatten') return undefined;
    id = next[0]!.id;
  }
  const next = consumers.get(id)!;
  return next.length === 1 && next[0]!.op === 'select' ? next[0]!.id : id;
}

/** Entries `p·stride + c` of channel c. */
export function layoutIndices(layout: ChannelLayout, c: number): number[] {
  const out: number[] = new Array(layout.repeat);
  for (let p = 0; p < layout.repeat; p++) out[p] = p * layout.stride + c;
  return out;
}

/** Ancestors of `ids` (inclusive), skipping the edge `cut` = [node, input position]. */
function ancestors(spec: NetworkSpec, ids: readonly string[], cut?: readonly [string, number]): Set<string> {
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id) || id === INPUT_ID) continue;
    seen.add(id);
    const node = byId.get(id)!;
    node.inputs.forEach((inp, k) => {
      if (cut && cut[0] === id && cut[1] === k) return;
      stack.push(inp);
    });
  }
  return seen;
}

/**
 * Derives structure groups and gate sites from the graph.
 *
 * - Unit/filter groups: for every dense/conv node whose output channels can be
 *   followed through per-channel ops (BatchNorm, element-wise activations,
 *   gates, dropout, pooling, flatten) to consuming dense/conv nodes, one group
 *   per channel with its kernel column (last axis), bias entry, the BatchNorm
 *   `gamma`/`beta` entries on the way (a flattened conv channel c is the rows
 *   `p·C + c`), and its input slice in each consumer's kernel (axis 0 of a
 *   dense kernel, axis 2 of a conv kernel). Groups list trainable entries only;
 *   compaction slices BatchNorm moving statistics together with `gamma`.
 * - Channels that reach an `add`, a `mix`, a `padShortcut`, a softmax or a
 *   network output are tied to other structures (residual streams, task
 *   mixes, class scores) and get no groups. So in a ResNet the first conv of
 *   each block is prunable and the stream width is not.
 * - Layer groups: each gated `add` yields one `layer` group with every
 *   parameter of the nodes that only feed its branch.
 * - Gate sites, in spec order: every `gate` node (kind `unit`, size = its
 *   channel count, `gatedNode` = the dense/conv reached backwards through
 *   per-channel ops; its groups when the gate lies on every path of that
 *   node's channels), and every gated `add` (kind `layer`, size 1).
 */
export function deriveStructure(spec: NetworkSpec, infos: readonly NodeInfo[]): Structure {
  const shapes = new Map<string, readonly number[]>([[INPUT_ID, spec.inputShape]]);
  for (const info of infos) shapes.set(info.id, info.outputShape);
  const consumers = consumersOf(spec);
  const outputs = new Set(spec.outputs);
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const flows = new Map<string, ChannelFlow>();
  const groups: StructureGroup[] = [];
  const groupsOfNode = new Map<string, string[]>();
  const hasBias = (n: NodeSpec) => (n as { useBias?: boolean }).useBias !== false;

  for (const node of spec.nodes) {
    if (node.op !== 'dense' && node.op !== 'conv2d') continue;
    const width = node.op === 'dense' ? node.units : node.filters;
    const flow = followChannels(node.id, width, shapes, consumers, outputs);
    if (!flow) continue;
    flows.set(node.id, flow);
    const kind = node.op === 'dense' ? 'unit' : 'filter';
    const kernelAxis = node.op === 'dense' ? 1 : 3;
    const ids: string[] = [];
    for (let c = 0; c < flow.channels; c++) {
      const slices: ParamSlice[] = [{ param: `${node.id}/kernel`, axis: kernelAxis, indices: [c] }];
      if (hasBias(node)) slices.push({ param: `${node.id}/bias`, axis: 0, indices: [c] });
      for (const bn of flow.batchNorms) {
        const indices = layoutIndices(bn, c);
        slices.push(
          { param: `${bn.node}/gamma`, axis: 0, indices },
          { param: `${bn.node}/beta`, axis: 0, indices },
        );
      }
      for (const k of flow.consumers) {
        slices.push({ param: `${k.node}/kernel`, axis: k.axis, indices: layoutIndices(k, c) });
      }
      const id = `${node.id}:${kind}:${c}`;
      ids.push(id);
      groups.push({
        id,
        kind,
        node: node.id,
        index: c,
        ...(flow.gate === undefined ? {} : { gateSite: flow.gate }),
        slices,
      });
    }
    groupsOfNode.set(node.id, ids);
  }

  // Input features get groups only when a gate owns them (input-feature gates): every other
  // network keeps the structure it had.
  const source = featureSource(spec, consumers);
  const sourceShape = source === undefined ? undefined : shapes.get(source);
  const inputFlow =
    source === undefined || sourceShape?.length !== 1
      ? undefined
      : followChannels(source, sourceShape[0]!, shapes, consumers, outputs);
  if (source !== undefined && inputFlow?.gate !== undefined) {
    flows.set(source, { ...inputFlow, input: true });
    const ids: string[] = [];
    for (let c = 0; c < inputFlow.channels; c++) {
      const slices: ParamSlice[] = [];
      for (const bn of inputFlow.batchNorms) {
        const indices = layoutIndices(bn, c);
        slices.push(
          { param: `${bn.node}/gamma`, axis: 0, indices },
          { param: `${bn.node}/beta`, axis: 0, indices },
        );
      }
      for (const k of inputFlow.consumers) {
        slices.push({ param: `${k.node}/kernel`, axis: k.axis, indices: layoutIndices(k, c) });
      }
      const id = `${source}:input:${c}`;
      ids.push(id);
      groups.push({ id, kind: 'input', node: source, index: c, gateSite: inputFlow.gate, slices });
    }
    groupsOfNode.set(source, ids);
  }

  const branches = new Map<string, string[]>();
  const gateSites: GateSite[] = [];
  for (const node of spec.nodes) {
    if (node.op === 'gate') {
      let src = byId.get(node.inputs[0]!);
      while (src && src.op !== 'dense' && src.op !== 'conv2d' && isChannelwise(src))
        src = byId.get(src.inputs[0]!);
      const gated = src && (src.op === 'dense' || src.op === 'conv2d') ? src.id : undefined;
      const shape = shapes.get(node.id)!;
      const owned =
        gated !== undefined && flows.get(gated)?.gate === node.id
          ? groupsOfNode.get(gated)!
          : source !== undefined && flows.get(source)?.input && flows.get(source)?.gate === node.id
            ? groupsOfNode.get(source)!
            : [];
      gateSites.push({
        id: node.id,
        kind: 'unit',
        size: shape[shape.length - 1]!,
        ...(gated === undefined ? {} : { gatedNode: gated }),
        groups: owned,
      });
    } else if (node.op === 'add' && node.gated === true) {
      const live = ancestors(spec, spec.outputs, [node.id, 1]);
      const branch = spec.nodes.filter((n) => !live.has(n.id)).map((n) => n.id);
      branches.set(node.id, branch);
      const slices: ParamSlice[] = [];
      for (const id of branch) {
        const i = spec.nodes.findIndex((n) => n.id === id);
        for (const p of nodeParams(spec.nodes[i]!, infos[i]!.inputShapes)) {
          if (!p.trainable) continue;
          slices.push({ param: p.name, axis: 0, indices: Array.from({ length: p.shape[0]! }, (_, k) => k) });
        }
      }
      const id = `${node.id}:layer`;
      groups.push({ id, kind: 'layer', node: node.id, index: 0, gateSite: node.id, slices });
      gateSites.push({ id: node.id, kind: 'layer', size: 1, groups: [id] });
    }
  }
  return { groups, gateSites, flows, branches };
}
