// Exact expectations for the structured pruners (Bernoulli gates, GrOWL, OWL prox, affinity
// propagation) at the boundaries the other tests leave open: patience, warm-up and the attraction
// region at equality, which gates and θ survive a removal, state round trips and their validation
// errors, GrOWL's prox on a small matrix with the cap, ties and a ramp, tying and freezing.
import { createNetwork, isMopruneError, type Network, type NetworkSpec, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createBernoulliGatePruner } from '../index.js';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatedResidual, quietContext, tinyGated } from './fixtures.js';

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

/** Sets the entries of index `index` along `axis` of a parameter (memory order). */
function setSlice(net: Network, param: string, axis: number, index: number, values: readonly number[]): void {
  const v = net.params.get(param)!;
  const d = Float32Array.from(v.dataSync());
  const stride = v.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = v.shape[axis]!;
  let n = 0;
  for (let o = 0; o < d.length / (stride * dim); o++)
    for (let k = 0; k < stride; k++) d[(o * dim + index) * stride + k] = values[n++]!;
  expect(n).toBe(values.length);
  tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
}

/** Assigns θ of one site. */
function setTheta(v: tf.Variable, values: readonly number[]): void {
  tf.tidy(() => v.assign(tf.tensor1d([...values])));
}

const tiny = tinyGated;

const residual = gatedResidual;

/** The init context of these tests: seed 3, four steps per epoch. */
const initCtx = (net: Network) => ({ net, rng: Rng.fromSeed(3), totalSteps: 20, stepsPerEpoch: 4 });

/** The noise the pruner draws: its generator is the run's, forked by its name; one uniform per gate, site by site. */
function expectedNoise(rng: Rng, sizes: readonly number[]): number[][] {
  return sizes.map((n) => Array.from({ length: n }, () => Math.fround(rng.next())));
}

