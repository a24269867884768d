// CommonJS consumer: explicit cpu and wasm, one training step each, and the testing subpath.
const tf = require('@tensorflow/tfjs');
const { initBackend } = require('@moprune/backend');
const { runGradientSuite } = require('@moprune/backend/testing');

async function step() {
  const w = tf.variable(tf.randomNormal([2, 2, 1, 2], 0, 0.5, 'float32', 4));
  const x = tf.randomNormal([2, 5, 5, 1], 0, 1, 'float32', 5);
  const optimizer = tf.train.sgd(0.1);
  const loss = optimizer.minimize(() => tf.mean(tf.square(tf.conv2d(x, w, 2, 'valid', 'NHWC', 1))), true);
  const value = loss.dataSync()[0];
  tf.dispose([w, x, loss]);
  optimizer.dispose();
  if (!Number.isFinite(value)) throw new Error(`loss ${value}`);
  return value;
}

async function main() {
  const results = [];
  for (const backend of ['cpu', 'wasm']) {
    const selection = await initBackend({ backend, silent: true });
    if (tf.getBackend() !== backend) throw new Error(`expected ${backend}, got ${tf.getBackend()}`);
    results.push(`${selection.backend}:${(await step()).toFixed(4)}`);
  }
  const report = await runGradientSuite({ backend: 'wasm', include: ['Conv2D', 'MaxPool'] });
  if (report.results.length === 0) throw new Error('gradient suite ran no case');
  console.log(`CONSUMER-OK cjs ${results.join(' ')} suite=${report.results.length} cases`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
