import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, lsuvInit, type NetworkSpec, Rng } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** conv → relu → flatten → dense → relu → dense (two kinds of kernel, a wide and a narrow dense). */
const spec: NetworkSpec = {
  name: 'lsuv',
  inputShape: [6, 6, 2],
  nodes: [
    { id: 'conv', op: 'conv2d', inputs: ['input'], filters: 3, kernelSize: [3, 3] },
    { id: 'r1', op: 'activation', inputs: ['conv'], fn: 'relu' },
    { id: 'flat', op: 'flatten', inputs: ['r1'] },
    { id: 'fc', op: 'dense', inputs: ['flat'], units: 8 },
    { id: 'r2', op: 'activation', inputs: ['fc'], fn: 'relu' },
    { id: 'head', op: 'dense', inputs: ['r2'], units: 4 },
  ],
  outputs: ['head'],
};

function batch(seed: number): tf.Tensor {
  const rng = Rng.fromSeed(seed);
  return tf.tensor4d(
    rng.fill(64 * 6 * 6 * 2, (r) => r.normal() * 3 + 1),
    [64, 6, 6, 2],
  );
}

/** Standard deviation of node `id`'s output on `x`, through a network ending there. */
function outputStd(net: ReturnType<typeof createNetwork>, id: string, x: tf.Tensor): number {
  const probe = createNetwork({ ...net.spec, outputs: [id] }, { seed: 0 });
  for (const [name, v] of probe.params) v.assign(net.params.get(name)!);
  const [y] = probe.apply(x);
  const s = tf.tidy(() => Math.sqrt(tf.moments(y!).variance.dataSync()[0]!));
  tf.dispose(y);
  probe.dispose();
  return s;
}

describe('lsuvInit', () => {
  it('gives every dense and conv layer unit output variance on the batch, from orthonormal units and zero biases', () => {
    const before = tf.memory().numTensors;
    const net = createNetwork(spec, { seed: 1 });
    const x = batch(2);
    // Orthonormal start: each output unit's weights have norm 1 and are orthogonal to the others.
    lsuvInit(net, x, { seed: 3, maxAttempts: 0 });
    for (const id of ['conv', 'fc', 'head']) {
      const k = net.params.get(`${id}/kernel`)!;
      const units = k.shape[k.shape.length - 1]!;
      const w = tf.tidy(() => tf.reshape(k, [-1, units]));
      const gram = tf.tidy(() => tf.matMul(w, w, true, false).arraySync() as number[][]);
      for (let i = 0; i < units; i++)
        for (let j = 0; j < units; j++) expect(gram[i]![j]).toBeCloseTo(i === j ? 1 : 0, 5);
      w.dispose();
      expect(Array.from(net.params.get(`${id}/bias`)!.dataSync())).toEqual(new Array(units).fill(0));
    }
    const layers = lsuvInit(net, x, { seed: 3, tolerance: 0.01 });
    expect(layers.map((l) => l.node)).toEqual(['conv', 'fc', 'head']);
    for (const l of layers) {
      expect(Math.abs(l.stdAfter - 1)).toBeLessThanOrEqual(0.01);
      // Measured independently of lsuvInit.
      expect(outputStd(net, l.node, x)).toBeCloseTo(l.stdAfter, 5);
    }
    expect(layers[0]!.stdBefore).toBeGreaterThan(1.5); // inputs of std 3: the orthonormal conv's output is far from 1
    // The first layer's output is linear in its kernel (zero bias): one exact rescaling reaches the target.
    expect(layers[0]!.attempts).toBe(1);
    net.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic in its seed', () => {
    const values = (seed: number) => {
      const net = createNetwork(spec, { seed: 1 });
      const x = batch(2);
      lsuvInit(net, x, { seed });
      const v = Array.from(net.params.get('fc/kernel')!.dataSync());
      net.dispose();
      x.dispose();
      return v;
    };
    expect(values(5)).toEqual(values(5));
    expect(values(5)).not.toEqual(values(6));
  });

  it('refuses bad options', () => {
    const net = createNetwork(spec, { seed: 1 });
    const x = batch(2);
    expect(() => lsuvInit(net, x, { seed: 1, targetStd: 0 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    net.dispose();
    x.dispose();
  });
});
