import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

/**
 * The directory (with a trailing separator) holding the installed
 * `@tensorflow/tfjs-backend-wasm` `.wasm` binaries. In Node the wasm backend
 * otherwise looks for them next to the calling script and fails to start.
 * Resolved from this module's location so it finds the copy this package's
 * peer resolves to, in the ESM and the CommonJS build alike.
 */
export function wasmBinaryDirectory(): string {
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${sep}`;
}
