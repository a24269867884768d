import {
  type ComponentState,
  definePruner,
  type JsonObject,
  type Network,
  type ParamSelector,
  type Pruner,
  type PrunerStepContext,
  schema as s,
} from '@moprune/core';
import { PrunerError, throwIfIssues } from '../errors.js';
import { CheckLedger, type KeepConfig, keepSchema } from '../internal/checks.js';
import { applyGlobalCut, fanIns, readCutState } from '../internal/global-cut.js';
import { maskSparsity } from '../internal/masks.js';
import { requireTargets } from '../internal/targets.js';

/** The parameters relevance pruning ranks by default: every trainable weight and bias (and normalization scale/shift). */
export const RELEVANCE_DEFAULT_PARAMS: ParamSelector = { roles: ['kernel', 'bias', 'gamma', 'beta'] };

/** Config of {@link createRelevancePruner}. */
export interface RelevanceConfig {
  readonly type: 'relevance';
  /**
   * Mini-batches between validation checks, counted within each epoch as
   * the authors' loop counts them: a check after batch i (0-based) when
   * (i + 1) is a multiple of `every`, so an epoch of 550 batches at
   * `every` = 250 is checked after batches 249 and 499, and the count starts
   * again at the next epoch. Must not exceed the epoch's batch count.
   * @default 250 (Bonetta & Cancelliere 2023, LeNet-5 at batch 100)
   */
  readonly every?: number;
  /** Fraction of the remaining (live) weights removed at each pruning step. @default 0.04 */
  readonly fraction?: number;
  /**
   * Validation accuracy (0–1) the network must be strictly above before a
   * check prunes (the authors' `eval_acc > acc_lower_bound`); at or below
   * it the network keeps training to recover.
   * @default 0.98
   */
  readonly floor?: number;
  /** Stop pruning once this fraction of the targets is zero. @default 0.999 */
  readonly maxSparsity?: number;
  /**
   * Parameters pruned, ranked globally by |w|.
   * @default every trainable kernel, bias, gamma and beta ({@link RELEVANCE_DEFAULT_PARAMS}):
   *   the authors' code prunes the weights and biases of every module
   */
  readonly params?: ParamSelector;
  /**
   * The selective weight-decay coefficient schedule: γ decays linearly from
   * `initial` to 0 over `decaySteps` and is reset to `initial` after every
   * pruning step (the k-th step after a reset uses initial·(1 − k/decaySteps);
   * the run's very first step uses the objective's own γ). It is pushed into the run's objective named `objective`
   * through `Objective.setParameter('gamma', γ)`. Omit to leave γ alone (and
   * with no regularizer in the run this is iterative magnitude pruning).
   */
  readonly gamma?: {
    readonly initial: number;
    /** @default the run's steps per epoch */
    readonly decaySteps?: number;
    /** @default 'selectiveWeightDecay' */
    readonly objective?: string;
  };
  /**
   * How a cut ranks the live entries across targets:
   * - `'magnitude'`: |w|, one global ranking (the paper's);
   * - `'fanIn'`: |w|·√(fan-in), |w| relative to the scale that variance-preserving initializations give a
   *   layer (∝ 1/√fan-in), so a wide layer is not cut first because its weights started small. A kernel's
   *   fan-in is its entries per output unit; a bias, gain or shift takes its layer's kernel's. Not in the
   *   paper.
   * @default 'magnitude'
   */
  readonly ranking?: 'magnitude' | 'fanIn';
  /** Also evaluate the test split at every check, for the log only (nothing is decided on it). @default false */
  readonly evaluateTest?: boolean;
  /**
   * Keep the network of the best eligible check (see {@link KeepRule}) and end
   * the run with it: the best-validation checkpoint that meets the floor.
   * @default none: the run ends with its last network
   */
  readonly keep?: KeepConfig;
}

