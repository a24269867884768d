/**
 * What `toLayersModel` promises beyond "same outputs" (export.test.ts): the
 * exported layers carry their nodes' ids (made safe and unique), the frozen
 * helper layers are not trainable, layer options (bias, BatchNorm ε and
 * momentum, dropout rate) carry over, a Reshape appears only when the input
 * shape needs one, and what cannot be exported is refused with a typed error
 * that names the node and the reason.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, type Network, type NetworkSpec, toLayersModel } from '../node/index.js';
import { thrown } from './fixtures/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/**
 * Ids that are not valid layer names ('c 1', '_d'), an id equal to another's
 * safe form ('c_1', 'c?1'), mixes on images and vectors, a vector select, a bias-free
 * conv, BatchNorm with its own ε and momentum, dropout, and an option-A
 * shortcut.
 */
const spec: NetworkSpec = {
  name: 'odd net/v2',
  inputShape: [4, 4, 2],
  nodes: [
    {
      id: 'c 1',
      op: 'conv2d',
      inputs: ['input'],
      filters: 3,
      kernelSize: [3, 3],
      padding: 'same',
      useBias: false,
    },
    { id: 'c_1', op: 'activation', inputs: ['c 1'], fn: 'relu' },
    { id: 'c?1', op: 'activation', inputs: ['c_1'], fn: 'linear' },
    { id: 'imix', op: 'mix', inputs: ['c 1', 'c?1'], init: [0.5, -2] },
    { id: 'sum', op: 'add', inputs: ['imix', 'c 1'] },
    { id: 'gap', op: 'globalAvgPool', inputs: ['sum'] },
    { id: '_d', op: 'dropout', inputs: ['gap'], rate: 0.25 },
    { id: 'vsel', op: 'select', inputs: ['_d'], indices: [0, 2] },
    { id: 'vmix', op: 'mix', inputs: ['vsel', 'vsel'], init: [1.5, 0.25] },
    { id: 'bn', op: 'batchNorm', inputs: ['vmix'], epsilon: 1e-5, momentum: 0.9 },
    { id: 'head', op: 'dense', inputs: ['bn'], units: 2 },
    { id: 'ps', op: 'padShortcut', inputs: ['c_1'], stride: 2, channels: 5 },
    { id: 'fl', op: 'flatten', inputs: ['ps'] },
  ],
  outputs: ['head', 'fl'],
};

/** The network with small moving variances, so BatchNorm's ε shows in the outputs. */
function build(): Network {
  const net = createNetwork(spec, { seed: 4 });
  const set = (name: string, values: number[]) => {
    const t = tf.tensor(values);
    net.params.get(name)!.assign(t);
    t.dispose();
  };
  set('bn/movingMean', [0.1, -0.2]);
  set('bn/movingVariance', [2e-4, 5e-4]);
  return net;
}

