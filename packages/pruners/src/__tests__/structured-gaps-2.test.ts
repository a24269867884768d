// Exact expectations for GrOWL (prox on a small matrix, the cap with ties and a ramp, cadence,
// freezing, tying, state) and for its affinity propagation and OWL prox, at the points the other
// tests leave open. The Bernoulli gates are in structured-gaps.test.ts.
import { createNetwork, isMopruneError, type Network, type NetworkSpec, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { affinityPropagation, createGrowlPruner, proxOwl, rowSimilarity } from '../index.js';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quietContext } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  // Every test disposes what it made: no tensor outlives it.
  expect(tf.memory().numTensors).toBe(tensorsBefore);
});

/** The error `fn` throws (the test fails if it throws none). */
function thrown(fn: () => unknown): Error & { code?: string; issues?: unknown } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  return expect.unreachable('no error thrown');
}

/** `fn` throws a PrunerError with exactly this code and message. */
function expectPrunerError(fn: () => unknown, code: string, message: string) {
  const e = thrown(fn);
  expect({ name: e.name, code: e.code, message: e.message }).toEqual({ name: 'PrunerError', code, message });
  expect(isMopruneError(e, code)).toBe(true);
  return e;
}

/** A pruner step context at `step` (validation always perfect). */
const stepCtx = quietContext;

