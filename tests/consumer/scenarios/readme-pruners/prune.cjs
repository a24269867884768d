// CommonJS consumer: the same packages through require().
const { createNetwork, Rng } = require('@moprune/core');
const { createItpPruner } = require('@moprune/pruners/unstructured');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');

(async () => {
  await tf.setBackend('cpu');
  const net = createNetwork(
    {
      name: 'cjs-mlp',
      inputShape: [6],
      nodes: [{ id: 'fc', op: 'dense', inputs: ['input'], units: 4 }],
      outputs: ['fc'],
    },
    { seed: 2 },
  );
  const itp = createItpPruner({ threshold: 0.3, regrow: false });
  itp.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
  const w = net.params.get('fc/kernel').dataSync();
  if (w.some((v) => v !== 0 && Math.abs(v) <= 0.3)) throw new Error('ITP left a small weight');
  console.log(`CONSUMER-OK pruners (cjs): sparsity ${itp.metrics().sparsity.toFixed(3)}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
