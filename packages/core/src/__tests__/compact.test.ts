import { fc, test } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compact,
  compactionTakes,
  countParams,
  createNetwork,
  type Network,
  type NetworkSpec,
  type NodeSpec,
  networkMetrics,
  Rng,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** |a − b| ≤ tol·max(1, |a|, |b|) for every entry. */
function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-4) {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    const scale = Math.max(1, Math.abs(x[i]!), Math.abs(y[i]!));
    if (!(Math.abs(x[i]! - y[i]!) <= tol * scale)) {
      throw new Error(`entry ${i}: ${x[i]} vs ${y[i]}`);
    }
  }
}

function setValues(net: Network, name: string, values: ArrayLike<number>) {
  const v = net.params.get(name)!;
  const t = tf.tensor(Array.from(values), v.shape);
  v.assign(t);
  t.dispose();
}

function setMaskFrom(net: Network, name: string, data: Float32Array) {
  const t = tf.tensor(data, net.params.get(name)!.shape);
  net.setMask(name, t);
  t.dispose();
}

/** Sets each group's slices to zero in the masks with probability `p`, plus unstructured zeros with probability `q`. */
function randomMasks(net: Network, rng: Rng, p: number, q: number) {
  const masks = new Map<string, Float32Array>();
  for (const [name, info] of net.paramInfo) {
    if (!info.trainable || info.role === 'alpha') continue;
    masks.set(
      name,
      Float32Array.from({ length: info.shape.reduce((a, b) => a * b, 1) }, () => (rng.next() < q ? 0 : 1)),
    );
  }
  for (const g of net.groups) {
    if (g.kind === 'layer' || rng.next() >= p) continue;
    for (const s of g.slices) {
      const shape = net.paramInfo.get(s.param)!.shape;
      const inner = shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
      const outer = shape.slice(0, s.axis).reduce((a, b) => a * b, 1);
      const m = masks.get(s.param)!;
      for (let o = 0; o < outer; o++)
        for (const i of s.indices)
          m.fill(0, (o * shape[s.axis]! + i) * inner, (o * shape[s.axis]! + i + 1) * inner);
    }
  }
  for (const [name, m] of masks) setMaskFrom(net, name, m);
}

/** Random non-trivial BatchNorm statistics and affine parameters, so inference BN is not the identity. */
function randomizeBatchNorm(net: Network, rng: Rng) {
  for (const [name, info] of net.paramInfo) {
    if (info.op !== 'batchNorm') continue;
    const n = info.shape[0]!;
    const draw =
      info.role === 'movingVariance'
        ? () => rng.uniform(0.5, 2)
        : () => rng.uniform(-0.5, 0.5) + (info.role === 'gamma' ? 1 : 0);
    setValues(net, name, Array.from({ length: n }, draw));
  }
}

const mlpSpec: NetworkSpec = {
  name: 'mlp',
  inputShape: [4],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 3, init: 'torchDefault' },
    { id: 'r', op: 'activation', inputs: ['fc1'], fn: 'sigmoid' },
    { id: 'fc2', op: 'dense', inputs: ['r'], units: 2, init: 'torchDefault' },
  ],
  outputs: ['fc2'],
};

