/**
 * @moprune/backend sits below @moprune/core in the package graph, so it cannot
 * import core's `MopruneError`; {@link BackendError} has the same shape
 * (`name`, `code`, `issues`, `details`, `cause`), which is what core's
 * `isMopruneError` checks.
 */

/** One problem found while validating input. Same shape as `@moprune/core`'s `Issue`. */
export interface BackendIssue {
  /** Dotted path of the offending field, e.g. `options.backend` or `env.MOPRUNE_BACKEND`. */
  readonly path: string;
  /** What is wrong, in words a user can act on. */
  readonly message: string;
}

/** Codes thrown by @moprune/backend. Part of the public API: never renamed. */
export type BackendErrorCode =
  /** The requested backend name is not one of {@link BACKEND_NAMES}. */
  | 'UNKNOWN_BACKEND'
  /** The requested backend needs a package that cannot be resolved. */
  | 'BACKEND_NOT_INSTALLED'
  /** The backend's package resolves but does not load or initialize. */
  | 'BACKEND_UNAVAILABLE'
  /** An option passed to a function of this package is invalid. */
  | 'INVALID_ARGUMENT'
  /** The gradient-correctness suite found a gradient that disagrees with its float64 reference. */
  | 'GRADIENT_MISMATCH';

/** Options of {@link BackendError}. */
export interface BackendErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** Every problem found. */
  readonly issues?: readonly BackendIssue[];
  /** Machine-readable facts (backend name, package name …). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An error thrown by @moprune/backend. `name` is always `'BackendError'`. */
export class BackendError extends Error {
  /** Stable, machine-readable code. */
  readonly code: BackendErrorCode;
  /** Every problem found. */
  readonly issues: readonly BackendIssue[];
  /** Machine-readable facts about the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: BackendErrorCode, message: string, options: BackendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BackendError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
  }
}
