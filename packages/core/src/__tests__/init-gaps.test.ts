/**
 * Initialization and statistics details the main tests do not reach:
 * PyTorch's default ranges (conv fan-in counts the receptive field), LSUV with
 * more units than fan-in, from the current kernels, with nonzero biases, and
 * its refusals; BatchNorm recalibration's frozen (momentum 1) layers, networks
 * without BatchNorm, and a pass that fails half-way.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNetwork,
  lsuvInit,
  type Network,
  type NetworkSpec,
  Rng,
  recalibrateBatchNorm,
} from '../index.js';
import { thrown } from './fixtures/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (net: Network, name: string) => Array.from(net.params.get(name)!.dataSync());

describe('torchDefault initialization: U(±1/√fanIn) for kernel and bias', () => {
  it('bounds a conv by its receptive field times input channels, and fills the range on both sides', () => {
    const net = createNetwork(
      {
        name: 'torch',
        inputShape: [8, 8, 6],
        nodes: [
          {
            id: 'conv',
            op: 'conv2d',
            inputs: ['input'],
            filters: 32,
            kernelSize: [3, 3],
            init: 'torchDefault',
          },
          { id: 'flat', op: 'flatten', inputs: ['conv'] },
          { id: 'fc', op: 'dense', inputs: ['flat'], units: 200, init: 'torchDefault' },
        ],
        outputs: ['fc'],
      },
      { seed: 2 },
    );
    // fanIn: 3·3·6 = 54 for the conv, 6·6·32 = 1152 for the dense layer.
    for (const [id, fanIn] of [
      ['conv', 54],
      ['fc', 1152],
    ] as const) {
      const limit = 1 / Math.sqrt(fanIn);
      for (const role of ['kernel', 'bias']) {
        const v = values(net, `${id}/${role}`);
        const lo = v.reduce((a, b) => Math.min(a, b));
        const hi = v.reduce((a, b) => Math.max(a, b));
        expect(hi, `${id}/${role}`).toBeLessThanOrEqual(limit);
        expect(lo, `${id}/${role}`).toBeGreaterThanOrEqual(-limit);
        // Uniform draws: the extremes come close to both ends (≥ 32 draws each).
        expect(hi, `${id}/${role}`).toBeGreaterThan(0.8 * limit);
        expect(lo, `${id}/${role}`).toBeLessThan(-0.8 * limit);
      }
    }
    net.dispose();
  });
});

describe('lsuvInit: the cases beside the main path', () => {
  const wide: NetworkSpec = {
    name: 'wide',
    inputShape: [3],
    nodes: [
      { id: 'fc', op: 'dense', inputs: ['input'], units: 7, init: 'torchDefault' },
      { id: 'r', op: 'activation', inputs: ['fc'], fn: 'relu' },
      { id: 'head', op: 'dense', inputs: ['r'], units: 2, init: 'torchDefault' },
    ],
    outputs: ['head'],
  };
  const batch = () => {
    const rng = Rng.fromSeed(4);
    return tf.tensor2d(
      rng.fill(32 * 3, (r) => r.normal() * 2),
      [32, 3],
    );
  };

  it('makes the units of a layer wider than its fan-in orthonormal in groups of fan-in, and zeroes nonzero biases', () => {
    const net = createNetwork(wide, { seed: 1 });
    const x = batch();
    expect(values(net, 'fc/bias').some((b) => b !== 0)).toBe(true);
    lsuvInit(net, x, { seed: 3, maxAttempts: 0 });
    const k = net.params.get('fc/kernel')!.arraySync() as number[][]; // [3, 7]
    const col = (o: number) => k.map((row) => row[o]!);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    for (const group of [[0, 1, 2], [3, 4, 5], [6]]) {
      for (const i of group)
        for (const j of group) expect(dot(col(i), col(j)), `${i}·${j}`).toBeCloseTo(i === j ? 1 : 0, 5);
    }
    // Groups are independent draws, not copies of each other.
    expect(Math.abs(dot(col(0), col(3)))).toBeLessThan(0.999);
    expect(values(net, 'fc/bias')).toEqual(new Array(7).fill(0));
    expect(values(net, 'head/bias')).toEqual([0, 0]);
    net.dispose();
    x.dispose();
  });

  it('with orthonormal: false only rescales the current kernels and leaves the biases alone', () => {
    const net = createNetwork(wide, { seed: 1 });
    const x = batch();
    const before = { k: values(net, 'fc/kernel'), b: values(net, 'fc/bias'), hb: values(net, 'head/bias') };
    const layers = lsuvInit(net, x, { seed: 3, orthonormal: false, tolerance: 0.01 });
    expect(layers[0]!.attempts).toBeGreaterThan(0);
    const after = values(net, 'fc/kernel');
    const ratio = after[0]! / before.k[0]!;
    expect(Math.abs(ratio - 1)).toBeGreaterThan(0.05);
    after.forEach((v, i) => {
      expect(v).toBeCloseTo(ratio * before.k[i]!, 5);
    });
    expect(values(net, 'fc/bias')).toEqual(before.b);
    expect(values(net, 'head/bias')).toEqual(before.hb);
    net.dispose();
    x.dispose();
  });

  it('accepts tolerance 0 and refuses a negative tolerance or a maxAttempts that is not an integer ≥ 0', () => {
    const net = createNetwork(wide, { seed: 1 });
    const x = batch();
    const layers = lsuvInit(net, x, { seed: 3, tolerance: 0, maxAttempts: 2 });
    expect(layers.map((l) => l.attempts)).toEqual([2, 2]);
    for (const [options, got] of [
      [{ tolerance: -0.1 }, '1, -0.1, 10'],
      [{ maxAttempts: 1.5 }, '1, 0.1, 1.5'],
      [{ maxAttempts: -1 }, '1, 0.1, -1'],
    ] as const) {
      const e = thrown(() => lsuvInit(net, x, { seed: 3, ...options }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe(
        `lsuvInit: targetStd must be > 0, tolerance ≥ 0 and maxAttempts an integer ≥ 0 (got ${got})`,
      );
    }
    net.dispose();
    x.dispose();
  });

  it('refuses a network without dense or conv layers', () => {
    const net = createNetwork(
      {
        name: 'none',
        inputShape: [2, 2, 1],
        nodes: [{ id: 'flat', op: 'flatten', inputs: ['input'] }],
        outputs: ['flat'],
      },
      { seed: 1 },
    );
    const x = tf.ones([2, 2, 2, 1]);
    const e = thrown(() => lsuvInit(net, x, { seed: 1 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('lsuvInit: the network has no dense or conv layer');
    net.dispose();
    x.dispose();
  });
});

describe('recalibrateBatchNorm: frozen layers, no BatchNorm, failures', () => {
  const spec = (momentum2: number): NetworkSpec => ({
    name: 'recal',
    inputShape: [3],
    nodes: [
      { id: 'fc', op: 'dense', inputs: ['input'], units: 4, init: 'torchDefault' },
      { id: 'bn1', op: 'batchNorm', inputs: ['fc'], momentum: 0.9 },
      { id: 'bn2', op: 'batchNorm', inputs: ['bn1'], momentum: momentum2 },
    ],
    outputs: ['bn2'],
  });
  const stats = (net: Network) =>
    ['bn1', 'bn2'].flatMap((id) => [values(net, `${id}/movingMean`), values(net, `${id}/movingVariance`)]);
  const batch = (seed: number) => {
    const rng = Rng.fromSeed(seed);
    return tf.tensor2d(
      rng.fill(16 * 3, (r) => r.normal() + 2),
      [16, 3],
    );
  };

  it('leaves a BatchNorm with momentum 1 as it is and does not count it', () => {
    const net = createNetwork(spec(1), { seed: 3 });
    const [, , mean2, var2] = stats(net);
    const xs = [batch(1), batch(2)];
    expect(recalibrateBatchNorm(net, xs)).toBe(1);
    const after = stats(net);
    expect(after[0]!.every((m) => m !== 0)).toBe(true); // bn1 moved
    expect(after[2]).toEqual(mean2);
    expect(after[3]).toEqual(var2);
    tf.dispose(xs);
    net.dispose();
  });

  it('returns 0 for a network without (unfrozen) BatchNorm, even with no batch', () => {
    const net = createNetwork(
      {
        name: 'plain',
        inputShape: [3],
        nodes: [{ id: 'fc', op: 'dense', inputs: ['input'], units: 2 }],
        outputs: ['fc'],
      },
      { seed: 1 },
    );
    expect(recalibrateBatchNorm(net, [])).toBe(0);
    net.dispose();
    const frozen = createNetwork(spec(1), { seed: 3 });
    const bn1 = frozen.spec.nodes.map((n) => (n.id === 'bn1' ? { ...n, momentum: 1 } : n));
    const allFrozen = createNetwork({ ...frozen.spec, nodes: bn1 }, { seed: 3 });
    expect(recalibrateBatchNorm(allFrozen, [])).toBe(0);
    frozen.dispose();
    allFrozen.dispose();
  });

  it('restores every statistic when a pass fails after others succeeded, and names an empty batch list', () => {
    const net = createNetwork(spec(0.5), { seed: 3 });
    const before = stats(net);
    const good = batch(1);
    const bad = tf.ones([4, 5]); // 5 features for a 3-input network
    expect(() => recalibrateBatchNorm(net, [good, bad])).toThrow();
    expect(stats(net)).toEqual(before);
    expect(thrown(() => recalibrateBatchNorm(net, [])).message).toBe('recalibrateBatchNorm: no batch given');
    expect(stats(net)).toEqual(before);
    tf.dispose([good, bad]);
    net.dispose();
  });
});
