import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compact,
  createNetwork,
  loadLayersModelFromDir,
  type Network,
  type NetworkSpec,
  Rng,
  saveLayersModel,
  toLayersModel,
} from '../node/index.js';

const dirs: string[] = [];
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-4) {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    const scale = Math.max(1, Math.abs(x[i]!), Math.abs(y[i]!));
    if (!(Math.abs(x[i]! - y[i]!) <= tol * scale)) throw new Error(`entry ${i}: ${x[i]} vs ${y[i]}`);
  }
}

/** A net with every exportable op: conv/BN/gate/pool, option-A residual block, mixes on images and vectors, two heads. */
const spec: NetworkSpec = {
  name: 'everything',
  inputShape: [6, 6, 2],
  nodes: [
    {
      id: 'c1',
      op: 'conv2d',
      inputs: ['input'],
      filters: 3,
      kernelSize: [3, 3],
      padding: 'same',
      init: 'torchDefault',
    },
    { id: 'bn1', op: 'batchNorm', inputs: ['c1'], epsilon: 1e-5, momentum: 0.9 },
    { id: 'g1', op: 'gate', inputs: ['bn1'] },
    { id: 'r1', op: 'activation', inputs: ['g1'], fn: 'relu' },
    {
      id: 'b.conv',
      op: 'conv2d',
      inputs: ['r1'],
      filters: 4,
      kernelSize: [3, 3],
      strides: [2, 2],
      padding: 'same',
    },
    { id: 'b.sc', op: 'padShortcut', inputs: ['r1'], stride: 2, channels: 4 },
    { id: 'b', op: 'add', inputs: ['b.sc', 'b.conv'], gated: true },
    {
      id: 'dil',
      op: 'conv2d',
      inputs: ['b'],
      filters: 4,
      kernelSize: [2, 2],
      dilation: [2, 1],
      padding: 'same',
    },
    { id: 'imix', op: 'mix', inputs: ['b', 'dil'], init: [0.7, -0.4] },
    { id: 'mp', op: 'maxPool', inputs: ['imix'], poolSize: [2, 2] },
    { id: 'ap', op: 'avgPool', inputs: ['imix'], poolSize: [2, 2], strides: [1, 1], padding: 'same' },
    { id: 'gap', op: 'globalAvgPool', inputs: ['ap'] },
    { id: 'flat', op: 'flatten', inputs: ['mp'] },
    { id: 'do', op: 'dropout', inputs: ['flat'], rate: 0.3 },
    { id: 'fc', op: 'dense', inputs: ['do'], units: 4, init: 'torchDefault' },
    { id: 'fct', op: 'activation', inputs: ['fc'], fn: 'tanh' },
    { id: 'vmix', op: 'mix', inputs: ['fct', 'gap'], init: [1.5, 0.5] },
    { id: 'flat2', op: 'flatten', inputs: ['vmix'] },
    { id: 'head1', op: 'dense', inputs: ['flat2'], units: 3 },
    { id: 'out1', op: 'activation', inputs: ['head1'], fn: 'logSoftmax' },
    { id: 'head2', op: 'dense', inputs: ['fct'], units: 2, useBias: false },
    { id: 'out2', op: 'activation', inputs: ['head2'], fn: 'sigmoid' },
  ],
  outputs: ['out1', 'out2'],
};

function build(): Network {
  const net = createNetwork(spec, { seed: 5 });
  const rng = Rng.fromSeed(2);
  for (const [name, info] of net.paramInfo) {
    if (info.op !== 'batchNorm') continue;
    const v = net.params.get(name)!;
    const lo = info.role === 'movingVariance' ? 0.5 : -0.5;
    const t = tf.tensor(
      Array.from({ length: v.size }, () => rng.uniform(lo, lo + 1)),
      v.shape,
    );
    v.assign(t);
    t.dispose();
  }
  const mask = tf.tensor(
    Array.from({ length: 4 * 3 }, (_, i) => (i % 5 === 0 ? 0 : 1)),
    [4, 3],
  );
  net.setMask('head1/kernel', mask);
  mask.dispose();
  return net;
}

/** Network outputs in the exported form: log-softmax heads become softmax. */
function reference(net: Network, x: tf.Tensor): tf.Tensor[] {
  const outs = net.apply(x);
  return outs.map((t, i) => {
    if (spec.outputs[i] !== 'out1') return t;
    const e = tf.exp(t);
    t.dispose();
    return e;
  });
}

