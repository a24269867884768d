import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { createNetwork, isMopruneError, type NetworkSpec, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { affinityPropagation, createGrowlPruner, owlWeights, proxOwl, rowSimilarity } from '../index.js';
import { describePrunerConformance } from '../testing/index.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { quietContext, TWO_CLUSTERS } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function owlObjective(x: Float64Array, v: Float64Array, w: Float64Array): number {
  const sorted = Array.from(x, Math.abs).sort((a, b) => b - a);
  let f = 0;
  for (let i = 0; i < x.length; i++) f += 0.5 * (x[i]! - v[i]!) ** 2 + w[i]! * sorted[i]!;
  return f;
}

describe('OWL weights of the pruner', () => {
  it('are the objectives’ GrOWL weights (one definition, from core): linear θ_i = β1 + β2·(n − i)/n', () => {
    const lin = Array.from(owlWeights({ type: 'linear', beta1: 0.1, beta2: 0.3 }, 3));
    [0.3, 0.2, 0.1].forEach((w, i) => {
      expect(lin[i]).toBeCloseTo(w, 12);
    });
    expect(Array.from(owlWeights({ type: 'spike', beta1: 0.8, beta2: 0.2 }, 3))).toEqual([1, 0.2, 0.2]);
    expect(createGrowlPruner({ weights: { type: 'linear', beta1: 0.1, beta2: 0.3 } }).config).toMatchObject({
      weights: { type: 'linear', beta1: 0.1, beta2: 0.3 },
    });
  });
});

describe('OWL prox', () => {
  it('matches hand-computed values, including a pooled block', () => {
    expect(Array.from(proxOwl(new Float64Array([3, 1, 2]), new Float64Array([1.5, 1, 0.5])))).toEqual([
      1.5, 0.5, 1,
    ]);
    // z = [1 − 0.8, 1 − 0.2] = [0.2, 0.8] violates the order → pooled to 0.5 each
    expect(Array.from(proxOwl(new Float64Array([1, 1]), new Float64Array([0.8, 0.2])))).toEqual([0.5, 0.5]);
    expect(Array.from(proxOwl(new Float64Array([0.1, 5]), new Float64Array([1, 1])))).toEqual([0, 4]);
  });

  test.prop(
    [
      fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 6 }),
      fc.double({ min: 0, max: 2, noNaN: true }),
    ],
    { seed: 11 },
  )('is the minimizer: no random nearby point does better, and order is preserved', (vs, scale) => {
    const v = Float64Array.from(vs);
    const w = owlWeights({ type: 'spike', beta1: 0.8 * scale, beta2: 0.2 * scale }, v.length);
    const x = proxOwl(v, w);
    const fx = owlObjective(x, v, w);
    const rng = Rng.fromSeed(vs.length);
    for (let t = 0; t < 50; t++) {
      const y = x.map((xi) => Math.max(0, xi + rng.normal() * 0.05));
      expect(owlObjective(y, v, w)).toBeGreaterThanOrEqual(fx - 1e-9);
    }
    for (let i = 0; i < v.length; i++) {
      expect(x[i]).toBeGreaterThanOrEqual(0);
      for (let j = 0; j < v.length; j++)
        if (v[i]! > v[j]!) expect(x[i]).toBeGreaterThanOrEqual(x[j]! - 1e-12);
    }
  });
});

describe('affinity propagation', () => {
  it('computes the reference similarity by hand', () => {
    const rows = [
      Float32Array.from([1, 0]),
      Float32Array.from([2, 0]),
      Float32Array.from([0, 0]),
      Float32Array.from([0, 1]),
    ];
    const S = rowSimilarity(rows, 'normalizedInnerProduct');
    expect(S[0 * 4 + 1]).toBe(0.5); // ⟨(1,0),(2,0)⟩ / max(1, 4)
    expect(S[2 * 4 + 2]).toBe(1); // zero rows are perfectly similar
    expect(S[0 * 4 + 3]).toBe(0);
    expect(rowSimilarity(rows, 'euclidean')[0 * 4 + 3]).toBe(-2);
  });

  it('separates two well-separated clusters', () => {
    const rng = Rng.fromSeed(1);
    const rows = [
      ...Array.from({ length: 6 }, () => Float32Array.from([rng.normal() * 0.01, rng.normal() * 0.01])),
      ...Array.from({ length: 6 }, () =>
        Float32Array.from([5 + rng.normal() * 0.01, 5 + rng.normal() * 0.01]),
      ),
    ];
    const labels = Array.from(affinityPropagation(rowSimilarity(rows, 'euclidean'), rows.length));
    expect(new Set(labels.slice(0, 6)).size).toBe(1);
    expect(new Set(labels.slice(6)).size).toBe(1);
    expect(labels[0]).not.toBe(labels[6]);
  });
});