/** A network whose hidden dense layer `fc1` has `rows` inputs and `cols` units, then a head. */
function twoLayer(rows: number, cols: number, extra: Partial<NetworkSpec> = {}): NetworkSpec {
  return {
    name: 'two-layer',
    inputShape: [rows],
    nodes: [
      { id: 'fc1', op: 'dense', inputs: ['input'], units: cols },
      { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
      { id: 'head', op: 'dense', inputs: ['relu'], units: 2 },
    ],
    outputs: ['head'],
    ...extra,
  };
}

/** A network as `twoLayer` with fc1's kernel set to `kernel` (rows = input neurons). */
function withKernel(kernel: number[][], seed = 1): Network {
  const net = createNetwork(twoLayer(kernel.length, kernel[0]!.length), { seed });
  const t = tf.tensor2d(kernel);
  net.params.get('fc1/kernel')!.assign(t);
  t.dispose();
  return net;
}

const kernelOf = (net: Network, name = 'fc1/kernel') => net.params.get(name)!.arraySync() as number[][];

/** Entry by entry to 6 decimals (−0 as 0). */
function expectMatrix(got: number[][], want: number[][]): void {
  expect(got.length).toBe(want.length);
  got.forEach((row, i) => {
    expect(row.length).toBe(want[i]!.length);
    row.forEach((x, j) => {
      expect(x + 0).toBeCloseTo(want[i]![j]!, 6);
    });
  });
}

const init1 = (net: Network) => ({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 5 });

describe('GrOWL pruner: the prox step on a small matrix', () => {
  // Rows (input neurons) of norms 5, 0.625, 3, 1.25 — not in order, several entries each, exact in float32.
  const K = [
    [3, 4, 0],
    [0.375, 0, 0.5],
    [1, 2, 2],
    [0, 0.75, 1],
  ];
  const weights = { type: 'spike', beta1: 1, beta2: 0.625 } as const;

  it('OWL weights θ = t·(β1 + β2, β2, …) on the sorted row norms; rows rescaled by prox/norm, zero rows zeroed', async () => {
    const net = withKernel(K);
    const p = createGrowlPruner({ weights });
    p.init(init1(net));
    await p.afterEpoch!(stepCtx(net, 4));
    // sorted 5, 3, 1.25, 0.625 minus θ = 1.625, .625, .625, .625 → 3.375, 2.375, 0.625, 0:
    // scales 0.675, 0 (the 0.625 row), 2.375/3, 0.5
    expectMatrix(kernelOf(net), [
      [2.025, 2.7, 0],
      [0, 0, 0],
      [2.375 / 3, 4.75 / 3, 4.75 / 3],
      [0, 0.375, 0.5],
    ]);
    expect(p.metrics!()).toEqual({
      sparsity: 5 / 12,
      zeros: 5,
      total: 12,
      zeroGroups: 1,
      groups: 4,
      zeroGroupFraction: 0.25,
      proxSteps: 1,
      clusters: 0,
    });
    expect(net.getMask('fc1/kernel')).toBeUndefined();
    net.dispose();
  });

  it('strength scales θ', async () => {
    const net = withKernel(K);
    const p = createGrowlPruner({ weights, strength: 0.5 });
    p.init(init1(net));
    await p.afterEpoch!(stepCtx(net, 4));
    // θ = 0.8125, .3125, .3125, .3125 → 4.1875, 2.6875, 0.9375, 0.3125: scales 0.8375, 0.5, 2.6875/3, 0.75
    expectMatrix(kernelOf(net), [
      [2.5125, 3.35, 0],
      [0.1875, 0, 0.25],
      [2.6875 / 3, 5.375 / 3, 5.375 / 3],
      [0, 0.5625, 0.75],
    ]);
    net.dispose();
  });

  it('the cap: a zero row counts towards it; the smallest rows go first, ties by index; the others keep their values', async () => {
    // Norms 0.3, 0 (already zero), 0.1, 0.2, 5, 0.1. θ = 1 everywhere: every row but the 5 would go.
    const K6 = [
      [0.18, 0.24],
      [0, 0],
      [0.06, 0.08],
      [0.12, 0.16],
      [3, 4],
      [0.08, 0.06],
    ];
    const after = async (maxZeroFraction: number) => {
      const net = withKernel(K6);
      const p = createGrowlPruner({ weights: { type: 'spike', beta1: 0, beta2: 1 }, maxZeroFraction });
      p.init(init1(net));
      await p.afterEpoch!(stepCtx(net, 4));
      const w = kernelOf(net);
      net.dispose();
      return w;
    };
    const f = Math.fround;
    const kept = K6.map((r) => r.map(f));
    const scaled = [2.4, 3.2];
    // floor(0.34·6) = 2 zero rows allowed, one is zero already: the first of the two 0.1 rows goes.
    expectMatrix(await after(0.34), [kept[0]!, [0, 0], [0, 0], kept[3]!, scaled, kept[5]!]);
    // floor(0.67·6) = 4: both 0.1 rows and the 0.2 row go; the 0.3 row stays.
    expectMatrix(await after(0.67), [kept[0]!, [0, 0], [0, 0], [0, 0], scaled, [0, 0]]);
    // floor(0.1·6) = 0 < the one zero row: nothing more goes.
    expectMatrix(await after(0.1), [kept[0]!, [0, 0], kept[2]!, kept[3]!, scaled, kept[5]!]);
  });

  it('a ramp of caps is indexed by prox step, its last value holding after it', async () => {
    // Five rows of norms 3, 1, 5, 2, 4; θ = 100·(1, .25, …) zeroes them all but for the cap.
    const K5 = [[3], [1], [5], [2], [4]];
    const net = withKernel(K5);
    const p = createGrowlPruner({ strength: 100, maxZeroFraction: [0.2, 0.6] });
    p.init(init1(net));
    const zeroRows: number[][] = [];
    for (let step = 0; step < 3; step++) {
      const t = tf.tensor2d(K5);
      net.params.get('fc1/kernel')!.assign(t);
      t.dispose();
      await p.afterEpoch!(stepCtx(net, step));
      zeroRows.push(kernelOf(net).flatMap((r, i) => (r[0] === 0 ? [i] : [])));
    }
    expect(zeroRows).toEqual([[1], [0, 1, 3], [0, 1, 3]]);
    expect(p.metrics!().proxSteps).toBe(3);
    net.dispose();
  });

  it('masked entries count as zero in the norms (the optimizer may have moved them)', async () => {
    const net = withKernel(K);
    const m = tf.tensor2d([
      [1, 0, 1],
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    net.setMask('fc1/kernel', m);
    m.dispose();
    const t = tf.tensor2d(K);
    net.params.get('fc1/kernel')!.assign(t); // the masked 4 is back, as after an optimizer step
    t.dispose();
    const p = createGrowlPruner({ weights });
    p.init(init1(net));
    await p.afterEpoch!(stepCtx(net, 4));
    // norms 3, 0.625, 3, 1.25: sorted 3, 3, 1.25, 0.625 − θ = 1.375, 2.375, .625, 0 → pooled to 1.875, 1.875, .625, 0
    expectMatrix(kernelOf(net), [
      [1.875, 0, 0],
      [0, 0, 0],
      [0.625, 1.25, 1.25],
      [0, 0.375, 0.5],
    ]);
    net.dispose();
  });
});

describe('GrOWL pruner: cadence, freezing and masks', () => {
  it("every n: the prox runs after steps n − 1, 2n − 1, …, never at an epoch's end; 'epoch': only there", async () => {
    const net = withKernel([
      [1, 1],
      [2, 2],
    ]);
    const p = createGrowlPruner({ every: 3, strength: 1e-3 });
    p.init(init1(net));
    const counts: number[] = [];
    for (let step = 0; step < 6; step++) {
      await p.afterStep(stepCtx(net, step));
      counts.push(p.metrics!().proxSteps as number);
      await p.afterEpoch!(stepCtx(net, step));
      counts.push(p.metrics!().proxSteps as number);
    }
    expect(counts).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2]);
    const q = createGrowlPruner({ strength: 1e-3 });
    q.init(init1(net));
    await q.afterStep(stepCtx(net, 4));
    expect(q.metrics!().proxSteps).toBe(0);
    await q.afterEpoch!(stepCtx(net, 4));
    expect(q.metrics!().proxSteps).toBe(1);
    net.dispose();
  });

  it('freezeZeroGroups masks the rows zero at the start (with any mask already there), and a step that is not due re-applies the masks', async () => {
    const net = withKernel([
      [1, 2, 3],
      [0, 0, 0],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    const old = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 1],
      [0, 1, 1],
      [1, 1, 1],
    ]);
    net.setMask('fc1/kernel', old);
    old.dispose();
    const p = createGrowlPruner({ freezeZeroGroups: true });
    p.init(init1(net));
    expect(net.getMask('fc1/kernel')!.arraySync()).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [0, 1, 1],
      [1, 1, 1],
    ]);
    // The optimizer moves the frozen row; the next (not due) step zeroes it again.
    const moved = tf.tensor2d([
      [1, 2, 3],
      [0.5, 0.5, 0.5],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    net.params.get('fc1/kernel')!.assign(moved);
    moved.dispose();
    await p.afterStep(stepCtx(net, 0));
    expectMatrix(kernelOf(net), [
      [1, 2, 3],
      [0, 0, 0],
      [0, 5, 6],
      [7, 8, 9],
    ]);
    net.dispose();
  });

  it('without zero rows or an earlier mask nothing is masked at the start; without freezing, tying alone masks nothing', () => {
    const dense = withKernel([
      [1, 2],
      [3, 4],
    ]);
    createGrowlPruner({ freezeZeroGroups: true }).init(init1(dense));
    expect(dense.getMask('fc1/kernel')).toBeUndefined();
    dense.dispose();
    const withZero = withKernel([
      [1, 2],
      [0, 0],
      [3, 4],
    ]);
    createGrowlPruner({ tying: true, proxDisabled: true }).init(init1(withZero));
    expect(withZero.getMask('fc1/kernel')).toBeUndefined();
    withZero.dispose();
  });
});

