// Compaction at the places `pnpm test:mutation core` found untested (issue 17): folding a closed gate
// back through zero-preserving activations into the conv that makes the channel, the three ways a
// fold is refused (with the site and index in the error), closed gates inside a removed block left
// alone, a residual block whose parameters are all zero removed as dead (and one ending in a sigmoid
// kept), the channels a removed block had tied to the stream becoming removable, the ReLUs that must
// stay, an unchanged parameter's empty takes, a select node whose natural id is taken, and the
// gate-value errors' details.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  compact,
  compactionTakes,
  createNetwork,
  type Network,
  type NetworkSpec,
  type NodeSpec,
} from '../index.js';
import { preservesZero } from '../network/structure.js';
import { thrown } from './fixtures/errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

/** Sets entries of a parameter: `f(i, value)` for every flat index i (memory order). */
function edit(net: Network, name: string, f: (i: number, v: number) => number): void {
  const v = net.params.get(name)!;
  const data = Array.from(v.dataSync(), (x, i) => f(i, x));
  tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
}

/** Max |a − b| of the first outputs of two networks (b with `gates` or none). */
function maxDiff(
  a: Network,
  b: Network,
  x: tf.Tensor,
  gates: Record<string, number[] | number> = {},
): number {
  return tf.tidy(() => {
    const [ya] = a.apply(x, {
      gates: Object.fromEntries(Object.entries(gates).map(([k, v]) => [k, tf.tensor(v)])),
    });
    const [yb] = b.apply(x);
    return tf.max(tf.abs(tf.sub(ya!, yb!))).dataSync()[0]!;
  });
}

/** The error `fn` throws (fails when it throws none). */

const conv = (id: string, input: string, filters: number): NodeSpec => ({
  id,
  op: 'conv2d',
  inputs: [input],
  filters,
  kernelSize: [3, 3],
  padding: 'same',
});

/** stem (2 filters) → one gated residual block whose second conv's channels reach the add through `tail` → pool → fc. */
function residual(tail: NodeSpec[], into = 'b1.conv2'): NetworkSpec {
  const last = tail.length === 0 ? into : tail[tail.length - 1]!.id;
  return {
    name: 'res',
    inputShape: [4, 4, 2],
    nodes: [
      conv('stem', 'input', 2),
      conv('b1.conv1', 'stem', 3),
      { id: 'b1.relu1', op: 'activation', inputs: ['b1.conv1'], fn: 'relu' },
      conv('b1.conv2', 'b1.relu1', 2),
      ...tail,
      { id: 'b1', op: 'add', inputs: ['stem', last], gated: true },
      { id: 'pool', op: 'globalAvgPool', inputs: ['b1'] },
      { id: 'fc', op: 'dense', inputs: ['pool'], units: 3 },
    ],
    outputs: ['fc'],
  };
}

const x4 = () => tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);