const mtl: NetworkSpec = {
  name: 'two-layer',
  inputShape: [6],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 4 },
    { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'head', op: 'dense', inputs: ['relu'], units: 3 },
    { id: 'logp', op: 'activation', inputs: ['head'], fn: 'logSoftmax' },
  ],
  outputs: ['logp'],
};

describe('affinity propagation against scikit-learn', () => {
  it('finds the partitions scikit-learn 1.2 finds on the committed fixtures (test-fixtures/affinity)', () => {
    const fixture = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../../test-fixtures/affinity/sklearn.json'), 'utf8'),
    ) as { cases: { rows: number[][]; preference: number | null; labels: number[] }[] };
    /** A partition as sorted member lists, whatever the labels are called. */
    const partition = (labels: ArrayLike<number>) => {
      const groups = new Map<number, number[]>();
      Array.from(labels).forEach((l, i) => {
        groups.set(l, [...(groups.get(l) ?? []), i]);
      });
      return [...groups.values()].map((g) => g.join(',')).sort();
    };
    expect(fixture.cases).toHaveLength(5);
    for (const c of fixture.cases) {
      const rows = c.rows.map((r) => Float32Array.from(r));
      const labels = affinityPropagation(
        rowSimilarity(rows, 'normalizedInnerProduct'),
        rows.length,
        c.preference === null ? { maxIterations: 1000 } : { preference: c.preference, maxIterations: 1000 },
      );
      expect(partition(labels)).toEqual(partition(c.labels));
    }
  });
});

