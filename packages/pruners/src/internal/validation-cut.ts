import type { ComponentState, JsonObject, Network, ParamSelector, Pruner } from '@moprune/core';
import { PrunerError } from '../errors.js';
import { applyGlobalCut, type CutState, readCutState, restoreCut } from './global-cut.js';
import { maskSparsity } from './masks.js';
import { requireTargets } from './targets.js';

/** What a validation-guarded cut may cost: the probe must satisfy this against the pre-cut figures. */
export type CutBudget =
  /** validation loss ≤ (1 + tolerance)·current loss (LOBSTER's twt). */
  | { readonly metric: 'loss'; readonly tolerance: number }
  /** validation accuracy ≥ current accuracy − tolerance (absolute, 0–1). */
  | { readonly metric: 'accuracy'; readonly tolerance: number };

/** Settings of {@link createValidationCutPruner}: every field already validated. */
export interface ValidationCutSettings {
  /** The pruner's name and config `type`. */
  readonly name: string;
  readonly config: JsonObject;
  /** Steps between validation checks; undefined = the run's steps per epoch. */
  readonly every: number | undefined;
  /**
   * Checks without a relative validation-loss improvement of `minDelta` before
   * a cut is searched; 0 searches at every check.
   */
  readonly patience: number;
  readonly minDelta: number;
  readonly budget: CutBudget;
  readonly bisectionSteps: number;
  readonly maxSparsity: number;
  readonly selector: ParamSelector;
}

/**
 * The largest number of live weights that can be masked (smallest |w|
 * first, one global ranking) while `accept` holds, by bisection over the cut
 * size in [0, maxPrune]. Equivalently the largest global magnitude threshold
 * T that keeps the validation figure within budget. Each probe masks a
 * candidate cut, evaluates, and restores weights and masks exactly. Assumes
 * acceptability falls with the cut size (true for magnitude cuts in
 * practice; otherwise the result is some acceptable cut, not the largest).
 */
export async function largestAcceptableCut(
  net: Network,
  state: CutState,
  maxPrune: number,
  steps: number,
  accept: () => Promise<boolean>,
): Promise<number> {
  let lo = 0;
  let hi = Math.max(0, maxPrune);
  for (let i = 0; i < steps && lo < hi; i++) {
    const mid = Math.ceil((lo + hi) / 2);
    applyGlobalCut(net, state, mid);
    const ok = await accept();
    restoreCut(net, state);
    if (ok) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The magnitude of the largest weight a cut of `prune` removes: the global threshold T it amounts to. */
function cutThreshold(state: CutState, prune: number): number {
  const live: number[] = [];
  for (const [a, l] of state.live.entries()) {
    const m = state.magnitudes[a]!;
    for (let i = 0; i < l.length; i++) if (l[i] !== 0) live.push(Math.abs(m[i]!));
  }
  live.sort((x, y) => x - y);
  return live[Math.min(prune, live.length) - 1] ?? 0;
}

/**
 * A pruner that, at validation checks (optionally only once the validation
 * loss has plateaued), applies the largest global magnitude cut that keeps
 * the validation figure within `budget`. LOBSTER's rule and Tartaglione et
 * al. 2018's thresholding are both this pruner with different settings.
 */
export function createValidationCutPruner(s: ValidationCutSettings): Pruner {
  let every = s.every ?? 1;
  let net: Network | undefined;
  let targets: string[] = [];
  let best = Number.POSITIVE_INFINITY;
  let wait = 0;
  let cuts = 0;
  let threshold = 0;

  const reapply = (n: Network): void => {
    if (n.maskedParams().length > 0) n.applyMasks();
  };

  return {
    name: s.name,
    config: s.config,
    init(ctx) {
      net = ctx.net;
      every = s.every ?? ctx.stepsPerEpoch;
      targets = requireTargets(ctx.net, s.selector, s.name);
    },
    async afterStep(ctx) {
      net = ctx.net;
      if ((ctx.step + 1) % every !== 0) {
        reapply(ctx.net);
        return undefined;
      }
      const current = await ctx.evaluate('validation');
      if (current.loss < best * (1 - s.minDelta)) {
        best = current.loss;
        wait = 0;
      } else {
        wait++;
      }
      if (wait < s.patience) {
        reapply(ctx.net);
        return undefined;
      }
      const state = await readCutState(ctx.net, targets);
      const limit = Math.floor(state.total * (1 - s.maxSparsity));
      const budget = s.budget;
      const prune = await largestAcceptableCut(
        ctx.net,
        state,
        state.liveCount - limit,
        s.bisectionSteps,
        async () => {
          const probe = await ctx.evaluate('validation');
          return budget.metric === 'loss'
            ? probe.loss <= (1 + budget.tolerance) * current.loss
            : probe.accuracy >= current.accuracy - budget.tolerance;
        },
      );
      if (prune > 0) {
        threshold = cutThreshold(state, prune);
        applyGlobalCut(ctx.net, state, prune);
        cuts++;
      } else {
        reapply(ctx.net);
      }
      wait = 0;
      best = Number.POSITIVE_INFINITY;
      return undefined;
    },
    targets: () => targets,
    metrics() {
      if (!net) return {};
      const { sparsity, zeros, total } = maskSparsity(net, targets);
      return { sparsity, zeros, total, cuts, threshold };
    },
    state(): ComponentState {
      return {
        json: { targets, best: Number.isFinite(best) ? best : null, wait, cuts, every, threshold },
        arrays: {},
      };
    },
    load(state) {
      const j = state.json;
      if (!Array.isArray(j.targets) || typeof j.wait !== 'number' || typeof j.cuts !== 'number') {
        throw new PrunerError('STATE_MISMATCH', `${s.name} pruner: state lacks targets/wait/cuts`);
      }
      targets = j.targets as string[];
      best = typeof j.best === 'number' ? j.best : Number.POSITIVE_INFINITY;
      wait = j.wait;
      cuts = j.cuts;
      if (typeof j.every === 'number') every = j.every;
      threshold = typeof j.threshold === 'number' ? j.threshold : 0;
    },
  };
}
