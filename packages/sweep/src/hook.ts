import type { SweepPlan, SweepResult } from './coordinator.js';

/**
 * How a host (the `moprune reproduce` command) offers an experiment its sweep
 * executor: the experiment hands it a plan, the host runs it on the executor
 * its user chose (a local pool, BullMQ workers) with its progress display.
 */
export interface SweepHook {
  /** Runs a sweep to its end (or until interrupted) and returns its result. */
  run(plan: SweepPlan): Promise<SweepResult>;
  /** Where the sweeps go: `<store>/<plan.id>/<trial id>`. */
  readonly store: string;
}

const HOOK = Symbol.for('@moprune/sweep/hook');

/**
 * `options` with a sweep hook attached (under a registered symbol, so core's
 * `ExperimentRunOptions` need not know about sweeps and any copy of this package finds it).
 */
export function withSweepHook<T extends object>(options: T, hook: SweepHook): T {
  return Object.assign(Object.create(null) as object, options, { [HOOK]: hook }) as T;
}

/** The sweep hook a host attached to an experiment's options, if any (run the trials in-process otherwise). */
export function sweepHookOf(options: object): SweepHook | undefined {
  return (options as { [HOOK]?: SweepHook })[HOOK];
}
