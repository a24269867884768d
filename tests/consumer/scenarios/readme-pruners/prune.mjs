// ESM consumer: build a network from a spec, prune it to 90% with a magnitude
// schedule created from JSON through the registry, check the mask invariants.
import { compact, createNetwork, networkMetrics, Rng, registries } from '@moprune/core';
import { createBernoulliGatePruner, PrunerError } from '@moprune/pruners';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

await tf.setBackend('cpu');
const spec = {
  name: 'consumer-mlp',
  inputShape: [20],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 16 },
    { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'out', op: 'dense', inputs: ['relu'], units: 3 },
  ],
  outputs: ['out'],
};
const net = createNetwork(spec, { seed: 1 });
const pruner = registries().pruners.create(
  {
    type: 'magnitude',
    scope: 'global',
    schedule: { type: 'constantSparsity', targetSparsity: 0.9, frequency: 1 },
  },
  undefined,
);
pruner.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
await pruner.afterStep({
  net,
  step: 0,
  epoch: 0,
  rng: Rng.fromSeed(0),
  evaluate: async () => ({ accuracy: 1, loss: 0 }),
});
const m = networkMetrics(net);
const kernels = ['fc1/kernel', 'out/kernel'].map((n) => m.params[n]);
const zeros = kernels.reduce((s, p) => s + p.total - p.nonzero, 0);
const total = kernels.reduce((s, p) => s + p.total, 0);
if (zeros !== Math.round(0.9 * total))
  throw new Error(`expected ${Math.round(0.9 * total)} zeros, got ${zeros}`);
if (pruner.metrics().sparsity !== zeros / total)
  throw new Error('reported sparsity differs from the counted zeros');
const small = compact(net);
const x = tf.randomNormal([4, 20], 0, 1, 'float32', 3);
const a = net.apply(x)[0].dataSync();
const b = small.apply(x)[0].dataSync();
if (a.some((v, i) => Math.abs(v - b[i]) > 1e-5)) throw new Error('compacted outputs differ');
const err = (() => {
  try {
    createBernoulliGatePruner({ thetaInit: 2 });
  } catch (e) {
    return e;
  }
})();
if (!(err instanceof PrunerError) || err.code !== 'INVALID_CONFIG')
  throw new Error(`expected a typed error, got ${err}`);
console.log(
  `CONSUMER-OK pruners (esm): ${zeros}/${total} kernel weights pruned, compacted params ${networkMetrics(small).dense.params}`,
);
