// CommonJS consumer with @moprune/core alone: the same typed error through require().
const { createNetwork } = require('@moprune/core');

try {
  createNetwork(
    {
      name: 'mlp',
      inputShape: [4],
      nodes: [{ id: 'fc', op: 'dense', inputs: ['input'], units: 2 }],
      outputs: ['fc'],
    },
    { seed: 1 },
  );
  throw new Error('createNetwork ran without a backend');
} catch (e) {
  if (e.code !== 'NO_BACKEND') throw e;
}
console.log('CONSUMER-OK core alone (cjs): NO_BACKEND');