describe('compact', () => {
  it('removes a fully zero unit, keeps a constant one, slices masks and leaves the original untouched', () => {
    const net = createNetwork(mlpSpec, { seed: 3 });
    // Unit 0: column, bias and row zero → removed. Unit 2: column zero, bias ≠ 0 → sigmoid(b) constant, kept.
    setValues(net, 'fc1/bias', [0, 0.3, -0.7]);
    setMaskFrom(net, 'fc1/kernel', Float32Array.from([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]));
    setMaskFrom(net, 'fc2/kernel', Float32Array.from([0, 0, 1, 1, 1, 0]));
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
    ]);
    const before = tf.memory().numTensors;
    const small = compact(net);
    expect(small.spec.nodes.map((n) => (n as { units?: number }).units)).toEqual([2, undefined, 2]);
    expect(net.spec.nodes[0]).toMatchObject({ units: 3 });
    expect(net.params.get('fc1/kernel')!.shape).toEqual([4, 3]);
    expect(small.params.get('fc1/kernel')!.shape).toEqual([4, 2]);
    expect(Array.from(small.params.get('fc1/bias')!.dataSync())).toEqual([
      expect.closeTo(0.3, 6),
      expect.closeTo(-0.7, 6),
    ]);
    expect(Array.from(small.getMask('fc1/kernel')!.dataSync())).toEqual([1, 0, 1, 0, 1, 0, 0, 0]);
    expect(Array.from(small.getMask('fc2/kernel')!.dataSync())).toEqual([1, 1, 1, 0]);
    const [a] = net.apply(x);
    const [b] = small.apply(x);
    expectClose(a!, b!);
    tf.dispose([a!, b!]);
    expect(networkMetrics(small).dense.params).toBe(countParams(small.spec));
    small.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it('folds fractional unit gates of a dense net (input features and hidden units) into the consumers, and refuses a path that does not commute with a factor', () => {
    const spec: NetworkSpec = {
      name: 'gated-mlp',
      inputShape: [6],
      nodes: [
        { id: 'in.gate', op: 'gate', inputs: ['input'] },
        { id: 'fc1', op: 'dense', inputs: ['in.gate'], units: 5 },
        { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'g1', op: 'gate', inputs: ['relu1'] },
        { id: 'fc2', op: 'dense', inputs: ['g1'], units: 4 },
        { id: 'tanh2', op: 'activation', inputs: ['fc2'], fn: 'tanh' },
        { id: 'g2', op: 'gate', inputs: ['tanh2'] },
        { id: 'tanh3', op: 'activation', inputs: ['g2'], fn: 'tanh' },
        { id: 'out', op: 'dense', inputs: ['tanh3'], units: 3 },
      ],
      outputs: ['out'],
    };
    const net = createNetwork(spec, { seed: 7 });
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 2);
    const plain = { 'in.gate': [0.2, 0, 1, 0.7, 0.05, 1], g1: [1, 0.4, 0, 0.9, 0.5], g2: [1, 1, 0, 1] };
    const gates = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, tf.tensor1d(v)]));
    const small = compact(net, { gates: plain });
    expect(small.params.get('fc1/kernel')!.shape).toEqual([5, 4]); // input 1 and unit 2 of fc1 go
    const [a] = net.apply(x, { gates });
    const [b] = small.apply(x);
    expectClose(a!, b!);
    // g2 sits between two tanh: a factor neither commutes forward (tanh3) nor back (tanh2).
    expect(() => compact(net, { gates: { g2: [1, 0.5, 1, 1] } })).toThrowError(
      /cannot fold the fractional gate value 0.5 of gate 1 of site 'g2': 'tanh2' \(activation\) does not commute/,
    );
    tf.dispose([a!, b!, x, ...Object.values(gates)]);
    small.dispose();
    net.dispose();
  });

  it('folds closed unit gates and turns a closed block into its skip path', () => {
    const spec: NetworkSpec = {
      name: 'res',
      inputShape: [4, 4, 2],
      nodes: [
        { id: 'stem', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3], padding: 'same' },
        { id: 'b1.conv1', op: 'conv2d', inputs: ['stem'], filters: 3, kernelSize: [3, 3], padding: 'same' },
        { id: 'b1.bn1', op: 'batchNorm', inputs: ['b1.conv1'] },
        { id: 'b1.gate1', op: 'gate', inputs: ['b1.bn1'] },
        { id: 'b1.relu1', op: 'activation', inputs: ['b1.gate1'], fn: 'relu' },
        {
          id: 'b1.conv2',
          op: 'conv2d',
          inputs: ['b1.relu1'],
          filters: 2,
          kernelSize: [3, 3],
          padding: 'same',
        },
        { id: 'b1.bn2', op: 'batchNorm', inputs: ['b1.conv2'] },
        { id: 'b1.gate2', op: 'gate', inputs: ['b1.bn2'] },
        { id: 'b1', op: 'add', inputs: ['stem', 'b1.gate2'], gated: true },
        { id: 'b1.relu', op: 'activation', inputs: ['b1'], fn: 'relu' },
        {
          id: 'b2.conv1',
          op: 'conv2d',
          inputs: ['b1.relu'],
          filters: 3,
          kernelSize: [3, 3],
          padding: 'same',
        },
        { id: 'b2.relu1', op: 'activation', inputs: ['b2.conv1'], fn: 'relu' },
        {
          id: 'b2.conv2',
          op: 'conv2d',
          inputs: ['b2.relu1'],
          filters: 2,
          kernelSize: [3, 3],
          padding: 'same',
        },
        { id: 'b2', op: 'add', inputs: ['b1.relu', 'b2.conv2'], gated: true },
        { id: 'pool', op: 'globalAvgPool', inputs: ['b2'] },
        { id: 'fc', op: 'dense', inputs: ['pool'], units: 3 },
      ],
      outputs: ['fc'],
    };
    const net = createNetwork(spec, { seed: 4 });
    randomizeBatchNorm(net, Rng.fromSeed(1));
    const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);
    const plain = { 'b1.gate1': [0, 1, 1], 'b1.gate2': [1, 0], b1: 1, b2: 0 };
    const gates = {
      'b1.gate1': tf.tensor1d([0, 1, 1]),
      'b1.gate2': tf.tensor1d([1, 0]),
      b1: tf.scalar(1),
      b2: tf.scalar(0),
    };
    const small = compact(net, { gates: plain });
    expect(small.spec.nodes.map((n) => n.id)).toEqual([
      'stem',
      'b1.conv1',
      'b1.bn1',
      'b1.gate1',
      'b1.relu1',
      'b1.conv2',
      'b1.bn2',
      'b1.gate2',
      'b1',
      'b1.relu',
      'pool',
      'fc',
    ]);
    expect(small.spec.nodes[1]).toMatchObject({ filters: 2 });
    // The tied gate b1.gate2 is folded into b1.bn2: channel 1's gamma and beta are zero.
    expect(Array.from(small.params.get('b1.bn2/gamma')!.dataSync())[1]).toBe(0);
    const [a] = net.apply(x, { gates });
    const [b] = small.apply(x);
    expectClose(a!, b!);
    expect(networkMetrics(net, { gates: plain }).compacted.params).toBe(countParams(small.spec));
    expect(() => compact(net, { gates: { b1: -0.5 } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => compact(net, { gates: { nope: 1 } })).toThrowError(/no such gate site/);
    // Fractional gates (a hard-concrete gate's evaluation value) are folded into the parameters:
    // unit gates with a group into the consumers' rows, the tied b1.gate2 into b1.bn2, the layer
    // gates into the branch's last BatchNorm (b1) or conv (b2).
    const partial = { 'b1.gate1': [0, 0.3, 1], 'b1.gate2': [0.6, 0], b1: 0.5, b2: 0.25 };
    const partialT = {
      'b1.gate1': tf.tensor1d([0, 0.3, 1]),
      'b1.gate2': tf.tensor1d([0.6, 0]),
      b1: tf.scalar(0.5),
      b2: tf.scalar(0.25),
    };
    const folded = compact(net, { gates: partial });
    expect(folded.gateSites.length).toBe(net.gateSites.length);
    const [c] = net.apply(x, { gates: partialT });
    const [d] = folded.apply(x);
    expectClose(c!, d!);
    // The gated network with those gates differs from the one without: the folding did something.
    const [e] = net.apply(x);
    expect(Math.max(...Array.from(tf.abs(tf.sub(c!, e!)).dataSync()))).toBeGreaterThan(1e-3);
    tf.dispose([c!, d!, e!, ...Object.values(partialT)]);
    folded.dispose();
    expect(() => compact(net, { gates: { 'b1.gate1': [1, 1] } })).toThrowError(/needs 3 values/);
    tf.dispose([a!, b!, x, ...Object.values(gates)]);
    small.dispose();
    net.dispose();
  });

  it('drops a ReLU whose input is already non-negative — a removed block leaves one — unless it is an output', () => {
    const conv = (id: string, input: string, filters: number, stride = 1): NodeSpec => ({
      id,
      op: 'conv2d',
      inputs: [input],
      filters,
      kernelSize: [3, 3],
      padding: 'same',
      strides: [stride, stride],
      useBias: false,
    });
    const block = (
      b: string,
      input: string,
      filters: number,
      stride: number,
      shortcut: boolean,
    ): NodeSpec[] => [
      conv(`${b}.conv1`, input, filters, stride),
      { id: `${b}.bn1`, op: 'batchNorm', inputs: [`${b}.conv1`] },
      { id: `${b}.relu1`, op: 'activation', inputs: [`${b}.bn1`], fn: 'relu' },
      conv(`${b}.conv2`, `${b}.relu1`, filters),
      { id: `${b}.bn2`, op: 'batchNorm', inputs: [`${b}.conv2`] },
      ...(shortcut
        ? [{ id: `${b}.sc`, op: 'padShortcut', inputs: [input], stride, channels: filters } as NodeSpec]
        : []),
      { id: b, op: 'add', inputs: [shortcut ? `${b}.sc` : input, `${b}.bn2`], gated: true },
      { id: `${b}.relu`, op: 'activation', inputs: [b], fn: 'relu' },
    ];
    // stemRelu: a post-activation ResNet (every skip path is a ReLU's output); without it, the skip
    // path into b1 is a BatchNorm's output and b1's ReLU must stay.
    const spec = (stemRelu: boolean, outputRelu: boolean): NetworkSpec => ({
      name: 'res',
      inputShape: [8, 8, 1],
      nodes: [
        conv('stem', 'input', 2),
        { id: 'stem.bn', op: 'batchNorm', inputs: ['stem'] },
        ...(stemRelu
          ? [{ id: 'stem.relu', op: 'activation', inputs: ['stem.bn'], fn: 'relu' } as NodeSpec]
          : []),
        ...block('b1', stemRelu ? 'stem.relu' : 'stem.bn', 2, 1, false),
        ...block('b2', 'b1.relu', 4, 2, true),
        { id: 'pool', op: 'globalAvgPool', inputs: ['b2.relu'] },
        { id: 'fc', op: 'dense', inputs: ['pool'], units: 3 },
      ],
      outputs: outputRelu ? ['fc', 'b2.relu'] : ['fc'],
    });
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5);
    const ids = (stemRelu: boolean, outputRelu: boolean, closed: Record<string, number>) => {
      const net = createNetwork(spec(stemRelu, outputRelu), { seed: 6 });
      randomizeBatchNorm(net, Rng.fromSeed(2));
      const gates = Object.fromEntries(net.gateSites.map((site) => [site.id, closed[site.id] ?? 1]));
      const small = compact(net, { gates });
      const tensors = Object.fromEntries(Object.entries(gates).map(([k, v]) => [k, tf.scalar(v)]));
      const a = net.apply(x, { gates: tensors });
      const b = small.apply(x);
      a.forEach((t, i) => {
        expectClose(t, b[i]!);
      });
      const out = small.spec.nodes.map((n) => n.id);
      tf.dispose([...a, ...b, ...Object.values(tensors)]);
      small.dispose();
      net.dispose();
      return out;
    };
    const after = (list: string[]) => list.filter((id) => !id.includes('.conv') && !id.includes('.bn'));
    // Both blocks removed: b1.relu reads stem.relu, b2.relu reads the shortcut of it — both go.
    expect(after(ids(true, false, { b1: 0, b2: 0 }))).toEqual(['stem', 'stem.relu', 'b2.sc', 'pool', 'fc']);
    // One removed: only its ReLU goes.
    expect(after(ids(true, false, { b2: 0 }))).toEqual([
      'stem',
      'stem.relu',
      'b1.relu1',
      'b1',
      'b1.relu',
      'b2.sc',
      'pool',
      'fc',
    ]);
    // No ReLU on the skip path into b1: its ReLU stays (it is what makes b2's skip path non-negative).
    expect(after(ids(false, false, { b1: 0, b2: 0 }))).toEqual(['stem', 'b1.relu', 'b2.sc', 'pool', 'fc']);
    // Nothing removed: every ReLU reads a BatchNorm or an add, and stays.
    expect(after(ids(true, false, {})).filter((id) => id.endsWith('relu'))).toEqual([
      'stem.relu',
      'b1.relu',
      'b2.relu',
    ]);
    // A ReLU that is an output of the network stays.
    expect(after(ids(true, true, { b1: 0, b2: 0 }))).toEqual([
      'stem',
      'stem.relu',
      'b2.sc',
      'b2.relu',
      'pool',
      'fc',
    ]);
    x.dispose();
    // Any chain, not only one a removal made: relu → maxPool → relu and relu → flatten → relu.
    const chain = createNetwork(
      {
        name: 'chain',
        inputShape: [4, 4, 1],
        nodes: [
          { id: 'c', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3], padding: 'same' },
          { id: 'r1', op: 'activation', inputs: ['c'], fn: 'relu' },
          { id: 'p', op: 'maxPool', inputs: ['r1'], poolSize: [2, 2] },
          { id: 'r2', op: 'activation', inputs: ['p'], fn: 'relu' },
          { id: 'f', op: 'flatten', inputs: ['r2'] },
          { id: 'r3', op: 'activation', inputs: ['f'], fn: 'relu' },
          { id: 'fc', op: 'dense', inputs: ['r3'], units: 2 },
        ],
        outputs: ['fc'],
      },
      { seed: 3 },
    );
    const small = compact(chain);
    expect(small.spec.nodes.map((n) => n.id)).toEqual(['c', 'r1', 'p', 'f', 'fc']);
    const xs = tf.randomNormal([2, 4, 4, 1], 0, 1, 'float32', 8);
    const [a] = chain.apply(xs);
    const [b] = small.apply(xs);
    expectClose(a!, b!);
    tf.dispose([a!, b!, xs]);
    small.dispose();
    chain.dispose();
  });
});