describe('Bernoulli gates: configuration, state before and after init', () => {
  it('before init, the state holds the configured patience and warm-up (defaults 1 and 0) and no step', () => {
    const fresh = createBernoulliGatePruner();
    expect(fresh.config).toEqual({ type: 'bernoulliGates' });
    expect(fresh.state()).toEqual({
      json: {
        sites: [],
        rng: [...Rng.fromSeed(0).state()],
        lastStep: -1,
        removedUnits: 0,
        removedLayers: 0,
        patience: 1,
        warmup: 0,
      },
      arrays: {},
    });
    const set = createBernoulliGatePruner({ patience: 3, warmupSteps: 2 });
    expect(set.config).toEqual({ type: 'bernoulliGates', patience: 3, warmupSteps: 2 });
    expect(set.state().json).toMatchObject({ patience: 3, warmup: 2 });
  });

  it('names itself in an invalid config error', () => {
    const e = thrown(() => createBernoulliGatePruner({ patience: 0 }));
    expect(e.name).toBe('PrunerError');
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message.startsWith('invalid bernoulliGates pruner config:\n  - patience: ')).toBe(true);
  });

  it('init: θ = thetaInit (default 1), trainable; patience and warm-up default to one epoch; noise from the forked generator', () => {
    const net = createNetwork(tiny, { seed: 1 });
    const p = createBernoulliGatePruner();
    p.init(initCtx(net));
    expect(
      p.variables!().map((v) => ({
        shape: v.shape,
        trainable: v.trainable,
        values: Array.from(v.dataSync()),
      })),
    ).toEqual([
      { shape: [4], trainable: true, values: [1, 1, 1, 1] },
      { shape: [3], trainable: true, values: [1, 1, 1] },
    ]);
    const st = p.state();
    const noise = expectedNoise(Rng.fromSeed(3).fork('bernoulliGates'), [4, 3]);
    expect(st.json).toEqual({
      sites: ['g1', 'g2'],
      rng: st.json.rng,
      lastStep: -1,
      removedUnits: 0,
      removedLayers: 0,
      patience: 4,
      warmup: 4,
    });
    expect(Object.keys(st.arrays).sort()).toEqual([
      'noise:g1',
      'noise:g2',
      'theta:g1',
      'theta:g2',
      'zeroRun:g1',
      'zeroRun:g2',
    ]);
    expect(Array.from(st.arrays['noise:g1']!.data)).toEqual(noise[0]);
    expect(Array.from(st.arrays['noise:g2']!.data)).toEqual(noise[1]);
    expect(Array.from(st.arrays['zeroRun:g1']!.data)).toEqual([0, 0, 0, 0]);
    expect(st.arrays['theta:g2']!.shape).toEqual([3]);
    p.dispose!();

    const q = createBernoulliGatePruner({ thetaInit: 0.25, patience: 2, warmupSteps: 7 });
    q.init(initCtx(net));
    expect(Array.from(q.variables!()[1]!.dataSync())).toEqual([0.25, 0.25, 0.25]);
    expect(q.state().json).toMatchObject({ patience: 2, warmup: 7 });
    // A second init rebuilds θ without leaking the first ones.
    const tensors = tf.memory().numTensors;
    q.init(initCtx(net));
    expect(tf.memory().numTensors).toBe(tensors);
    q.dispose!();
    net.dispose();
  });

  it('training gates are the hard sample ξ = 1[noise < θ]; every step draws fresh noise from the same stream', async () => {
    const net = createNetwork(tiny, { seed: 1 });
    const p = createBernoulliGatePruner({ thetaInit: 0.5 });
    p.init(initCtx(net));
    const rng = Rng.fromSeed(3).fork('bernoulliGates');
    const first = expectedNoise(rng, [4, 3]);
    const g = p.gates!(true, Rng.fromSeed(0));
    expect(Array.from(g.g1!.dataSync())).toEqual(first[0]!.map((u) => (u < 0.5 ? 1 : 0)));
    expect(Array.from(g.g2!.dataSync())).toEqual(first[1]!.map((u) => (u < 0.5 ? 1 : 0)));
    tf.dispose(Object.values(g));
    await p.afterStep(stepCtx(net, 5));
    const second = expectedNoise(rng, [4, 3]);
    const st = p.state();
    expect(st.json.lastStep).toBe(5);
    expect(Array.from(st.arrays['noise:g1']!.data)).toEqual(second[0]);
    expect(Array.from(st.arrays['noise:g2']!.data)).toEqual(second[1]);
    p.dispose!();
    net.dispose();
  });

  it('unit sites, layer sites or both; a network without the asked-for sites is refused with what to do', () => {
    const net = createNetwork(residual, { seed: 4 });
    const sitesOf = (sites: 'all' | 'units' | 'layers') => {
      const p = createBernoulliGatePruner({ sites });
      p.init(initCtx(net));
      const ids = p.state().json.sites;
      p.dispose!();
      return ids;
    };
    expect(sitesOf('all')).toEqual(['b1.g1', 'b1']);
    expect(sitesOf('units')).toEqual(['b1.g1']);
    expect(sitesOf('layers')).toEqual(['b1']);
    net.dispose();

    const layersOnly = createNetwork(
      {
        ...residual,
        name: 'layers-only',
        nodes: residual.nodes
          .filter((n) => n.id !== 'b1.g1')
          .map((n) => (n.id === 'b1.conv2' ? { ...n, inputs: ['b1.relu'] } : n)) as NetworkSpec['nodes'],
      },
      { seed: 4 },
    );
    const e = expectPrunerError(
      () => createBernoulliGatePruner({ sites: 'units' }).init(initCtx(layersOnly)),
      'NO_STRUCTURE_GROUP',
      "bernoulliGates: the network 'layers-only' has no units gate sites; build it with gates (e.g. a model's gates option)",
    );
    expect(e.issues).toEqual([{ path: 'sites', message: 'no matching gate site in the network' }]);
    layersOnly.dispose();

    const plain = createNetwork(
      {
        name: 'plain',
        inputShape: [3],
        nodes: [{ id: 'fc1', op: 'dense', inputs: ['input'], units: 2 }],
        outputs: ['fc1'],
      },
      { seed: 1 },
    );
    expectPrunerError(
      () => createBernoulliGatePruner().init(initCtx(plain)),
      'NO_STRUCTURE_GROUP',
      "bernoulliGates: the network 'plain' has no gate sites; build it with gates (e.g. a model's gates option)",
    );
    plain.dispose();
  });

  it('gateProbabilities are θ clipped to [0,1]; metrics count open (θ > ½), closed (θ = 0) gates and the mean θ', () => {
    const net = createNetwork(tiny, { seed: 1 });
    const p = createBernoulliGatePruner();
    p.init(initCtx(net));
    const [t1, t2] = p.variables!();
    setTheta(t1!, [-0.5, 0.5, 1.5, 0.75]);
    setTheta(t2!, [0, 0.25, 1]);
    const probs = p.gateProbabilities!();
    expect(Object.keys(probs)).toEqual(['g1', 'g2']);
    expect(Array.from(probs.g1!.dataSync())).toEqual([0, 0.5, 1, 0.75]);
    expect(Array.from(probs.g2!.dataSync())).toEqual([0, 0.25, 1]);
    tf.dispose(Object.values(probs));
    setTheta(t1!, [0, 0.5, 1, 0.75]);
    expect(p.metrics!()).toEqual({
      gates: 7,
      openGates: 3, // 1, 0.75, 1 — ½ is not open
      closedGates: 2,
      meanTheta: 3.5 / 7,
      removedUnits: 0,
      removedLayers: 0,
    });
    p.dispose!();
    expect(p.metrics!()).toEqual({
      gates: 0,
      openGates: 0,
      closedGates: 0,
      meanTheta: 0,
      removedUnits: 0,
      removedLayers: 0,
    });
    net.dispose();
  });
});

