import { formatIssues, type Issue, MopruneError, type MopruneErrorOptions } from '@moprune/core';

/** Codes thrown by @moprune/objectives (a closed union; part of the public API). */
export type ObjectiveErrorCode =
  /** A config failed validation; `issues` lists every problem. */
  | 'INVALID_CONFIG'
  /** A parameter selector names a parameter the network does not have. */
  | 'UNKNOWN_PARAMETER'
  /** A parameter or group selector matched nothing on this network. */
  | 'EMPTY_SELECTION'
  /** A tensor (output, label, gate probability, gradient) has the wrong shape. */
  | 'SHAPE_MISMATCH'
  /** Sparse labels outside `[0, classes)` or not integers. */
  | 'INVALID_LABELS'
  /** `value` was called before `prepare` on an objective that needs it. */
  | 'NOT_PREPARED'
  /** `prepare` found no data gradient for a selected parameter. */
  | 'MISSING_GRADIENT'
  /** The network's groups/gate sites describe something this objective cannot model. */
  | 'UNSUPPORTED_NETWORK'
  /** A bad argument to a pure function or setter. */
  | 'INVALID_ARGUMENT';

/** An error thrown by @moprune/objectives. `name` is always `'ObjectiveError'`. */
export class ObjectiveError extends MopruneError<ObjectiveErrorCode> {
  constructor(code: ObjectiveErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ObjectiveError';
  }
}

/** Throws one INVALID_CONFIG error listing every issue, when there are any. */
export function throwIfIssues(what: string, issues: readonly Issue[]): void {
  if (issues.length === 0) return;
  throw new ObjectiveError('INVALID_CONFIG', `invalid ${what} config:\n${formatIssues(issues)}`, { issues });
}
