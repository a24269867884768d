/**
 * Errors carry a stable `name` and `code` (and an optional `cause`), because
 * `instanceof` fails when an app ends up with two copies of a package.
 * Every package defines its own closed union of codes and a subclass.
 */

/** One problem found while validating input; an error may list many. */
export interface Issue {
  /** Dotted path of the offending field, e.g. `solver.lr` or `objectives[1].type`. */
  readonly path: string;
  /** What is wrong, in words a user can act on. */
  readonly message: string;
}

/** Options of {@link MopruneError}. */
export interface MopruneErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** Every problem found, when the error reports several at once. */
  readonly issues?: readonly Issue[];
  /** Machine-readable facts (file name, step, shape …). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Base class of every error moprune throws on purpose.
 * @typeParam C - the closed union of codes of the throwing package.
 */
export class MopruneError<C extends string = string> extends Error {
  /** Stable, machine-readable code; part of the public API. */
  readonly code: C;
  /** Every problem found (config validation reports all at once). */
  readonly issues: readonly Issue[];
  /** Machine-readable facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, options: MopruneErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MopruneError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
  }
}

/** Codes thrown by @moprune/core. */
export type CoreErrorCode =
  | 'INVALID_CONFIG'
  | 'UNKNOWN_REGISTRY_NAME'
  | 'DUPLICATE_REGISTRATION'
  | 'INVALID_DEFINITION'
  | 'INVALID_SPEC'
  | 'SHAPE_MISMATCH'
  | 'UNKNOWN_PARAMETER'
  | 'NON_FINITE_LOSS'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'INTERRUPTED'
  | 'UNSUPPORTED_OP'
  /** Another process is writing the run directory (its lock file names it). */
  | 'RUN_LOCKED'
  /** A directory cannot be created or written (a parent is a file, no permission). */
  | 'NOT_WRITABLE'
  /** No TensorFlow.js backend is registered; the message says what to install. */
  | 'NO_BACKEND';

/** An error thrown by @moprune/core. `name` is always `'CoreError'`. */
export class CoreError extends MopruneError<CoreErrorCode> {
  constructor(code: CoreErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'CoreError';
  }
}

/**
 * True when `error` is a moprune error (from any copy of any moprune package),
 * optionally with the given `code`. Checks `code` and `issues` by shape, not by `instanceof`.
 */
export function isMopruneError(error: unknown, code?: string): error is MopruneError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; issues?: unknown };
  if (typeof e.code !== 'string' || !Array.isArray(e.issues)) return false;
  return code === undefined || e.code === code;
}

/** Formats issues as an indented bullet list for error messages. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
}
