import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, type NetworkSpec } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cnn: NetworkSpec = {
  name: 'cnn',
  inputShape: [6, 6, 1],
  nodes: [
    { id: 'c1', op: 'conv2d', inputs: ['input'], filters: 3, kernelSize: [3, 3] },
    { id: 'bn1', op: 'batchNorm', inputs: ['c1'] },
    { id: 'g1', op: 'gate', inputs: ['bn1'] },
    { id: 'r1', op: 'activation', inputs: ['g1'], fn: 'relu' },
    { id: 'p1', op: 'maxPool', inputs: ['r1'], poolSize: [2, 2] },
    { id: 'flat', op: 'flatten', inputs: ['p1'] },
    { id: 'd1', op: 'dropout', inputs: ['flat'], rate: 0.1 },
    { id: 'fc1', op: 'dense', inputs: ['d1'], units: 4, useBias: false },
    { id: 'bn2', op: 'batchNorm', inputs: ['fc1'] },
    { id: 'r2', op: 'activation', inputs: ['bn2'], fn: 'tanh' },
    { id: 'fc2', op: 'dense', inputs: ['r2'], units: 2 },
    { id: 'sm', op: 'activation', inputs: ['fc2'], fn: 'softmax' },
  ],
  outputs: ['sm'],
};

const resblock: NetworkSpec = {
  name: 'res',
  inputShape: [4, 4, 2],
  nodes: [
    { id: 'stem', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3], padding: 'same' },
    {
      id: 'b.conv1',
      op: 'conv2d',
      inputs: ['stem'],
      filters: 3,
      kernelSize: [3, 3],
      padding: 'same',
      strides: [2, 2],
    },
    { id: 'b.bn1', op: 'batchNorm', inputs: ['b.conv1'] },
    { id: 'b.gate1', op: 'gate', inputs: ['b.bn1'] },
    { id: 'b.relu1', op: 'activation', inputs: ['b.gate1'], fn: 'relu' },
    { id: 'b.conv2', op: 'conv2d', inputs: ['b.relu1'], filters: 4, kernelSize: [3, 3], padding: 'same' },
    { id: 'b.bn2', op: 'batchNorm', inputs: ['b.conv2'] },
    { id: 'b.gate2', op: 'gate', inputs: ['b.bn2'] },
    { id: 'b.sc', op: 'padShortcut', inputs: ['stem'], stride: 2, channels: 4 },
    { id: 'b', op: 'add', inputs: ['b.sc', 'b.gate2'], gated: true },
    { id: 'pool', op: 'globalAvgPool', inputs: ['b'] },
    { id: 'fc', op: 'dense', inputs: ['pool'], units: 3 },
  ],
  outputs: ['fc'],
};