// ───────────────────────── property: compact(net).apply ≈ net.apply ─────────────────────────

const actArb = fc.constantFrom('relu', 'tanh', 'sigmoid', 'elu', 'linear') as fc.Arbitrary<
  'relu' | 'tanh' | 'sigmoid' | 'elu' | 'linear'
>;

const mlpArb = fc
  .record({
    input: fc.integer({ min: 1, max: 5 }),
    hidden: fc.array(
      fc.record({ units: fc.integer({ min: 1, max: 5 }), bn: fc.boolean(), act: actArb, gate: fc.boolean() }),
      { minLength: 1, maxLength: 3 },
    ),
    out: fc.integer({ min: 1, max: 3 }),
    softmax: fc.boolean(),
  })
  .map(({ input, hidden, out, softmax }): NetworkSpec => {
    const nodes: NodeSpec[] = [];
    let x = 'input';
    hidden.forEach((h, i) => {
      nodes.push({ id: `fc${i}`, op: 'dense', inputs: [x], units: h.units, init: 'torchDefault' });
      x = `fc${i}`;
      if (h.bn) nodes.push({ id: `bn${i}`, op: 'batchNorm', inputs: [x] });
      if (h.bn) x = `bn${i}`;
      if (h.gate) nodes.push({ id: `g${i}`, op: 'gate', inputs: [x] });
      if (h.gate) x = `g${i}`;
      nodes.push({ id: `a${i}`, op: 'activation', inputs: [x], fn: h.act });
      x = `a${i}`;
    });
    nodes.push({ id: 'out', op: 'dense', inputs: [x], units: out, init: 'torchDefault' });
    if (softmax) nodes.push({ id: 'sm', op: 'activation', inputs: ['out'], fn: 'softmax' });
    return { name: 'mlp', inputShape: [input], nodes, outputs: [softmax ? 'sm' : 'out'] };
  });

