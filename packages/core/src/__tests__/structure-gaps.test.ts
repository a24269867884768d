// Network structure and metrics at the places `pnpm test:mutation core` found untested (issue 17):
// parameters without bias (conv, attention), the multiply–accumulates of embeddings (a lookup) and
// of dense layers on a sequence (once per position), a flatten of a sequence spreading a unit over
// every position, input-feature groups through a BatchNorm, a second gate that owns no features, and
// the `select` op on a backend whose tensors are not on the host.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countMacs, createNetwork, type NetworkSpec, networkMetrics } from '../index.js';
import { selectLastAxis } from '../network/select.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('parameters', () => {
  it('useBias: false leaves out the bias of dense, conv and attention nodes; the default keeps it', () => {
    const spec = (useBias?: boolean): NetworkSpec => ({
      name: 'nobias',
      inputShape: [4, 4, 2],
      nodes: [
        {
          id: 'c',
          op: 'conv2d',
          inputs: ['input'],
          filters: 3,
          kernelSize: [3, 3],
          padding: 'same',
          ...(useBias === undefined ? {} : { useBias }),
        },
        { id: 'f', op: 'flatten', inputs: ['c'] },
        { id: 'd', op: 'dense', inputs: ['f'], units: 2, ...(useBias === undefined ? {} : { useBias }) },
      ],
      outputs: ['d'],
    });
    const names = (s: NetworkSpec) => {
      const net = createNetwork(s, { seed: 1 });
      const out = [...net.params.keys()];
      net.dispose();
      return out;
    };
    expect(names(spec(false))).toEqual(['c/kernel', 'd/kernel']);
    expect(names(spec(true))).toEqual(['c/kernel', 'c/bias', 'd/kernel', 'd/bias']);
    expect(names(spec())).toEqual(['c/kernel', 'c/bias', 'd/kernel', 'd/bias']);
    const attention = (useBias?: boolean): NetworkSpec => ({
      name: 'attn',
      inputShape: [3],
      nodes: [
        { id: 'e', op: 'embedding', inputs: ['input'], vocab: 5, dim: 4 },
        {
          id: 'a',
          op: 'selfAttention',
          inputs: ['e'],
          heads: 2,
          ...(useBias === undefined ? {} : { useBias }),
        },
      ],
      outputs: ['a'],
    });
    expect(names(attention(false))).toEqual(['e/kernel', 'e/bias', 'a/kernel']);
    expect(names(attention())).toEqual(['e/kernel', 'e/bias', 'a/kernel', 'a/bias']);
  });
});