describe('GrOWL pruner: tying', () => {
  const rows = [
    [1, 1],
    [1.01, 0.99],
    [-3, 2],
    [-3.02, 2.01],
  ];

  it("the clusters are found at init only for 'once' tying with the prox disabled (the retraining phase)", () => {
    const labelsAtInit = (config: Parameters<typeof createGrowlPruner>[0]) => {
      const net = withKernel(rows);
      const p = createGrowlPruner(config);
      p.init(init1(net));
      net.dispose();
      return p.state().json.tyingLabels;
    };
    expect(labelsAtInit({ tying: true, proxDisabled: true, tyingSimilarity: 'euclidean' })).toEqual({
      'fc1/kernel': [0, 0, 2, 2],
    });
    expect(labelsAtInit({ tying: true, tyingSimilarity: 'euclidean' })).toEqual({});
    expect(labelsAtInit({ proxDisabled: true, tyingSimilarity: 'euclidean' })).toEqual({});
    expect(
      labelsAtInit({
        tying: true,
        proxDisabled: true,
        tyingSimilarity: 'euclidean',
        tyingClusters: 'everyStep',
      }),
    ).toEqual({});
  });

  it("'once' with the prox on clusters at the first tying step, on the network of that step", async () => {
    const net = withKernel(rows);
    const p = createGrowlPruner({ tying: true, tyingSimilarity: 'euclidean', strength: 1e-6 });
    p.init(init1(net));
    const t = tf.tensor2d([
      [1, 1],
      [-3.01, 2],
      [-3, 2],
      [-3.02, 2.01],
    ]);
    net.params.get('fc1/kernel')!.assign(t);
    t.dispose();
    await p.afterEpoch!(stepCtx(net, 4));
    const labels = p.state().json.tyingLabels as Record<string, number[]>;
    expect(labels['fc1/kernel']![0]).not.toBe(labels['fc1/kernel']![1]);
    expect(new Set(labels['fc1/kernel']!.slice(1)).size).toBe(1);
    net.dispose();
  });

  it("'everyStep' clusters the live rows only (a row with one zero entry is live), pairs are tied, zero rows stay zero", async () => {
    const net = withKernel([
      [0, 0],
      [0.02, 0.01],
      [0.03, 0],
      [5, 5],
      [5.1, 5],
    ]);
    const p = createGrowlPruner({
      tying: true,
      proxDisabled: true,
      tyingClusters: 'everyStep',
      tyingSimilarity: 'euclidean',
    });
    p.init(init1(net));
    await p.afterEpoch!(stepCtx(net, 4));
    expectMatrix(kernelOf(net), [
      [0, 0],
      [0.025, 0.005],
      [0.025, 0.005],
      [5.05, 5],
      [5.05, 5],
    ]);
    expect(p.metrics!().clusters).toBe(2);
    expect(p.state().json.tyingLabels).toEqual({});
    net.dispose();
  });

  it("'once' labels saved for another number of rows are found anew", async () => {
    const net = withKernel(rows);
    const p = createGrowlPruner({ tying: true, proxDisabled: true, tyingSimilarity: 'euclidean' });
    p.init(init1(net));
    p.load({
      json: { targets: ['fc1/kernel'], proxSteps: 0, tyingLabels: { 'fc1/kernel': [0, 0] } },
      arrays: {},
    });
    await p.afterEpoch!(stepCtx(net, 4));
    expect(p.state().json.tyingLabels).toEqual({ 'fc1/kernel': [0, 0, 2, 2] });
    const w = kernelOf(net);
    expect(w[0]).toEqual(w[1]);
    expect(w[2]).toEqual(w[3]);
    expect(w[0]![0]).toBeCloseTo(1.005, 6);
    net.dispose();
  });
});

