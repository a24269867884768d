import { type Issue, MopruneError, type MopruneErrorOptions } from '@moprune/core';

/**
 * Codes thrown by @moprune/solvers (a closed union; part of the public API).
 *
 * - `INVALID_CONFIG` — a solver or search config has problems (listed in `issues`).
 * - `WEIGHTS_OFF_SIMPLEX` — weights are negative, non-finite or do not sum to 1.
 * - `EMPTY_OBJECTIVES` — a problem or point set with no objectives.
 * - `OBJECTIVE_COUNT_MISMATCH` — the number of objectives differs from what the config or state expects.
 * - `NON_FINITE_VALUE` — an objective value is NaN or ±Infinity.
 * - `NON_FINITE_GRADIENT` — a gradient holds NaN or ±Infinity.
 * - `NO_GRADIENT` — an objective does not depend on any trainable variable.
 * - `INVALID_REFERENCE_POINT` — a hypervolume reference point is not weakly worse than every point.
 * - `INVALID_POINTS` — a point set has ragged dimensions or non-finite coordinates.
 * - `STATE_MISMATCH` — a saved state does not fit this solver or its variables.
 * - `INVALID_ARGUMENT` — any other bad argument.
 */
export type SolverErrorCode =
  | 'INVALID_CONFIG'
  | 'WEIGHTS_OFF_SIMPLEX'
  | 'EMPTY_OBJECTIVES'
  | 'OBJECTIVE_COUNT_MISMATCH'
  | 'NON_FINITE_VALUE'
  | 'NON_FINITE_GRADIENT'
  | 'NO_GRADIENT'
  | 'INVALID_REFERENCE_POINT'
  | 'INVALID_POINTS'
  | 'STATE_MISMATCH'
  | 'INVALID_ARGUMENT';

/** An error thrown by @moprune/solvers. `name` is always `'SolverError'`. */
export class SolverError extends MopruneError<SolverErrorCode> {
  constructor(code: SolverErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'SolverError';
  }
}

/** A validation issue that also says which error code it stands for. */
export interface CodedIssue extends Issue {
  readonly code?: SolverErrorCode;
}

/**
 * Throws one SolverError listing every issue. The code is the issues' shared
 * specific code when they all have one (e.g. `WEIGHTS_OFF_SIMPLEX`), else `INVALID_CONFIG`.
 */
export function throwIfIssues(what: string, issues: readonly CodedIssue[]): void {
  if (issues.length === 0) return;
  const codes = new Set(issues.map((i) => i.code ?? 'INVALID_CONFIG'));
  const code = codes.size === 1 ? [...codes][0]! : 'INVALID_CONFIG';
  const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
  throw new SolverError(code, `invalid ${what}:\n${lines}`, {
    issues: issues.map(({ path, message }) => ({ path, message })),
  });
}
