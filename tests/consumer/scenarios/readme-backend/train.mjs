// ESM consumer: pick the backend automatically (wasm here), take one training step.

import { BackendError, initBackend } from '@moprune/backend';
import * as tf from '@tensorflow/tfjs';

const lines = [];
const selection = await initBackend({ logger: (l) => lines.push(l) });
if (selection.backend !== 'wasm' || tf.getBackend() !== 'wasm')
  throw new Error(`expected wasm, got ${selection.backend}`);
if (lines.length !== 1 || !lines[0].includes('backend: wasm'))
  throw new Error(`unexpected log ${JSON.stringify(lines)}`);

const filter = tf.variable(tf.randomNormal([3, 3, 1, 4], 0, 0.3, 'float32', 1));
const dense = tf.variable(tf.randomNormal([4 * 4 * 4, 3], 0, 0.3, 'float32', 2));
const x = tf.randomNormal([8, 8, 8, 1], 0, 1, 'float32', 3);
const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
const before = filter.dataSync().slice();
const optimizer = tf.train.sgd(0.1);
const loss = optimizer.minimize(() => {
  // Conv2D's filter gradient has no wasm kernel in stock tfjs: this step needs moprune's gradient.
  const h = tf.maxPool(tf.relu(tf.conv2d(x, filter, 1, 'same')), 2, 2, 'valid');
  return tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.reshape(h, [8, 64]), dense));
}, true);
const value = loss.dataSync()[0];
const moved = filter.dataSync().some((v, i) => v !== before[i]);
if (!Number.isFinite(value) || !moved)
  throw new Error(`training step failed: loss ${value}, filter moved ${moved}`);

const err = await initBackend({ backend: 'gpu', silent: true }).catch((e) => e);
if (!(err instanceof BackendError) || err.code !== 'UNKNOWN_BACKEND')
  throw new Error(`expected UNKNOWN_BACKEND, got ${err}`);
console.log(`CONSUMER-OK esm ${selection.backend} loss=${value.toFixed(4)}`);
