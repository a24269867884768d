/**
 * Network behaviour the main tests reach only on the common path: per-sample
 * gates on images and per-sample layer gates, gates offered to nodes that do
 * not take them, dropout at rate 0, attention without a causal mask, mixes of
 * more than two inputs; and the typed errors (text and details) of
 * `createNetwork`, `networkFromValues`, `apply`, `setMask` and a disposed network.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, type Network, type NetworkSpec, networkFromValues } from '../index.js';
import { thrown } from './fixtures/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const arr = (t: tf.Tensor) => Array.from(t.dataSync());

function expectClose(got: number[], want: number[], tol = 1e-5) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]!), `entry ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol);
  });
}

describe('gates and options on the less common paths', () => {
  it('applies a per-sample [batch, C] unit gate to each sample’s channels of an image', () => {
    const net = createNetwork(
      {
        name: 'img',
        inputShape: [4, 4, 2],
        nodes: [
          { id: 'c', op: 'conv2d', inputs: ['input'], filters: 3, kernelSize: [3, 3], padding: 'same' },
          { id: 'g', op: 'gate', inputs: ['c'] },
        ],
        outputs: ['g'],
      },
      { seed: 1 },
    );
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 5);
    const gate = tf.tensor2d([
      [1, 0, 0.5],
      [0, 2, 1],
    ]);
    const [open] = net.apply(x);
    const [gated] = net.apply(x, { gates: { g: gate } });
    const o = open!.arraySync() as number[][][][];
    const y = gated!.arraySync() as number[][][][];
    const gv = gate.arraySync();
    for (let i = 0; i < 2; i++)
      for (let h = 0; h < 4; h++)
        for (let w = 0; w < 4; w++)
          for (let c = 0; c < 3; c++) expect(y[i]![h]![w]![c]).toBeCloseTo(o[i]![h]![w]![c]! * gv[i]![c]!, 5);
    tf.dispose([x, gate, open!, gated!]);
    net.dispose();
  });

  const residual: NetworkSpec = {
    name: 'res',
    inputShape: [3, 3, 2],
    nodes: [
      { id: 'c', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3], padding: 'same' },
      { id: 'res', op: 'add', inputs: ['input', 'c'], gated: true },
      { id: 'plain', op: 'add', inputs: ['res', 'c'] },
    ],
    outputs: ['plain'],
  };

  it('scales each sample’s branch of a gated add by its entry of a [batch] layer gate', () => {
    const net = createNetwork(residual, { seed: 2 });
    const x = tf.randomNormal([3, 3, 3, 2], 0, 1, 'float32', 6);
    const scalar = (v: number) => {
      const g = tf.scalar(v);
      const [y] = net.apply(x, { gates: { res: g } });
      g.dispose();
      const out = y!.arraySync() as number[][][][];
      y!.dispose();
      return out;
    };
    const [closed, open] = [scalar(0), scalar(1)];
    const gate = tf.tensor1d([0, 1, 0.25]);
    const [y] = net.apply(x, { gates: { res: gate } });
    const got = y!.arraySync() as number[][][][];
    [0, 1, 0.25].forEach((g, i) => {
      expectClose(
        got[i]!.flat(2),
        closed[i]!.flat(2).map((c, k) => c + g * (open[i]!.flat(2)[k]! - c)),
      );
    });
    tf.dispose([x, gate, y!]);
    net.dispose();
  });

  it('ignores a gate offered to an add that is not gated', () => {
    const net = createNetwork(residual, { seed: 2 });
    const x = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 6);
    const zero = tf.scalar(0);
    const [a] = net.apply(x);
    const [b] = net.apply(x, { gates: { plain: zero } });
    expect(arr(b!)).toEqual(arr(a!));
    tf.dispose([x, zero, a!, b!]);
    net.dispose();
  });

  it('passes the input through a dropout of rate 0 in training mode, without asking for an rng', () => {
    const net = createNetwork(
      {
        name: 'drop',
        inputShape: [3],
        nodes: [{ id: 'd', op: 'dropout', inputs: ['input'], rate: 0 }],
        outputs: ['d'],
      },
      { seed: 1 },
    );
    const x = tf.tensor2d([[1, -2, 3]]);
    const [y] = net.apply(x, { training: true });
    expect(arr(y!)).toEqual([1, -2, 3]);
    tf.dispose([x, y!]);
    net.dispose();
  });

  it('lets every position attend to later ones unless the attention is causal', () => {
    const firstPosition = (causal: boolean) => {
      const net = createNetwork(
        {
          name: 'att',
          inputShape: [4],
          nodes: [
            { id: 'emb', op: 'embedding', inputs: ['input'], vocab: 6, dim: 4, positions: false },
            { id: 'att', op: 'selfAttention', inputs: ['emb'], heads: 2, causal },
          ],
          outputs: ['att'],
        },
        { seed: 3 },
      );
      const out = [
        [0, 1, 2, 3],
        [0, 1, 2, 5],
      ].map((ids) => {
        const x = tf.tensor2d([ids]);
        const [y] = net.apply(x);
        const first = (y!.arraySync() as number[][][])[0]![0]!;
        tf.dispose([x, y!]);
        return first;
      });
      net.dispose();
      return out;
    };
    const [a, b] = firstPosition(false);
    expect(Math.max(...a!.map((v, i) => Math.abs(v - b![i]!)))).toBeGreaterThan(1e-3);
    const [c, d] = firstPosition(true);
    expect(c).toEqual(d);
  });

  it('mixes three inputs as Σ αᵢ·xᵢ', () => {
    const net = createNetwork(
      {
        name: 'mix3',
        inputShape: [3],
        nodes: [
          { id: 'r', op: 'activation', inputs: ['input'], fn: 'relu' },
          { id: 't', op: 'activation', inputs: ['input'], fn: 'tanh' },
          { id: 'm', op: 'mix', inputs: ['input', 'r', 't'], init: [0.5, -1, 2] },
        ],
        outputs: ['m'],
      },
      { seed: 1 },
    );
    const xs = [0.3, -1.2, 2];
    const x = tf.tensor2d([xs]);
    const [y] = net.apply(x);
    expectClose(
      arr(y!),
      xs.map((v) => 0.5 * v - Math.max(v, 0) + 2 * Math.tanh(v)),
    );
    tf.dispose([x, y!]);
    net.dispose();
  });
});

describe('typed errors with their text and details', () => {
  const spec: NetworkSpec = {
    name: 'mlp',
    inputShape: [2, 3],
    nodes: [
      { id: 'flat', op: 'flatten', inputs: ['input'] },
      { id: 'fc', op: 'dense', inputs: ['flat'], units: 2 },
    ],
    outputs: ['fc'],
  };
  const build = (): Network => createNetwork(spec, { seed: 1 });

  it('lists every issue of an invalid spec under its name, and refuses a spec that is not an object', () => {
    const e = thrown(() =>
      createNetwork(
        {
          ...spec,
          nodes: [spec.nodes[0]!, { id: 'fc', op: 'dense', inputs: ['flat'], units: 0 }],
          outputs: ['nope'],
        },
        { seed: 1 },
      ),
    );
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.message.split('\n')[0]).toBe("network spec 'mlp' is invalid:");
    expect(e.message).toContain('nodes[1].units');
    expect(e.message).toContain('outputs[0]');
    const none = thrown(() => createNetwork(null as unknown as NetworkSpec, { seed: 1 }));
    expect(none.code).toBe('INVALID_SPEC');
    expect(none.message).toContain("network spec 'undefined' is invalid");
  });

  it('networkFromValues names a missing parameter and one of the wrong shape', () => {
    const net = build();
    const values = new Map<string, tf.Tensor>(net.params);
    const missing = new Map(values);
    missing.delete('fc/bias');
    const a = thrown(() => networkFromValues(spec, missing));
    expect(a.code).toBe('UNKNOWN_PARAMETER');
    expect(a.message).toBe("no value given for parameter 'fc/bias'");
    const wrong = new Map(values);
    const transposed = tf.zeros([2, 6]);
    wrong.set('fc/kernel', transposed);
    const b = thrown(() => networkFromValues(spec, wrong));
    expect(b.code).toBe('SHAPE_MISMATCH');
    expect(b.message).toBe("parameter 'fc/kernel' needs shape [6,2], got [2,6]");
    transposed.dispose();
    net.dispose();
  });

  it('apply, setMask and a disposed network say what they expected', () => {
    const net = build();
    const x = tf.zeros([4, 5, 1]);
    const a = thrown(() => net.apply(x));
    expect(a.code).toBe('SHAPE_MISMATCH');
    expect(a.message).toBe("network 'mlp' takes per-sample input [2,3] (or 6 flat values), got [5,1]");
    expect(a.details).toEqual({ expected: [2, 3], got: [4, 5, 1] });
    const mask = tf.ones([2, 6]);
    const b = thrown(() => net.setMask('fc/kernel', mask));
    expect(b.code).toBe('SHAPE_MISMATCH');
    expect(b.message).toBe("mask of 'fc/kernel' needs shape [6,2], got [2,6]");
    const c = thrown(() => net.setMask('fc/nope', null));
    expect(c.code).toBe('UNKNOWN_PARAMETER');
    expect(c.message).toBe("network 'mlp' has no parameter 'fc/nope'");
    expect(c.details).toEqual({ param: 'fc/nope' });
    net.dispose();
    const d = thrown(() => net.apply(x));
    expect(d.code).toBe('INVALID_ARGUMENT');
    expect(d.message).toBe("network 'mlp' was disposed");
    tf.dispose([x, mask]);
  });
});
