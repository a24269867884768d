import {
  defineObjective,
  type GateSite,
  type JsonObject,
  joinPath,
  type Network,
  type Objective,
  type ParamSlice,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonFields } from './define.js';
import { ObjectiveError } from './errors.js';
import { PerNetwork } from './selector.js';

/**
 * Which gate kinds are random (Bernoulli with their keep-probability) when
 * taking the expectation; the others are held at 1 (kept).
 */
export interface RandomGates {
  readonly unit: boolean;
  readonly layer: boolean;
}

/** Dense-network totals that normalize the complexity (C = 1 for the dense network). */
export interface ComplexityReference {
  /** Trainable parameter count. */
  readonly params: number;
  /** Multiply–accumulates per sample. */
  readonly macs: number;
  /**
   * Unit/filter gates (live units). Only read when the `units` weight is > 0;
   * @default the unit gates of the network the objective first sees
   */
  readonly units?: number;
}

/** Options of {@link expectedComplexity}. */
export interface ExpectedComplexityOptions {
  /** Weight of compute vs size: C = α·E[MACs]/MACs₀ + (1 − α)·E[params]/params₀. @default 0.5 */
  readonly alpha?: number;
  /** Layer vs unit pruning pressure (see {@link expectedComplexity}). @default 0.5 */
  readonly beta?: number;
  /** `'mixture'`: (1 − β)·C_unit + β·C_layer; `'joint'`: the exact expectation with every gate random (β unused). @default 'mixture' */
  readonly mode?: 'mixture' | 'joint';
  /**
   * Weight ω of the expected number of live units/filters beside FLOPs and
   * parameters: C = (1 − ω)·[α·E[MACs]/MACs₀ + (1 − α)·E[params]/params₀] +
   * ω·E[units]/units₀. A moprune extension (the paper's cost has FLOPs and
   * parameters only, so ω = 0 is the paper): with a parameter cost a unit's
   * price is its fan-in + fan-out, which makes narrow late layers nearly free
   * and wide early layers expensive; ω > 0 adds the same price to every unit,
   * for users who count neurons (hardware with per-neuron cost, a unit budget).
   * @default 0
   */
  readonly units?: number;
  /** Totals to normalize by. @default the totals of `net` itself */
  readonly reference?: ComplexityReference;
}

interface AxisGates {
  readonly axis: number;
  /** Per site touching this axis: for each index along the axis, its gate index, or the site size (= "no gate", prob 1). */
  readonly sites: readonly {
    readonly site: GateSite;
    readonly map: Int32Array;
    /** How many indices along the axis map to each gate (and, last, to "no gate"): Σ_i p[map[i]] = Σ_k counts[k]·p[k]. */
    readonly counts: Float32Array;
  }[];
}

interface GatedParam {
  readonly name: string;
  readonly shape: readonly number[];
  readonly axes: readonly AxisGates[];
  /** MACs per kernel entry for a conv/dense kernel (NodeInfo.macs / kernel size), else 0. */
  readonly macsPerEntry: number;
}