describe('GrOWL pruner: init errors, metrics and state', () => {
  it('metrics before init are empty', () => {
    expect(createGrowlPruner().metrics!()).toEqual({});
    expect(createGrowlPruner({ strength: 2 }).config).toEqual({ type: 'growl', strength: 2 });
  });

  it('says which parameters are not dense or conv kernels, or that nothing matched', () => {
    const net = createNetwork(twoLayer(3, 2), { seed: 1 });
    const issues = [
      { path: 'params', message: 'must select dense ([in, out]) or conv2d ([kh, kw, in, out]) kernels only' },
    ];
    const e1 = expectPrunerError(
      () => createGrowlPruner({ params: { roles: ['bias'] } }).init(init1(net)),
      'NO_STRUCTURE_GROUP',
      'growl pruner: groups are input neurons of dense kernels and input channels of conv kernels; not such a kernel: fc1/bias, head/bias',
    );
    expect(e1.issues).toEqual(issues);
    const e2 = expectPrunerError(
      () => createGrowlPruner({ params: { names: ['nothing/kernel'] } }).init(init1(net)),
      'NO_STRUCTURE_GROUP',
      'growl pruner: the selector matches no dense or conv kernel',
    );
    expect(e2.issues).toEqual(issues);
    net.dispose();
    const conv = createNetwork(
      {
        name: 'conv',
        inputShape: [4, 4, 2],
        nodes: [
          { id: 'conv', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3] },
          { id: 'flat', op: 'flatten', inputs: ['conv'] },
          { id: 'head', op: 'dense', inputs: ['flat'], units: 2 },
        ],
        outputs: ['head'],
      },
      { seed: 1 },
    );
    expectPrunerError(
      () => createGrowlPruner({ params: { ops: ['conv2d'], roles: ['bias'] } }).init(init1(conv)),
      'NO_STRUCTURE_GROUP',
      'growl pruner: groups are input neurons of dense kernels and input channels of conv kernels; not such a kernel: conv/bias',
    );
    const ok = createGrowlPruner({ params: { ops: ['conv2d', 'dense'], roles: ['kernel'] } });
    ok.init(init1(conv));
    expect(ok.targets!()).toEqual(['conv/kernel', 'head/kernel']);
    conv.dispose();
    const emb = createNetwork(
      {
        name: 'emb',
        inputShape: [4],
        nodes: [
          { id: 'emb', op: 'embedding', inputs: ['input'], vocab: 5, dim: 3 },
          { id: 'flat', op: 'flatten', inputs: ['emb'] },
          { id: 'head', op: 'dense', inputs: ['flat'], units: 2 },
        ],
        outputs: ['head'],
      },
      { seed: 1 },
    );
    expectPrunerError(
      () => createGrowlPruner({ params: { ops: ['embedding'] } }).init(init1(emb)),
      'NO_STRUCTURE_GROUP',
      'growl pruner: groups are input neurons of dense kernels and input channels of conv kernels; not such a kernel: emb/kernel, emb/bias',
    );
    emb.dispose();
  });

  it('by default every dense kernel but the heads, also with an output that reads the input without a dense layer', () => {
    const net = createNetwork(
      {
        ...twoLayer(3, 2),
        nodes: [...twoLayer(3, 2).nodes, { id: 'skip', op: 'activation', inputs: ['input'], fn: 'relu' }],
        outputs: ['head', 'skip'],
      },
      { seed: 1 },
    );
    const p = createGrowlPruner();
    p.init(init1(net));
    expect(p.targets!()).toEqual(['fc1/kernel']);
    net.dispose();
  });

  it('counts a zero row before a non-zero one as zero', () => {
    const net = withKernel([
      [1, 0],
      [0, 0],
      [2, 3],
    ]);
    const p = createGrowlPruner();
    p.init(init1(net));
    expect(p.metrics!()).toMatchObject({
      zeros: 3,
      total: 6,
      zeroGroups: 1,
      groups: 3,
      zeroGroupFraction: 1 / 3,
    });
    net.dispose();
  });

  it('state round trip; a state without targets or a numeric proxSteps is refused; odd optional fields take defaults', async () => {
    const net = withKernel([
      [5, 0],
      [0.1, 0.1],
      [3, 4],
    ]);
    const p = createGrowlPruner({ maxZeroFraction: [0, 0.5] });
    p.init(init1(net));
    p.load({
      json: { targets: ['fc1/kernel'], proxSteps: 1, clusters: 7, tyingLabels: { x: [1] } },
      arrays: {},
    });
    expect(p.state()).toEqual({
      json: { targets: ['fc1/kernel'], proxSteps: 1, clusters: 7, tyingLabels: { x: [1] } },
      arrays: {},
    });
    // The restored step count selects the ramp's second cap: one of the three rows may go.
    await p.afterEpoch!(stepCtx(net, 4));
    expect(kernelOf(net)[1]).toEqual([0, 0]);
    for (const tyingLabels of [null, [1, 2], 3]) {
      p.load({ json: { targets: ['fc1/kernel'], proxSteps: 0, tyingLabels }, arrays: {} });
      expect(p.state().json).toEqual({ targets: ['fc1/kernel'], proxSteps: 0, clusters: 0, tyingLabels: {} });
    }
    expectPrunerError(
      () => p.load({ json: { proxSteps: 0 }, arrays: {} }),
      'STATE_MISMATCH',
      'growl pruner: state lacks targets/proxSteps',
    );
    expectPrunerError(
      () => p.load({ json: { targets: [], proxSteps: '0' }, arrays: {} }),
      'STATE_MISMATCH',
      'growl pruner: state lacks targets/proxSteps',
    );
    net.dispose();
  });
});