/** The schema of a relevance-pruner config (besides `type`). */
export const relevanceConfigSchema = s.object({
  every: s.integer({ min: 1 }).optional(),
  fraction: s.number({ gt: 0, lt: 1 }).optional(),
  floor: s.number({ min: 0, max: 1 }).optional(),
  maxSparsity: s.number({ gt: 0, lt: 1 }).optional(),
  params: s.paramSelector().optional(),
  gamma: s
    .object({
      initial: s.number({ min: 0 }),
      decaySteps: s.integer({ min: 1 }).optional(),
      objective: s.string({ allowEmpty: true }).optional(),
    })
    .optional(),
  ranking: s.oneOf(['magnitude', 'fanIn']).optional(),
  evaluateTest: s.boolean().optional(),
  keep: keepSchema.optional(),
});

/**
 * Relevance-based iterative pruning (Bonetta & Cancelliere 2023): after
 * every `every` mini-batches of an epoch the network is evaluated on the
 * validation split; when its accuracy is strictly above `floor`, the
 * `fraction` of the remaining weights with the smallest |w| is removed
 * globally across layers, and the selective weight-decay γ is reset;
 * otherwise training continues so the network can recover. Pair it with the
 * `selectiveWeightDecay` objective of @moprune/objectives, which shrinks the
 * irrelevant weights this pruner removes; without a regularizer it is
 * iterative global magnitude pruning on the same schedule.
 *
 * Every check is logged to the run (`ctx.log`: live weights, validation and
 * optionally test figures, how many were pruned); with `keep` the run ends
 * with the network of the kept check (see {@link KeepConfig}).
 */
