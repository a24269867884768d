import { MopruneError, type MopruneErrorOptions } from '@moprune/core';

/** Codes thrown by @moprune/sweep. */
export type SweepErrorCode =
  /** The sweep file or definition is malformed; `issues` lists every problem with its path. */
  | 'INVALID_SWEEP'
  /** One or more trial configs fail their runner's validation; `issues` lists every problem, prefixed by `trials[<id>]`. */
  | 'INVALID_TRIAL'
  /** A trial names a runner that is not registered (import the module that defines it). */
  | 'UNKNOWN_RUNNER'
  /** Another coordinator holds this sweep (its holder is in `details`). */
  | 'SWEEP_LOCKED'
  /** The store already holds a sweep of this id with other trials (a changed definition). */
  | 'SWEEP_CHANGED'
  /** The sweep's state file cannot be read as a sweep state. */
  | 'STATE_CORRUPT'
  /** The store directory cannot be created or written. */
  | 'STORE_NOT_WRITABLE'
  /** Redis did not answer at the given URL. */
  | 'REDIS_UNREACHABLE'
  /** A trial failed (after its retries); `details.trial` names it. */
  | 'TRIAL_FAILED'
  /** A trial host process exited while running a trial (killed, out of memory …). */
  | 'HOST_EXITED'
  /** A function was called with a bad argument. */
  | 'INVALID_ARGUMENT';

/** An error thrown by @moprune/sweep. `name` is always `'SweepError'`. */
export class SweepError extends MopruneError<SweepErrorCode> {
  constructor(code: SweepErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'SweepError';
  }
}