describe('folding a closed gate whose channel is tied to the residual stream', () => {
  it('walks back through tanh, elu and linear to the conv and zeroes its kernel column and bias', () => {
    const spec = residual([
      { id: 'b1.tanh', op: 'activation', inputs: ['b1.conv2'], fn: 'tanh' },
      { id: 'b1.elu', op: 'activation', inputs: ['b1.tanh'], fn: 'elu' },
      { id: 'b1.lin', op: 'activation', inputs: ['b1.elu'], fn: 'linear' },
      { id: 'b1.gate2', op: 'gate', inputs: ['b1.lin'] },
    ]);
    const net = createNetwork(spec, { seed: 4 });
    edit(net, 'b1.conv2/bias', (i) => 0.3 + i); // a bias that must be zeroed too
    expect(net.gateSites.find((s) => s.id === 'b1.gate2')!.groups).toEqual([]);
    const small = compact(net, { gates: { 'b1.gate2': [1, 0] } });
    const kernel = Array.from(small.params.get('b1.conv2/kernel')!.dataSync());
    expect(kernel.filter((_, i) => i % 2 === 1).every((v) => v === 0)).toBe(true);
    expect(kernel.filter((_, i) => i % 2 === 0).some((v) => v !== 0)).toBe(true);
    expect(Array.from(small.params.get('b1.conv2/bias')!.dataSync())).toEqual([expect.closeTo(0.3, 6), 0]);
    const x = x4();
    expect(maxDiff(net, small, x, { 'b1.gate2': [1, 0] })).toBeLessThan(1e-5);
    x.dispose();
    small.dispose();
    net.dispose();
  });

  it('refuses a fold through a node another node also reads, naming the site and the channel', () => {
    // A gate on the stem's output: the stem also feeds the block's add.
    const base = residual([]);
    const spec: NetworkSpec = {
      ...base,
      nodes: [
        base.nodes[0]!,
        { id: 'stem.gate', op: 'gate', inputs: ['stem'] },
        ...base.nodes.slice(1).map((n) => (n.id === 'b1.conv1' ? { ...n, inputs: ['stem.gate'] } : n)),
      ],
    };
    const net = createNetwork(spec, { seed: 4 });
    const e = thrown(() => compact(net, { gates: { 'stem.gate': [1, 0] } }));
    expect([e.name, e.code, e.message, e.details]).toEqual([
      'CoreError',
      'INVALID_ARGUMENT',
      "cannot fold closed gate 1 of site 'stem.gate': 'stem' also feeds other nodes",
      { site: 'stem.gate', index: 1 },
    ]);
    net.dispose();
  });

  it('refuses a fold through an op that does not map zero to zero (a sigmoid)', () => {
    const net = createNetwork(
      residual([
        { id: 'b1.sig', op: 'activation', inputs: ['b1.conv2'], fn: 'sigmoid' },
        { id: 'b1.gate2', op: 'gate', inputs: ['b1.sig'] },
      ]),
      { seed: 4 },
    );
    const e = thrown(() => compact(net, { gates: { 'b1.gate2': [0, 1] } }));
    expect([e.code, e.message, e.details]).toEqual([
      'INVALID_ARGUMENT',
      "cannot fold closed gate 0 of site 'b1.gate2': 'b1.sig' (activation) does not map zero to zero per channel",
      { site: 'b1.gate2', index: 0 },
    ]);
    // Inside a block whose layer gate is closed the same gate is not folded: the block goes as a whole.
    const small = compact(net, { gates: { 'b1.gate2': [0, 1], b1: 0 } });
    expect(small.spec.nodes.map((n) => n.id)).toEqual(['stem', 'pool', 'fc']);
    small.dispose();
    net.dispose();
  });

  it('refuses a fold of a channel that comes straight from the network input', () => {
    const spec: NetworkSpec = {
      name: 'res-in',
      inputShape: [4, 4, 2],
      nodes: [
        { id: 'in.gate', op: 'gate', inputs: ['input'] },
        conv('b1.conv1', 'in.gate', 3),
        { id: 'b1.relu1', op: 'activation', inputs: ['b1.conv1'], fn: 'relu' },
        conv('b1.conv2', 'b1.relu1', 2),
        { id: 'b1', op: 'add', inputs: ['in.gate', 'b1.conv2'], gated: true },
        { id: 'pool', op: 'globalAvgPool', inputs: ['b1'] },
        { id: 'fc', op: 'dense', inputs: ['pool'], units: 3 },
      ],
      outputs: ['fc'],
    };
    const net = createNetwork(spec, { seed: 4 });
    const e = thrown(() => compact(net, { gates: { 'in.gate': [1, 0] } }));
    expect([e.code, e.message, e.details]).toEqual([
      'INVALID_ARGUMENT',
      "cannot fold closed gate 1 of site 'in.gate': the channel comes straight from the network input",
      { site: 'in.gate', index: 1 },
    ]);
    net.dispose();
  });

  it('gate values of the wrong count or outside [0, 1] are refused with the site in the details', () => {
    const net = createNetwork(residual([{ id: 'b1.gate2', op: 'gate', inputs: ['b1.conv2'] }]), { seed: 4 });
    const count = thrown(() => compact(net, { gates: { 'b1.gate2': [1, 0, 1] } }));
    expect([count.code, count.message, count.details]).toEqual([
      'INVALID_ARGUMENT',
      "gates['b1.gate2'] needs 2 values, got 3",
      { site: 'b1.gate2' },
    ]);
    const over = thrown(() => compact(net, { gates: { b1: 1.5 } }));
    expect([over.code, over.message, over.details]).toEqual([
      'INVALID_ARGUMENT',
      "gates['b1'] must hold values in [0, 1] for compaction, got 1.5",
      { site: 'b1' },
    ]);
    expect(thrown(() => compact(net, { gates: { 'b1.gate2': [1, Number.NaN] } })).code).toBe(
      'INVALID_ARGUMENT',
    );
    const none = thrown(() => compact(net, { gates: { nope: 1 } }));
    expect([none.code, none.message, none.details]).toEqual([
      'INVALID_ARGUMENT',
      "gates['nope']: network 'res' has no such gate site",
      { site: 'nope' },
    ]);
    net.dispose();
  });
});