describe('Bernoulli gates: the removal condition at its boundaries', () => {
  /** A pruner on `tiny` with unit 1 of fc1 closed from the first step; closedDecay 1 empties it at once. */
  const closedUnit = (config: Parameters<typeof createBernoulliGatePruner>[0]) => {
    const net = createNetwork(tiny, { seed: 2 });
    const p = createBernoulliGatePruner({ closedDecay: 1, ...config });
    p.init(initCtx(net));
    setTheta(p.variables!()[0]!, [1, 0, 1, 1]);
    return { net, p };
  };

  it('patience: θ = 0 for patience − 1 steps is not enough, patience steps are; warm-up: removal from step = warmupSteps on', async () => {
    const { net, p } = closedUnit({ patience: 3, warmupSteps: 5 });
    await p.afterStep(stepCtx(net, 0));
    await p.afterStep(stepCtx(net, 1));
    expect(Array.from(p.state().arrays['zeroRun:g1']!.data)).toEqual([0, 2, 0, 0]);
    expect(await p.afterEpoch!(stepCtx(net, 9))).toBeUndefined(); // 2 steps at 0 < patience 3
    await p.afterStep(stepCtx(net, 2));
    expect(await p.afterEpoch!(stepCtx(net, 4))).toBeUndefined(); // step 4 < warm-up 5
    const result = await p.afterEpoch!(stepCtx(net, 5));
    const small = result!.replaceNetwork!;
    expect(small.params.get('fc1/kernel')!.shape).toEqual([3, 3]);
    expect(p.metrics!()).toMatchObject({ removedUnits: 1, removedLayers: 0, gates: 6 });
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('a gate that opens again starts its run from 0', async () => {
    const { net, p } = closedUnit({ patience: 2, warmupSteps: 0 });
    await p.afterStep(stepCtx(net, 0));
    setTheta(p.variables!()[0]!, [1, 0.5, 1, 1]);
    await p.afterStep(stepCtx(net, 1));
    setTheta(p.variables!()[0]!, [1, 0, 1, 1]);
    await p.afterStep(stepCtx(net, 2));
    expect(Array.from(p.state().arrays['zeroRun:g1']!.data)).toEqual([0, 1, 0, 0]);
    expect(await p.afterEpoch!(stepCtx(net, 2))).toBeUndefined();
    p.dispose!();
    net.dispose();
  });

  it('removePhysically: false never removes; true (the default) does', async () => {
    for (const removePhysically of [false, true]) {
      const { net, p } = closedUnit({ patience: 1, warmupSteps: 0, removePhysically });
      await p.afterStep(stepCtx(net, 0));
      const result = await p.afterEpoch!(stepCtx(net, 0));
      expect(result === undefined).toBe(!removePhysically);
      result?.replaceNetwork?.dispose();
      p.dispose!();
      net.dispose();
    }
  });

  it('maxWeightRms bounds the RMS over every slice of the structure, inclusive, to the last bit', async () => {
    // Unit 1 of fc1: kernel column (3), bias (1), fc2's row (3) — powers of two, so the sum of squares is exact.
    const column = [2 ** -10, 2 ** -11, 2 ** -12];
    const bias = [2 ** -9];
    const row = [2 ** -13, 2 ** -10, 2 ** -11];
    const all = [...column, ...bias, ...row];
    const rms = Math.sqrt(all.reduce((a, x) => a + x * x, 0) / all.length);
    const removedAt = async (maxWeightRms: number) => {
      const net = createNetwork(tiny, { seed: 2 });
      setSlice(net, 'fc1/kernel', 1, 1, column);
      setSlice(net, 'fc1/bias', 0, 1, bias);
      setSlice(net, 'fc2/kernel', 0, 1, row);
      const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 0, maxWeightRms });
      p.init(initCtx(net));
      setTheta(p.variables!()[0]!, [1, 0, 1, 1]);
      await p.afterStep(stepCtx(net, 0));
      const result = await p.afterEpoch!(stepCtx(net, 0));
      const shape = result?.replaceNetwork?.params.get('fc1/kernel')?.shape;
      result?.replaceNetwork?.dispose();
      p.dispose!();
      net.dispose();
      return shape;
    };
    expect(await removedAt(rms)).toEqual([3, 3]);
    expect(await removedAt(rms * (1 - 2 ** -40))).toBeUndefined();
  });

  it('the default region is RMS ≤ 1e-3', async () => {
    const removedAt = async (value: number) => {
      const net = createNetwork(tiny, { seed: 2 });
      setSlice(net, 'fc1/kernel', 1, 1, [value, value, value]);
      setSlice(net, 'fc1/bias', 0, 1, [value]);
      setSlice(net, 'fc2/kernel', 0, 1, [value, value, value]);
      const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 0 });
      p.init(initCtx(net));
      setTheta(p.variables!()[0]!, [1, 0, 1, 1]);
      await p.afterStep(stepCtx(net, 0));
      const result = await p.afterEpoch!(stepCtx(net, 0));
      result?.replaceNetwork?.dispose();
      p.dispose!();
      net.dispose();
      return result !== undefined;
    };
    expect(await removedAt(0.00099)).toBe(true);
    expect(await removedAt(0.00101)).toBe(false);
  });

  it('an open structure whose weights are all zero goes with a removed one; θ, noise and runs of the rest are carried over', async () => {
    const net = createNetwork(tiny, { seed: 2 });
    const setUnit = (kernel: string, bias: string, next: string, i: number, x: number) => {
      setSlice(net, kernel, 1, i, new Array(net.params.get(kernel)!.shape[0]).fill(x));
      setSlice(net, bias, 0, i, [x]);
      setSlice(net, next, 0, i, new Array(net.params.get(next)!.shape[1]).fill(x));
    };
    setUnit('fc1/kernel', 'fc1/bias', 'fc2/kernel', 1, 1e-4); // closed, inside the region
    setUnit('fc1/kernel', 'fc1/bias', 'fc2/kernel', 2, 0); // open, all zero
    setUnit('fc2/kernel', 'fc2/bias', 'out/kernel', 0, 1e-4); // closed, inside the region
    const p = createBernoulliGatePruner({ patience: 2, warmupSteps: 0, closedDecay: 0 });
    p.init(initCtx(net));
    const [t1, t2] = p.variables!();
    setTheta(t1!, [0.875, 0, 1, 0.5]);
    setTheta(t2!, [0, 0.625, 0.75]);
    await p.afterStep(stepCtx(net, 0));
    setTheta(t2!, [0, 0.625, 0]); // unit 2 of fc2 closes: one step at 0 is short of the patience
    await p.afterStep(stepCtx(net, 1));
    const before = p.state();
    const result = await p.afterEpoch!(stepCtx(net, 0));
    const small = result!.replaceNetwork!;
    // fc1 keeps units 0 and 3 (unit 2 was all zero although open); fc2 loses unit 0.
    expect(small.params.get('fc1/kernel')!.shape).toEqual([3, 2]);
    expect(small.params.get('fc2/kernel')!.shape).toEqual([2, 2]);
    expect(p.variables!().map((v) => Array.from(v.dataSync()))).toEqual([
      [0.875, 0.5],
      [0.625, 0],
    ]);
    expect(result!.replacedVariables!.map((r) => r.takes)).toEqual([
      [{ axis: 0, indices: [0, 3] }],
      [{ axis: 0, indices: [1, 2] }],
    ]);
    expect(result!.replacedVariables!.map((r) => r.previous)).toEqual([t1, t2]);
    const after = p.state();
    const pick = (key: string, idx: number[]) => idx.map((i) => before.arrays[key]!.data[i]);
    expect(Array.from(after.arrays['noise:g1']!.data)).toEqual(pick('noise:g1', [0, 3]));
    expect(Array.from(after.arrays['noise:g2']!.data)).toEqual(pick('noise:g2', [1, 2]));
    expect(Array.from(after.arrays['zeroRun:g1']!.data)).toEqual([0, 0]);
    expect(Array.from(after.arrays['zeroRun:g2']!.data)).toEqual([0, 1]);
    expect(p.metrics!()).toMatchObject({ removedUnits: 3, gates: 4 });
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('the one unit left of a site keeps its own θ (not the first gate’s)', async () => {
    const net = createNetwork(tiny, { seed: 2 });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 1 });
    p.init(initCtx(net));
    setTheta(p.variables!()[0]!, [0, 0, 0, 0.875]);
    await p.afterStep(stepCtx(net, 0));
    const result = await p.afterEpoch!(stepCtx(net, 0));
    const small = result!.replaceNetwork!;
    expect(small.params.get('fc1/kernel')!.shape).toEqual([3, 1]);
    expect(Array.from(p.variables!()[0]!.dataSync())).toEqual([0.875]);
    expect(result!.replacedVariables![0]!.takes).toEqual([{ axis: 0, indices: [3] }]);
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('a removed block counts as a layer and its unit gates as units', async () => {
    const net = createNetwork(residual, { seed: 4 });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 1 });
    p.init(initCtx(net));
    setTheta(p.variables!()[1]!, [0]); // b1
    await p.afterStep(stepCtx(net, 0));
    const result = await p.afterEpoch!(stepCtx(net, 0));
    const small = result!.replaceNetwork!;
    expect(p.metrics!()).toMatchObject({ removedUnits: 3, removedLayers: 1, gates: 0 });
    expect(result!.replacedVariables).toEqual([]);
    p.dispose!();
    net.dispose();
    small.dispose();
  });
});

