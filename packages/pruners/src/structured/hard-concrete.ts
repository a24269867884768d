import {
  type ComponentState,
  definePruner,
  type GateSite,
  type JsonObject,
  type Network,
  type Pruner,
  type PrunerStepContext,
  type PrunerStepResult,
  Rng,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { PrunerError, throwIfIssues } from '../errors.js';
import { compactGateSites } from './bernoulli.js';

/** Config of {@link createHardConcreteGatePruner}. */
export interface HardConcreteGateConfig {
  readonly type: 'hardConcreteGates';
  /** Which gate sites to learn: unit/filter (and input-feature) gates, layer (block) gates, or both. @default 'all' */
  readonly sites?: 'all' | 'units' | 'layers';
  /** Temperature β of the binary concrete. @default 2/3 (the L0-regularization reference's) */
  readonly temperature?: number;
  /**
   * The stretch interval (γ, ζ), γ < 0 < 1 < ζ: the concrete sample s ∈ (0, 1) is stretched to
   * s·(ζ − γ) + γ and clipped to [0, 1], so z is exactly 0 or 1 with non-zero probability.
   * @default [-0.1, 1.1] (the reference's)
   */
  readonly stretch?: readonly [number, number];
  /**
   * Initial drop rate p of each kind of gate: log α starts at log((1 − p)/p) plus N(0, 0.01²)
   * noise, as the reference initializes it. `input` is a unit site with no dense/conv before it
   * (input-feature gates). @default { input: 0.2, unit: 0.5, layer: 0.5 } (the reference's input
   * and hidden rates; it has no layer gates, and `layer` takes the hidden rate — our choice)
   */
  readonly initialDrop?: { readonly input?: number; readonly unit?: number; readonly layer?: number };
  /**
   * `'example'`: an independent z per gate and example (`[batch, gates]`) — the reference code's
   * `local_rep` option; `'step'`: one z per gate per step, shared by the batch — the reference
   * code's default for its dense and convolutional layers (one mask of the weights per mini-batch).
   * A loop that does not pass the batch size to `gates` gets one per step either way. The two
   * draws price the same expected L0 norm; one per step is also the cheaper.
   * @default 'step' (the reference code's)
   */
  readonly sampling?: 'example' | 'step';
  /**
   * After every step, log α is clipped into [lo, hi], as the L0 reference code does after each
   * optimizer step (its `constrain_parameters`: [log 0.01, log 100]). The floor keeps a closed
   * gate's P(z ≠ 0) above sigmoid(lo − β·log(−γ/ζ)) (4.7% at the reference's values), so its
   * training draws open it now and then, it keeps a gradient and it can reopen; a floor above the
   * removal threshold (see `maxOpenProbability`) means nothing is removed during training.
   * @default none (log α is not clipped)
   */
  readonly logAlphaRange?: readonly [number, number];
  /**
   * A structure is removed once P(z ≠ 0) has been at most this for `patience` steps (after
   * `warmupSteps`). It must not exceed P(z ≠ 0) where the evaluation gate reaches 0 (0.31 at
   * the default β and stretch), so removal never changes the evaluated network; it only drops
   * training draws that would have opened the gate this rarely. @default 0.01 (our choice: the
   * reference never removes during training; it reads the gates at the end)
   */
  readonly maxOpenProbability?: number;
  /** Steps P(z ≠ 0) must stay at most `maxOpenProbability` before removal. @default the run's steps per epoch */
  readonly patience?: number;
  /** No removal before this step. @default the run's steps per epoch */
  readonly warmupSteps?: number;
  /** Remove structures physically (compaction) at the end of every epoch. @default true */
  readonly removePhysically?: boolean;
}

const dropRate = s.number({ gt: 0, lt: 1 }).optional();
/** An optional pair of numbers `[a, b]` that `ok(a, b)` accepts; `label` says which, in the issue. */
const numberPair = (label: string, ok: (a: number, b: number) => boolean) =>
  s
    .custom<[number, number]>(
      label,
      (v, path) =>
        Array.isArray(v) &&
        v.length === 2 &&
        typeof v[0] === 'number' &&
        typeof v[1] === 'number' &&
        ok(v[0], v[1])
          ? []
          : [{ path, message: `must be ${label}, got ${JSON.stringify(v)}` }],
      ['array'],
    )
    .optional();

/** The schema of a hard-concrete gate config (besides `type`). */
export const hardConcreteGateConfigSchema = s.object({
  sites: s.oneOf(['all', 'units', 'layers']).optional(),
  temperature: s.number({ gt: 0 }).optional(),
  stretch: numberPair('[γ, ζ] with γ < 0 < 1 < ζ', (lo, hi) => lo < 0 && hi > 1),
  initialDrop: s.object({ input: dropRate, unit: dropRate, layer: dropRate }).optional(),
  sampling: s.oneOf(['example', 'step']).optional(),
  logAlphaRange: numberPair(
    '[lo, hi] with finite lo < hi',
    (lo, hi) => Number.isFinite(lo) && Number.isFinite(hi) && lo < hi,
  ),
  maxOpenProbability: s.number({ gt: 0, lt: 1 }).optional(),
  patience: s.integer({ min: 1 }).optional(),
  warmupSteps: s.integer({ min: 0 }).optional(),
  removePhysically: s.boolean().optional(),
});

interface SiteState {
  site: GateSite;
  logAlpha: tf.Variable;
  /** Consecutive steps with P(z ≠ 0) ≤ maxOpenProbability, per gate. */
  lowRun: Float32Array;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
/** min(1, max(0, x)) as relu(x) − relu(x − 1) (native kernels forward and backward). */
const clip01 = (x: tf.Tensor) => tf.sub(tf.relu(x), tf.relu(tf.sub(x, 1)));

/**
 * Hard-concrete gates (Louizos, Welling & Kingma 2018, "Learning sparse neural networks through L0
 * regularization") on units/filters, input features and residual blocks: the anchor of Guenter &
 * Sideris 2024's dense-network comparison, on moprune's gate sites. Each gate has a trainable log α.
 * Training draws z = min(1, max(0, sigmoid((log u − log(1 − u) + log α)/β)·(ζ − γ) + γ)), u ~ U(0, 1),
 * one per gate and step by default (`sampling`), reparameterized, so log α gets the data gradient
 * through z; evaluation uses z = min(1, max(0, sigmoid(log α)·(ζ − γ) + γ)), which is exactly 0 for a closed gate and fractional
 * in (0, 1] otherwise (the network multiplies by it). `gateProbabilities()` are P(z ≠ 0) =
 * sigmoid(log α − β·log(−γ/ζ)), the expected L0 norm's terms, so the `expectedComplexity` objective
 * of @moprune/objectives (or a contributor's cost) prices the gates as it prices Bernoulli ones.
 * Structures whose P(z ≠ 0) stays below `maxOpenProbability` are removed physically at the end of
 * an epoch, with the optimizer state of every survivor (weights and log α) carried over.
 *
 * Kept structures: a gate counts as kept while its evaluation z is above 0 (`openGates`). Removal
 * during training drops only the closed structures; the survivors' gates stay in the network as
 * multipliers. Compacting with the evaluation gates (`compact(net, { gates })`) folds their
 * fractional values into the weights, so the exported network computes what was evaluated.
 */
export function createHardConcreteGatePruner(
  config: Omit<HardConcreteGateConfig, 'type'> & { type?: 'hardConcreteGates' } = {},
): Pruner {
  const json: JsonObject = { type: 'hardConcreteGates', ...(config as unknown as JsonObject) };
  throwIfIssues('hardConcreteGates pruner', hardConcreteGatePruner.validate(json));
  const which = config.sites ?? 'all';
  const beta = config.temperature ?? 2 / 3;
  const [low, high] = config.stretch ?? [-0.1, 1.1];
  /** β·log(−γ/ζ): P(z ≠ 0) = sigmoid(log α − shift). */
  const shift = beta * Math.log(-low / high);
  /** log α at which the evaluation gate reaches 0, and P(z ≠ 0) there. */
  const closedAt = logit(-low / (high - low));
  const pClosed = sigmoid(closedAt - shift);
  const maxOpen = config.maxOpenProbability ?? 0.01;
  if (maxOpen > pClosed) {
    throw new PrunerError(
      'INVALID_CONFIG',
      `hardConcreteGates: maxOpenProbability ${maxOpen} would remove gates whose evaluation z is still above 0 (it must be at most ${pClosed.toFixed(4)} at this temperature and stretch)`,
      { issues: [{ path: 'maxOpenProbability', message: `must be at most ${pClosed.toFixed(4)}` }] },
    );
  }
  /** Removal threshold on log α: P(z ≠ 0) ≤ maxOpen ⇔ log α ≤ logit(maxOpen) + shift. */
  const removeBelow = logit(maxOpen) + shift;
  const drop = { input: 0.2, unit: 0.5, layer: 0.5, ...config.initialDrop };
  const perExample = (config.sampling ?? 'step') === 'example';
  const range = config.logAlphaRange;
  let patience = config.patience ?? 1;
  let warmup = config.warmupSteps ?? 0;
  let sites: SiteState[] = [];
  let removedUnits = 0;
  let removedLayers = 0;

  const evaluationGate = (logAlpha: tf.Tensor) =>
    clip01(tf.add(tf.mul(tf.sigmoid(logAlpha), high - low), low));

  const kindOf = (site: GateSite): 'input' | 'unit' | 'layer' =>
    site.kind === 'layer' ? 'layer' : site.gatedNode === undefined ? 'input' : 'unit';

  const fresh = (n: Network, rng: Rng): SiteState[] =>
    n.gateSites
      .filter((site) => which === 'all' || (which === 'units') === (site.kind === 'unit'))
      .map((site) => {
        const p = drop[kindOf(site)];
        const mean = Math.log((1 - p) / p);
        const init = tf.tensor1d(rng.fill(site.size, (r) => mean + 0.01 * r.normal()));
        const logAlpha = tf.variable(init, true);
        init.dispose();
        return { site, logAlpha, lowRun: new Float32Array(site.size) };
      });

  const removal = (ctx: PrunerStepContext): PrunerStepResult | undefined => {
    if (ctx.step < warmup || config.removePhysically === false) return undefined;
    const gates: Record<string, number[]> = {};
    let anything = false;
    for (const x of sites) {
      gates[x.site.id] = Array.from(x.lowRun, (run, i) => {
        // A unit gate without a structure group switches a channel tied to other structures: it
        // stays (closed) in the network. A layer gate needs no group.
        const removable = x.site.kind === 'layer' || x.site.groups[i] !== undefined;
        const off = removable && run >= patience;
        if (off) anything = true;
        return off ? 0 : 1;
      });
    }
    if (!anything) return undefined;
    const { net, kept, units, layers } = compactGateSites(
      ctx.net,
      sites.map((x) => x.site),
      gates,
    );
    removedUnits += units;
    removedLayers += layers;
    const next: SiteState[] = [];
    const replacedVariables: NonNullable<PrunerStepResult['replacedVariables']>[number][] = [];
    for (const x of sites) {
      const site = net.gateSites.find((g) => g.id === x.site.id);
      const idx = kept.get(x.site.id);
      if (site === undefined || idx === undefined) continue;
      const old = x.logAlpha.dataSync();
      const init = tf.tensor1d(Float32Array.from(idx, (i) => old[i]!));
      const logAlpha = tf.variable(init, true);
      init.dispose();
      next.push({ site, logAlpha, lowRun: Float32Array.from(idx, (i) => x.lowRun[i]!) });
      replacedVariables.push({
        variable: logAlpha,
        previous: x.logAlpha,
        takes: [{ axis: 0, indices: idx }],
      });
    }
    // The old log α go: the solver carries their optimizer state over by identity, without reading them.
    for (const x of sites) x.logAlpha.dispose();
    sites = next;
    return { replaceNetwork: net, replacedVariables };
  };

  return {
    name: 'hardConcreteGates',
    config: json,
    init(ctx) {
      patience = config.patience ?? ctx.stepsPerEpoch;
      warmup = config.warmupSteps ?? ctx.stepsPerEpoch;
      for (const x of sites) x.logAlpha.dispose();
      sites = fresh(ctx.net, ctx.rng.fork('hardConcreteGates'));
      if (sites.length === 0) {
        throw new PrunerError(
          'NO_STRUCTURE_GROUP',
          `hardConcreteGates: the network '${ctx.net.spec.name}' has no ${which === 'all' ? '' : `${which} `}gate sites; build it with gates (e.g. a model's gates option)`,
          { issues: [{ path: 'sites', message: 'no matching gate site in the network' }] },
        );
      }
    },
    variables: () => sites.map((x) => x.logAlpha),
    gates(training, stepRng, batch) {
      const out: Record<string, tf.Tensor> = {};
      for (const x of sites) {
        const n = x.site.size;
        if (!training) {
          out[x.site.id] = tf.tidy(() => evaluationGate(x.logAlpha));
          continue;
        }
        // logit(u), u ~ U(0, 1), from the step's gate stream (the same for every forward pass of one
        // step), drawn in JavaScript: tfjs's randomUniform and log cost tens of ms per step on the cpu kernels.
        const rows = perExample && batch !== undefined ? batch : undefined;
        const draw = Rng.fromSeed(stepRng.nextU32());
        const logitU = new Float32Array((rows ?? 1) * n);
        for (let i = 0; i < logitU.length; i++) {
          const u = (draw.nextU32() + 0.5) / 4294967296; // 32 random bits, never 0 or 1
          logitU[i] = Math.log(u / (1 - u));
        }
        out[x.site.id] = tf.tidy(() => {
          const noise = rows === undefined ? tf.tensor1d(logitU) : tf.tensor2d(logitU, [rows, n]);
          const y = tf.sigmoid(tf.mul(tf.add(noise, x.logAlpha), 1 / beta));
          return clip01(tf.add(tf.mul(y, high - low), low));
        });
      }
      return out;
    },
    gateProbabilities() {
      const out: Record<string, tf.Tensor> = {};
      for (const x of sites) out[x.site.id] = tf.tidy(() => tf.sigmoid(tf.sub(x.logAlpha, shift)));
      return out;
    },
    afterStep() {
      for (const x of sites) {
        if (range !== undefined) {
          const [lo, hi] = range;
          tf.tidy(() => x.logAlpha.assign(tf.clipByValue(x.logAlpha, lo, hi)));
        }
        const a = x.logAlpha.dataSync();
        for (let i = 0; i < a.length; i++) x.lowRun[i] = a[i]! <= removeBelow ? x.lowRun[i]! + 1 : 0;
      }
      return undefined;
    },
    afterEpoch: (ctx) => removal(ctx),
    targets: () => [],
    metrics() {
      let gates = 0;
      let open = 0;
      let expectedOpen = 0;
      for (const x of sites) {
        for (const a of x.logAlpha.dataSync()) {
          gates++;
          if (a > closedAt) open++;
          expectedOpen += sigmoid(a - shift);
        }
      }
      return { gates, openGates: open, expectedOpenGates: expectedOpen, removedUnits, removedLayers };
    },
    state(): ComponentState {
      const arrays: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const x of sites) {
        arrays[`logAlpha:${x.site.id}`] = {
          shape: [x.site.size],
          data: Float32Array.from(x.logAlpha.dataSync()),
        };
        arrays[`lowRun:${x.site.id}`] = { shape: [x.site.size], data: Float32Array.from(x.lowRun) };
      }
      return {
        json: { sites: sites.map((x) => x.site.id), removedUnits, removedLayers, patience, warmup },
        arrays,
      };
    },
    load(state) {
      const j = state.json;
      const ids = sites.map((x) => x.site.id);
      if (!Array.isArray(j.sites) || JSON.stringify(ids) !== JSON.stringify(j.sites)) {
        throw new PrunerError(
          'STATE_MISMATCH',
          `hardConcreteGates: state has sites ${JSON.stringify(j.sites)}, network has ${JSON.stringify(ids)}`,
        );
      }
      for (const x of sites) {
        const a = state.arrays[`logAlpha:${x.site.id}`];
        const run = state.arrays[`lowRun:${x.site.id}`];
        if (!a || !run || a.data.length !== x.site.size || run.data.length !== x.site.size) {
          throw new PrunerError(
            'STATE_MISMATCH',
            `hardConcreteGates: state of site ${x.site.id} is missing or has the wrong size`,
          );
        }
        tf.tidy(() => x.logAlpha.assign(tf.tensor1d(a.data)));
        x.lowRun = Float32Array.from(run.data);
      }
      removedUnits = typeof j.removedUnits === 'number' ? j.removedUnits : 0;
      removedLayers = typeof j.removedLayers === 'number' ? j.removedLayers : 0;
      if (typeof j.patience === 'number') patience = j.patience;
      if (typeof j.warmup === 'number') warmup = j.warmup;
    },
    dispose() {
      for (const x of sites) x.logAlpha.dispose();
      sites = [];
    },
  };
}

/** The `hardConcreteGates` pruner, registered: configs `{ "type": "hardConcreteGates", … }` build it. */
export const hardConcreteGatePruner = definePruner({
  name: 'hardConcreteGates',
  description:
    'Hard-concrete L0 gates on units/filters, input features and blocks, removed physically once closed (Louizos et al. 2018)',
  configSchema: hardConcreteGateConfigSchema,
  create: (c) => createHardConcreteGatePruner(c),
});