describe('dead blocks and the structure after a removal', () => {
  /** Zeroes every parameter of the block's branch. */
  const killBranch = (net: Network) => {
    for (const name of ['b1.conv1/kernel', 'b1.conv1/bias', 'b1.conv2/kernel', 'b1.conv2/bias'])
      edit(net, name, () => 0);
  };

  it('a block whose branch parameters are all zero is removed without any gate (through a ReLU to the add)', () => {
    const net = createNetwork(
      residual([{ id: 'b1.relu2', op: 'activation', inputs: ['b1.conv2'], fn: 'relu' }]),
      {
        seed: 4,
      },
    );
    killBranch(net);
    const small = compact(net);
    expect(small.spec.nodes.map((n) => n.id)).toEqual(['stem', 'pool', 'fc']);
    // Nothing was cut from the layers that stay: their takes are empty.
    const takes = compactionTakes(small)!;
    expect([takes.get('stem/kernel'), takes.get('fc/kernel'), takes.get('fc/bias')]).toEqual([[], [], []]);
    const x = x4();
    expect(maxDiff(net, small, x)).toBeLessThan(1e-5);
    x.dispose();
    small.dispose();
    net.dispose();
  });

  it('a block ending in a sigmoid is not dead when its parameters are zero: sigmoid(0) = ½ reaches the add', () => {
    const net = createNetwork(
      residual([{ id: 'b1.sig', op: 'activation', inputs: ['b1.conv2'], fn: 'sigmoid' }]),
      {
        seed: 4,
      },
    );
    killBranch(net);
    const small = compact(net);
    expect(small.spec.nodes.map((n) => n.id)).toContain('b1.sig');
    expect(small.spec.nodes.map((n) => n.id)).toContain('b1');
    const x = x4();
    expect(maxDiff(net, small, x)).toBeLessThan(1e-5);
    x.dispose();
    small.dispose();
    net.dispose();
  });

  it('a block whose branch re-adds the stream is not dead, though its parameters are zero', () => {
    const net = createNetwork(
      residual([{ id: 'b1.inner', op: 'add', inputs: ['b1.conv2', 'stem'] }], 'b1.conv2'),
      { seed: 4 },
    );
    killBranch(net);
    const small = compact(net);
    expect(small.spec.nodes.map((n) => n.id)).toContain('b1.inner');
    const x = x4();
    expect(maxDiff(net, small, x)).toBeLessThan(1e-5);
    x.dispose();
    small.dispose();
    net.dispose();
  });

  it('removing a block frees the stream channels it tied: a zero stem filter then goes', () => {
    const net = createNetwork(residual([]), { seed: 4 });
    // Stem filter 1: kernel column, bias and the head's row all zero (the whole group once the stream is gone).
    edit(net, 'stem/kernel', (i, v) => (i % 2 === 1 ? 0 : v));
    edit(net, 'stem/bias', (i, v) => (i === 1 ? 0 : v));
    edit(net, 'fc/kernel', (i, v) => (Math.floor(i / 3) === 1 ? 0 : v));
    const kept = compact(net);
    expect(kept.spec.nodes[0]).toMatchObject({ id: 'stem', filters: 2 }); // tied to the add: stays
    kept.dispose();
    const small = compact(net, { gates: { b1: 0 } });
    expect(small.spec.nodes.map((n) => n.id)).toEqual(['stem', 'pool', 'fc']);
    expect(small.spec.nodes[0]).toMatchObject({ id: 'stem', filters: 1 });
    expect(small.params.get('fc/kernel')!.shape).toEqual([1, 3]);
    const x = x4();
    expect(maxDiff(net, small, x, { b1: 0 })).toBeLessThan(1e-5);
    x.dispose();
    small.dispose();
    net.dispose();
  });
});