describe('Bernoulli gates: closed structures shrink', () => {
  it('every slice of every closed structure is scaled by 1 − closedDecay, exactly; open ones and other entries are untouched', async () => {
    const net = createNetwork(tiny, { seed: 3 });
    const p = createBernoulliGatePruner({ closedDecay: 0.5, patience: 1, warmupSteps: 0 });
    p.init(initCtx(net));
    setTheta(p.variables!()[0]!, [0, 1, 0, 1]); // fc1 units 0 and 2
    setTheta(p.variables!()[1]!, [1, 0, 1]); // fc2 unit 1: fc2/kernel column 1 and fc2/kernel row 0, 2 meet
    const before = new Map([...net.params].map(([k, v]) => [k, Array.from(v.dataSync())]));
    await p.afterStep(stepCtx(net, 0));
    const closed = new Map<string, { axis: number; index: number }[]>([
      [
        'fc1/kernel',
        [
          { axis: 1, index: 0 },
          { axis: 1, index: 2 },
        ],
      ],
      [
        'fc1/bias',
        [
          { axis: 0, index: 0 },
          { axis: 0, index: 2 },
        ],
      ],
      [
        'fc2/kernel',
        [
          { axis: 0, index: 0 },
          { axis: 0, index: 2 },
          { axis: 1, index: 1 },
        ],
      ],
      ['fc2/bias', [{ axis: 0, index: 1 }]],
      ['out/kernel', [{ axis: 0, index: 1 }]],
      ['out/bias', []],
    ]);
    for (const [name, v] of net.params) {
      const shape = v.shape;
      const want = before.get(name)!.map((x, flat) => {
        // the multi-index of `flat`
        const idx: number[] = [];
        let rest = flat;
        for (let k = shape.length - 1; k >= 0; k--) {
          idx[k] = rest % shape[k]!;
          rest = Math.floor(rest / shape[k]!);
        }
        const hits = closed.get(name)!.filter((c) => idx[c.axis] === c.index).length;
        return Math.fround(x * 0.5 ** hits);
      });
      expect([name, Array.from(v.dataSync())]).toEqual([name, want]);
    }
    p.dispose!();
    net.dispose();
  });
});

