// ESM consumer with @moprune/core alone: no backend is installed, so the first
// tensor op must be a typed NO_BACKEND that names what to install.
import { createNetwork, isMopruneError } from '@moprune/core';

const spec = {
  name: 'mlp',
  inputShape: [4],
  nodes: [{ id: 'fc', op: 'dense', inputs: ['input'], units: 2 }],
  outputs: ['fc'],
};
let error;
try {
  createNetwork(spec, { seed: 1 });
} catch (e) {
  error = e;
}
if (!isMopruneError(error, 'NO_BACKEND') || error.name !== 'CoreError')
  throw new Error(`expected CoreError NO_BACKEND, got ${error?.stack ?? error}`);
for (const hint of [
  'npm install @tensorflow/tfjs-backend-cpu',
  'npm install @moprune/backend @tensorflow/tfjs-backend-wasm',
])
  if (!error.message.includes(hint)) throw new Error(`the message does not say '${hint}':\n${error.message}`);
console.log(
  'CONSUMER-OK core alone (esm): createNetwork without a backend is NO_BACKEND naming what to install',
);
