import {
  type AxisTake,
  type ComponentState,
  compact,
  compactionTakes,
  definePruner,
  type GateSite,
  type JsonObject,
  type Network,
  type Pruner,
  type PrunerStepContext,
  type PrunerStepResult,
  Rng,
  type RngState,
  type StructureGroup,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { PrunerError, throwIfIssues } from '../errors.js';

/** Config of {@link createBernoulliGatePruner}. */
export interface BernoulliGateConfig {
  readonly type: 'bernoulliGates';
  /** Which gate sites to learn: unit/filter gates, layer (block) gates, or both. @default 'all' */
  readonly sites?: 'all' | 'units' | 'layers';
  /** Initial keep-probability θ of every gate. @default 1 */
  readonly thetaInit?: number;
  /**
   * Gradient estimator for θ through the sampled ξ ~ Bern(θ). Only
   * `'straightThrough'` (Bengio et al. 2013): the forward pass uses the
   * hard sample, the backward pass treats ∂ξ/∂θ as 1 — a biased but
   * low-variance estimate of E[L | ξ=1] − E[L | ξ=0]. @default 'straightThrough'
   */
  readonly estimator?: 'straightThrough';
  /** Steps θ must stay exactly 0 before its structure is removed. @default the run's steps per epoch */
  readonly patience?: number;
  /** No removal before this step (avoids premature pruning early in training). @default the run's steps per epoch */
  readonly warmupSteps?: number;
  /**
   * Attraction region on the weights: a structure is removed only when the
   * RMS of its parameters (every slice of its group: its kernel columns,
   * normalization entries and the consumers' rows) is at most this value as
   * well as θ having sat at 0 for `patience` steps — never on θ alone.
   * @default 1e-3 (our choice: with `closedDecay` 0.05, He-initialized
   * weights of RMS ≈ 0.1 reach it after about 90 steps at θ = 0)
   */
  readonly maxWeightRms?: number;
  /**
   * Fraction by which the parameters of a structure whose θ is exactly 0
   * shrink after every step: w ← (1 − closedDecay)·w. A closed gate passes
   * no data gradient to its weights, so the weight prior of the method's
   * lineage (a Gaussian scale mixture, arXiv 2205.04650) is the only force on
   * them; this is our stand-in for its pull towards 0. It makes (θ = 0,
   * w = 0) attracting: a structure that stays closed sinks into the
   * `maxWeightRms` region and is removed, one whose θ rises again before that
   * resumes with shrunken weights. It never changes the network's function
   * while the gate is closed (ξ = 0 multiplies the structure's output).
   * `0` turns it off (weights then reach the region only through other
   * penalties). @default 0.05
   */
  readonly closedDecay?: number;
  /** Remove structures physically (compaction) at the end of every epoch. @default true */
  readonly removePhysically?: boolean;
  /**
   * Strength ρ of a flattening prior that drives θ to {0, 1}: after every
   * step, θ ← θ + ρ·(2θ − 1) (a gradient step on the concave penalty
   * ρ·θ(1 − θ), largest at ½), then projected onto [0,1]. Our stand-in for the
   * "flattening hyper-prior" of the authors' earlier work (arXiv 2406.04549),
   * whose exact form is not public. @default 0 (off)
   */
  readonly polarization?: number;
  /**
   * How often ξ is drawn in training. `'step'`: one sample per gate per step,
   * shared by every example of the batch (the straight-through estimate of the
   * whole batch's loss difference). `'example'`: an independent sample per gate
   * **and per example** (a `[batch, gates]` gate, like dropout's masks and the
   * L0-regularization reference's per-example hard-concrete draws); the
   * gradient to θ sums the examples' straight-through terms, so its scale
   * matches `'step'`. Evaluation is deterministic (ξ = 1[θ > ½]) either way.
   * A loop that does not pass the batch size to `gates` gets one sample per
   * step in both modes. Our choice of default: `'step'`, the reconstruction
   * the ResNet results were measured with. @default 'step'
   */
  readonly sampling?: 'step' | 'example';
}

/** The schema of a Bernoulli-gate config (besides `type`). */
export const bernoulliGateConfigSchema = s.object({
  sites: s.oneOf(['all', 'units', 'layers']).optional(),
  thetaInit: s.number({ min: 0, max: 1 }).optional(),
  estimator: s.oneOf(['straightThrough']).optional(),
  patience: s.integer({ min: 1 }).optional(),
  warmupSteps: s.integer({ min: 0 }).optional(),
  maxWeightRms: s.number({ min: 0 }).optional(),
  closedDecay: s.number({ min: 0, max: 1 }).optional(),
  removePhysically: s.boolean().optional(),
  polarization: s.number({ min: 0, max: 0.5 }).optional(),
  sampling: s.oneOf(['step', 'example']).optional(),
});

interface SiteState {
  site: GateSite;
  theta: tf.Variable;
  /** Uniform noise of the current step's sample. */
  noise: Float32Array;
  /** Consecutive steps with θ = 0, per gate. */
  zeroRun: Float32Array;
}

const groupIndex = new WeakMap<Network, ReadonlyMap<string, StructureGroup>>();

/** A network's structure groups by id (cached per network: a compacted one is a new object). */
export function groupsOf(n: Network): ReadonlyMap<string, StructureGroup> {
  let m = groupIndex.get(n);
  if (!m) {
    m = new Map(n.groups.map((g) => [g.id, g]));
    groupIndex.set(n, m);
  }
  return m;
}

/**
 * The gates of a surviving `site` that compaction kept, read from its takes: gate i owns group i,
 * whose first slice is the gated node's kernel entry (or, for input features, the consumer's
 * row) at i; a gate without a group switches a channel compaction cannot remove.
 */
export function keptGates(
  n: Network,
  site: GateSite,
  takes: ReadonlyMap<string, readonly AxisTake[]>,
): number[] {
  const all = Array.from({ length: site.size }, (_, i) => i);
  if (site.kind === 'layer' || site.groups.length === 0) return all;
  const first = (i: number) => groupsOf(n).get(site.groups[i]!)!.slices[0]!;
  const { param, axis } = first(0);
  const take = takes.get(param)?.find((t) => t.axis === axis);
  if (!take) return all;
  const survivors = new Set(take.indices);
  return all.filter((i) => survivors.has(first(i).indices[0]!));
}

/**
 * Compacts `n` with 0/1 keep decisions per gate site (`gates`) and reports, for every site of
 * `sites` that survives, which of its gates compaction kept: the closed ones go, and so does every
 * open one whose structure is all zero once the closed ones are zeroed (their slices can overlap,
 * e.g. a unit's row in the next kernel lies in a closed unit's column there). `units` and `layers`
 * count what went (a site that disappears entirely counts all its gates).
 */
export function compactGateSites(
  n: Network,
  sites: readonly GateSite[],
  gates: Readonly<Record<string, number[]>>,
): { net: Network; kept: Map<string, number[]>; units: number; layers: number } {
  const smaller = compact(n, { gates });
  const takes = compactionTakes(smaller)!;
  const kept = new Map<string, number[]>();
  let units = 0;
  let layers = 0;
  for (const site of sites) {
    const newSite = smaller.gateSites.find((x) => x.id === site.id);
    if (!newSite) {
      if (site.kind === 'layer') layers++;
      else units += site.size;
      continue;
    }
    kept.set(site.id, keptGates(n, site, takes));
    if (site.kind === 'unit') units += site.size - newSite.size;
  }
  return { net: smaller, kept, units, layers };
}

/**
 * Hard Bernoulli samples `1[noise < θ]` with a straight-through gradient to θ. θ is `[n]`; the noise
 * is `[n]` (one sample per gate) or `[batch, n]` (one per gate and example, θ broadcast), in which
 * case the gradient to θ sums the examples' terms over the leading axes.
 */
const straightThrough = tf.customGrad(((theta: tf.Tensor, noise: tf.Tensor, save: tf.GradSaveFunc) => {
  save([]);
  return {
    value: tf.cast(tf.less(noise, theta), 'float32'),
    gradFunc: (dy: tf.Tensor) => {
      const lead = dy.rank - theta.rank;
      const dTheta = lead > 0 ? tf.sum(dy, [...Array(lead).keys()]) : dy;
      return [dTheta, tf.zerosLike(noise)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (theta: tf.Tensor, noise: tf.Tensor) => tf.Tensor;

/**
 * Variational Bernoulli gates on units/filters and residual blocks (Guenter &
 * Sideris 2024, as reconstructed in moprune). Each gate site gets a trainable
 * keep-probability vector θ ∈ [0,1]; training samples ξ ~ Bern(θ) once per
 * step, or per example with `sampling: 'example'` (straight-through gradient),
 * evaluation uses ξ = 1[θ > ½]. θ is
 * projected onto [0,1] after every step. A structure whose θ stays exactly 0
 * for `patience` steps after `warmupSteps` (and whose weights are inside the
 * attraction region, `maxWeightRms`) is removed physically at the end of the
 * epoch: the pruner returns the compacted network (and its θ, sliced, as
 * `replacedVariables`), the loop carries the optimizer state of every surviving
 * weight and gate over (sliced, with its step count), and later epochs are cheaper.
 *
 * Pair it with the `expectedComplexity` objective of @moprune/objectives, which
 * reads `gateProbabilities()` and supplies the per-gate complexity pressure
 * (the automatically matched coefficients).
 */
export function createBernoulliGatePruner(
  config: Omit<BernoulliGateConfig, 'type'> & { type?: 'bernoulliGates' } = {},
): Pruner {
  const json: JsonObject = { type: 'bernoulliGates', ...(config as unknown as JsonObject) };
  throwIfIssues('bernoulliGates pruner', bernoulliGatePruner.validate(json));
  const which = config.sites ?? 'all';
  const thetaInit = config.thetaInit ?? 1;
  const perExample = config.sampling === 'example';
  const maxRms = config.maxWeightRms ?? 1e-3;
  const closedDecay = config.closedDecay ?? 0.05;
  let patience = config.patience ?? 1;
  let warmup = config.warmupSteps ?? 0;
  let rng = Rng.fromSeed(0);
  let sites: SiteState[] = [];
  let lastStep = -1;
  let removedUnits = 0;
  let removedLayers = 0;

  const resample = (): void => {
    for (const s of sites) for (let i = 0; i < s.noise.length; i++) s.noise[i] = rng.next();
  };

  const build = (
    n: Network,
    previous: readonly SiteState[] = [],
    kept: ReadonlyMap<string, number[]> = new Map(),
  ) => {
    const next: SiteState[] = [];
    for (const site of n.gateSites) {
      if (which === 'units' && site.kind !== 'unit') continue;
      if (which === 'layers' && site.kind !== 'layer') continue;
      const old = previous.find((p) => p.site.id === site.id);
      const idx = kept.get(site.id);
      const pick = <T extends Float32Array>(src: T, fill: number): Float32Array =>
        idx
          ? Float32Array.from(idx, (i) => src[i]!)
          : old && old.noise.length === site.size
            ? Float32Array.from(src)
            : new Float32Array(site.size).fill(fill);
      const thetaValues = old
        ? pick(old.theta.dataSync() as Float32Array, thetaInit)
        : new Float32Array(site.size).fill(thetaInit);
      if (thetaValues.length !== site.size) {
        throw new PrunerError(
          'STATE_MISMATCH',
          `bernoulliGates: site ${site.id} has ${site.size} gates after compaction, expected ${thetaValues.length}`,
        );
      }
      const init = tf.tensor1d(thetaValues);
      next.push({
        site,
        theta: tf.variable(init, true),
        noise: old ? pick(old.noise, 0) : new Float32Array(site.size),
        zeroRun: old ? pick(old.zeroRun, 0) : new Float32Array(site.size),
      });
      init.dispose();
    }
    for (const p of previous) p.theta.dispose();
    return next;
  };

  const groupRms = (n: Network, groupId: string): number => {
    const group = groupsOf(n).get(groupId);
    if (!group) return 0;
    let sum = 0;
    let count = 0;
    for (const slice of group.slices) {
      const v = n.params.get(slice.param)!;
      const data = v.dataSync();
      const shape = v.shape;
      const stride = shape.slice(slice.axis + 1).reduce((a, b) => a * b, 1);
      const dim = shape[slice.axis]!;
      const outer = data.length / (stride * dim);
      for (const index of slice.indices) {
        for (let o = 0; o < outer; o++) {
          for (let s = 0; s < stride; s++) {
            const x = data[(o * dim + index) * stride + s]!;
            sum += x * x;
            count++;
          }
        }
      }
    }
    return count === 0 ? 0 : Math.sqrt(sum / count);
  };

  /**
   * w ← (1 − closedDecay)·w on every slice of every structure whose θ is 0
   * (one multiply per parameter and axis, whatever the number of closed gates).
   */
  const shrinkClosed = (n: Network): void => {
    if (closedDecay === 0) return;
    const factors = new Map<string, { param: string; axis: number; scale: Float32Array }>();
    for (const s of sites) {
      s.zeroRun.forEach((run, i) => {
        if (run === 0) return;
        for (const slice of groupsOf(n).get(s.site.groups[i]!)?.slices ?? []) {
          const key = `${slice.param}|${slice.axis}`;
          let f = factors.get(key);
          if (!f) {
            const dim = n.params.get(slice.param)!.shape[slice.axis]!;
            f = { param: slice.param, axis: slice.axis, scale: new Float32Array(dim).fill(1) };
            factors.set(key, f);
          }
          for (const index of slice.indices) f.scale[index] = 1 - closedDecay;
        }
      });
    }
    for (const { param, axis, scale } of factors.values()) {
      const v = n.params.get(param)!;
      const shape = v.shape.map((d, k) => (k === axis ? d : 1));
      tf.tidy(() => v.assign(tf.mul(v, tf.tensor(scale, shape))));
    }
  };

  const removal = (ctx: PrunerStepContext): PrunerStepResult | undefined => {
    const n = ctx.net;
    if (ctx.step < warmup || config.removePhysically === false) return undefined;
    const gates: Record<string, number[]> = {};
    let anything = false;
    for (const s of sites) {
      const keep = Array.from(s.zeroRun, (run, i) => {
        // A gate without a structure group switches a channel tied to other structures (the last
        // conv of a residual branch joins the stream at the add): nothing of it can be removed, and
        // its closed gate keeps zeroing the channel.
        const group = s.site.groups[i];
        const off = group !== undefined && run >= patience && groupRms(n, group) <= maxRms;
        if (off) anything = true;
        return off ? 0 : 1;
      });
      gates[s.site.id] = keep;
    }
    if (!anything) return undefined;
    const {
      net: smaller,
      kept,
      units,
      layers,
    } = compactGateSites(
      n,
      sites.map((x) => x.site),
      gates,
    );
    removedUnits += units;
    removedLayers += layers;
    const before = new Map(sites.map((x) => [x.site.id, x.theta]));
    sites = build(smaller, sites, kept);
    // The θ of every surviving site replaces the old one: its optimizer state is carried over,
    // sliced to the surviving gates (the old θ is disposed; the solver only reads its state).
    const replacedVariables = sites.flatMap((x) => {
      const previous = before.get(x.site.id);
      const idx = kept.get(x.site.id);
      if (previous === undefined) return [];
      return [{ variable: x.theta, previous, ...(idx ? { takes: [{ axis: 0, indices: idx }] } : {}) }];
    });
    return { replaceNetwork: smaller, replacedVariables };
  };

  return {
    name: 'bernoulliGates',
    config: json,
    init(ctx) {
      rng = ctx.rng.fork('bernoulliGates');
      patience = config.patience ?? ctx.stepsPerEpoch;
      warmup = config.warmupSteps ?? ctx.stepsPerEpoch;
      for (const s of sites) s.theta.dispose();
      sites = build(ctx.net);
      if (sites.length === 0) {
        throw new PrunerError(
          'NO_STRUCTURE_GROUP',
          `bernoulliGates: the network '${ctx.net.spec.name}' has no ${which === 'all' ? '' : `${which} `}gate sites; build it with gates (e.g. a model's gates option)`,
          { issues: [{ path: 'sites', message: 'no matching gate site in the network' }] },
        );
      }
      resample();
    },
    variables: () => sites.map((s) => s.theta),
    gates(training, stepRng, batch) {
      const out: Record<string, tf.Tensor> = {};
      for (const s of sites) {
        if (training && perExample && batch !== undefined) {
          // Seeded by the step's gate stream: every forward pass of one step sees the same masks.
          const noise = tf.randomUniform([batch, s.site.size], 0, 1, 'float32', stepRng.nextU32());
          out[s.site.id] = straightThrough(s.theta, noise);
          noise.dispose();
        } else if (training) {
          const noise = tf.tensor1d(s.noise);
          out[s.site.id] = straightThrough(s.theta, noise);
          noise.dispose();
        } else {
          out[s.site.id] = tf.tidy(() => tf.cast(tf.greater(s.theta, 0.5), 'float32'));
        }
      }
      return out;
    },
    gateProbabilities() {
      const out: Record<string, tf.Tensor> = {};
      for (const s of sites) out[s.site.id] = tf.clipByValue(s.theta, 0, 1);
      return out;
    },
    afterStep(ctx) {
      lastStep = ctx.step;
      const rho = config.polarization ?? 0;
      for (const s of sites) {
        const projected = tf.tidy(() =>
          tf.clipByValue(
            rho > 0 ? tf.add(s.theta, tf.mul(rho, tf.sub(tf.mul(s.theta, 2), 1))) : s.theta,
            0,
            1,
          ),
        );
        s.theta.assign(projected);
        projected.dispose();
        const theta = s.theta.dataSync();
        for (let i = 0; i < theta.length; i++) s.zeroRun[i] = theta[i] === 0 ? s.zeroRun[i]! + 1 : 0;
      }
      shrinkClosed(ctx.net);
      resample();
      return undefined;
    },
    afterEpoch: (ctx) => removal(ctx),
    targets: () => [],
    metrics() {
      let open = 0;
      let closed = 0;
      let total = 0;
      let sum = 0;
      for (const s of sites) {
        const theta = s.theta.dataSync();
        for (const t of theta) {
          total++;
          sum += t;
          if (t > 0.5) open++;
          if (t === 0) closed++;
        }
      }
      return {
        gates: total,
        openGates: open,
        closedGates: closed,
        meanTheta: total ? sum / total : 0,
        removedUnits,
        removedLayers,
      };
    },
    state(): ComponentState {
      const arrays: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const s of sites) {
        arrays[`theta:${s.site.id}`] = { shape: [s.site.size], data: Float32Array.from(s.theta.dataSync()) };
        arrays[`noise:${s.site.id}`] = { shape: [s.site.size], data: Float32Array.from(s.noise) };
        arrays[`zeroRun:${s.site.id}`] = { shape: [s.site.size], data: Float32Array.from(s.zeroRun) };
      }
      return {
        json: {
          sites: sites.map((s) => s.site.id),
          rng: [...rng.state()],
          lastStep,
          removedUnits,
          removedLayers,
          patience,
          warmup,
        },
        arrays,
      };
    },
    load(state) {
      const s = state.json;
      if (!Array.isArray(s.sites) || !Array.isArray(s.rng)) {
        throw new PrunerError('STATE_MISMATCH', 'bernoulliGates: state lacks sites/rng');
      }
      const ids = sites.map((x) => x.site.id);
      if (JSON.stringify(ids) !== JSON.stringify(s.sites)) {
        throw new PrunerError(
          'STATE_MISMATCH',
          `bernoulliGates: state has sites ${JSON.stringify(s.sites)}, network has ${JSON.stringify(ids)}`,
        );
      }
      for (const site of sites) {
        const theta = state.arrays[`theta:${site.site.id}`];
        const noise = state.arrays[`noise:${site.site.id}`];
        const run = state.arrays[`zeroRun:${site.site.id}`];
        if (!theta || !noise || !run || theta.data.length !== site.site.size) {
          throw new PrunerError(
            'STATE_MISMATCH',
            `bernoulliGates: state of site ${site.site.id} is missing or has the wrong size`,
          );
        }
        const t = tf.tensor1d(theta.data);
        site.theta.assign(t);
        t.dispose();
        site.noise = Float32Array.from(noise.data);
        site.zeroRun = Float32Array.from(run.data);
      }
      rng = Rng.fromState(s.rng as unknown as RngState);
      lastStep = typeof s.lastStep === 'number' ? s.lastStep : -1;
      removedUnits = typeof s.removedUnits === 'number' ? s.removedUnits : 0;
      removedLayers = typeof s.removedLayers === 'number' ? s.removedLayers : 0;
      if (typeof s.patience === 'number') patience = s.patience;
      if (typeof s.warmup === 'number') warmup = s.warmup;
    },
    dispose() {
      for (const s of sites) s.theta.dispose();
      sites = [];
    },
  };
}

/** The `bernoulliGates` pruner, registered: configs `{ "type": "bernoulliGates", … }` build it. */
export const bernoulliGatePruner = definePruner({
  name: 'bernoulliGates',
  description:
    'Variational Bernoulli gates on units/filters and blocks, removed physically during training (Guenter & Sideris 2024)',
  configSchema: bernoulliGateConfigSchema,
  create: (c) => createBernoulliGatePruner(c),
});
