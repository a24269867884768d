import { type Issue, MopruneError, type MopruneErrorOptions } from '@moprune/core';

/** Codes thrown by @moprune/pruners. */
export type PrunerErrorCode =
  /** A pruner config is invalid; `issues` lists every problem. */
  | 'INVALID_CONFIG'
  /** A structured pruner was asked to gate parameters that belong to no structure group. */
  | 'NO_STRUCTURE_GROUP'
  /** A method was called before `init`. */
  | 'NOT_INITIALIZED'
  /** `load` got a state that does not fit this pruner or network. */
  | 'STATE_MISMATCH';

/** An error thrown by @moprune/pruners. `name` is always `'PrunerError'`. */
export class PrunerError extends MopruneError<PrunerErrorCode> {
  constructor(code: PrunerErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'PrunerError';
  }
}

/** Throws one INVALID_CONFIG error listing every issue, if there are any. */
export function throwIfIssues(kind: string, issues: readonly Issue[]): void {
  if (issues.length === 0) return;
  const list = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
  throw new PrunerError('INVALID_CONFIG', `invalid ${kind} config:\n${list}`, { issues });
}
