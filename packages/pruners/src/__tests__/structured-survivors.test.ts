// Tests written against the survivors of `pnpm test:mutation pruners` (issue 17) in the structured
// pruners: the Bernoulli gates' evaluation gates (1[θ > ½], never the training sample), their name,
// targets and state shapes; GrOWL's name, the order in which the zero-group cap spares rows of equal
// norm, and that in the search phase tying clusters the rows of the first tying step, not the start.
import { createNetwork, type Network, type NetworkSpec, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createBernoulliGatePruner, createGrowlPruner } from '../index.js';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quietContext, TWO_CLUSTERS, tinyGated } from './fixtures.js';

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

const gated = tinyGated;

/** 6 inputs → 4 hidden → 3; GrOWL groups the 6 rows of fc1/kernel (the head is left alone). */
const twoLayer: NetworkSpec = {
  name: 'two-layer',
  inputShape: [6],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 4 },
    { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'head', op: 'dense', inputs: ['relu'], units: 3 },
  ],
  outputs: ['head'],
};

const initCtx = (net: Network) => ({ net, rng: Rng.fromSeed(3), totalSteps: 20, stepsPerEpoch: 4 });

/** The values of every site's gates, site by site. */
function gateValues(gates: Record<string, tf.Tensor>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [id, t] of Object.entries(gates)) {
    out[id] = Array.from(t.dataSync());
    t.dispose();
  }
  return out;
}

describe('Bernoulli gates: evaluation gates, identity and state shapes', () => {
  it('evaluation gates are 1[θ > ½] whatever the noise; training gates are the sample 1[u < θ]', () => {
    const net = createNetwork(gated, { seed: 1 });
    const p = createBernoulliGatePruner();
    p.init(initCtx(net));
    const [t1, t2] = p.variables!() as [tf.Variable, tf.Variable];
    // θ at ½ and just around it: the sample keeps about half of these gates, evaluation exactly the θ > ½ ones.
    tf.tidy(() => t1.assign(tf.tensor1d([0.5, 0.5, 0.5, 0.5])));
    tf.tidy(() => t2.assign(tf.tensor1d([0.49, 0.51, 0.5])));
    const noise = p.state().arrays;
    const sample = (id: string, theta: number[]) =>
      Array.from(noise[`noise:${id}`]!.data, (u, i) => (u < theta[i]! ? 1 : 0));
    const training = gateValues(p.gates!(true, Rng.fromSeed(0)));
    expect(training).toEqual({ g1: sample('g1', [0.5, 0.5, 0.5, 0.5]), g2: sample('g2', [0.49, 0.51, 0.5]) });
    // The seeded noise keeps some of the θ ≤ ½ gates in training, so the two differ.
    expect([...training.g1!, training.g2![0], training.g2![2]]).toContain(1);
    expect(gateValues(p.gates!(false, Rng.fromSeed(0)))).toEqual({ g1: [0, 0, 0, 0], g2: [0, 1, 0] });
    p.dispose?.();
    net.dispose();
  });

  it("is named 'bernoulliGates', masks no parameter, and records each site's arrays with the site's shape", () => {
    const net = createNetwork(gated, { seed: 1 });
    const p = createBernoulliGatePruner();
    expect(p.name).toBe('bernoulliGates');
    p.init(initCtx(net));
    expect(p.targets!()).toEqual([]);
    const { arrays } = p.state();
    expect(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, v.shape]))).toEqual({
      'theta:g1': [4],
      'noise:g1': [4],
      'zeroRun:g1': [4],
      'theta:g2': [3],
      'noise:g2': [3],
      'zeroRun:g2': [3],
    });
    p.dispose?.();
    net.dispose();
  });
});

describe('GrOWL: name, the cap among equal norms, tying in the search phase', () => {
  it("is named 'growl'", () => {
    expect(createGrowlPruner().name).toBe('growl');
  });

  it('when the cap spares rows the prox would zero, among equal norms it zeroes the lowest indices first', async () => {
    const net = createNetwork(twoLayer, { seed: 2 });
    // Six rows of the same norm 0.1 in different directions; a strong prox zeroes them all, the cap 0.5 allows 3.
    const rows = [
      [0.1, 0, 0, 0],
      [0, 0.1, 0, 0],
      [0, 0, 0.1, 0],
      [0, 0, 0, 0.1],
      [-0.1, 0, 0, 0],
      [0, -0.1, 0, 0],
    ];
    tf.tidy(() => net.params.get('fc1/kernel')!.assign(tf.tensor2d(rows)));
    const p = createGrowlPruner({ strength: 100, maxZeroFraction: 0.5 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    await p.afterEpoch!(quietContext(net, 0));
    const w = net.params.get('fc1/kernel')!.arraySync() as number[][];
    expect(w.map((r) => r.every((x) => x === 0))).toEqual([true, true, true, false, false, false]);
    // The spared rows are left unshrunk.
    expect(w.slice(3).map((r) => r.map(Math.fround))).toEqual(rows.slice(3).map((r) => r.map(Math.fround)));
    p.dispose?.();
    net.dispose();
  });

  it('search phase (prox on) with freezing: tying once clusters the rows of the first tying step, not those at the start', async () => {
    const net = createNetwork(twoLayer, { seed: 2 });
    // At the start rows 0–2 and 3–5 form two tight clusters.
    const start = TWO_CLUSTERS.map((r) => [...r]);
    tf.tidy(() => net.params.get('fc1/kernel')!.assign(tf.tensor2d(start)));
    const p = createGrowlPruner({
      strength: 1e-6,
      tying: true,
      tyingSimilarity: 'euclidean',
      freezeZeroGroups: true,
    });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 1, stepsPerEpoch: 1 });
    // The epoch moves row 2 next to rows 3–5: the first tying step sees it there.
    const moved = start.map((r) => [...r]);
    moved[2] = [-3, 2.02, 0, 1];
    tf.tidy(() => net.params.get('fc1/kernel')!.assign(tf.tensor2d(moved)));
    await p.afterEpoch!(quietContext(net, 0));
    const w = net.params.get('fc1/kernel')!.arraySync() as number[][];
    expect(w[2]).toEqual(w[3]);
    expect(w[2]).toEqual(w[4]);
    expect(w[2]).toEqual(w[5]);
    expect(w[2]).not.toEqual(w[0]);
    expect(w[2]).not.toEqual(w[1]);
    p.dispose?.();
    net.dispose();
  });
});