const cnnArb = fc
  .record({
    hw: fc.integer({ min: 4, max: 6 }),
    c: fc.integer({ min: 1, max: 2 }),
    f1: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 3 }),
    padding: fc.constantFrom('same', 'valid') as fc.Arbitrary<'same' | 'valid'>,
    bn: fc.boolean(),
    gate: fc.boolean(),
    pool: fc.constantFrom('none', 'maxPool', 'avgPool'),
    head: fc.constantFrom('flatten', 'gap'),
    f2: fc.integer({ min: 1, max: 3 }),
    hidden: fc.integer({ min: 1, max: 4 }),
    act: actArb,
  })
  .map((o): NetworkSpec => {
    const nodes: NodeSpec[] = [
      {
        id: 'c1',
        op: 'conv2d',
        inputs: ['input'],
        filters: o.f1,
        kernelSize: [o.k, o.k],
        padding: o.padding,
        init: 'torchDefault',
      },
    ];
    let x = 'c1';
    const push = (n: NodeSpec) => {
      nodes.push(n);
      x = n.id;
    };
    if (o.bn) push({ id: 'bn1', op: 'batchNorm', inputs: [x] });
    if (o.gate) push({ id: 'g1', op: 'gate', inputs: [x] });
    push({ id: 'a1', op: 'activation', inputs: [x], fn: o.act });
    if (o.pool !== 'none')
      push({ id: 'p1', op: o.pool as 'maxPool', inputs: [x], poolSize: [2, 2], padding: 'same' });
    push({
      id: 'c2',
      op: 'conv2d',
      inputs: [x],
      filters: o.f2,
      kernelSize: [2, 2],
      padding: 'same',
      init: 'torchDefault',
    });
    push({ id: 'a2', op: 'activation', inputs: [x], fn: 'relu' });
    push(
      o.head === 'flatten'
        ? { id: 'flat', op: 'flatten', inputs: [x] }
        : { id: 'gap', op: 'globalAvgPool', inputs: [x] },
    );
    push({ id: 'fc1', op: 'dense', inputs: [x], units: o.hidden, init: 'torchDefault' });
    push({ id: 'a3', op: 'activation', inputs: [x], fn: o.act });
    push({ id: 'out', op: 'dense', inputs: [x], units: 2, init: 'torchDefault' });
    return { name: 'cnn', inputShape: [o.hw, o.hw, o.c], nodes, outputs: ['out'] };
  });

