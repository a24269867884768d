import { MopruneError, type MopruneErrorOptions } from '@moprune/core';

/**
 * Codes thrown by @moprune/native.
 * - `NATIVE_UNAVAILABLE`: the addon is not built or cannot load (message says why).
 * - `BAD_SHAPE`: a kernel received shapes it cannot combine (message names kernel and shapes).
 * - `BAD_DTYPE`: a kernel received inputs of different or unsupported dtypes.
 * - `INVALID_OPTION`: an option of {@link registerNativeBackend} is out of range.
 */
export type NativeErrorCode = 'NATIVE_UNAVAILABLE' | 'BAD_SHAPE' | 'BAD_DTYPE' | 'INVALID_OPTION';

/** An error thrown by @moprune/native. `name` is always `'NativeError'`. */
export class NativeError extends MopruneError<NativeErrorCode> {
  constructor(code: NativeErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'NativeError';
  }
}