interface ComplexityPlan {
  readonly gated: readonly GatedParam[];
  /** Parameter count and MACs of parameters no gate touches. */
  readonly constParams: number;
  readonly constMacs: number;
  readonly totals: ComplexityReference & { readonly units: number };
  /** The unit/filter gate sites (their keep-probabilities count live units). */
  readonly unitSites: readonly GateSite[];
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * What gate k of a unit site without structure groups switches. Core gives
 * no groups to channels tied to other structures — e.g. the last conv of a
 * residual branch, whose channels join the stream at the `add` — yet a
 * closed gate there still zeroes that conv's filter k (kernel column, bias)
 * and the BatchNorm entries between the conv and the gate: the paper's
 * E[params of a conv] = g·k²·(Σa)(Σb) counts b for every gated conv, so
 * these entries are counted as switched. The consumers' input slices are not:
 * the stream channel survives through the skip path.
 */
function tiedChannelSlices(net: Network, site: GateSite, k: number): ParamSlice[] {
  const byId = new Map(net.spec.nodes.map((n) => [n.id, n]));
  const slices: ParamSlice[] = [];
  const add = (param: string, axis: number) => {
    if (net.paramInfo.has(param)) slices.push({ param, axis, indices: [k] });
  };
  // Walk back from the gate to the gated node, collecting BatchNorms on the way.
  let current = byId.get(site.id)?.inputs[0];
  while (current !== undefined && current !== site.gatedNode) {
    const node = byId.get(current);
    if (!node) break;
    if (node.op === 'batchNorm') {
      add(`${node.id}/gamma`, 0);
      add(`${node.id}/beta`, 0);
    }
    current = node.inputs[0];
  }
  const kernel = net.paramInfo.get(`${site.gatedNode}/kernel`);
  if (kernel) add(kernel.name, kernel.shape.length - 1);
  add(`${site.gatedNode}/bias`, 0);
  return slices;
}

/**
 * Reads which gate switches which parameter entry from the network's
 * structure groups: a gate site's k-th group lists every slice (parameter,
 * axis, indices) that the k-th gate removes — for a unit/filter its kernel
 * column, bias, BatchNorm entries and its rows in the consumers' kernels;
 * for a block gate the whole branch. An entry is kept iff every gate whose
 * slices contain it is on; with independent gates, E[entries kept] of a
 * parameter is the product over its axes of the sum of per-index keep
 * probabilities (the paper's g·k²·(Σa)(Σb) for a conv kernel), which is
 * multilinear as long as a site touches a parameter along one axis only.
 */
function planComplexity(net: Network): ComplexityPlan {
  const groupsById = new Map(net.groups.map((g) => [g.id, g]));
  const slicesOf = (site: GateSite, k: number, groupId: string | undefined): readonly ParamSlice[] => {
    if (groupId === undefined) return tiedChannelSlices(net, site, k);
    const group = groupsById.get(groupId);
    if (!group) {
      throw new ObjectiveError(
        'UNSUPPORTED_NETWORK',
        `gate site '${site.id}' names group '${groupId}', which the network does not have`,
      );
    }
    return group.slices;
  };
  // param → axis → site id → map
  const touch = new Map<string, Map<number, Map<string, { site: GateSite; map: Int32Array }>>>();
  for (const site of net.gateSites) {
    const tied = site.kind === 'unit' && site.groups.length === 0 && site.gatedNode !== undefined;
    const count = tied ? site.size : site.groups.length;
    for (let k = 0; k < count; k++) {
      for (const slice of slicesOf(site, k, tied ? undefined : site.groups[k])) {
        const info = net.paramInfo.get(slice.param);
        if (!info?.trainable) continue;
        let axes = touch.get(slice.param);
        if (!axes) {
          axes = new Map();
          touch.set(slice.param, axes);
        }
        for (const [axis, sites] of axes) {
          if (axis !== slice.axis && sites.has(site.id)) {
            throw new ObjectiveError(
              'UNSUPPORTED_NETWORK',
              `gate site '${site.id}' switches '${slice.param}' along axes ${axis} and ${slice.axis}; ` +
                'the expected complexity is only multilinear when a site touches a parameter along one axis',
            );
          }
        }
        let sites = axes.get(slice.axis);
        if (!sites) {
          sites = new Map();
          axes.set(slice.axis, sites);
        }
        let entry = sites.get(site.id);
        if (!entry) {
          entry = { site, map: new Int32Array(info.shape[slice.axis]!).fill(site.size) };
          sites.set(site.id, entry);
        }
        for (const i of slice.indices) entry.map[i] = k;
      }
    }
  }

  const macsOfKernel = new Map<string, number>();
  let macs = 0;
  for (const node of net.nodes) {
    if (node.macs <= 0) continue;
    macs += node.macs;
    const kernel = `${node.id}/kernel`;
    const info = net.paramInfo.get(kernel);
    if (!info) {
      throw new ObjectiveError(
        'UNSUPPORTED_NETWORK',
        `node '${node.id}' (${node.op}) has ${node.macs} MACs but no '${kernel}' parameter to scale them by`,
      );
    }
    macsOfKernel.set(kernel, node.macs / numel(info.shape));
  }

  const gated: GatedParam[] = [];
  let params = 0;
  let constParams = 0;
  let constMacs = 0;
  for (const [name, info] of net.paramInfo) {
    if (!info.trainable) continue;
    const size = numel(info.shape);
    params += size;
    const macsPerEntry = macsOfKernel.get(name) ?? 0;
    const axes = touch.get(name);
    if (!axes) {
      constParams += size;
      constMacs += size * macsPerEntry;
      continue;
    }
    gated.push({
      name,
      shape: info.shape,
      macsPerEntry,
      axes: [...axes].map(([axis, sites]) => ({
        axis,
        sites: [...sites.values()].map(({ site, map }) => {
          const counts = new Float32Array(site.size + 1);
          for (const k of map) counts[k]! += 1;
          return { site, map, counts };
        }),
      })),
    });
  }
  const unitSites = net.gateSites.filter((site) => site.kind === 'unit');
  const units = unitSites.reduce((n, site) => n + site.size, 0);
  return { gated, constParams, constMacs, totals: { params, macs, units }, unitSites };
}

const plans = new PerNetwork(planComplexity);

/** The dense-network totals (trainable parameters, MACs per sample, unit gates) of `net`. */
export function complexityTotals(net: Network): ComplexityReference & { readonly units: number } {
  return plans.get(net).totals;
}

/** A site's keep-probabilities as `[size]`, checked against the site. */
function probabilitiesOf(
  site: GateSite,
  probs: Readonly<Record<string, tf.Tensor>>,
): tf.Tensor1D | undefined {
  const p = probs[site.id];
  if (!p) return undefined;
  const expected = site.kind === 'layer' ? 1 : site.size;
  if (p.size !== expected) {
    throw new ObjectiveError(
      'SHAPE_MISMATCH',
      `gate probabilities of site '${site.id}' have shape [${p.shape}], expected ${expected} value(s)`,
    );
  }
  return tf.cast(tf.reshape(p, [expected]), 'float32') as tf.Tensor1D;
}

/**
 * Expected trainable parameters and MACs per sample when the gates in
 * `random` are independent Bernoulli variables with the keep-probabilities
 * `probabilities` (by gate site id; a site without an entry, and every
 * un-gated channel, has probability 1). Exact and multilinear in the
 * probabilities.
 */
export function expectedCounts(
  net: Network,
  probabilities: Readonly<Record<string, tf.Tensor>>,
  random: RandomGates = { unit: true, layer: true },
): { params: tf.Scalar; macs: tf.Scalar } {
  const plan = plans.get(net);
  return tf.tidy(() => {
    const ext = new Map<string, tf.Tensor1D | null>();
    const extended = (site: GateSite) => {
      if (!ext.has(site.id)) {
        const isRandom = site.kind === 'layer' ? random.layer : random.unit;
        const p = isRandom ? probabilitiesOf(site, probabilities) : undefined;
        // One extra trailing 1 is the probability of indices this site does not gate.
        ext.set(site.id, p ? (tf.concat([p, tf.ones([1])]) as tf.Tensor1D) : null);
      }
      return ext.get(site.id)!;
    };
    let params: tf.Scalar = tf.scalar(plan.constParams);
    let macs: tf.Scalar = tf.scalar(plan.constMacs);
    for (const param of plan.gated) {
      let factor: tf.Scalar = tf.scalar(1);
      let constant = 1;
      const gatedAxes = new Set<number>();
      for (const { axis, sites } of param.axes) {
        const random = sites.flatMap((s) => {
          const e = extended(s.site);
          return e ? [{ ...s, e }] : [];
        });
        if (random.length === 0) continue;
        gatedAxes.add(axis);
        if (random.length === 1) {
          // One random site on this axis (the usual case): Σ_i p[map[i]] = counts · p — a dot product
          // whose gradient is the constant counts. (A gather's gradient is an unsorted segment sum,
          // which tfjs's cpu kernels run one segment at a time: ~0.3 s per step for 784 input gates.)
          const { e, counts } = random[0]!;
          factor = tf.mul(factor, tf.sum(tf.mul(e, tf.tensor1d(counts))));
          continue;
        }
        // Several sites switch the same entries: the entry is kept iff every one of them is on.
        let q: tf.Tensor1D | undefined;
        for (const { e, map } of random) {
          const g = tf.gather(e, tf.tensor1d(map, 'int32')) as tf.Tensor1D;
          q = q ? (tf.mul(q, g) as tf.Tensor1D) : g;
        }
        factor = tf.mul(factor, tf.sum(q!));
      }
      param.shape.forEach((n, axis) => {
        if (!gatedAxes.has(axis)) constant *= n;
      });
      const kept = tf.mul(factor, constant) as tf.Scalar;
      params = tf.add(params, kept);
      if (param.macsPerEntry > 0) macs = tf.add(macs, tf.mul(kept, param.macsPerEntry));
    }
    return { params, macs };
  });
}

/**
 * Expected live units/filters: the sum of the unit gates' keep-probabilities
 * (a site without an entry counts all its units as kept). Layer gates are not
 * taken into account — a unit inside a block that is switched off still
 * counts — so the units term suits unit-gated networks and `'mixture'` mode.
 */
export function expectedUnits(net: Network, probabilities: Readonly<Record<string, tf.Tensor>>): tf.Scalar {
  const plan = plans.get(net);
  return tf.tidy(() => {
    let units: tf.Scalar = tf.scalar(0);
    for (const site of plan.unitSites) {
      const p = probabilitiesOf(site, probabilities);
      units = tf.add(units, p ? tf.sum(p) : site.size);
    }
    return units;
  });
}

/**
 * The expected complexity of a gated network, normalized so the dense
 * network has C = 1 (Guenter & Sideris' reconstruction):
 * C(random) = α·E[MACs]/MACs₀ + (1 − α)·E[params]/params₀.
 *
 * How β ("layer vs unit") enters — our choice, the paper's form is unknown:
 * in `'mixture'` mode C = (1 − β)·C(unit gates random, layer gates on) +
 * β·C(layer gates random, unit gates on). So ∂C/∂(unit gate) is (1 − β)
 * times its marginal cost and ∂C/∂(layer gate) is β times the normalized
 * cost of the whole block at full width: β = 0 prunes units only, β = 1
 * layers only, and C stays multilinear with C(all kept) = 1 for every β. The
 * price is that each part ignores the other kind's gates (a unit inside a
 * nearly-off block still pays its full-width cost). `'joint'` is the exact
 * expectation with all gates random (β unused), for when that interplay matters.
 *
 * With `units` = ω > 0 the unit part (and the joint expectation) becomes
 * (1 − ω)·C + ω·E[units]/units₀ (see {@link ExpectedComplexityOptions.units});
 * the layer part holds units at 1, so C(all kept) = 1 still.
 */
export function expectedComplexity(
  net: Network,
  probabilities: Readonly<Record<string, tf.Tensor>>,
  options: ExpectedComplexityOptions = {},
): tf.Scalar {
  const alpha = options.alpha ?? 0.5;
  const beta = options.beta ?? 0.5;
  const omega = options.units ?? 0;
  const ref = options.reference ?? complexityTotals(net);
  const units0 = ref.units ?? complexityTotals(net).units;
  if (omega > 0 && !(units0 > 0)) {
    throw new ObjectiveError('UNSUPPORTED_NETWORK', 'units > 0 needs a network with unit/filter gates');
  }
  if (alpha > 0 && !(ref.macs > 0)) {
    throw new ObjectiveError(
      'UNSUPPORTED_NETWORK',
      'alpha > 0 needs a network with MACs (a conv or dense node)',
    );
  }
  if (alpha < 1 && !(ref.params > 0)) {
    throw new ObjectiveError('UNSUPPORTED_NETWORK', 'alpha < 1 needs a network with trainable parameters');
  }
  return tf.tidy(() => {
    const normalized = (random: RandomGates): tf.Scalar => {
      const { params, macs } = expectedCounts(net, probabilities, random);
      const m = alpha > 0 ? tf.mul(macs, alpha / ref.macs) : tf.scalar(0);
      const p = alpha < 1 ? tf.mul(params, (1 - alpha) / ref.params) : tf.scalar(0);
      const c: tf.Scalar = tf.add(m, p);
      if (omega === 0) return c;
      const u = random.unit ? tf.div(expectedUnits(net, probabilities), units0) : tf.scalar(1);
      return tf.add(tf.mul(c, 1 - omega), tf.mul(u, omega));
    };
    if ((options.mode ?? 'mixture') === 'joint') return normalized({ unit: true, layer: true });
    const unit = tf.mul(normalized({ unit: true, layer: false }), 1 - beta);
    return tf.add(unit, tf.mul(normalized({ unit: false, layer: true }), beta));
  });
}

interface ComplexityConfig {
  readonly name: string;
  readonly alpha: number;
  readonly beta: number;
  readonly mode: 'mixture' | 'joint';
  readonly units: number;
  readonly coefficient: number;
  readonly reference: ComplexityReference | undefined;
}

/**
 * The objective remembers the totals of the first network it sees (the
 * dense one, before any physical removal) unless `reference` is configured,
 * so compaction does not reset the scale mid-run. A run resumed from a
 * compacted checkpoint must configure `reference` to keep the same scale.
 */
function complexityObjective(o: ComplexityConfig, config: JsonObject): Objective {
  let reference: ComplexityReference | undefined;
  return {
    name: o.name,
    config,
    value(ctx) {
      // Totals not configured come from the first network seen (units₀ too).
      reference ??= { ...complexityTotals(ctx.net), ...o.reference };
      const options = { alpha: o.alpha, beta: o.beta, mode: o.mode, units: o.units, reference };
      return tf.tidy(() =>
        tf.mul(expectedComplexity(ctx.net, ctx.gateProbabilities, options), o.coefficient),
      );
    },
  };
}

/** `{ type: 'expectedComplexity', alpha?, beta?, mode?, units?, coefficient?, reference?: { params, macs, units? }, name? }`. */
export const expectedComplexityDefinition = defineObjective({
  name: 'expectedComplexity',
  description: 'expected normalized FLOPs/params of a network with Bernoulli unit and layer gates',
  configSchema: s
    .object({
      alpha: s.number({ min: 0, max: 1 }).optional(),
      beta: s.number({ min: 0, max: 1 }).optional(),
      mode: s.oneOf(['mixture', 'joint'] as const).optional(),
      units: s.number({ min: 0, max: 1 }).optional(),
      coefficient: s.number({ min: 0 }).optional(),
      reference: s
        .object({
          params: s.number({ gt: 0 }),
          macs: s.number({ gt: 0 }),
          units: s.number({ gt: 0 }).optional(),
        })
        .optional(),
      ...commonFields,
    })
    .refine((c, path) =>
      c.mode === 'joint' && c.beta !== undefined
        ? [{ path: joinPath(path, 'beta'), message: "is not used when mode is 'joint'" }]
        : undefined,
    ),
  create: (c) =>
    complexityObjective(
      {
        alpha: c.alpha ?? 0.5,
        beta: c.beta ?? 0.5,
        mode: c.mode ?? 'mixture',
        units: c.units ?? 0,
        reference: c.reference,
        coefficient: c.coefficient ?? 1,
        name: c.name ?? 'expectedComplexity',
      },
      c,
    ),
});