const resArb = fc
  .record({
    c: fc.integer({ min: 1, max: 3 }),
    inner: fc.integer({ min: 1, max: 3 }),
    stride: fc.constantFrom(1, 2),
    widen: fc.integer({ min: 0, max: 2 }),
    gated: fc.boolean(),
    // A ReLU on the stem makes the skip path non-negative: a removed block's ReLU is then dropped.
    stemRelu: fc.boolean(),
  })
  .map((o): NetworkSpec => {
    const out = o.c + o.widen;
    const needsShortcut = o.stride > 1 || o.widen > 0;
    const stem = o.stemRelu ? 'stem.relu' : 'stem';
    const nodes: NodeSpec[] = [
      {
        id: 'stem',
        op: 'conv2d',
        inputs: ['input'],
        filters: o.c,
        kernelSize: [3, 3],
        padding: 'same',
        init: 'torchDefault',
      },
      ...(o.stemRelu
        ? [{ id: 'stem.relu', op: 'activation', inputs: ['stem'], fn: 'relu' } as NodeSpec]
        : []),
      {
        id: 'b.conv1',
        op: 'conv2d',
        inputs: [stem],
        filters: o.inner,
        kernelSize: [3, 3],
        padding: 'same',
        strides: [o.stride, o.stride],
        init: 'torchDefault',
      },
      { id: 'b.bn1', op: 'batchNorm', inputs: ['b.conv1'] },
      { id: 'b.gate1', op: 'gate', inputs: ['b.bn1'] },
      { id: 'b.relu1', op: 'activation', inputs: ['b.gate1'], fn: 'relu' },
      {
        id: 'b.conv2',
        op: 'conv2d',
        inputs: ['b.relu1'],
        filters: out,
        kernelSize: [3, 3],
        padding: 'same',
        init: 'torchDefault',
      },
      { id: 'b.bn2', op: 'batchNorm', inputs: ['b.conv2'] },
    ];
    if (needsShortcut)
      nodes.push({ id: 'b.sc', op: 'padShortcut', inputs: [stem], stride: o.stride, channels: out });
    nodes.push(
      { id: 'b', op: 'add', inputs: [needsShortcut ? 'b.sc' : stem, 'b.bn2'], gated: o.gated },
      { id: 'b.relu', op: 'activation', inputs: ['b'], fn: 'relu' },
      { id: 'gap', op: 'globalAvgPool', inputs: ['b.relu'] },
      { id: 'out', op: 'dense', inputs: ['gap'], units: 2, init: 'torchDefault' },
    );
    return { name: 'res', inputShape: [4, 4, 2], nodes, outputs: ['out'] };
  });

