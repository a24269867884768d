import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from './errors.js';

/** What to install and load when no TensorFlow.js backend is registered (also in the README). */
export const NO_BACKEND_HELP = [
  'Install a backend and load it before moprune creates tensors:',
  "  npm install @tensorflow/tfjs-backend-cpu                  then  import '@tensorflow/tfjs-backend-cpu';  (any platform)",
  "  npm install @moprune/backend @tensorflow/tfjs-backend-wasm  then  await initBackend();  (fast training in Node; import { initBackend } from '@moprune/backend')",
].join('\n');

/**
 * Throws a typed error when TensorFlow.js has no backend registered, instead
 * of tfjs's untyped "No backend found in registry" from deep inside the first
 * tensor op. moprune's entry points that create the first tensors of a
 * program (`createNetwork`, `runExperiment`, a dataset's `batches`) call it.
 * @param user - the function about to create tensors, named in the message
 * @param registered - the registered backend names @default `tf.engine().backendNames()`
 * @throws CoreError `NO_BACKEND` naming what to install
 */
export function assertBackend(
  user: string,
  registered: readonly string[] = tf.engine().backendNames(),
): void {
  if (registered.length > 0) return;
  throw new CoreError(
    'NO_BACKEND',
    `${user} needs a TensorFlow.js backend, and none is registered (@tensorflow/tfjs-core ships none).\n${NO_BACKEND_HELP}`,
  );
}
