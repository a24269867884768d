import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; the tfjs union package (or @moprune/backend) does.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNetwork,
  isMopruneError,
  type NetworkSpec,
  type NodeSpec,
  Rng,
  validateSpec,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const mlp: NetworkSpec = {
  name: 'mlp',
  inputShape: [2],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 3 },
    { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'fc2', op: 'dense', inputs: ['relu1'], units: 2 },
  ],
  outputs: ['fc2'],
};

function set(net: ReturnType<typeof createNetwork>, name: string, values: number[]) {
  const v = net.params.get(name)!;
  v.assign(tf.tensor(values, v.shape));
}

/** Naive NHWC convolution (one sample, one in/out channel pair summed), the reference for conv2d. */
function refConv(
  x: number[][][],
  k: number[][][][],
  stride: [number, number],
  dil: [number, number],
  padding: 'same' | 'valid',
): number[][][] {
  const [H, W, C] = [x.length, x[0]!.length, x[0]![0]!.length];
  const [kh, kw, , F] = [k.length, k[0]!.length, C, k[0]![0]![0]!.length];
  const ekh = (kh - 1) * dil[0] + 1;
  const ekw = (kw - 1) * dil[1] + 1;
  let oh: number;
  let ow: number;
  let pt = 0;
  let pl = 0;
  if (padding === 'same') {
    oh = Math.ceil(H / stride[0]);
    ow = Math.ceil(W / stride[1]);
    pt = Math.floor(Math.max((oh - 1) * stride[0] + ekh - H, 0) / 2);
    pl = Math.floor(Math.max((ow - 1) * stride[1] + ekw - W, 0) / 2);
  } else {
    oh = Math.floor((H - ekh) / stride[0]) + 1;
    ow = Math.floor((W - ekw) / stride[1]) + 1;
  }
  const out: number[][][] = [];
  for (let i = 0; i < oh; i++) {
    const row: number[][] = [];
    for (let j = 0; j < ow; j++) {
      const px: number[] = new Array(F).fill(0);
      for (let a = 0; a < kh; a++)
        for (let b = 0; b < kw; b++) {
          const yi = i * stride[0] + a * dil[0] - pt;
          const xj = j * stride[1] + b * dil[1] - pl;
          if (yi < 0 || yi >= H || xj < 0 || xj >= W) continue;
          for (let c = 0; c < C; c++)
            for (let f = 0; f < F; f++) px[f]! += x[yi]![xj]![c]! * k[a]![b]![c]![f]!;
        }
      row.push(px);
    }
    out.push(row);
  }
  return out;
}

