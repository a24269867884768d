import type { TrialSpec } from './definition.js';
import type { TrialOutcome } from './trial.js';

/** A finished trial as a strategy sees it. */
export interface FinishedTrial {
  readonly trial: TrialSpec;
  readonly outcome: TrialOutcome;
}

/**
 * Proposes a sweep's trials, possibly from the results of earlier ones (an
 * ask-tell interface, like the weight searches of `@moprune/solvers`). The
 * coordinator calls `next()` until it returns undefined, and after each
 * result `tell()` (always in the order the trials were proposed, whatever
 * order they finished in) followed by `next()` again. The sweep ends when
 * every proposed trial is told and `next()` returns undefined.
 *
 * A strategy must be a deterministic function of what it was told (seed any
 * randomness): a restarted coordinator rebuilds it by replaying the recorded
 * results, and checks that it proposes the same trials again. With these
 * rules a sweep proposes the same trials whichever executor ran it.
 */
export interface SweepStrategy {
  /** The next trial to run, or undefined: none until more results are told, or none at all. */
  next(): TrialSpec | undefined;
  /** A finished trial's outcome. */
  tell(finished: FinishedTrial): void;
}

/** A fixed list of trials: a static sweep. */
export function staticStrategy(trials: readonly TrialSpec[]): SweepStrategy {
  let i = 0;
  return {
    next: () => trials[i++],
    tell: () => {},
  };
}
