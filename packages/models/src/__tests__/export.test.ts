import { createNetwork, type NetworkSpec, toLayersModel } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { hps, lenet5, lenet300100, mdmtn, resnet20, vggLike } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('every model exports to a tf.LayersModel that computes the same outputs', () => {
  it.each([
    ['LeNet-300-100', lenet300100({ gates: 'units' })],
    ['LeNet-5 classic', lenet5({ gates: 'units' })],
    ['LeNet-5 Reiners', lenet5({ variant: 'reiners' })],
    ['LeNet-5 Caffe', lenet5({ variant: 'caffe' })],
    ['VGG-like', vggLike()],
    ['ResNet-20 gated', resnet20({ gates: 'units+layers' })],
    ['HPS', hps()],
    ['MDMTN Cifar10Mnist', mdmtn({ variant: 'cifar10Mnist' })],
  ] as const)('%s', async (_, spec: NetworkSpec) => {
    const before = tf.memory().numTensors;
    const net = createNetwork(spec, { seed: 4 });
    const model = toLayersModel(net);
    const x = tf.randomUniform([2, ...spec.inputShape], 0, 1, 'float32', 9);
    const ours = net.apply(x);
    const predicted = model.predict(x);
    const theirs = Array.isArray(predicted) ? predicted : [predicted];
    expect(theirs).toHaveLength(spec.outputs.length);
    for (let i = 0; i < ours.length; i++) {
      // logSoftmax outputs export as softmax (tfjs-layers has no log-softmax activation).
      const logProbs = spec.outputs[i]!.endsWith('logSoftmax');
      const probs = logProbs ? tf.exp(ours[i]!) : undefined;
      const a = await (probs ?? ours[i]!).data();
      probs?.dispose();
      const b = await theirs[i]!.data();
      expect(b.length).toBe(a.length);
      let worst = 0;
      for (let j = 0; j < a.length; j++) {
        worst = Math.max(worst, Math.abs(a[j]! - b[j]!) / Math.max(1, Math.abs(a[j]!)));
      }
      expect(worst).toBeLessThan(1e-4);
    }
    tf.dispose([x, ...ours, ...theirs]);
    model.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