describe('toLayersModel / saveLayersModel', () => {
  it('exports a model that computes the same outputs, with masked weights', () => {
    const net = build();
    const x = tf.randomNormal([3, 6, 6, 2], 0, 1, 'float32', 7);
    const model = toLayersModel(net);
    expect(model.inputs[0]!.shape).toEqual([null, 6, 6, 2]);
    expect(model.outputs).toHaveLength(2);
    const want = reference(net, x);
    const got = model.predict(x) as tf.Tensor[];
    want.forEach((w, i) => {
      expectClose(got[i]!, w);
    });
    const k = model.getLayer('head1').getWeights()[0]!.dataSync();
    expect(k.filter((v, i) => i % 5 === 0 && v === 0).length).toBe(3);
    tf.dispose([x, ...want, ...got]);
    model.dispose();
    net.dispose();
  });

  it('saves model.json + weights.bin that reload to the same function, also after compaction', async () => {
    const net = build();
    const small = compact(net, { gates: { g1: [1, 0, 1] } });
    const x = tf.randomNormal([2, 72], 0, 1, 'float32', 9);
    for (const n of [net, small]) {
      const dir = mkdtempSync(join(tmpdir(), 'moprune-export-'));
      dirs.push(dir);
      const before = tf.memory().numTensors;
      await saveLayersModel(n, dir);
      expect(tf.memory().numTensors).toBe(before);
      expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
      const bytes = json.weightsManifest[0].weights.reduce(
        (a: number, w: { shape: number[] }) => a + 4 * w.shape.reduce((p, q) => p * q, 1),
        0,
      );
      expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe(bytes);
      const loaded = await loadLayersModelFromDir(dir);
      const xi = tf.reshape(x, [2, 6, 6, 2]);
      const want = reference(n, x);
      const got = loaded.predict(xi) as tf.Tensor[];
      want.forEach((w, i) => {
        expectClose(got[i]!, w);
      });
      tf.dispose([xi, ...want, ...got]);
      loaded.dispose();
    }
    x.dispose();
    small.dispose();
    net.dispose();
  });

  it('exports the input shape the network was fed: flat [784] for an MLP on 28×28×1, without extra layers', () => {
    const mlp = createNetwork(
      {
        name: 'mlp',
        inputShape: [28, 28, 1],
        nodes: [
          { id: 'flatten', op: 'flatten', inputs: ['input'] },
          { id: 'fc1', op: 'dense', inputs: ['flatten'], units: 5 },
          { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
          { id: 'out', op: 'dense', inputs: ['relu'], units: 3 },
        ],
        outputs: ['out'],
      },
      { seed: 3 },
    );
    const x = tf.randomUniform([4, 784], 0, 1, 'float32', 2);
    const image = toLayersModel(mlp);
    expect(image.inputs[0]!.shape).toEqual([null, 28, 28, 1]);
    const flat = toLayersModel(mlp, { inputShape: [784] });
    expect(flat.inputs[0]!.shape).toEqual([null, 784]);
    expect(flat.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Dense', 'Activation', 'Dense']);
    const [want] = mlp.apply(x);
    const got = flat.predict(x) as tf.Tensor;
    expectClose(got, want!);
    tf.dispose([x, want!, got]);
    image.dispose();
    flat.dispose();
    mlp.dispose();
  });

  it('starts with a Reshape when a conv net is exported for flat input, and refuses a shape of another size', () => {
    const net = build();
    const x = tf.randomNormal([3, 72], 0, 1, 'float32', 4);
    const model = toLayersModel(net, { inputShape: [72] });
    expect(model.inputs[0]!.shape).toEqual([null, 72]);
    expect(model.layers[1]!.getClassName()).toBe('Reshape');
    const want = reference(net, x);
    const got = model.predict(x) as tf.Tensor[];
    want.forEach((w, i) => {
      expectClose(got[i]!, w);
    });
    tf.dispose([x, ...want, ...got]);
    model.dispose();
    for (const bad of [[71], [6, 6, 3], [0, 72], [72.5]]) {
      let error: unknown;
      try {
        toLayersModel(net, { inputShape: bad });
      } catch (e) {
        error = e;
      }
      expect((error as { code?: string }).code, `inputShape [${bad}]`).toBe('SHAPE_MISMATCH');
    }
    net.dispose();
  });

  it('reloads through tf.io.fromMemory as well', async () => {
    const net = build();
    const model = toLayersModel(net);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 1);
    const a = model.predict(x) as tf.Tensor[];
    const b = loaded.predict(x) as tf.Tensor[];
    a.forEach((t, i) => {
      expectClose(b[i]!, t, 1e-6);
    });
    tf.dispose([x, ...a, ...b]);
    model.dispose();
    loaded.dispose();
    net.dispose();
  });

  it('reports a missing directory with a typed error', async () => {
    await expect(loadLayersModelFromDir('/nonexistent/moprune')).rejects.toMatchObject({
      name: 'CoreError',
      code: 'INVALID_ARGUMENT',
    });
  });
});