describe('GrOWL pruner', () => {
  const ctx = quietContext;

  it('groups rows of hidden dense kernels, leaves the task head alone, zeroes small rows under the cap', async () => {
    const net = createNetwork(mtl, { seed: 1 });
    // Row norms 0.1, 0.2, 0.3, 2, 3, 4 (each row = [n, 0, 0, 0])
    const rows = [0.1, 0.2, 0.3, 2, 3, 4];
    net.params.get('fc1/kernel')!.assign(
      tf.tensor2d(
        rows.flatMap((n) => [n, 0, 0, 0]),
        [6, 4],
      ),
    );
    const p = createGrowlPruner({
      strength: 1,
      weights: { type: 'spike', beta1: 0.8, beta2: 0.5 },
      maxZeroFraction: 0.4,
      freezeZeroGroups: true,
    });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    expect(p.targets!()).toEqual(['fc1/kernel']);
    await p.afterEpoch!(ctx(net, 0));
    const w = net.params.get('fc1/kernel')!.arraySync() as number[][];
    // prox with θ = [1.3, .5, .5, .5, .5, .5]: norms 4→2.7, 3→2.5, 2→1.5, rest → 0 (3 rows), cap floor(0.4·6) = 2
    // rows 0.1 and 0.2 are zeroed (the two smallest); the 0.3 row exceeds the cap and keeps its value
    const expected = [0, 0, 0.3, 1.5, 2.5, 2.7];
    for (const [i, r] of w.entries()) expect(r[0]! + 0).toBeCloseTo(expected[i]!, 6);
    expect(p.metrics!().zeroGroups).toBe(2);
    expect(Array.from(net.getMask('fc1/kernel')!.dataSync()).filter((m) => m === 0).length).toBe(8);
    net.dispose();
  });

  it("defaults to the reference's search phase: the full θ, the cap decides, and zeroed rows are not frozen", async () => {
    /** fc1's kernel after one prox step of `config` on rows of norms 0.05 … 1. */
    const proxOnce = async (config: Parameters<typeof createGrowlPruner>[0]) => {
      const net = createNetwork(mtl, { seed: 1 });
      const rows = [0.05, 0.1, 0.15, 0.6, 0.8, 1];
      net.params.get('fc1/kernel')!.assign(
        tf.tensor2d(
          rows.flatMap((n) => [n, 0, 0, 0]),
          [6, 4],
        ),
      );
      const p = createGrowlPruner(config);
      p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
      await p.afterEpoch!(ctx(net, 0));
      const w = (net.params.get('fc1/kernel')!.arraySync() as number[][]).map((r) => r[0]!);
      const masked = net.getMask('fc1/kernel') !== undefined;
      net.dispose();
      return { w, masked };
    };
    const byDefault = await proxOnce({});
    // θ = [1.0, 0.2, …] on sorted norms [1, .8, .6, .15, .1, .05]: z = [0, .6, .4, −.05, −.1, −.15],
    // pooled to [⅓, ⅓, ⅓, 0, 0, 0] — three rows go (within the default cap of floor(0.8·6) = 4).
    expect(byDefault.w.filter((x) => x === 0)).toHaveLength(3);
    for (const x of byDefault.w.slice(3)) expect(x).toBeCloseTo(1 / 3, 5);
    expect(byDefault).toEqual(await proxOnce({ strength: 1 }));
    expect((await proxOnce({ strength: 1e-3 })).w.filter((x) => x === 0)).toHaveLength(0);
    // Zeroed rows are not masked unless asked (the retraining phase freezes them).
    expect(byDefault.masked).toBe(false);
    expect((await proxOnce({ freezeZeroGroups: true })).masked).toBe(true);
  });

  it('ties similar rows to their cluster mean', async () => {
    const net = createNetwork(mtl, { seed: 2 });
    net.params.get('fc1/kernel')!.assign(tf.tensor2d(TWO_CLUSTERS as number[][]));
    const p = createGrowlPruner({ proxDisabled: true, tying: true, tyingSimilarity: 'euclidean' });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    await p.afterEpoch!(ctx(net, 0));
    const w = net.params.get('fc1/kernel')!.arraySync() as number[][];
    expect(w[0]).toEqual(w[1]);
    expect(w[0]).toEqual(w[2]);
    expect(w[3]).toEqual(w[4]);
    expect(w[3]).toEqual(w[5]);
    expect(w[0]![0]).toBeCloseTo(1.01, 5);
    expect(w[3]![0]).toBeCloseTo(-3.01, 5);
    expect(p.metrics!().clusters).toBe(2);
    net.dispose();
  });

  it('tying clusters once and keeps the clusters (through its state too); everyStep re-clusters', async () => {
    const net = createNetwork(mtl, { seed: 2 });
    net.params.get('fc1/kernel')!.assign(tf.tensor2d(TWO_CLUSTERS as number[][]));
    const config = { proxDisabled: true, tying: true, tyingSimilarity: 'euclidean' } as const;
    const p = createGrowlPruner(config);
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 2, stepsPerEpoch: 1 });
    await p.afterEpoch!(ctx(net, 0));
    const saved = p.state();
    // Row 2 moves next to rows 3–5: the clusters of the first step hold, so it is tied back with rows 0–1 …
    const moved = (net.params.get('fc1/kernel')!.arraySync() as number[][]).map((r) => [...r]);
    moved[2] = [-3, 2.02, 0, 1];
    const setRows = () => net.params.get('fc1/kernel')!.assign(tf.tensor2d(moved));
    const row = (i: number) => (net.params.get('fc1/kernel')!.arraySync() as number[][])[i]!;
    setRows();
    await p.afterEpoch!(ctx(net, 1));
    expect(row(2)).toEqual(row(0));
    // … also in a pruner restored from the state …
    setRows();
    const restored = createGrowlPruner(config);
    restored.init({ net, rng: Rng.fromSeed(0), totalSteps: 2, stepsPerEpoch: 1 });
    restored.load(saved);
    await restored.afterEpoch!(ctx(net, 1));
    expect(row(2)).toEqual(row(0));
    // … while re-clustering at every step no longer ties it with rows 0–1.
    setRows();
    const every = createGrowlPruner({ ...config, tyingClusters: 'everyStep' });
    every.init({ net, rng: Rng.fromSeed(0), totalSteps: 2, stepsPerEpoch: 1 });
    await every.afterEpoch!(ctx(net, 1));
    expect(row(2)).not.toEqual(row(0));
    expect(row(2)![0]).toBeLessThan(-2.9);
    net.dispose();
  });

  it('retraining phase: rows zero at the start are frozen from the first step, and the start is what tying clusters', async () => {
    const net = createNetwork(mtl, { seed: 2 });
    const start = TWO_CLUSTERS.map((r, i) => (i === 5 ? [0, 0, 0, 0] : [...r]));
    net.params.get('fc1/kernel')!.assign(tf.tensor2d(start));
    const p = createGrowlPruner({ proxDisabled: true, tying: true, freezeZeroGroups: true });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    // Masked before any step: the zero row cannot grow back during the first epoch.
    const mask = net.getMask('fc1/kernel')!.arraySync() as number[][];
    expect(mask.map((r) => r.every((m) => m === 0))).toEqual([false, false, false, false, false, true]);
    // The epoch moves row 2 next to rows 3–4; it is still tied with rows 0–1, its cluster at the start.
    const moved = start.map((r) => [...r]);
    moved[2] = [-3, 2.02, 0, 1];
    net.params.get('fc1/kernel')!.assign(tf.tensor2d(moved));
    await p.afterEpoch!(ctx(net, 0));
    const w = net.params.get('fc1/kernel')!.arraySync() as number[][];
    expect(w[2]).toEqual(w[0]);
    expect(w[3]).toEqual(w[4]);
    expect(w[2]).not.toEqual(w[3]);
    expect(w[5]!.map((x) => x + 0)).toEqual([0, 0, 0, 0]);
    net.dispose();
  });

  it("tying by default clusters as scikit-learn's affinity propagation with the reference's preference 0.7", async () => {
    const fixture = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../../test-fixtures/affinity/sklearn.json'), 'utf8'),
    ) as { cases: { rows: number[][]; preference: number | null; labels: number[] }[] };
    const c = fixture.cases[0]!; // 8 rows of 4, preference 0.7
    expect(c.preference).toBe(0.7);
    const spec = { ...mtl, inputShape: [8] };
    const net = createNetwork(spec, { seed: 2 });
    net.params.get('fc1/kernel')!.assign(tf.tensor2d(c.rows));
    const p = createGrowlPruner({ proxDisabled: true, tying: true });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    await p.afterEpoch!(ctx(net, 0));
    const w = net.params.get('fc1/kernel')!.arraySync() as number[][];
    // Every sklearn cluster's rows now hold the cluster's mean.
    for (const label of new Set(c.labels)) {
      const members = c.labels.flatMap((l, i) => (l === label ? [i] : []));
      for (let j = 0; j < 4; j++) {
        const mean = members.reduce((a, i) => a + Math.fround(c.rows[i]![j]!), 0) / members.length;
        for (const i of members) expect(w[i]![j]).toBeCloseTo(mean, 5);
      }
    }
    expect(p.metrics!().clusters).toBe(new Set(c.labels).size);
    net.dispose();
  });

  it('groups a conv kernel [kh, kw, in, out] by input channel (every weight reading the channel)', async () => {
    const spec: NetworkSpec = {
      name: 'conv',
      inputShape: [5, 5, 3],
      nodes: [
        { id: 'conv', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3] },
        { id: 'flat', op: 'flatten', inputs: ['conv'] },
        { id: 'head', op: 'dense', inputs: ['flat'], units: 2 },
      ],
      outputs: ['head'],
    };
    const net = createNetwork(spec, { seed: 4 });
    // Channel c's 18 weights all equal s_c: norms √18·(0.01, 1, 2).
    const scale = [0.01, 1, 2];
    const values = Array.from({ length: 3 * 3 * 3 * 2 }, (_, k) => scale[Math.floor(k / 2) % 3]!);
    net.params.get('conv/kernel')!.assign(tf.tensor4d(values, [3, 3, 3, 2]));
    const p = createGrowlPruner({
      params: { ops: ['conv2d'], roles: ['kernel'] },
      weights: { type: 'spike', beta1: 0, beta2: 0.5 },
      maxZeroFraction: 0.5,
      freezeZeroGroups: true,
    });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    expect(p.targets!()).toEqual(['conv/kernel']);
    await p.afterEpoch!(ctx(net, 0));
    const w = net.params.get('conv/kernel')!.arraySync() as number[][][][];
    const channel = (c: number) => w.flatMap((a) => a.flatMap((b) => b[c]!));
    expect(channel(0)).toEqual(new Array(18).fill(0));
    // The others shrink by 0.5 in norm and keep their direction: each entry s_c·(1 − 0.5/(√18·s_c)).
    for (const c of [1, 2]) {
      for (const x of channel(c)) expect(x).toBeCloseTo(scale[c]! - 0.5 / Math.sqrt(18), 5);
    }
    expect(p.metrics!()).toMatchObject({ zeroGroups: 1, groups: 3, zeroGroupFraction: 1 / 3 });
    const mask = net.getMask('conv/kernel')!.arraySync() as number[][][][];
    expect(mask.flatMap((a) => a.flatMap((b) => b[0]!))).toEqual(new Array(18).fill(0));
    expect(mask.flatMap((a) => a.flatMap((b) => [...b[1]!, ...b[2]!]))).toEqual(new Array(36).fill(1));
    net.dispose();
  });

  it('refuses to group anything but dense and conv kernels', () => {
    const net = createNetwork(mtl, { seed: 3 });
    const p = createGrowlPruner({ params: { roles: ['bias'] } });
    try {
      p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'NO_STRUCTURE_GROUP')).toBe(true);
    }
    net.dispose();
  });
});

describePrunerConformance({
  name: 'growl (prox every 2 steps, cap ramp)',
  create: (c) => createGrowlPruner(c),
  config: { type: 'growl', strength: 0.05, every: 2, maxZeroFraction: [0.1, 0.3, 0.5] },
  // The prox applies 0.05·θ per call: in 12 steps on random weights no row reaches zero, so this
  // config rightly prunes nothing yet; the prox tests above check that it does.
  prunes: false,
  describe,
  it,
});
describePrunerConformance({
  name: 'growl with tying',
  create: (c) => createGrowlPruner(c),
  config: { type: 'growl', strength: 0.05, tying: true },
  prunes: false,
  describe,
  it,
});