describe('Bernoulli gates: state round trip and its validation', () => {
  it('a pruner restored from the state continues exactly: θ, noise, runs, generator, counters', async () => {
    const net = createNetwork(tiny, { seed: 1 });
    const a = createBernoulliGatePruner({ patience: 5, warmupSteps: 6 });
    a.init(initCtx(net));
    setTheta(a.variables!()[0]!, [0, 0.25, 0.5, 0]);
    setTheta(a.variables!()[1]!, [1, 0, 0.125]);
    await a.afterStep(stepCtx(net, 7));
    await a.afterStep(stepCtx(net, 8));
    const saved = a.state();
    const json = JSON.parse(JSON.stringify(saved.json));
    const b = createBernoulliGatePruner();
    b.init({ ...initCtx(net), rng: Rng.fromSeed(99), stepsPerEpoch: 2 });
    b.load({ json: { ...json, removedUnits: 4, removedLayers: 2 }, arrays: saved.arrays });
    const restored = b.state();
    expect(restored.json).toEqual({ ...saved.json, removedUnits: 4, removedLayers: 2 });
    expect(restored.json).toMatchObject({ lastStep: 8, patience: 5, warmup: 6 });
    for (const [k, v] of Object.entries(saved.arrays))
      expect([k, Array.from(restored.arrays[k]!.data)]).toEqual([k, Array.from(v.data)]);
    expect(b.metrics!()).toEqual({ ...a.metrics!(), removedUnits: 4, removedLayers: 2 });
    await a.afterStep(stepCtx(net, 9));
    await b.afterStep(stepCtx(net, 9));
    const [sa, sb] = [a.state(), b.state()];
    expect(sb.json.rng).toEqual(sa.json.rng);
    expect(Array.from(sb.arrays['noise:g2']!.data)).toEqual(Array.from(sa.arrays['noise:g2']!.data));
    expect(Array.from(sb.arrays['zeroRun:g1']!.data)).toEqual([3, 0, 0, 3]);
    a.dispose!();
    b.dispose!();
    net.dispose();
  });

  it('fields missing from the state take their defaults; patience and warm-up stay as init set them', () => {
    const net = createNetwork(tiny, { seed: 1 });
    const a = createBernoulliGatePruner();
    a.init(initCtx(net));
    const saved = a.state();
    const b = createBernoulliGatePruner({ patience: 9 });
    b.init(initCtx(net));
    const sites = saved.json.sites!;
    const rng = saved.json.rng!;
    b.load({ json: { sites, rng, lastStep: 'x', removedUnits: null }, arrays: saved.arrays });
    expect(b.state().json).toEqual({
      sites,
      rng,
      lastStep: -1,
      removedUnits: 0,
      removedLayers: 0,
      patience: 9,
      warmup: 4,
    });
    a.dispose!();
    b.dispose!();
    net.dispose();
  });

  it('refuses states that do not fit, saying which part', () => {
    const net = createNetwork(tiny, { seed: 1 });
    const p = createBernoulliGatePruner();
    p.init(initCtx(net));
    const { json, arrays } = p.state();
    const load =
      (j: typeof json, a: typeof arrays = arrays) =>
      () =>
        p.load({ json: j, arrays: a });
    const { sites: _s, ...noSites } = json;
    const { rng: _r, ...noRng } = json;
    expectPrunerError(load(noSites), 'STATE_MISMATCH', 'bernoulliGates: state lacks sites/rng');
    expectPrunerError(load(noRng), 'STATE_MISMATCH', 'bernoulliGates: state lacks sites/rng');
    expectPrunerError(
      load({ ...json, sites: ['g2', 'g1'] }),
      'STATE_MISMATCH',
      'bernoulliGates: state has sites ["g2","g1"], network has ["g1","g2"]',
    );
    for (const key of ['theta:g2', 'noise:g2', 'zeroRun:g2']) {
      const { [key]: _gone, ...rest } = arrays;
      expectPrunerError(
        load(json, rest),
        'STATE_MISMATCH',
        'bernoulliGates: state of site g2 is missing or has the wrong size',
      );
    }
    expectPrunerError(
      load(json, { ...arrays, 'theta:g1': { shape: [3], data: new Float32Array(3) } }),
      'STATE_MISMATCH',
      'bernoulliGates: state of site g1 is missing or has the wrong size',
    );
    p.dispose!();
    net.dispose();
  });
});
