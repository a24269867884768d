import type { Issue } from '@moprune/core';

/** Codes thrown by @moprune/report. */
export type ReportErrorCode =
  /** The directory has no result.json / config.json, or is no directory at all. */
  | 'RUN_NOT_FOUND'
  /** A run file (result.json, metrics.jsonl, checkpoint manifest …) does not have the expected shape. */
  | 'INVALID_RUN'
  /** An option or argument of a report function is invalid. */
  | 'INVALID_ARGUMENT';

/**
 * An error thrown by @moprune/report. `name` is always `'ReportError'`.
 *
 * It has the same shape as core's `MopruneError` (`code`, `issues`,
 * `details`, `cause`), so core's `isMopruneError` recognizes it; it does not
 * extend the class because this package imports only types from core (the
 * architecture keeps report free of tfjs at run time).
 */
export class ReportError extends Error {
  /** Stable, machine-readable code; part of the public API. */
  readonly code: ReportErrorCode;
  /** Every problem found. */
  readonly issues: readonly Issue[];
  /** Machine-readable facts (file …). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ReportErrorCode,
    message: string,
    options: {
      readonly cause?: unknown;
      readonly issues?: readonly Issue[];
      readonly details?: Readonly<Record<string, unknown>>;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReportError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
  }
}