describe('validateSpec / createNetwork errors', () => {
  it('reports every problem at once', () => {
    const bad = {
      name: 'bad',
      inputShape: [4],
      nodes: [
        { id: 'a', op: 'dense', inputs: ['input'], units: 3 },
        { id: 'a', op: 'dense', inputs: ['a'], units: 2 },
        { id: 'b', op: 'frobnicate', inputs: ['a'] },
        { id: 'c', op: 'dense', inputs: ['d'], units: 2 },
        { id: 'd', op: 'conv2d', inputs: ['a'], filters: 2, kernelSize: [3, 3] },
        { id: 'e', op: 'dense', inputs: ['nowhere'], units: 0 },
        { id: 'f', op: 'add', inputs: ['a', 'input'] },
      ],
      outputs: ['zzz'],
    } as unknown as NetworkSpec;
    const issues = validateSpec(bad);
    const text = issues.map((i) => `${i.path}: ${i.message}`);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^nodes\[1\]\.id: duplicate id 'a'/),
        expect.stringMatching(/^nodes\[2\]\.op: unknown op 'frobnicate'/),
        expect.stringMatching(/^nodes\[3\]\.inputs\[0\]: 'd' comes later.*topological/),
        expect.stringMatching(/^nodes\[4\]\.inputs: conv2d needs a rank-3/),
        expect.stringMatching(/^nodes\[5\]\.inputs\[0\]: unknown node id 'nowhere'/),
        expect.stringMatching(/^nodes\[6\]\.inputs: add needs inputs of equal shape/),
        expect.stringMatching(/^outputs\[0\]: unknown node id 'zzz'/),
      ]),
    );
    try {
      createNetwork(bad, { seed: 1 });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_SPEC')).toBe(true);
      expect((e as { name: string }).name).toBe('CoreError');
      expect((e as { issues: unknown[] }).issues).toEqual(issues);
    }
  });

  const junk = fc.oneof(
    fc.integer({ min: -2, max: 4 }),
    fc.constant(undefined),
    fc.string(),
    fc.constant(null),
    fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }),
  );
  const junkNode = fc.record(
    {
      id: fc.constantFrom('a', 'b', 'c', 'input', ''),
      op: fc.constantFrom(
        'dense',
        'conv2d',
        'maxPool',
        'avgPool',
        'globalAvgPool',
        'flatten',
        'activation',
        'batchNorm',
        'dropout',
        'gate',
        'add',
        'padShortcut',
        'mix',
        'nope',
      ),
      inputs: fc.oneof(fc.array(fc.constantFrom('input', 'a', 'b', 'c', 'zz'), { maxLength: 3 }), junk),
      units: junk,
      filters: junk,
      kernelSize: junk,
      strides: junk,
      padding: fc.constantFrom('same', 'valid', 'full', undefined),
      dilation: junk,
      poolSize: junk,
      fn: fc.constantFrom('relu', 'softmax', 'swish', undefined),
      rate: fc.oneof(fc.double(), junk),
      stride: junk,
      channels: junk,
      init: fc.oneof(fc.constantFrom('heNormal', 'weird'), junk),
      epsilon: fc.oneof(fc.double(), junk),
    },
    { requiredKeys: ['id', 'op'] },
  );
  test.prop(
    [
      fc.array(junkNode, { maxLength: 5 }),
      fc.oneof(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }), junk),
      fc.array(fc.constantFrom('a', 'b', 'c', 'x'), { maxLength: 2 }),
    ],
    { seed: 21, numRuns: 300 },
  )('never throws on malformed specs; createNetwork agrees with it', (nodes, inputShape, outputs) => {
    const spec = { name: 'junk', inputShape, nodes, outputs } as unknown as NetworkSpec;
    const issues = validateSpec(spec);
    expect(Array.isArray(issues)).toBe(true);
    if (issues.length > 0) {
      expect(() => createNetwork(spec, { seed: 0 })).toThrowError(
        expect.objectContaining({ code: 'INVALID_SPEC' }),
      );
    } else {
      createNetwork(spec, { seed: 0 }).dispose();
    }
  });

  it('accepts a valid spec', () => {
    expect(validateSpec(mlp)).toEqual([]);
  });
});

