import {
  type ComponentState,
  type Issue,
  type JsonObject,
  type Network,
  type ParamSelector,
  type Pruner,
  validateParamSelector,
} from '@moprune/core';
import { PrunerError, throwIfIssues } from '../errors.js';
import { ConfigChecker } from '../internal/config.js';
import { applyGlobalCut, readCutState, restoreCut } from '../internal/global-cut.js';
import { maskSparsity } from '../internal/masks.js';
import { requireTargets } from '../internal/targets.js';

/** Config of {@link createLobsterPruner}. */
export interface LobsterConfig {
  readonly type: 'lobster';
  /** Steps between validation checks. @default the run's steps per epoch */
  readonly every?: number;
  /** Checks without a relative improvement of the validation loss by `minDelta` before a plateau is declared. @default 2 */
  readonly patience?: number;
  /** @default 0.001 */
  readonly minDelta?: number;
  /** Tolerated worsening: the cut may raise the validation loss to (1 + twt)·L. @default 0.05 */
  readonly twt?: number;
  /** Bisection iterations over the cut size. @default 12 */
  readonly bisectionSteps?: number;
  /** Never prune beyond this fraction of the targets. @default 0.999 */
  readonly maxSparsity?: number;
  /** @default all kernels: `{ roles: ['kernel'] }` */
  readonly params?: ParamSelector;
}

/** Every problem with a LOBSTER config. */
export function validateLobsterConfig(config: JsonObject): Issue[] {
  const c = new ConfigChecker(config, [
    'every',
    'patience',
    'minDelta',
    'twt',
    'bisectionSteps',
    'maxSparsity',
    'params',
  ]);
  c.number('every', { min: 1, integer: true });
  c.number('patience', { min: 1, integer: true });
  c.number('minDelta', { min: 0 });
  c.number('twt', { min: 0 });
  c.number('bisectionSteps', { min: 1, max: 64, integer: true });
  c.number('maxSparsity', { min: 0, max: 1, minOpen: true, maxOpen: true });
  c.add(validateParamSelector(config.params, 'params'));
  return c.issues;
}

/**
 * LOBSTER's pruning rule (Tartaglione et al. 2022): when the validation loss
 * plateaus, find by bisection the largest global magnitude cut that keeps the
 * validation loss within (1 + twt) of its current value, and apply it. The
 * loss-sensitivity decay w·ReLU(1 − |∂L/∂w|) is the `selectiveWeightDecay`
 * objective with the LOBSTER factor in @moprune/objectives.
 *
 * The bisection assumes the loss grows with the cut size (true for magnitude
 * cuts in practice); each probe masks a candidate cut, evaluates, and restores
 * the weights and masks exactly.
 */
export function createLobsterPruner(config: Omit<LobsterConfig, 'type'> & { type?: 'lobster' } = {}): Pruner {
  const json: JsonObject = { type: 'lobster', ...(config as unknown as JsonObject) };
  throwIfIssues('lobster pruner', validateLobsterConfig(json));
  const patience = config.patience ?? 2;
  const minDelta = config.minDelta ?? 0.001;
  const twt = config.twt ?? 0.05;
  const bisectionSteps = config.bisectionSteps ?? 12;
  const maxSparsity = config.maxSparsity ?? 0.999;
  const selector = config.params ?? { roles: ['kernel'] };
  let every = config.every ?? 1;
  let net: Network | undefined;
  let targets: string[] = [];
  let best = Number.POSITIVE_INFINITY;
  let wait = 0;
  let cuts = 0;

  return {
    name: 'lobster',
    config: json,
    init(ctx) {
      net = ctx.net;
      every = config.every ?? ctx.stepsPerEpoch;
      targets = requireTargets(ctx.net, selector, 'lobster');
    },
    async afterStep(ctx) {
      net = ctx.net;
      if ((ctx.step + 1) % every !== 0) {
        if (ctx.net.maskedParams().length > 0) ctx.net.applyMasks();
        return undefined;
      }
      const { loss } = await ctx.evaluate('validation');
      if (loss < best * (1 - minDelta)) {
        best = loss;
        wait = 0;
      } else {
        wait++;
      }
      if (wait < patience) {
        if (ctx.net.maskedParams().length > 0) ctx.net.applyMasks();
        return undefined;
      }
      const state = await readCutState(ctx.net, targets);
      const limit = Math.floor(state.total * (1 - maxSparsity));
      let lo = 0;
      let hi = Math.max(0, state.liveCount - limit);
      const budget = (1 + twt) * loss;
      for (let i = 0; i < bisectionSteps && lo < hi; i++) {
        const mid = Math.ceil((lo + hi) / 2);
        applyGlobalCut(ctx.net, state, mid);
        const probe = await ctx.evaluate('validation');
        restoreCut(ctx.net, state);
        if (probe.loss <= budget) lo = mid;
        else hi = mid - 1;
      }
      if (lo > 0) {
        applyGlobalCut(ctx.net, state, lo);
        cuts++;
      } else if (ctx.net.maskedParams().length > 0) {
        ctx.net.applyMasks();
      }
      wait = 0;
      best = Number.POSITIVE_INFINITY;
      return undefined;
    },
    targets: () => targets,
    metrics() {
      if (!net) return {};
      const { sparsity, zeros, total } = maskSparsity(net, targets);
      return { sparsity, zeros, total, cuts };
    },
    state(): ComponentState {
      return { json: { targets, best: Number.isFinite(best) ? best : null, wait, cuts, every }, arrays: {} };
    },
    load(state) {
      const s = state.json;
      if (!Array.isArray(s.targets) || typeof s.wait !== 'number' || typeof s.cuts !== 'number') {
        throw new PrunerError('STATE_MISMATCH', 'lobster pruner: state lacks targets/wait/cuts');
      }
      targets = s.targets as string[];
      best = typeof s.best === 'number' ? s.best : Number.POSITIVE_INFINITY;
      wait = s.wait;
      cuts = s.cuts;
      if (typeof s.every === 'number') every = s.every;
    },
  };
}
