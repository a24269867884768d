import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { countMacs, countParams, createNetwork, type NetworkSpec, networkMetrics } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const mlp: NetworkSpec = {
  name: 'mlp',
  inputShape: [4],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 3, init: 'torchDefault' },
    { id: 'r', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'fc2', op: 'dense', inputs: ['r'], units: 2, init: 'torchDefault' },
  ],
  outputs: ['fc2'],
};

describe('countParams / countMacs', () => {
  it('counts LeNet-300-100 and LeNet-5 like the papers', () => {
    const lenet300: NetworkSpec = {
      name: 'lenet300',
      inputShape: [28, 28, 1],
      nodes: [
        { id: 'flat', op: 'flatten', inputs: ['input'] },
        { id: 'fc1', op: 'dense', inputs: ['flat'], units: 300 },
        { id: 'fc2', op: 'dense', inputs: ['fc1'], units: 100 },
        { id: 'fc3', op: 'dense', inputs: ['fc2'], units: 10 },
      ],
      outputs: ['fc3'],
    };
    expect(countParams(lenet300)).toBe(266_610);
    expect(countMacs(lenet300)).toBe(784 * 300 + 300 * 100 + 100 * 10);
    const lenet5: NetworkSpec = {
      name: 'lenet5',
      inputShape: [28, 28, 1],
      nodes: [
        { id: 'c1', op: 'conv2d', inputs: ['input'], filters: 6, kernelSize: [5, 5], padding: 'same' },
        { id: 'p1', op: 'maxPool', inputs: ['c1'], poolSize: [2, 2] },
        { id: 'c2', op: 'conv2d', inputs: ['p1'], filters: 16, kernelSize: [5, 5] },
        { id: 'p2', op: 'maxPool', inputs: ['c2'], poolSize: [2, 2] },
        { id: 'f', op: 'flatten', inputs: ['p2'] },
        { id: 'fc1', op: 'dense', inputs: ['f'], units: 120 },
        { id: 'fc2', op: 'dense', inputs: ['fc1'], units: 84 },
        { id: 'fc3', op: 'dense', inputs: ['fc2'], units: 10 },
      ],
      outputs: ['fc3'],
    };
    expect(countParams(lenet5)).toBe(61_706);
    expect(countMacs(lenet5)).toBe(28 * 28 * 25 * 6 + 10 * 10 * 25 * 6 * 16 + 400 * 120 + 120 * 84 + 84 * 10);
    expect(() => countParams({ ...lenet5, outputs: ['nope'] })).toThrowError(
      expect.objectContaining({ code: 'INVALID_SPEC' }),
    );
  });
});

describe('networkMetrics', () => {
  it('counts non-zeros, live units and the compacted size of a masked MLP', () => {
    const net = createNetwork(mlp, { seed: 1 });
    // Unit 1 of fc1: its column, its bias and its row in fc2 are masked; plus one stray weight.
    net.setMask('fc1/kernel', tf.tensor2d([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0], [4, 3]));
    net.setMask('fc1/bias', tf.tensor1d([1, 0, 1]));
    net.setMask('fc2/kernel', tf.tensor2d([1, 1, 0, 0, 1, 1], [3, 2]));
    const m = networkMetrics(net);
    expect(m.params).toEqual({
      'fc1/kernel': { nonzero: 7, total: 12 },
      'fc1/bias': { nonzero: 2, total: 3 },
      'fc2/kernel': { nonzero: 4, total: 6 },
      'fc2/bias': { nonzero: 2, total: 2 },
    });
    expect(m.nodes).toEqual({ fc1: { nonzero: 9, total: 15 }, fc2: { nonzero: 6, total: 8 } });
    expect(m.units).toEqual({ fc1: { live: 2, total: 3 } });
    expect(m.layers).toEqual({ live: 0, total: 0 });
    expect(m.dense).toEqual({ params: 23, macs: 18 });
    expect(m.nonzero).toEqual({ params: 15, macs: 11 });
    // fc1 4→2 (8 + 2), fc2 2→2 (4 + 2).
    expect(m.compacted).toEqual({ params: 16, macs: 12 });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    net.dispose();
  });

  it('counts conv MACs per output position, and honours closed gates', () => {
    const spec: NetworkSpec = {
      name: 'res',
      inputShape: [4, 4, 2],
      nodes: [
        { id: 'b.conv1', op: 'conv2d', inputs: ['input'], filters: 3, kernelSize: [3, 3], padding: 'same' },
        { id: 'b.bn1', op: 'batchNorm', inputs: ['b.conv1'] },
        { id: 'b.gate1', op: 'gate', inputs: ['b.bn1'] },
        { id: 'b.relu1', op: 'activation', inputs: ['b.gate1'], fn: 'relu' },
        { id: 'b.conv2', op: 'conv2d', inputs: ['b.relu1'], filters: 2, kernelSize: [3, 3], padding: 'same' },
        { id: 'b', op: 'add', inputs: ['input', 'b.conv2'], gated: true },
        { id: 'pool', op: 'globalAvgPool', inputs: ['b'] },
        { id: 'fc', op: 'dense', inputs: ['pool'], units: 3 },
      ],
      outputs: ['fc'],
    };
    const net = createNetwork(spec, { seed: 0 });
    const mask = tf.tidy(() => tf.mul(tf.ones([3, 3, 2, 3]), tf.tensor1d([1, 1, 0])));
    net.setMask('b.conv1/kernel', mask);
    const m = networkMetrics(net);
    const convMacs = 16 * 9 * 2 * 3 + 16 * 9 * 3 * 2;
    expect(m.dense).toEqual({ params: 54 + 3 + 6 + 54 + 2 + 9, macs: convMacs + 6 });
    // Filter 2 keeps its BN gamma (1) and its conv2 slice, so it is live.
    expect(m.units).toEqual({ 'b.conv1': { live: 3, total: 3 } });
    expect(m.nonzero.macs).toBe(16 * 36 + 16 * 54 + 6);
    expect(m.layers).toEqual({ live: 1, total: 1 });
    const gated = networkMetrics(net, { gates: { 'b.gate1': [1, 0, 1] } });
    expect(gated.units).toEqual({ 'b.conv1': { live: 2, total: 3 } });
    expect(gated.compacted).toEqual({ params: 36 + 2 + 4 + 36 + 2 + 9, macs: 16 * 9 * 2 * 2 * 2 + 6 });
    const closed = networkMetrics(net, { gates: { b: 0 } });
    expect(closed.layers).toEqual({ live: 0, total: 1 });
    expect(closed.compacted).toEqual({ params: 9, macs: 6 });
    tf.dispose(mask);
    net.dispose();
  });
});
