import '@tensorflow/tfjs-layers';
import { initBackend } from '@moprune/backend';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

/**
 * A tiny network through every op moprune patches or the models use:
 * conv (same + strided), batch norm, ELU/ReLU, max and average pooling,
 * an option-A shortcut (strided slice + channel pad), global average pooling, dense.
 */
function tinyNet() {
  const init = (shape: number[], seed: number) =>
    tf.variable(tf.randomUniform(shape, -0.3, 0.3, 'float32', seed));
  const p = {
    c1: init([3, 3, 1, 4], 1),
    gamma: tf.variable(tf.ones([4])),
    beta: tf.variable(tf.zeros([4])),
    c2: init([3, 3, 4, 8], 2),
    fc: init([8, 3], 3),
    fcb: tf.variable(tf.zeros([3])),
  };
  const apply = (x: tf.Tensor4D) => {
    let h: tf.Tensor4D = tf.conv2d(x, p.c1 as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.elu(tf.batchNorm(h, mean, variance, p.beta, p.gamma, 1e-3)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'same');
    const r = tf.relu(tf.conv2d(h, p.c2 as tf.Tensor4D, 2, 'same'));
    const s = tf.pad(tf.stridedSlice(h, [0, 0, 0, 0], [...h.shape], [1, 2, 2, 1]), [
      [0, 0],
      [0, 0],
      [0, 0],
      [2, 2],
    ]);
    h = tf.avgPool(tf.add(r, s) as tf.Tensor4D, 2, 1, 'same');
    return tf.add(tf.matMul(tf.mean(h, [1, 2]), p.fc), p.fcb);
  };
  return { vars: Object.values(p), apply };
}

describe.each(['cpu', 'wasm'] as const)('training on %s', (backend) => {
  it('holds tf.memory().numTensors flat from step 1 to step 100 and learns', async () => {
    await initBackend({ backend, silent: true });
    const net = tinyNet();
    const x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const opt = tf.train.sgd(0.1);
    const step = () => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, net.apply(x)), true, net.vars)!;
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    };
    const first = step();
    const afterOne = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 99; i++) last = step();
    expect(tf.memory().numTensors).toBe(afterOne);
    expect(last).toBeLessThan(first * 0.5);
    tf.dispose([x, y, ...net.vars]);
    opt.dispose();
  });
});
