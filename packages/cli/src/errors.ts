import { MopruneError, type MopruneErrorOptions } from '@moprune/core';

/** Codes thrown by @moprune/cli. */
export type CliErrorCode =
  /** The command line is wrong: unknown command/option, missing or extra argument (exit 2). */
  | 'USAGE'
  /** `reproduce` names an experiment that is not registered (exit 2). */
  | 'UNKNOWN_EXPERIMENT'
  /** A file named on the command line is missing or unreadable. */
  | 'FILE_NOT_FOUND'
  /** A file named on the command line is not valid JSON. */
  | 'INVALID_JSON'
  /** The output directory already holds a run and neither --resume nor --force was given. */
  | 'RUN_EXISTS'
  /** A module (`--module`, `moprune.modules`, `$MOPRUNE_MODULES`) could not be imported. */
  | 'MODULE_LOAD_FAILED'
  /** The output directory cannot be created (a part of its path is a file, no permission). */
  | 'NOT_WRITABLE'
  /** `export`: the run directory has no network to export (no checkpoint, no best/ snapshot). */
  | 'NOTHING_TO_EXPORT'
  /** `export`: the network has gates whose evaluation values the chosen checkpoint does not record. */
  | 'GATES_UNKNOWN'
  /** `export`: the output directory exists and is not empty, and --force was not given. */
  | 'OUTPUT_EXISTS';

/** An error thrown by @moprune/cli. `name` is always `'CliError'`. */
export class CliError extends MopruneError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'CliError';
  }
}

/** True for the codes that mean "the command line is wrong" (exit status 2). */
export function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'USAGE' || code === 'UNKNOWN_EXPERIMENT';
}