describe('toLayersModel: names, frozen layers and options', () => {
  it('names every layer after its node, made safe for tfjs-layers and unique, and the model after the spec', () => {
    const net = build();
    const model = toLayersModel(net);
    expect(model.name).toBe('odd_net_v2');
    // tfjs-layers orders the layers itself; the names and classes are ours.
    expect(Object.fromEntries(model.layers.map((l) => [l.name, l.getClassName()]))).toEqual({
      input: 'InputLayer',
      c_1: 'Conv2D',
      c_1_1: 'Activation',
      c_1_2: 'Activation',
      'imix.scale0': 'DepthwiseConv2D',
      'imix.scale1': 'DepthwiseConv2D',
      imix: 'Add',
      sum: 'Add',
      gap: 'GlobalAveragePooling2D',
      n_d: 'Dropout',
      vsel: 'Dense',
      'vmix.scale0': 'Dense',
      'vmix.scale1': 'Dense',
      vmix: 'Add',
      bn: 'BatchNormalization',
      head: 'Dense',
      ps: 'Conv2D',
      fl: 'Flatten',
    });
    expect(model.layers).toHaveLength(18);
    model.dispose();
    net.dispose();
  });

  it('names a pooling over a sequence after its node too', () => {
    const net = createNetwork(
      {
        name: 'seq',
        inputShape: [5],
        nodes: [
          { id: 'emb', op: 'embedding', inputs: ['input'], vocab: 7, dim: 4, positions: false },
          { id: 'pool', op: 'globalAvgPool', inputs: ['emb'] },
        ],
        outputs: ['pool'],
      },
      { seed: 1 },
    );
    const model = toLayersModel(net);
    expect(model.getLayer('pool').getClassName()).toBe('GlobalAveragePooling1D');
    model.dispose();
    net.dispose();
  });

  it('freezes the helper layers (select, mix scalings, shortcut) and keeps the nodes’ own options', () => {
    const net = build();
    const model = toLayersModel(net);
    const layer = (name: string) => model.getLayer(name) as tfl.layers.Layer;
    for (const name of ['vsel', 'vmix.scale0', 'vmix.scale1', 'imix.scale0', 'imix.scale1', 'ps'])
      expect(layer(name).trainable, name).toBe(false);
    for (const name of ['c_1', 'bn', 'head']) expect(layer(name).trainable, name).toBe(true);
    const conv = layer('c_1');
    expect(conv.getConfig().useBias).toBe(false);
    expect(conv.getWeights().map((w) => w.shape)).toEqual([[3, 3, 2, 3]]);
    expect(
      layer('head')
        .getWeights()
        .map((w) => w.shape),
    ).toEqual([[2, 2], [2]]);
    expect(layer('bn').getConfig()).toMatchObject({ epsilon: 1e-5, momentum: 0.9, axis: -1 });
    expect(layer('n_d').getConfig().rate).toBe(0.25);
    // The frozen kernels themselves: α·I (vectors), α per channel (images), 0/1 selection.
    expect(layer('vmix.scale0').getWeights()[0]!.arraySync()).toEqual([
      [1.5, 0],
      [0, 1.5],
    ]);
    expect(Array.from(layer('imix.scale1').getWeights()[0]!.dataSync())).toEqual([-2, -2, -2]);
    expect(layer('vsel').getWeights()[0]!.arraySync()).toEqual([
      [1, 0],
      [0, 0],
      [0, 1],
    ]);
    model.dispose();
    net.dispose();
  });

  it('computes the network’s outputs, where BatchNorm’s ε of 1e-5 (not the layer default 1e-3) matters', () => {
    const net = build();
    const model = toLayersModel(net);
    const x = tf.randomNormal([5, 4, 4, 2], 0, 1, 'float32', 3);
    const want = net.apply(x);
    const got = model.predict(x) as tf.Tensor[];
    for (let i = 0; i < 2; i++) expect(maxDiff(got[i]!, want[i]!)).toBeLessThan(1e-4);
    tf.dispose([x, ...want, ...got]);
    model.dispose();
    net.dispose();
  });
});