describe('createNetwork', () => {
  it('infers shapes, params and MACs per node', () => {
    const spec: NetworkSpec = {
      name: 'lenet5ish',
      inputShape: [28, 28, 1],
      nodes: [
        { id: 'c1', op: 'conv2d', inputs: ['input'], filters: 6, kernelSize: [5, 5], padding: 'same' },
        { id: 'bn1', op: 'batchNorm', inputs: ['c1'] },
        { id: 'p1', op: 'maxPool', inputs: ['bn1'], poolSize: [2, 2] },
        { id: 'c2', op: 'conv2d', inputs: ['p1'], filters: 16, kernelSize: [5, 5] },
        { id: 'p2', op: 'avgPool', inputs: ['c2'], poolSize: [2, 2] },
        { id: 'flat', op: 'flatten', inputs: ['p2'] },
        { id: 'fc', op: 'dense', inputs: ['flat'], units: 10, useBias: false },
      ],
      outputs: ['fc'],
    };
    const net = createNetwork(spec, { seed: 0 });
    const by = Object.fromEntries(net.nodes.map((n) => [n.id, n]));
    expect(by.c1!.outputShape).toEqual([28, 28, 6]);
    expect(by.c1!.params).toBe(5 * 5 * 6 + 6);
    expect(by.c1!.macs).toBe(28 * 28 * 25 * 6);
    expect(by.bn1!.params).toBe(12);
    expect(by.p1!.outputShape).toEqual([14, 14, 6]);
    expect(by.c2!.outputShape).toEqual([10, 10, 16]);
    expect(by.c2!.macs).toBe(10 * 10 * 25 * 6 * 16);
    expect(by.flat!.outputShape).toEqual([400]);
    expect(by.fc!.params).toBe(4000);
    expect([...net.params.keys()]).toEqual([
      'c1/kernel',
      'c1/bias',
      'bn1/gamma',
      'bn1/beta',
      'bn1/movingMean',
      'bn1/movingVariance',
      'c2/kernel',
      'c2/bias',
      'fc/kernel',
    ]);
    expect(net.trainableVariables()).toHaveLength(7);
    expect(net.paramInfo.get('bn1/movingMean')!.trainable).toBe(false);
    expect(Array.from(net.params.get('bn1/gamma')!.dataSync())).toEqual(new Array(6).fill(1));
    expect(Array.from(net.params.get('bn1/movingVariance')!.dataSync())).toEqual(new Array(6).fill(1));
    net.dispose();
  });

  it('is deterministic per seed; initializers respect their ranges', () => {
    const a = createNetwork(mlp, { seed: 5 });
    const b = createNetwork(mlp, { seed: 5 });
    const c = createNetwork(mlp, { seed: 6 });
    const d = createNetwork(mlp, { rng: Rng.fromSeed(9) });
    const e = createNetwork(mlp, { rng: Rng.fromSeed(9) });
    const k = (n: typeof a) => Array.from(n.params.get('fc1/kernel')!.dataSync());
    expect(k(a)).toEqual(k(b));
    expect(k(a)).not.toEqual(k(c));
    expect(k(d)).toEqual(k(e));
    const limit = Math.sqrt(6 / 5);
    expect(k(a).every((v) => Math.abs(v) <= limit)).toBe(true);
    expect(Array.from(a.params.get('fc1/bias')!.dataSync())).toEqual([0, 0, 0]);
    for (const n of [a, b, c, d, e]) n.dispose();

    const big: NetworkSpec = {
      name: 'inits',
      inputShape: [400],
      nodes: [
        { id: 'he', op: 'dense', inputs: ['input'], units: 200, init: 'heNormal' },
        { id: 'torch', op: 'dense', inputs: ['he'], units: 100, init: 'torchDefault' },
        { id: 'z', op: 'dense', inputs: ['torch'], units: 3, init: 'zeros' },
      ],
      outputs: ['z'],
    };
    const net = createNetwork(big, { seed: 1 });
    const he = net.params.get('he/kernel')!.dataSync();
    const sigma = Math.sqrt(2 / 400);
    let sq = 0;
    for (const v of he) {
      expect(Math.abs(v)).toBeLessThanOrEqual(2 * sigma + 1e-7);
      sq += v * v;
    }
    // Variance of N(0, σ²) truncated at ±2σ is 0.774·σ².
    expect(Math.sqrt(sq / he.length) / sigma).toBeCloseTo(Math.sqrt(0.7737), 1);
    const tb = net.params.get('torch/bias')!.dataSync();
    expect(tb.every((v) => Math.abs(v) <= 1 / Math.sqrt(200))).toBe(true);
    expect(tb.some((v) => v !== 0)).toBe(true);
    expect(
      net.params
        .get('z/kernel')!
        .dataSync()
        .every((v) => v === 0),
    ).toBe(true);
    net.dispose();
  });

  it('computes a tiny MLP by hand, from image or flat input', () => {
    const net = createNetwork(mlp, { seed: 0 });
    set(net, 'fc1/kernel', [1, -1, 2, 0.5, 1, -3]);
    set(net, 'fc1/bias', [0.1, 0.2, -0.3]);
    set(net, 'fc2/kernel', [1, 2, 3, 4, 5, 6]);
    set(net, 'fc2/bias', [1, -1]);
    // x = [1, 2]: h = [1+1+.1, -1+2+.2, 2-6-.3] = [2.1, 1.2, -4.3] → relu → [2.1, 1.2, 0]
    // y = [2.1 + 3.6 + 1, 4.2 + 4.8 - 1] = [6.7, 8]
    const y = net.apply(tf.tensor2d([[1, 2]]))[0]!;
    expect(Array.from(y.dataSync())).toEqual([expect.closeTo(6.7, 5), expect.closeTo(8, 5)]);
    y.dispose();
    net.dispose();
  });

  it('matches a reference convolution for strides, padding and dilation', () => {
    const rng = Rng.fromSeed(3);
    const cases: { s: [number, number]; d: [number, number]; p: 'same' | 'valid' }[] = [
      { s: [1, 1], d: [1, 1], p: 'valid' },
      { s: [2, 1], d: [1, 1], p: 'same' },
      { s: [2, 2], d: [1, 1], p: 'valid' },
      { s: [1, 1], d: [2, 2], p: 'same' },
      { s: [1, 1], d: [2, 1], p: 'valid' },
    ];
    for (const { s, d, p } of cases) {
      const spec: NetworkSpec = {
        name: 'conv',
        inputShape: [6, 5, 2],
        nodes: [
          {
            id: 'c',
            op: 'conv2d',
            inputs: ['input'],
            filters: 3,
            kernelSize: [3, 2],
            strides: s,
            dilation: d,
            padding: p,
            useBias: false,
          },
        ],
        outputs: ['c'],
      };
      const net = createNetwork(spec, { seed: 1 });
      const xv = Array.from({ length: 6 }, () =>
        Array.from({ length: 5 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1)]),
      );
      const kv = net.params.get('c/kernel')!.arraySync() as number[][][][];
      const want = refConv(xv, kv, s, d, p);
      const y = net.apply(tf.tensor4d([xv]))[0]!;
      expect(y.shape.slice(1)).toEqual(net.nodes[0]!.outputShape);
      const got = (y.arraySync() as number[][][][])[0]!;
      expect(got.length).toBe(want.length);
      got.flat(2).forEach((v, i) => {
        expect(v).toBeCloseTo(want.flat(2)[i]!, 5);
      });
      y.dispose();
      net.dispose();
    }
  });

  it('pools, flattens in HWC order, and applies every activation', () => {
    const spec: NetworkSpec = {
      name: 'pool',
      inputShape: [4, 4, 1],
      nodes: [
        { id: 'mp', op: 'maxPool', inputs: ['input'], poolSize: [2, 2] },
        { id: 'ap', op: 'avgPool', inputs: ['input'], poolSize: [2, 2], strides: [2, 2] },
        { id: 'gap', op: 'globalAvgPool', inputs: ['input'] },
        { id: 'flat', op: 'flatten', inputs: ['mp'] },
        { id: 'sm', op: 'activation', inputs: ['flat'], fn: 'softmax' },
        { id: 'lsm', op: 'activation', inputs: ['flat'], fn: 'logSoftmax' },
      ],
      outputs: ['mp', 'ap', 'gap', 'flat', 'sm', 'lsm'],
    };
    const net = createNetwork(spec, { seed: 0 });
    const x = tf.tensor(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const [mp, ap, gap, flat, sm, lsm] = net.apply(x).map((t) => Array.from(t.dataSync()));
    expect(mp).toEqual([5, 7, 13, 15]);
    expect(ap).toEqual([2.5, 4.5, 10.5, 12.5]);
    expect(gap).toEqual([7.5]);
    expect(flat).toEqual([5, 7, 13, 15]);
    const z = [5, 7, 13, 15].map((v) => Math.exp(v - 15));
    const zs = z.reduce((a, b) => a + b);
    sm!.forEach((v, i) => {
      expect(v).toBeCloseTo(z[i]! / zs, 6);
    });
    lsm!.forEach((v, i) => {
      expect(v).toBeCloseTo(Math.log(z[i]! / zs), 5);
    });
    const acts = ['relu', 'elu', 'tanh', 'sigmoid', 'linear'] as const;
    const ref: Record<(typeof acts)[number], (v: number) => number> = {
      relu: (v) => Math.max(0, v),
      elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
      tanh: Math.tanh,
      sigmoid: (v) => 1 / (1 + Math.exp(-v)),
      linear: (v) => v,
    };
    const actNet = createNetwork(
      {
        name: 'acts',
        inputShape: [3],
        nodes: acts.map((fn) => ({ id: fn, op: 'activation', inputs: ['input'], fn }) as NodeSpec),
        outputs: [...acts],
      },
      { seed: 0 },
    );
    const xs = [-1.5, 0, 2];
    const outs = actNet.apply(tf.tensor2d([xs]));
    acts.forEach((fn, i) => {
      Array.from(outs[i]!.dataSync()).forEach((v, j) => {
        expect(v).toBeCloseTo(ref[fn](xs[j]!), 5);
      });
    });
    tf.dispose([x, ...outs]);
    net.dispose();
    actNet.dispose();
  });

  it('leaks no tensors in apply, training apply, or mask handling', () => {
    const spec: NetworkSpec = {
      name: 'leak',
      inputShape: [4, 4, 2],
      nodes: [
        { id: 'c', op: 'conv2d', inputs: ['input'], filters: 3, kernelSize: [3, 3], padding: 'same' },
        { id: 'bn', op: 'batchNorm', inputs: ['c'] },
        { id: 'r', op: 'activation', inputs: ['bn'], fn: 'relu' },
        { id: 'g', op: 'gate', inputs: ['r'] },
        { id: 'do', op: 'dropout', inputs: ['g'], rate: 0.5 },
        { id: 'f', op: 'flatten', inputs: ['do'] },
        { id: 'fc', op: 'dense', inputs: ['f'], units: 2 },
      ],
      outputs: ['fc'],
    };
    const net = createNetwork(spec, { seed: 0 });
    const x = tf.randomUniform([2, 32], 0, 1, 'float32', 1);
    const gate = tf.tensor1d([1, 0, 1]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      net.apply(x);
    });
    const updates: { param: string; value: tf.Tensor }[] = [];
    tf.tidy(() => {
      net.apply(x, { training: true, rng: Rng.fromSeed(1), gates: { g: gate }, stateUpdates: updates });
    });
    expect(updates).toHaveLength(2);
    net.assignStateUpdates(updates);
    tf.dispose(net.apply(x, { training: true, rng: Rng.fromSeed(1) }));
    const m = tf.ones([48, 2]);
    net.setMask('fc/kernel', m);
    net.setMask('fc/kernel', m);
    m.dispose();
    net.applyMasks();
    const { grads, value } = tf.variableGrads(() => tf.sum(net.apply(x)[0]!) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    net.setMask('fc/kernel', null);
    expect(tf.memory().numTensors).toBe(before);
    const n = tf.memory().numTensors;
    net.dispose();
    expect(tf.memory().numTensors).toBe(n - net.params.size);
    tf.dispose([x, gate]);
  });

  it('BatchNorm: batch statistics in training, moving statistics in inference', () => {
    const spec: NetworkSpec = {
      name: 'bn',
      inputShape: [2],
      nodes: [{ id: 'bn', op: 'batchNorm', inputs: ['input'], epsilon: 0.01, momentum: 0.9 }],
      outputs: ['bn'],
    };
    const net = createNetwork(spec, { seed: 0 });
    set(net, 'bn/gamma', [2, 1]);
    set(net, 'bn/beta', [0.5, -1]);
    const x = tf.tensor2d([
      [1, 10],
      [3, 10],
    ]);
    // Column 0: mean 2, biased var 1 → (x−2)/√1.01·2 + .5; column 1: var 0 → −1.
    const updates: { param: string; value: tf.Tensor }[] = [];
    const yt = net.apply(x, { training: true, stateUpdates: updates })[0]!;
    const s = Math.sqrt(1.01);
    expect(Array.from(yt.dataSync())).toEqual([
      expect.closeTo(-2 / s + 0.5, 5),
      expect.closeTo(-1, 5),
      expect.closeTo(2 / s + 0.5, 5),
      expect.closeTo(-1, 5),
    ]);
    expect(updates.map((u) => u.param)).toEqual(['bn/movingMean', 'bn/movingVariance']);
    // Moving statistics are untouched until assigned.
    expect(Array.from(net.params.get('bn/movingMean')!.dataSync())).toEqual([0, 0]);
    net.assignStateUpdates(updates);
    expect(Array.from(net.params.get('bn/movingMean')!.dataSync())).toEqual([
      expect.closeTo(0.2, 6),
      expect.closeTo(1, 6),
    ]);
    expect(Array.from(net.params.get('bn/movingVariance')!.dataSync())).toEqual([
      expect.closeTo(1, 6),
      expect.closeTo(0.9, 6),
    ]);
    // Inference: (x − 0.2)/√(1.01)·2 + .5 and (10 − 1)/√(0.91) − 1.
    const yi = net.apply(x)[0]!;
    expect(Array.from(yi.dataSync())).toEqual([
      expect.closeTo((0.8 / s) * 2 + 0.5, 5),
      expect.closeTo(9 / Math.sqrt(0.91) - 1, 4),
      expect.closeTo((2.8 / s) * 2 + 0.5, 5),
      expect.closeTo(9 / Math.sqrt(0.91) - 1, 4),
    ]);
    // Without stateUpdates, training assigns the moving statistics directly.
    tf.dispose(net.apply(x, { training: true }));
    expect(net.params.get('bn/movingMean')!.dataSync()[0]).toBeCloseTo(0.9 * 0.2 + 0.1 * 2, 6);
    tf.dispose([x, yt, yi]);
    net.dispose();
  });

  it('dropout: identity in inference, seeded inverted masks in training', () => {
    const spec: NetworkSpec = {
      name: 'do',
      inputShape: [1000],
      nodes: [{ id: 'do', op: 'dropout', inputs: ['input'], rate: 0.25 }],
      outputs: ['do'],
    };
    const net = createNetwork(spec, { seed: 0 });
    const x = tf.ones([1, 1000]);
    const run = (opts: Parameters<typeof net.apply>[1]) => {
      const y = net.apply(x, opts)[0]!;
      const v = Array.from(y.dataSync());
      y.dispose();
      return v;
    };
    expect(run({})).toEqual(new Array(1000).fill(1));
    const a = run({ training: true, rng: Rng.fromSeed(1) });
    const b = run({ training: true, rng: Rng.fromSeed(1) });
    const c = run({ training: true, rng: Rng.fromSeed(2) });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a.map((v) => Math.round(v * 1e5) / 1e5))).toEqual(new Set([0, 1.33333]));
    const dropped = a.filter((v) => v === 0).length;
    expect(dropped).toBeGreaterThan(200);
    expect(dropped).toBeLessThan(300);
    expect(() => run({ training: true })).toThrow(/needs options.rng/);
    x.dispose();
    net.dispose();
  });

  it('gates, gated adds, option-A shortcuts and mixes', () => {
    const spec: NetworkSpec = {
      name: 'res',
      inputShape: [3, 3, 2],
      nodes: [
        { id: 'g', op: 'gate', inputs: ['input'] },
        { id: 'sc', op: 'padShortcut', inputs: ['input'], stride: 2, channels: 3 },
        { id: 'br', op: 'padShortcut', inputs: ['g'], stride: 2, channels: 3 },
        { id: 'add', op: 'add', inputs: ['sc', 'br'], gated: true },
        { id: 'mix', op: 'mix', inputs: ['sc', 'add'], init: [0.5, 2] },
      ],
      outputs: ['g', 'sc', 'add', 'mix'],
    };
    const net = createNetwork(spec, { seed: 0 });
    expect(net.nodes.find((n) => n.id === 'sc')!.outputShape).toEqual([2, 2, 3]);
    const xv = Array.from({ length: 18 }, (_, i) => i + 1);
    const x = tf.tensor(xv, [1, 3, 3, 2]);
    const gates = { g: tf.tensor2d([[0, 1]]), add: tf.scalar(0.5) };
    const [g, sc, add, mix] = net.apply(x, { gates }).map((t) => Array.from(t.dataSync()));
    expect(g).toEqual(xv.map((v, i) => (i % 2 === 0 ? 0 : v)));
    // Picks pixels (0,0), (0,2), (2,0), (2,2) and appends a zero channel.
    const picked = [
      [1, 2],
      [5, 6],
      [13, 14],
      [17, 18],
    ];
    expect(sc).toEqual(picked.flatMap(([a, b]) => [a, b, 0]));
    expect(add).toEqual(picked.flatMap(([a, b]) => [a, b! * 1.5, 0]));
    expect(mix).toEqual(picked.flatMap(([a, b]) => [a! * 0.5 + a! * 2, b! * 0.5 + b! * 3, 0]));
    // Without gates both sites are identities.
    const [, , add1] = net.apply(x).map((t) => Array.from(t.dataSync()));
    expect(add1).toEqual(picked.flatMap(([a, b]) => [2 * a!, 2 * b!, 0]));
    tf.dispose([x, ...Object.values(gates)]);
    net.dispose();
  });

  it('masks: apply multiplies by the mask; masked weights get zero gradient; applyMasks zeros them', () => {
    const net = createNetwork(mlp, { seed: 2 });
    const mask = tf.tensor2d([
      [1, 0, 1],
      [0, 1, 1],
    ]);
    net.setMask('fc1/kernel', mask);
    expect(net.maskedParams()).toEqual(['fc1/kernel']);
    expect(Array.from(net.getMask('fc1/kernel')!.dataSync())).toEqual([1, 0, 1, 0, 1, 1]);
    expect(() => net.setMask('fc1/kernel', tf.ones([3, 2]))).toThrow(/shape/);
    expect(() => net.setMask('nope/kernel', null)).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_PARAMETER' }),
    );
    const x = tf.tensor2d([
      [1, 2],
      [-1, 0.5],
    ]);
    const { grads } = tf.variableGrads(() => tf.sum(net.apply(x)[0]!) as tf.Scalar);
    const gk = Array.from(grads[net.params.get('fc1/kernel')!.name]!.dataSync());
    expect(Math.abs(gk[1]!)).toBe(0);
    expect(Math.abs(gk[3]!)).toBe(0);
    expect(gk.filter((v) => v !== 0).length).toBeGreaterThan(0);
    // The forward pass already sees masked weights, so applyMasks does not change outputs.
    const y1 = net.apply(x)[0]!;
    net.applyMasks();
    const k = Array.from(net.params.get('fc1/kernel')!.dataSync());
    expect(Math.abs(k[1]!)).toBe(0);
    expect(Math.abs(k[3]!)).toBe(0);
    const y2 = net.apply(x)[0]!;
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
    tf.dispose([mask, x, y1, y2, ...Object.values(grads)]);
    net.dispose();
  });

  it('has gradients for every op, matching finite differences', () => {
    const spec: NetworkSpec = {
      name: 'grad',
      inputShape: [4, 4, 2],
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
        { id: 'bn', op: 'batchNorm', inputs: ['c1'] },
        { id: 'g', op: 'gate', inputs: ['bn'] },
        { id: 't', op: 'activation', inputs: ['g'], fn: 'tanh' },
        {
          id: 'c2',
          op: 'conv2d',
          inputs: ['t'],
          filters: 4,
          kernelSize: [2, 2],
          strides: [2, 2],
          padding: 'same',
        },
        { id: 'sc', op: 'padShortcut', inputs: ['t'], stride: 2, channels: 4 },
        { id: 'add', op: 'add', inputs: ['sc', 'c2'], gated: true },
        { id: 'mp', op: 'maxPool', inputs: ['add'], poolSize: [2, 2], strides: [1, 1] },
        { id: 'ap', op: 'avgPool', inputs: ['add'], poolSize: [2, 2], strides: [1, 1], padding: 'valid' },
        { id: 'mix', op: 'mix', inputs: ['mp', 'ap'], init: [0.6, 0.8] },
        { id: 'gap', op: 'globalAvgPool', inputs: ['mix'] },
        { id: 'do', op: 'dropout', inputs: ['gap'], rate: 0.2 },
        { id: 'fc', op: 'dense', inputs: ['do'], units: 3, init: 'torchDefault' },
        { id: 'out', op: 'activation', inputs: ['fc'], fn: 'logSoftmax' },
      ],
      outputs: ['out'],
    };
    const net = createNetwork(spec, { seed: 3 });
    const x = tf.randomNormal([3, 4, 4, 2], 0, 1, 'float32', 5);
    const gates = { g: tf.tensor1d([1, 0.5, 1]), add: tf.scalar(0.7) };
    const loss = () =>
      tf.tidy(() => {
        const updates: { param: string; value: tf.Tensor }[] = [];
        const [y] = net.apply(x, { training: true, gates, rng: Rng.fromSeed(8), stateUpdates: updates });
        tf.dispose(updates.map((u) => u.value));
        return tf.neg(tf.sum(tf.mul(y!, tf.oneHot([0, 1, 2], 3)))) as tf.Scalar;
      });
    const before = tf.memory().numTensors;
    const { grads, value } = tf.variableGrads(loss);
    const trainable = net.trainableVariables();
    expect(Object.keys(grads).sort()).toEqual(trainable.map((v) => v.name).sort());
    const h = 1e-2;
    for (const v of trainable) {
      const g = grads[v.name]!.dataSync();
      const orig = v.dataSync().slice();
      for (const i of [0, orig.length - 1]) {
        const at = (d: number) => {
          const w = orig.slice();
          w[i] = orig[i]! + d;
          const t = tf.tensor(w, v.shape);
          v.assign(t);
          t.dispose();
          const l = loss();
          const out = l.dataSync()[0]!;
          l.dispose();
          return out;
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(g[i]! - numeric)).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
      }
      const t = tf.tensor(orig, v.shape);
      v.assign(t);
      t.dispose();
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...Object.values(gates)]);
    net.dispose();
  });

  it('rejects inputs of the wrong size', () => {
    const net = createNetwork(mlp, { seed: 0 });
    const x = tf.zeros([2, 3]);
    expect(() => net.apply(x)).toThrowError(expect.objectContaining({ code: 'SHAPE_MISMATCH' }));
    x.dispose();
    net.dispose();
  });
});