export function createRelevancePruner(
  config: Omit<RelevanceConfig, 'type'> & { type?: 'relevance' } = {},
): Pruner {
  const json: JsonObject = { type: 'relevance', ...(config as unknown as JsonObject) };
  throwIfIssues('relevance pruner', relevancePruner.validate(json));
  const every = config.every ?? 250;
  const fraction = config.fraction ?? 0.04;
  const floor = config.floor ?? 0.98;
  const maxSparsity = config.maxSparsity ?? 0.999;
  const selector = config.params ?? RELEVANCE_DEFAULT_PARAMS;
  const ledger = new CheckLedger({
    pruner: 'relevance',
    floor,
    evaluateTest: config.evaluateTest ?? false,
    keep: config.keep,
  });
  let net: Network | undefined;
  let targets: string[] = [];
  /** Per-target ranking scales (`ranking: 'fanIn'`), else undefined. */
  let scales: number[] | undefined;
  let stepsPerEpoch = 1;
  let totalSteps = Number.POSITIVE_INFINITY;
  let lastReset = 0;
  let gamma = config.gamma?.initial ?? 0;
  let lastAccuracy = Number.NaN;
  let pruneEvents = 0;

  /**
   * Sets γ for the next step. The k-th step after a reset (k = 1, 2, …) uses
   * γ0·max(0, 1 − k/decaySteps), as the authors' loop counts it (its counter
   * is incremented before γ is computed); `lastReset` is the first step after
   * the last cut (0 before any).
   */
  const pushGamma = (ctx: PrunerStepContext): void => {
    if (!config.gamma) return;
    const decay = config.gamma.decaySteps ?? stepsPerEpoch;
    gamma = config.gamma.initial * Math.max(0, 1 - (ctx.step + 2 - lastReset) / decay);
    const name = config.gamma.objective ?? 'selectiveWeightDecay';
    const objective = ctx.objectives?.find((o) => o.name === name);
    if (!objective?.setParameter) {
      throw new PrunerError(
        'INVALID_CONFIG',
        `relevance pruner: gamma schedule needs an objective named '${name}' with setParameter; the run has ${
          ctx.objectives?.map((o) => `'${o.name}'`).join(', ') || 'none'
        }`,
        { issues: [{ path: 'gamma.objective', message: `no objective '${name}' that accepts parameters` }] },
      );
    }
    objective.setParameter('gamma', gamma);
  };

  /** A check: measure, record (the network before the cut), cut when above the floor. */
  const check = async (ctx: PrunerStepContext): Promise<void> => {
    const m = await ledger.measure(ctx);
    lastAccuracy = m.accuracy;
    const state = await readCutState(ctx.net, targets);
    await ledger.record(ctx, m, state.liveCount, state.total);
    let prune = 0;
    if (ledger.meetsFloor(m.accuracy) && 1 - state.liveCount / state.total < maxSparsity) {
      const limit = Math.floor(state.total * (1 - maxSparsity));
      prune = Math.max(
        0,
        Math.min(Math.max(1, Math.round(fraction * state.liveCount)), state.liveCount - limit),
      );
      if (prune > 0) {
        applyGlobalCut(ctx.net, state, prune, scales);
        pruneEvents++;
        lastReset = ctx.step + 1;
      }
    }
    ledger.settle(ctx, prune);
  };

  return {
    name: 'relevance',
    config: json,
    init(ctx) {
      net = ctx.net;
      stepsPerEpoch = ctx.stepsPerEpoch;
      totalSteps = ctx.totalSteps;
      if (every > ctx.stepsPerEpoch) {
        throw new PrunerError(
          'INVALID_CONFIG',
          `relevance pruner: every = ${every} batches, but an epoch has only ${ctx.stepsPerEpoch}; checks count batches within the epoch, so none would ever run`,
          { issues: [{ path: 'every', message: `must be ≤ the ${ctx.stepsPerEpoch} batches of an epoch` }] },
        );
      }
      targets = requireTargets(ctx.net, selector, 'relevance');
      scales = config.ranking === 'fanIn' ? fanIns(ctx.net, targets).map(Math.sqrt) : undefined;
    },
    async afterStep(ctx) {
      net = ctx.net;
      if ((ctx.batch + 1) % every === 0) await check(ctx);
      pushGamma(ctx);
      if (!ledger.restoreIfLast(ctx, totalSteps) && ctx.net.maskedParams().length > 0) ctx.net.applyMasks();
      return undefined;
    },
    targets: () => targets,
    metrics() {
      if (!net) return {};
      const { sparsity, zeros, total } = maskSparsity(net, targets);
      return {
        sparsity,
        zeros,
        total,
        gamma,
        pruneEvents,
        ...ledger.metrics(),
        ...(Number.isNaN(lastAccuracy) ? {} : { validationAccuracy: lastAccuracy }),
      };
    },
    state(): ComponentState {
      const l = ledger.state();
      return {
        json: {
          targets,
          lastReset,
          gamma,
          pruneEvents,
          lastAccuracy: Number.isNaN(lastAccuracy) ? null : lastAccuracy,
          checks: l.json,
        },
        arrays: l.arrays,
      };
    },
    load(state) {
      const s = state.json;
      if (
        !Array.isArray(s.targets) ||
        typeof s.lastReset !== 'number' ||
        typeof s.pruneEvents !== 'number' ||
        typeof s.checks !== 'object' ||
        s.checks === null
      ) {
        throw new PrunerError(
          'STATE_MISMATCH',
          'relevance pruner: state lacks targets/lastReset/pruneEvents/checks',
        );
      }
      targets = s.targets as string[];
      if (scales !== undefined && net !== undefined) scales = fanIns(net, targets).map(Math.sqrt);
      lastReset = s.lastReset;
      gamma = typeof s.gamma === 'number' ? s.gamma : gamma;
      pruneEvents = s.pruneEvents;
      lastAccuracy = typeof s.lastAccuracy === 'number' ? s.lastAccuracy : Number.NaN;
      ledger.load({ json: s.checks as JsonObject, arrays: state.arrays });
    },
  };
}

/** The `relevance` pruner, registered: configs `{ "type": "relevance", … }` build it. */
export const relevancePruner = definePruner({
  name: 'relevance',
  description:
    'Relevance-based iterative global magnitude pruning gated by a validation floor, γ reset (Bonetta & Cancelliere 2023)',
  configSchema: relevanceConfigSchema,
  create: (c) => createRelevancePruner(c),
});
