import type { Network, NodeInfo } from '../network-types.js';
import type { NetworkSpec } from '../spec.js';
import { type CompactGates, compactValues, foldGates, groupIsZero, layerIsDead } from './compact.js';
import { checkedAnalysis } from './create.js';
import { countNonzero, effectiveValues } from './host.js';
import { deriveStructure } from './structure.js';

/** Non-zero and total entry counts. */
export interface NonzeroCount {
  readonly nonzero: number;
  readonly total: number;
}

/** Live and total counts of structures. */
export interface LiveCount {
  readonly live: number;
  readonly total: number;
}

/** Parameter and MAC counts (per sample) of a network. */
export interface Complexity {
  readonly params: number;
  readonly macs: number;
}

/**
 * Complexity figures of a network, as a plain (JSON-serializable) object.
 *
 * Counting rule (the same everywhere in moprune): parameters are the
 * trainable entries (kernels, biases, BatchNorm gamma/beta, mix alpha; not
 * BatchNorm moving statistics); MACs are per sample, dense = in·out and
 * conv = outH·outW·kh·kw·inC·outC, with bias, BatchNorm, activations,
 * pooling and adds counted as 0. Values are the effective ones (parameter ⊙
 * mask).
 */
export interface NetworkMetrics {
  /** Per trainable parameter. */
  readonly params: Readonly<Record<string, NonzeroCount>>;
  /** Per node with trainable parameters: its entries summed. */
  readonly nodes: Readonly<Record<string, NonzeroCount>>;
  /**
   * Per prunable dense/conv node: units/filters whose structure group is not
   * entirely zero (a unit is live unless its whole group is zero/masked).
   */
  readonly units: Readonly<Record<string, LiveCount>>;
  /** Layer groups (gated residual blocks) that are not dead. */
  readonly layers: LiveCount;
  /** The architecture as built, every entry counted. */
  readonly dense: Complexity;
  /**
   * Non-zero entries, and the MACs they cost: a non-zero dense weight costs 1
   * MAC per sample, a non-zero conv weight outH·outW.
   */
  readonly nonzero: Complexity;
  /** The architecture {@link compact} would produce (structures removed, remaining entries all counted). */
  readonly compacted: Complexity;
}

/** Options of {@link networkMetrics}. */
export interface NetworkMetricsOptions {
  /**
   * Gate values in [0, 1], as in {@link compact}: closed (0) gates count their
   * structures as dead in `units`, `layers` and `compacted`; fractional ones
   * count as open (`params`,
   * `nodes` and `nonzero` count the parameters ⊙ masks only).
   * @default no gates
   */
  readonly gates?: CompactGates;
}

/** Total trainable parameters and MACs of a spec's nodes. */
function totals(infos: readonly NodeInfo[]): Complexity {
  let params = 0;
  let macs = 0;
  for (const n of infos) {
    params += n.params;
    macs += n.macs;
  }
  return { params, macs };
}

/** Trainable parameter count of a spec (validated; throws `INVALID_SPEC`). */
export function countParams(spec: NetworkSpec): number {
  return totals(checkedAnalysis(spec).infos).params;
}

/** Per-sample multiply–accumulates of a spec (counting rule in {@link NetworkMetrics}). */
export function countMacs(spec: NetworkSpec): number {
  return totals(checkedAnalysis(spec).infos).macs;
}

/**
 * How many multiply–accumulates one non-zero kernel weight of a node costs per
 * sample: once per output position (conv: outH·outW; dense and attention
 * projections on a sequence: T; plain dense: 1); an embedding table is a
 * lookup (0).
 */
function positionsPerWeight(op: string, node: NodeInfo): number {
  const out = node.outputShape;
  if (op === 'conv2d') return out[0]! * out[1]!;
  if (op === 'embedding') return 0;
  return out.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** Complexity figures of `net` in its current (masked) state. Reads every parameter to the host. */
export function networkMetrics(net: Network, options: NetworkMetricsOptions = {}): NetworkMetrics {
  const values = effectiveValues(net);
  const params: Record<string, NonzeroCount> = {};
  const nodes: Record<string, NonzeroCount> = {};
  let nzParams = 0;
  let nzMacs = 0;
  const infoById = new Map(net.nodes.map((n) => [n.id, n]));
  for (const [name, info] of net.paramInfo) {
    if (!info.trainable) continue;
    const t = values.get(name)!;
    const nonzero = countNonzero(t.data);
    params[name] = { nonzero, total: t.data.length };
    const prev = nodes[info.node] ?? { nonzero: 0, total: 0 };
    nodes[info.node] = { nonzero: prev.nonzero + nonzero, total: prev.total + t.data.length };
    nzParams += nonzero;
    if (info.role === 'kernel') nzMacs += nonzero * positionsPerWeight(info.op, infoById.get(info.node)!);
  }
  const structure = deriveStructure(net.spec, net.nodes);
  const closedBlocks = foldGates(net.spec, structure, values, options.gates ?? {});
  const units: Record<string, LiveCount> = {};
  let liveLayers = 0;
  let layerTotal = 0;
  for (const g of structure.groups) {
    if (g.kind === 'layer') {
      layerTotal++;
      if (!closedBlocks.has(g.node) && !layerIsDead(g, net.spec, structure, values)) liveLayers++;
      continue;
    }
    const prev = units[g.node] ?? { live: 0, total: 0 };
    units[g.node] = { live: prev.live + (groupIsZero(g, values) ? 0 : 1), total: prev.total + 1 };
  }
  const planned = compactValues(net.spec, values, new Map(), options.gates);
  return {
    params,
    nodes,
    units,
    layers: { live: liveLayers, total: layerTotal },
    dense: totals(net.nodes),
    nonzero: { params: nzParams, macs: nzMacs },
    compacted: totals(checkedAnalysis(planned.spec).infos),
  };
}