/**
 * Random masks (whole groups with probability p, single entries with
 * probability q), random BN statistics and random 0/1 gates; checks that the
 * compacted net computes the same function and has the size metrics predict.
 */
const removed = { units: 0, blocks: 0 };

function checkCompaction(spec: NetworkSpec, seed: number, p: number, q: number, useGates: boolean) {
  const rng = Rng.fromSeed(seed);
  const net = createNetwork(spec, { seed });
  randomizeBatchNorm(net, rng);
  randomMasks(net, rng, p, q);
  const plain: Record<string, number[]> = {};
  const gates: Record<string, tf.Tensor> = {};
  if (useGates) {
    for (const site of net.gateSites) {
      // Layer gates close more often so that whole-block removal is exercised.
      const closed = site.kind === 'layer' ? 0.5 : 0.3;
      plain[site.id] = Array.from({ length: site.size }, () => (rng.next() < closed ? 0 : 1));
      gates[site.id] = site.kind === 'layer' ? tf.scalar(plain[site.id]![0]!) : tf.tensor1d(plain[site.id]!);
    }
  }
  const n = 3;
  const x = tf.randomNormal([n, spec.inputShape.reduce((a, b) => a * b, 1)], 0, 1, 'float32', seed);
  const before = tf.memory().numTensors;
  const small = compact(net, { gates: plain });
  const metrics = networkMetrics(net, { gates: plain });
  const [a] = net.apply(x, { gates });
  const [b] = small.apply(x);
  try {
    expectClose(a!, b!);
    expect(countParams(small.spec)).toBe(metrics.compacted.params);
    removed.blocks += spec.nodes.length - small.spec.nodes.length > 0 ? 1 : 0;
    removed.units += countParams(small.spec) < countParams(spec) ? 1 : 0;
    expect(networkMetrics(small).dense).toEqual(metrics.compacted);
    // Every prunable node keeps exactly its live units (at least one).
    for (const [node, { live }] of Object.entries(metrics.units)) {
      const s = small.spec.nodes.find((k) => k.id === node) as
        | { units?: number; filters?: number }
        | undefined;
      if (s) expect(s.units ?? s.filters).toBe(Math.max(1, live));
    }
    // compactionTakes says which entries survived: the original's (masked) values, taken so, have the
    // new shapes and (without gates to fold) the new values.
    const takes = compactionTakes(small)!;
    expect([...takes.keys()].sort()).toEqual([...small.params.keys()].sort());
    for (const [name, list] of takes) {
      const mask = net.getMask(name);
      const taken = tf.tidy(() => {
        let t: tf.Tensor = mask ? tf.mul(net.params.get(name)!, mask) : tf.clone(net.params.get(name)!);
        for (const { axis, indices } of list) t = tf.gather(t, tf.tensor1d([...indices], 'int32'), axis);
        return t;
      });
      expect(taken.shape).toEqual(small.params.get(name)!.shape);
      // Same values unless closed gates were folded into the weights (+ 0 makes a masked −0 equal to 0).
      if (!useGates) {
        expect(Array.from(taken.dataSync(), (x) => x + 0)).toEqual(
          Array.from(small.params.get(name)!.dataSync(), (x) => x + 0),
        );
      }
      taken.dispose();
    }
    expect(compactionTakes(net)).toBeUndefined();
    // The compacted net's masks are the original's, sliced: masked entries stay zero.
    for (const name of small.maskedParams()) {
      const m = small.getMask(name)!.dataSync();
      const v = small.params.get(name)!.dataSync();
      for (let i = 0; i < m.length; i++) if (m[i] === 0) expect(Math.abs(v[i]!)).toBe(0);
    }
  } finally {
    tf.dispose([a!, b!]);
    small.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, ...Object.values(gates)]);
  net.dispose();
}

describe('compact (property)', () => {
  test.prop([mlpArb, fc.nat(), fc.double({ min: 0, max: 0.7, noNaN: true }), fc.boolean()], {
    seed: 11,
    numRuns: 40,
  })('random MLPs with masks and gates', (spec, seed, p, useGates) =>
    checkCompaction(spec, seed, p, 0.2, useGates),
  );
  test.prop([cnnArb, fc.nat(), fc.double({ min: 0, max: 0.7, noNaN: true }), fc.boolean()], {
    seed: 12,
    numRuns: 30,
  })('random CNNs with BN, pooling, flatten/GAP, masks and gates', (spec, seed, p, useGates) =>
    checkCompaction(spec, seed, p, 0.2, useGates),
  );
  test.prop([resArb, fc.nat(), fc.double({ min: 0, max: 0.8, noNaN: true }), fc.boolean()], {
    seed: 13,
    numRuns: 30,
  })('random residual blocks (option-A shortcuts, layer gates)', (spec, seed, p, useGates) =>
    checkCompaction(spec, seed, p, 0.1, useGates),
  );
  it('the properties above did remove structures', () => {
    expect(removed.units).toBeGreaterThan(15);
    expect(removed.blocks).toBeGreaterThan(0);
  });
});
