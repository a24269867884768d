// Bundled by run.mjs (esbuild, one copy of every @tensorflow package, from their ESM sources):
// tfjs-core's own spec files, its test utilities, the stock backends and moprune's backends.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend, wasmBinaryDirectory } from '@moprune/backend';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { setTestEnvs, setupTestFilters } from '@tensorflow/tfjs-core/dist/jasmine_util';

export { setTestEnvs, setupTestFilters, tf };

/** Registers backend `name` as moprune does (gradients, kernel replacements, the native backend). */
export function init(name) {
  return initBackend({ backend: name, silent: true, loadNative: () => import('@moprune/native') });
}

/** Activates tfjs's own backend `name` (`cpu` or `wasm`) without anything of moprune: the baseline. */
export async function initStock(name) {
  if (name === 'wasm') setWasmPaths(wasmBinaryDirectory());
  if (!(await tf.setBackend(name))) throw new Error(`stock ${name} did not initialize`);
  return { backend: name };
}

/** Loads (registers with jasmine) every spec file of tfjs-core. */
export function loadSpecs() {
  return import('@tensorflow/tfjs-core/dist/tests');
}
