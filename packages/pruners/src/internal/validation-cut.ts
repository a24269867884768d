import type {
  ComponentState,
  JsonObject,
  Network,
  ParamSelector,
  Pruner,
  PrunerStepContext,
} from '@moprune/core';
import { PrunerError } from '../errors.js';
import { CheckLedger, type KeepConfig } from './checks.js';
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
  /** Cut only when validation accuracy is strictly above this; also the keep floor. 0 = always. */
  readonly floor: number;
  readonly evaluateTest: boolean;
  readonly keep: KeepConfig | undefined;
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
 * A pruner that, at validation checks (every `every` mini-batches of an
 * epoch, counted within the epoch; optionally only once the validation loss
 * has plateaued, and only while validation accuracy is above `floor`),
 * applies the largest global magnitude cut that keeps the validation figure
 * within `budget`. LOBSTER's rule and Tartaglione et al. 2018's thresholding
 * are both this pruner with different settings. Checks are logged and the
 * kept checkpoint handed back as the relevance pruner does (see CheckLedger).
 */
export function createValidationCutPruner(s: ValidationCutSettings): Pruner {
  let every = s.every ?? 1;
  let net: Network | undefined;
  let targets: string[] = [];
  let totalSteps = Number.POSITIVE_INFINITY;
  let best = Number.POSITIVE_INFINITY;
  let wait = 0;
  let cuts = 0;
  let threshold = 0;
  const ledger = new CheckLedger({
    pruner: s.name,
    floor: s.floor,
    evaluateTest: s.evaluateTest,
    keep: s.keep,
  });

  const reapply = (n: Network): void => {
    if (n.maskedParams().length > 0) n.applyMasks();
  };

  const check = async (ctx: PrunerStepContext): Promise<void> => {
    const current = await ledger.measure(ctx);
    const state = await readCutState(ctx.net, targets);
    await ledger.record(ctx, current, state.liveCount, state.total);
    if (current.loss < best * (1 - s.minDelta)) {
      best = current.loss;
      wait = 0;
    } else {
      wait++;
    }
    if (wait < s.patience || !ledger.meetsFloor(current.accuracy)) {
      ledger.settle(ctx, 0);
      return;
    }
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
    }
    ledger.settle(ctx, prune);
    wait = 0;
    best = Number.POSITIVE_INFINITY;
  };

  return {
    name: s.name,
    config: s.config,
    init(ctx) {
      net = ctx.net;
      totalSteps = ctx.totalSteps;
      every = s.every ?? ctx.stepsPerEpoch;
      if (every > ctx.stepsPerEpoch) {
        throw new PrunerError(
          'INVALID_CONFIG',
          `${s.name} pruner: every = ${every} batches, but an epoch has only ${ctx.stepsPerEpoch}; checks count batches within the epoch, so none would ever run`,
          { issues: [{ path: 'every', message: `must be ≤ the ${ctx.stepsPerEpoch} batches of an epoch` }] },
        );
      }
      targets = requireTargets(ctx.net, s.selector, s.name);
    },
    async afterStep(ctx) {
      net = ctx.net;
      if ((ctx.batch + 1) % every === 0) await check(ctx);
      if (!ledger.restoreIfLast(ctx, totalSteps)) reapply(ctx.net);
      return undefined;
    },
    targets: () => targets,
    metrics() {
      if (!net) return {};
      const { sparsity, zeros, total } = maskSparsity(net, targets);
      return { sparsity, zeros, total, cuts, threshold, ...ledger.metrics() };
    },
    state(): ComponentState {
      const l = ledger.state();
      return {
        json: {
          targets,
          best: Number.isFinite(best) ? best : null,
          wait,
          cuts,
          every,
          threshold,
          checks: l.json,
        },
        arrays: l.arrays,
      };
    },
    load(state) {
      const j = state.json;
      if (
        !Array.isArray(j.targets) ||
        typeof j.wait !== 'number' ||
        typeof j.cuts !== 'number' ||
        typeof j.checks !== 'object' ||
        j.checks === null
      ) {
        throw new PrunerError('STATE_MISMATCH', `${s.name} pruner: state lacks targets/wait/cuts/checks`);
      }
      targets = j.targets as string[];
      best = typeof j.best === 'number' ? j.best : Number.POSITIVE_INFINITY;
      wait = j.wait;
      cuts = j.cuts;
      if (typeof j.every === 'number') every = j.every;
      threshold = typeof j.threshold === 'number' ? j.threshold : 0;
      ledger.load({ json: j.checks as JsonObject, arrays: state.arrays });
    },
  };
}