describe('structure groups', () => {
  it('follows channels through BN, gate, pooling and flatten to the consumer rows', () => {
    const net = createNetwork(cnn, { seed: 0 });
    const ids = net.groups.map((g) => g.id);
    expect(ids).toEqual([
      'c1:filter:0',
      'c1:filter:1',
      'c1:filter:2',
      'fc1:unit:0',
      'fc1:unit:1',
      'fc1:unit:2',
      'fc1:unit:3',
    ]);
    const g = net.groups[1]!;
    expect(g).toMatchObject({ kind: 'filter', node: 'c1', index: 1, gateSite: 'g1' });
    // p1 output is [2, 2, 3]: channel 1 is flattened to rows 1, 4, 7, 10.
    expect(g.slices).toEqual([
      { param: 'c1/kernel', axis: 3, indices: [1] },
      { param: 'c1/bias', axis: 0, indices: [1] },
      { param: 'bn1/gamma', axis: 0, indices: [1] },
      { param: 'bn1/beta', axis: 0, indices: [1] },
      { param: 'fc1/kernel', axis: 0, indices: [1, 4, 7, 10] },
    ]);
    expect(net.groups[3]!.slices).toEqual([
      { param: 'fc1/kernel', axis: 1, indices: [0] },
      { param: 'bn2/gamma', axis: 0, indices: [0] },
      { param: 'bn2/beta', axis: 0, indices: [0] },
      { param: 'fc2/kernel', axis: 0, indices: [0] },
    ]);
    expect(net.groups[3]!.gateSite).toBeUndefined();
    expect(net.gateSites).toEqual([
      {
        id: 'g1',
        kind: 'unit',
        size: 3,
        gatedNode: 'c1',
        groups: ['c1:filter:0', 'c1:filter:1', 'c1:filter:2'],
      },
    ]);
    net.dispose();
  });

  it('ResNet block: inner conv prunable, stream channels tied, one layer group per gated add', () => {
    const net = createNetwork(resblock, { seed: 0 });
    const units = net.groups.filter((g) => g.kind !== 'layer');
    expect(new Set(units.map((g) => g.node))).toEqual(new Set(['b.conv1']));
    expect(units).toHaveLength(3);
    expect(units[2]!.slices).toEqual([
      { param: 'b.conv1/kernel', axis: 3, indices: [2] },
      { param: 'b.conv1/bias', axis: 0, indices: [2] },
      { param: 'b.bn1/gamma', axis: 0, indices: [2] },
      { param: 'b.bn1/beta', axis: 0, indices: [2] },
      { param: 'b.conv2/kernel', axis: 2, indices: [2] },
    ]);
    const layer = net.groups.find((g) => g.kind === 'layer')!;
    expect(layer).toMatchObject({ id: 'b:layer', node: 'b', index: 0, gateSite: 'b' });
    expect(layer.slices.map((s) => s.param)).toEqual([
      'b.conv1/kernel',
      'b.conv1/bias',
      'b.bn1/gamma',
      'b.bn1/beta',
      'b.conv2/kernel',
      'b.conv2/bias',
      'b.bn2/gamma',
      'b.bn2/beta',
    ]);
    expect(layer.slices[0]!.indices).toEqual([0, 1, 2]);
    expect(net.gateSites).toEqual([
      {
        id: 'b.gate1',
        kind: 'unit',
        size: 3,
        gatedNode: 'b.conv1',
        groups: ['b.conv1:filter:0', 'b.conv1:filter:1', 'b.conv1:filter:2'],
      },
      { id: 'b.gate2', kind: 'unit', size: 4, gatedNode: 'b.conv2', groups: [] },
      { id: 'b', kind: 'layer', size: 1, groups: ['b:layer'] },
    ]);
    net.dispose();
  });

  it('excludes output units, mix inputs, and gates that do not cover every path', () => {
    const spec: NetworkSpec = {
      name: 'mt',
      inputShape: [5],
      nodes: [
        { id: 'a', op: 'dense', inputs: ['input'], units: 4 },
        { id: 'ra', op: 'activation', inputs: ['a'], fn: 'relu' },
        { id: 'b', op: 'dense', inputs: ['input'], units: 4 },
        { id: 'mix', op: 'mix', inputs: ['ra', 'b'] },
        { id: 'h', op: 'dense', inputs: ['input'], units: 3 },
        { id: 'hg', op: 'gate', inputs: ['h'] },
        { id: 'o1', op: 'dense', inputs: ['mix'], units: 2 },
        { id: 'o2', op: 'dense', inputs: ['h'], units: 2 },
        { id: 'o3', op: 'dense', inputs: ['hg'], units: 2 },
      ],
      outputs: ['o1', 'o2', 'o3'],
    };
    const net = createNetwork(spec, { seed: 0 });
    // Only h is prunable; its gate hg sits on one of two paths, so it owns no groups.
    expect(new Set(net.groups.map((g) => g.node))).toEqual(new Set(['h']));
    expect(net.groups[0]!.gateSite).toBeUndefined();
    expect(net.groups[0]!.slices.map((s) => s.param)).toEqual([
      'h/kernel',
      'h/bias',
      'o3/kernel',
      'o2/kernel',
    ]);
    expect(net.gateSites).toEqual([{ id: 'hg', kind: 'unit', size: 3, gatedNode: 'h', groups: [] }]);
    net.dispose();
  });
});