describe('toLayersModel: input shapes', () => {
  const mlp = (inputShape: number[]): Network =>
    createNetwork(
      {
        name: 'mlp',
        inputShape,
        nodes: [
          { id: 'flat', op: 'flatten', inputs: ['input'] },
          { id: 'fc', op: 'dense', inputs: ['flat'], units: 3 },
        ],
        outputs: ['fc'],
      },
      { seed: 1 },
    );

  it('adds no Reshape at the network’s own shape, and one for another shape of the same size that is not flat', () => {
    const conv = build();
    expect(toLayersModel(conv).layers.map((l) => l.getClassName())).not.toContain('Reshape');
    const net = mlp([4, 4, 1]);
    const own = toLayersModel(net);
    expect(own.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Flatten', 'Dense']);
    // A shape of the same size and leading values, but another rank, still needs the Reshape.
    const shorter = toLayersModel(net, { inputShape: [4, 4] });
    expect(shorter.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'Reshape',
      'Flatten',
      'Dense',
    ]);
    shorter.dispose();
    const other = toLayersModel(net, { inputShape: [2, 8, 1] });
    expect(other.inputs[0]!.shape).toEqual([null, 2, 8, 1]);
    expect(other.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Reshape', 'Flatten', 'Dense']);
    expect(other.getLayer('input_reshape').getConfig().targetShape).toEqual([4, 4, 1]);
    const x = tf.randomNormal([3, 2, 8, 1], 0, 1, 'float32', 6);
    const [want] = net.apply(tf.reshape(x, [3, 4, 4, 1]));
    const got = other.predict(x) as tf.Tensor;
    expect(maxDiff(got, want!)).toBeLessThan(1e-5);
    tf.dispose([x, want!, got]);
    for (const m of [own, other]) m.dispose();
    net.dispose();
    conv.dispose();
  });

  it('refuses an input shape of the right size whose values are not positive integers, saying what it expected', () => {
    const net = mlp([4, 4, 2]);
    for (const bad of [
      [-4, -4, 2],
      [0.5, 64],
      [4, 4, 2, 1, 1.5],
    ]) {
      const e = thrown(() => toLayersModel(net, { inputShape: bad }));
      expect(e.code, `[${bad}]`).toBe('SHAPE_MISMATCH');
      expect(e.details).toEqual({ expected: [4, 4, 2], got: bad });
    }
    const e = thrown(() => toLayersModel(net, { inputShape: [-4, -4, 2] }));
    expect(e.message).toContain(
      "inputShape [-4,-4,2] must be positive integers with 32 values in all, as network 'mlp''s input [4,4,2]",
    );
    net.dispose();
    // An empty shape has one value in all: it is still not a shape.
    const one = mlp([1]);
    expect(thrown(() => toLayersModel(one, { inputShape: [] })).code).toBe('SHAPE_MISMATCH');
    one.dispose();
  });
});

describe('toLayersModel: what has no built-in layer', () => {
  it('refuses a select on an image and a mix of sequences, naming the node and the rank', () => {
    const sel = createNetwork(
      {
        name: 'sel',
        inputShape: [3, 3, 4],
        nodes: [{ id: 'pick', op: 'select', inputs: ['input'], indices: [1, 3] }],
        outputs: ['pick'],
      },
      { seed: 1 },
    );
    const a = thrown(() => toLayersModel(sel));
    expect(a.code).toBe('INVALID_ARGUMENT');
    expect(a.message).toBe("toLayersModel: select node 'pick' reads a rank-3 tensor; only vectors export");
    sel.dispose();
    const seq = createNetwork(
      {
        name: 'seq',
        inputShape: [5],
        nodes: [
          { id: 'emb', op: 'embedding', inputs: ['input'], vocab: 7, dim: 4, positions: false },
          { id: 'fc', op: 'dense', inputs: ['emb'], units: 4 },
          { id: 'm', op: 'mix', inputs: ['emb', 'fc'] },
        ],
        outputs: ['m'],
      },
      { seed: 1 },
    );
    const b = thrown(() => toLayersModel(seq));
    expect(b.code).toBe('INVALID_ARGUMENT');
    expect(b.message).toBe("toLayersModel: mix node 'm' has rank-2 inputs; only vectors and images export");
    seq.dispose();
  });

  it('says why an embedding with positions and an attention layer cannot be exported', () => {
    const pos = createNetwork(
      {
        name: 'pos',
        inputShape: [5],
        nodes: [{ id: 'emb', op: 'embedding', inputs: ['input'], vocab: 7, dim: 4 }],
        outputs: ['emb'],
      },
      { seed: 1 },
    );
    const a = thrown(() => toLayersModel(pos));
    expect(a.code).toBe('UNSUPPORTED_OP');
    expect(a.message).toBe(
      "toLayersModel: node 'emb' (op 'embedding') cannot be exported to a standard tf.LayersModel: its learned positional embedding has no built-in layer; run the network with moprune's Network.apply instead",
    );
    pos.dispose();
    const att = createNetwork(
      {
        name: 'att',
        inputShape: [5],
        nodes: [
          { id: 'emb', op: 'embedding', inputs: ['input'], vocab: 7, dim: 4, positions: false },
          { id: 'att', op: 'selfAttention', inputs: ['emb'], heads: 2 },
        ],
        outputs: ['att'],
      },
      { seed: 1 },
    );
    expect(thrown(() => toLayersModel(att)).message).toContain('tfjs-layers has no attention layer');
    att.dispose();
  });
});