describe('OWL prox and affinity propagation: exact values', () => {
  it('proxOwl refuses a weight vector of another length', () => {
    const e = thrown(() => proxOwl(new Float64Array(3), new Float64Array(2)));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('proxOwl: 3 values but 2 weights');
  });

  it('row similarities, both kinds, every entry', () => {
    const rows = [Float32Array.from([1, 2]), Float32Array.from([2, 0]), Float32Array.from([0, 0])];
    // −‖a − b‖²: (1,2)–(2,0): 1 + 4; (1,2)–0: 5; (2,0)–0: 4
    expect(Array.from(rowSimilarity(rows, 'euclidean'), (x) => x + 0)).toEqual([
      0, -5, -5, -5, 0, -4, -5, -4, 0,
    ]);
    // ⟨a, b⟩ / max(‖a‖², ‖b‖²), 1 for two zero rows: (1,2)·(2,0) = 2 over max(5, 4)
    expect(Array.from(rowSimilarity(rows, 'normalizedInnerProduct'))).toEqual([
      1, 0.4, 0, 0.4, 1, 0, 0, 0, 1,
    ]);
  });

  it('affinity propagation checks the matrix size, and one point is its own cluster', () => {
    const e = thrown(() => affinityPropagation(new Float64Array(4), 3));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('affinityPropagation: expected 3×3 similarities');
    expect(Array.from(affinityPropagation(new Float64Array(0), 1))).toEqual([0]);
    expect(Array.from(affinityPropagation(new Float64Array(0), 0))).toEqual([]);
  });

  // Partitions pinned on small point sets (half-integer coordinates, so duplicates and ties occur).
  // Each case was picked because changing the rule it is named after — the damped responsibility and
  // availability updates, the median preference, the stop after `convergenceIterations` unchanged
  // exemplar sets with at least one exemplar, the assignment to the first most similar exemplar —
  // gives another partition on it.
  const cases: {
    what: string;
    rows: number[][];
    kind: 'euclidean' | 'normalizedInnerProduct';
    options?: { preference?: number; convergenceIterations?: number };
    labels: number[];
  }[] = [
    {
      what: 'the damped updates with the reference preference 0.7',
      rows: [
        [0.5, 0.5],
        [3, 2],
        [3, 2.5],
      ],
      kind: 'normalizedInnerProduct',
      options: { preference: 0.7 },
      labels: [0, 0, 0],
    },
    {
      what: 'the same, stopping after one unchanged iteration',
      rows: [
        [0.5, 0.5],
        [3, 2],
        [3, 2.5],
      ],
      kind: 'normalizedInnerProduct',
      options: { preference: 0.7, convergenceIterations: 1 },
      labels: [0, 0, 0],
    },
    {
      what: 'the median of ten similarities as preference, 15 unchanged iterations by default',
      rows: [
        [3, 4],
        [1, 3.5],
        [2, 2],
        [0.5, 1.5],
        [1.5, 0.5],
      ],
      kind: 'euclidean',
      labels: [0, 2, 2, 2, 2],
    },
    {
      what: 'the same points, stopping after one unchanged iteration',
      rows: [
        [3, 4],
        [1, 3.5],
        [2, 2],
        [0.5, 1.5],
        [1.5, 0.5],
      ],
      kind: 'euclidean',
      options: { convergenceIterations: 1 },
      labels: [0, 0, 0, 0, 0],
    },
    {
      what: 'a point as similar to two exemplars joins the first',
      rows: [
        [4, 2],
        [2.5, 3],
        [1, 0.5],
        [1.5, 4],
        [3, 1.5],
        [3, 1],
        [0, 1.5],
      ],
      kind: 'euclidean',
      options: { convergenceIterations: 1 },
      labels: [1, 1, 2, 1, 1, 1, 2],
    },
    {
      what: 'the median of three similarities; no exemplar: every point its own cluster',
      rows: [
        [0.5, 4],
        [4, 1.5],
        [0.5, 0.5],
      ],
      kind: 'euclidean',
      labels: [0, 1, 2],
    },
    {
      what: 'an exemplar is its own cluster',
      rows: [
        [3, 0],
        [2, 3],
        [2.5, 3],
        [1.5, 1],
        [0.5, 2.5],
        [0.5, 3.5],
        [3, 0.5],
        [2, 1],
      ],
      kind: 'euclidean',
      labels: [7, 1, 1, 7, 1, 1, 7, 7],
    },
    {
      what: 'an exemplar set stable for 15 iterations that would change later',
      rows: [
        [2.5, 1],
        [2.5, 2.5],
        [2.5, 2.5],
        [3.5, 2.5],
        [2, 2.5],
        [2.5, 2.5],
      ],
      kind: 'euclidean',
      labels: [0, 3, 3, 3, 3, 3],
    },
    {
      what: 'one unchanged iteration is not two',
      rows: [
        [1, 2.5],
        [4, 2.5],
        [2.5, 0.5],
        [3.5, 3],
        [3.5, 3],
        [1.5, 3],
      ],
      kind: 'euclidean',
      options: { convergenceIterations: 1 },
      labels: [2, 2, 2, 2, 2, 2],
    },
  ];
  for (const c of cases) {
    it(`partition: ${c.what}`, () => {
      const rows = c.rows.map((r) => Float32Array.from(r));
      const labels = affinityPropagation(rowSimilarity(rows, c.kind), rows.length, c.options ?? {});
      expect(Array.from(labels)).toEqual(c.labels);
    });
  }
});
