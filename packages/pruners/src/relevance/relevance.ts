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
import { applyGlobalCut, readCutState } from '../internal/global-cut.js';
import { maskSparsity } from '../internal/masks.js';
import { requireTargets } from '../internal/targets.js';

/** Config of {@link createRelevancePruner}. */
export interface RelevanceConfig {
  readonly type: 'relevance';
  /** Steps between pruning checks. @default 250 (Bonetta & Cancelliere 2023, LeNet-5 at batch 100) */
  readonly every?: number;
  /** Fraction of the remaining (live) weights removed at each pruning step. @default 0.04 */
  readonly fraction?: number;
  /** Validation accuracy (0–1) required before pruning; below it the network keeps training to recover. @default 0.98 */
  readonly floor?: number;
  /** Stop pruning once this fraction of the targets is zero. @default 0.999 */
  readonly maxSparsity?: number;
  /** Parameters pruned, ranked globally by |w|. @default all kernels: `{ roles: ['kernel'] }` */
  readonly params?: ParamSelector;
  /**
   * The selective weight-decay coefficient schedule: γ decays linearly from
   * `initial` to 0 over `decaySteps` and is reset to `initial` after every
   * pruning step. It is pushed into the run's objective named `objective`
   * through `Objective.setParameter('gamma', γ)`. Omit to leave γ alone.
   */
  readonly gamma?: {
    readonly initial: number;
    /** @default the run's steps per epoch */
    readonly decaySteps?: number;
    /** @default 'selectiveWeightDecay' */
    readonly objective?: string;
  };
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
});

/**
 * Relevance-based iterative pruning (Bonetta & Cancelliere 2023): every
 * `every` steps the network is evaluated on the validation split; when its
 * accuracy is at or above `floor`, the `fraction` of the remaining weights
 * with the smallest |w| is removed globally across layers, and the selective
 * weight-decay γ is reset; otherwise training continues so the network can
 * recover. Pair it with the `selectiveWeightDecay` objective of
 * @moprune/objectives, which shrinks the irrelevant weights this pruner removes.
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
  const selector = config.params ?? { roles: ['kernel'] };
  let net: Network | undefined;
  let targets: string[] = [];
  let stepsPerEpoch = 1;
  let lastReset = 0;
  let gamma = config.gamma?.initial ?? 0;
  let lastAccuracy = Number.NaN;
  let pruneEvents = 0;

  const pushGamma = (ctx: PrunerStepContext): void => {
    if (!config.gamma) return;
    const decay = config.gamma.decaySteps ?? stepsPerEpoch;
    gamma = config.gamma.initial * Math.max(0, 1 - (ctx.step - lastReset) / decay);
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

  return {
    name: 'relevance',
    config: json,
    init(ctx) {
      net = ctx.net;
      stepsPerEpoch = ctx.stepsPerEpoch;
      targets = requireTargets(ctx.net, selector, 'relevance');
    },
    async afterStep(ctx) {
      net = ctx.net;
      pushGamma(ctx);
      if ((ctx.step + 1) % every === 0) {
        const { accuracy } = await ctx.evaluate('validation');
        lastAccuracy = accuracy;
        const state = await readCutState(ctx.net, targets);
        const sparsity = 1 - state.liveCount / state.total;
        if (accuracy >= floor && sparsity < maxSparsity) {
          const limit = Math.floor(state.total * (1 - maxSparsity));
          const prune = Math.min(
            Math.max(1, Math.round(fraction * state.liveCount)),
            state.liveCount - limit,
          );
          if (prune > 0) {
            applyGlobalCut(ctx.net, state, prune);
            pruneEvents++;
            lastReset = ctx.step + 1;
            return undefined;
          }
        }
      }
      if (ctx.net.maskedParams().length > 0) ctx.net.applyMasks();
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
        ...(Number.isNaN(lastAccuracy) ? {} : { validationAccuracy: lastAccuracy }),
      };
    },
    state(): ComponentState {
      return {
        json: {
          targets,
          lastReset,
          gamma,
          pruneEvents,
          lastAccuracy: Number.isNaN(lastAccuracy) ? null : lastAccuracy,
        },
        arrays: {},
      };
    },
    load(state) {
      const s = state.json;
      if (!Array.isArray(s.targets) || typeof s.lastReset !== 'number' || typeof s.pruneEvents !== 'number') {
        throw new PrunerError(
          'STATE_MISMATCH',
          'relevance pruner: state lacks targets/lastReset/pruneEvents',
        );
      }
      targets = s.targets as string[];
      lastReset = s.lastReset;
      gamma = typeof s.gamma === 'number' ? s.gamma : gamma;
      pruneEvents = s.pruneEvents;
      lastAccuracy = typeof s.lastAccuracy === 'number' ? s.lastAccuracy : Number.NaN;
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