describe('multiply–accumulates on sequences', () => {
  // 5 tokens → embedding [5, 4] → dense 3 per position [5, 3] → flatten [15] → dense 2.
  const seq: NetworkSpec = {
    name: 'seq',
    inputShape: [5],
    nodes: [
      { id: 'e', op: 'embedding', inputs: ['input'], vocab: 7, dim: 4, positions: false },
      { id: 'fc1', op: 'dense', inputs: ['e'], units: 3 },
      { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
      { id: 'flat', op: 'flatten', inputs: ['relu'] },
      { id: 'fc2', op: 'dense', inputs: ['flat'], units: 2 },
    ],
    outputs: ['fc2'],
  };

  it('an embedding is a lookup (no MACs); a dense layer on a sequence runs once per position', () => {
    expect(countMacs(seq)).toBe(5 * 4 * 3 + 15 * 2);
    const net = createNetwork(seq, { seed: 2 });
    const m = networkMetrics(net);
    expect(m.dense.macs).toBe(5 * 4 * 3 + 15 * 2);
    // The MACs of the non-zero weights count each kernel weight once per position, and the table none.
    expect(m.nonzero.macs).toBe(m.dense.macs);
    // Zero one weight of each layer: fc1's saves 5 MACs (one per token), fc2's 1, the table's none.
    for (const [name, at] of [
      ['e/kernel', 0],
      ['fc1/kernel', 0],
      ['fc2/kernel', 0],
    ] as const) {
      const v = net.params.get(name)!;
      const d = Array.from(v.dataSync());
      d[at] = 0;
      tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
    }
    expect(networkMetrics(net).nonzero.macs).toBe(m.dense.macs - 5 - 1);
    net.dispose();
  });

  it("flattening a sequence spreads a unit over every position: unit 1's group holds fc2's rows 1, 4, …, 13", () => {
    const net = createNetwork(seq, { seed: 2 });
    const g = net.groups.find((x) => x.node === 'fc1' && x.index === 1)!;
    expect(g.slices).toEqual([
      { param: 'fc1/kernel', axis: 1, indices: [1] },
      { param: 'fc1/bias', axis: 0, indices: [1] },
      { param: 'fc2/kernel', axis: 0, indices: [1, 4, 7, 10, 13] },
    ]);
    net.dispose();
  });
});

describe('input-feature groups', () => {
  it('reach through a BatchNorm on the input: each feature group holds its gamma and beta entries', () => {
    const spec: NetworkSpec = {
      name: 'bn-in',
      inputShape: [4],
      nodes: [
        { id: 'bn', op: 'batchNorm', inputs: ['input'] },
        { id: 'input.gate', op: 'gate', inputs: ['bn'] },
        { id: 'fc1', op: 'dense', inputs: ['input.gate'], units: 3 },
      ],
      outputs: ['fc1'],
    };
    const net = createNetwork(spec, { seed: 1 });
    const site = net.gateSites.find((s) => s.id === 'input.gate')!;
    expect(site.groups).toHaveLength(4);
    const g = net.groups.find((x) => x.id === site.groups[2])!;
    expect(g.slices).toEqual([
      { param: 'bn/gamma', axis: 0, indices: [2] },
      { param: 'bn/beta', axis: 0, indices: [2] },
      { param: 'fc1/kernel', axis: 0, indices: [2] },
    ]);
    net.dispose();
  });

  it('a second gate on the same features owns none of them', () => {
    const spec: NetworkSpec = {
      name: 'two-gates',
      inputShape: [4],
      nodes: [
        { id: 'input.gate', op: 'gate', inputs: ['input'] },
        { id: 'g2', op: 'gate', inputs: ['input.gate'] },
        { id: 'fc1', op: 'dense', inputs: ['g2'], units: 3 },
      ],
      outputs: ['fc1'],
    };
    const net = createNetwork(spec, { seed: 1 });
    const groups = Object.fromEntries(net.gateSites.map((s) => [s.id, s.groups.length]));
    expect(groups).toEqual({ 'input.gate': 4, g2: 0 });
    net.dispose();
  });
});

describe('select on a backend whose tensors are not on the host', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
    for (const k of tf.getKernelsForBackend('gather-only')) tf.unregisterKernel(k.kernelName, 'gather-only');
    tf.removeBackend('gather-only');
  });

  it('takes tf.gather along the last axis and computes what the host copy computes', async () => {
    const x = tf.randomNormal([3, 2, 7], 0, 1, 'float32', 5);
    const idx = Int32Array.from([6, 0, 3]);
    const host = selectLastAxis(x, idx);
    const want = Array.from(host.dataSync());
    const shape = host.shape;
    const data = Array.from(x.dataSync());
    tf.dispose([x, host]);
    // Same kernels as cpu under another name: not one of the host backends, so the gather path runs.
    tf.registerBackend('gather-only', () => new MathBackendCPU(), 0);
    for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'gather-only' });
    await tf.setBackend('gather-only');
    const x2 = tf.tensor(data, [3, 2, 7]);
    const got = selectLastAxis(x2, idx);
    expect(got.shape).toEqual(shape);
    expect(Array.from(got.dataSync())).toEqual(want);
    tf.dispose([x2, got]);
  });
});