describe('ReLUs and select nodes after compaction', () => {
  it('keeps a ReLU on the network input and one after a tanh: neither input is non-negative', () => {
    const spec: NetworkSpec = {
      name: 'relus',
      inputShape: [4],
      nodes: [
        { id: 'r0', op: 'activation', inputs: ['input'], fn: 'relu' },
        { id: 'fc1', op: 'dense', inputs: ['r0'], units: 3 },
        { id: 't', op: 'activation', inputs: ['fc1'], fn: 'tanh' },
        { id: 'r1', op: 'activation', inputs: ['t'], fn: 'relu' },
        { id: 'fc2', op: 'dense', inputs: ['r1'], units: 2 },
      ],
      outputs: ['fc2'],
    };
    const net = createNetwork(spec, { seed: 2 });
    const small = compact(net);
    expect(small.spec.nodes.map((n) => n.id)).toEqual(['r0', 'fc1', 't', 'r1', 'fc2']);
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
    expect(maxDiff(net, small, x)).toBeLessThan(1e-6);
    x.dispose();
    small.dispose();
    net.dispose();
  });

  it('a select node whose natural id is taken gets the next free one', () => {
    const spec: NetworkSpec = {
      name: 'taken',
      inputShape: [3, 2, 1],
      nodes: [
        { id: 'flatten', op: 'flatten', inputs: ['input'] },
        { id: 'flatten.select', op: 'gate', inputs: ['flatten'] },
        { id: 'fc1', op: 'dense', inputs: ['flatten.select'], units: 4 },
        { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'fc2', op: 'dense', inputs: ['relu'], units: 2 },
      ],
      outputs: ['fc2'],
    };
    const net = createNetwork(spec, { seed: 1 });
    const gates = { 'flatten.select': [1, 0, 0, 1, 1, 0] };
    const small = compact(net, { gates });
    expect(small.spec.nodes.slice(0, 3)).toEqual([
      expect.objectContaining({ id: 'flatten' }),
      { id: 'flatten.select2', op: 'select', inputs: ['flatten'], indices: [0, 3, 4] },
      expect.objectContaining({ id: 'flatten.select', inputs: ['flatten.select2'] }),
    ]);
    const x = tf.randomNormal([2, 3, 2, 1], 0, 1, 'float32', 2);
    expect(maxDiff(net, small, x, gates)).toBeLessThan(1e-5);
    x.dispose();
    small.dispose();
    net.dispose();
  });
});

describe('preservesZero', () => {
  it('is true exactly for the ops with f(0) = 0 per element or per channel', () => {
    const act = (fn: string) => ({ id: 'a', op: 'activation', inputs: ['input'], fn }) as NodeSpec;
    const op = (o: string) => ({ id: 'n', op: o, inputs: ['input'] }) as unknown as NodeSpec;
    expect(
      ['relu', 'elu', 'tanh', 'linear', 'sigmoid', 'softmax', 'logSoftmax'].map((f) => preservesZero(act(f))),
    ).toEqual([true, true, true, true, false, false, false]);
    expect(
      ['gate', 'dropout', 'maxPool', 'avgPool', 'globalAvgPool', 'flatten', 'dense', 'batchNorm', 'add'].map(
        (o) => preservesZero(op(o)),
      ),
    ).toEqual([true, true, true, true, true, true, false, false, false]);
  });
});
