import { fc, test } from '@fast-check/vitest';
import { createNetwork, isMopruneError, type Network, type NetworkSpec, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createBernoulliGatePruner } from '../index.js';
import { describePrunerConformance } from '../testing/index.js';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatedResidual, quietContext } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The step context a gate pruner sees at `step` (epoch 0, validation always perfect). */
const stepCtx = quietContext;

/** Two networks' outputs agree entry by entry, to `digits` decimals. */
function expectSameOutputs(before: tf.Tensor, after: tf.Tensor, digits: number): void {
  const a = before.dataSync();
  const b = after.dataSync();
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, digits);
}

const gatedMlp: NetworkSpec = {
  name: 'gated-mlp',
  inputShape: [8],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 6 },
    { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'g1', op: 'gate', inputs: ['relu1'] },
    { id: 'fc2', op: 'dense', inputs: ['g1'], units: 5 },
    { id: 'relu2', op: 'activation', inputs: ['fc2'], fn: 'relu' },
    { id: 'g2', op: 'gate', inputs: ['relu2'] },
    { id: 'out', op: 'dense', inputs: ['g2'], units: 3 },
  ],
  outputs: ['out'],
};

function init(pruner: ReturnType<typeof createBernoulliGatePruner>, net: ReturnType<typeof createNetwork>) {
  pruner.init({ net, rng: Rng.fromSeed(3), totalSteps: 20, stepsPerEpoch: 4 });
}

describe('Bernoulli gate pruner', () => {
  it('samples hard 0/1 gates in training with a straight-through gradient, and thresholds θ at ½ in evaluation', () => {
    const net = createNetwork(gatedMlp, { seed: 1 });
    const p = createBernoulliGatePruner({ thetaInit: 0.5 });
    init(p, net);
    const [theta1] = p.variables!();
    expect(theta1!.shape).toEqual([6]);
    const c = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const { value, grads } = tf.variableGrads(() => {
      const g = p.gates!(true, Rng.fromSeed(0));
      const v = tf.sum(tf.mul(g.g1!, c)) as tf.Scalar;
      tf.dispose(Object.values(g));
      return v;
    }, [theta1!]);
    const sample = p.gates!(true, Rng.fromSeed(0));
    const hard = Array.from(sample.g1!.dataSync());
    expect(hard.every((x) => x === 0 || x === 1)).toBe(true);
    expect(hard.some((x) => x === 1) && hard.some((x) => x === 0)).toBe(true); // θ = ½: both outcomes over 6 gates (seeded)
    expect(value.dataSync()[0]).toBe(hard.reduce((s, x, i) => s + x * (i + 1), 0));
    expect(Array.from(grads[theta1!.name]!.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    theta1!.assign(tf.tensor1d([0.2, 0.6, 0.5, 0.51, 1, 0]));
    const evalGates = p.gates!(false, Rng.fromSeed(0));
    expect(Array.from(evalGates.g1!.dataSync())).toEqual([0, 1, 0, 1, 1, 0]);
    tf.dispose([c, value, ...Object.values(grads), ...Object.values(sample), ...Object.values(evalGates)]);
    p.dispose!();
    net.dispose();
  });

  it("sampling: 'example' draws an independent gate per example: [batch, gates], seeded by the step stream, frequencies ≈ θ, gradient = the examples' sum", () => {
    const before = tf.memory().numTensors;
    const net = createNetwork(gatedMlp, { seed: 1 });
    const p = createBernoulliGatePruner({ sampling: 'example' });
    init(p, net);
    const [theta1] = p.variables!();
    tf.tidy(() => {
      theta1!.assign(tf.tensor1d([0, 0.25, 0.5, 0.75, 1, 0.5]));
      const batch = 4000;
      const g = p.gates!(true, Rng.fromSeed(7), batch);
      expect(g.g1!.shape).toEqual([batch, 6]);
      const xi = g.g1!.arraySync() as number[][];
      expect(xi.flat().every((x) => x === 0 || x === 1)).toBe(true);
      const freq = [0, 1, 2, 3, 4, 5].map((j) => xi.reduce((acc, row) => acc + row[j]!, 0) / batch);
      for (const [j, t] of [0, 0.25, 0.5, 0.75, 1, 0.5].entries())
        expect(Math.abs(freq[j]! - t)).toBeLessThan(0.03);
      // Independent across examples: rows differ (a shared sample would repeat one row).
      expect(new Set(xi.map((r) => r.join(''))).size).toBeGreaterThan(8);
      // The same step stream gives the same masks (every pass of one step); another stream, others.
      const again = p.gates!(true, Rng.fromSeed(7), batch);
      const other = p.gates!(true, Rng.fromSeed(8), batch);
      expect(Array.from(again.g1!.dataSync())).toEqual(Array.from(g.g1!.dataSync()));
      expect(Array.from(other.g1!.dataSync())).not.toEqual(Array.from(g.g1!.dataSync()));
      // Straight-through: ∂/∂θ_j of Σ_b c_bj·ξ_bj is Σ_b c_bj.
      const c = tf.randomUniform([3, 6], -1, 1, 'float32', 5);
      const { grads } = tf.variableGrads(() => {
        const s = p.gates!(true, Rng.fromSeed(9), 3);
        const v = tf.sum(tf.mul(s.g1!, c)) as tf.Scalar;
        tf.dispose(Object.values(s));
        return v;
      }, [theta1!]);
      const colSums = tf.sum(c, 0).dataSync();
      for (const [j, x] of Array.from(grads[theta1!.name]!.dataSync()).entries())
        expect(x).toBeCloseTo(colSums[j]!, 5);
      // The network applies them per example: example b sees unit j of g1 iff ξ_bj = 1.
      const x = tf.randomNormal([3, 8], 0, 1, 'float32', 4);
      const gates = p.gates!(true, Rng.fromSeed(9), 3);
      const [y] = net.apply(x, { training: true, gates });
      for (let b = 0; b < 3; b++) {
        const row = (gates.g1!.arraySync() as number[][])[b]!;
        const one = tf.slice(x, [b, 0], [1, 8]);
        const [yb] = net.apply(one, {
          training: true,
          gates: { g1: tf.tensor2d([row]), g2: tf.slice(gates.g2!, [b, 0], [1, 5]) },
        });
        expectSameOutputs(yb!, tf.slice(y!, [b, 0], [1, 3]), 5);
      }
      // Evaluation stays deterministic and shared.
      const ev = p.gates!(false, Rng.fromSeed(0), batch);
      expect(Array.from(ev.g1!.dataSync())).toEqual([0, 0, 0, 1, 1, 0]);
    });
    p.dispose!();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('projects θ onto [0,1] after every step', async () => {
    const net = createNetwork(gatedMlp, { seed: 2 });
    const p = createBernoulliGatePruner();
    init(p, net);
    const [theta1] = p.variables!();
    theta1!.assign(tf.tensor1d([-0.3, 1.4, 0.5, 0, 1, 2]));
    await p.afterStep(stepCtx(net));
    expect(Array.from(theta1!.dataSync())).toEqual([0, 1, 0.5, 0, 1, 1]);
    p.dispose!();
    net.dispose();
  });

  it('polarization pushes θ away from ½ toward 0 and 1 (flattening prior)', async () => {
    const net = createNetwork(gatedMlp, { seed: 6 });
    const p = createBernoulliGatePruner({ polarization: 0.1 });
    init(p, net);
    const [theta1] = p.variables!();
    theta1!.assign(tf.tensor1d([0.2, 0.5, 0.7, 0.95, 0.02, 1]));
    await p.afterStep(stepCtx(net));
    // θ + 0.1·(2θ − 1), clipped: 0.14, 0.5, 0.74, 1 (0.99 → 1.04 clipped), 0 (0.02 − 0.096), 1
    const got = Array.from(theta1!.dataSync());
    const want = [0.14, 0.5, 0.74, 1, 0, 1];
    for (const [i, w] of want.entries()) expect(got[i]).toBeCloseTo(w, 6);
    expect(() => createBernoulliGatePruner({ polarization: 0.9 })).toThrow(/polarization/);
    p.dispose!();
    net.dispose();
  });

  it('removes units whose θ stayed 0 for the patience window — after warm-up only — and keeps outputs', async () => {
    const net = createNetwork(gatedMlp, { seed: 3 });
    // closedDecay 1: a closed structure's weights vanish at its first step at θ = 0, so θ and patience decide here.
    const p = createBernoulliGatePruner({ patience: 3, warmupSteps: 4, closedDecay: 1 });
    init(p, net);
    const [theta1, theta2] = p.variables!();
    theta1!.assign(tf.tensor1d([0, 1, 0, 1, 1, 1]));
    theta2!.assign(tf.tensor1d([1, 1, 1, 1, 0]));
    const ctx = (step: number) => stepCtx(net, step);
    for (let s = 0; s < 3; s++) await p.afterStep(ctx(s));
    expect(await p.afterEpoch!(ctx(2))).toBeUndefined(); // patience met, but still warming up
    await p.afterStep(ctx(3));
    await p.afterStep(ctx(4));
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 7);
    const gates = p.gates!(false, Rng.fromSeed(0));
    const [before] = net.apply(x, { gates });
    const result = await p.afterEpoch!(ctx(4));
    expect(result?.replaceNetwork).toBeDefined();
    const small = result!.replaceNetwork!;
    expect(small.params.get('fc1/kernel')!.shape).toEqual([8, 4]);
    expect(small.params.get('fc2/kernel')!.shape).toEqual([4, 4]);
    expect(p.variables!().map((v) => v.shape[0])).toEqual([4, 4]);
    expect(p.metrics!().removedUnits).toBe(3);
    // The new θ replace the old ones, each sliced to its surviving gates: the solver carries their state over.
    expect(
      result!.replacedVariables!.map((r) => ({
        fresh: p.variables!().includes(r.variable),
        previous: r.previous === theta1 ? 1 : r.previous === theta2 ? 2 : 0,
        takes: r.takes,
      })),
    ).toEqual([
      { fresh: true, previous: 1, takes: [{ axis: 0, indices: [1, 3, 4, 5] }] },
      { fresh: true, previous: 2, takes: [{ axis: 0, indices: [0, 1, 2, 3] }] },
    ]);
    const [after] = small.apply(x, { gates: p.gates!(false, Rng.fromSeed(0)) });
    expectSameOutputs(before!, after!, 5);
    tf.dispose([x, before!, after!, ...Object.values(gates)]);
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('removes input features whose gate closed: the network then reads the kept ones through a select', async () => {
    const spec: NetworkSpec = {
      ...gatedMlp,
      nodes: [
        { id: 'input.gate', op: 'gate', inputs: ['input'] },
        { ...gatedMlp.nodes[0]!, inputs: ['input.gate'] } as NetworkSpec['nodes'][number],
        ...gatedMlp.nodes.slice(1),
      ],
    };
    const net = createNetwork(spec, { seed: 3 });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 1 });
    init(p, net);
    const [thetaIn] = p.variables!();
    expect(thetaIn!.shape).toEqual([8]);
    thetaIn!.assign(tf.tensor1d([1, 0, 1, 1, 0, 0, 1, 1]));
    await p.afterStep(stepCtx(net, 0));
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 7);
    const gates = p.gates!(false, Rng.fromSeed(0));
    const [before] = net.apply(x, { gates });
    const result = await p.afterEpoch!(stepCtx(net, 0));
    const small = result!.replaceNetwork!;
    expect(small.spec.nodes[0]).toMatchObject({ op: 'select', inputs: ['input'], indices: [0, 2, 3, 6, 7] });
    expect(small.params.get('fc1/kernel')!.shape).toEqual([5, 6]);
    expect(p.variables!()[0]!.shape).toEqual([5]);
    expect(p.metrics!().removedUnits).toBe(3);
    const after = small.apply(x, { gates: p.gates!(false, Rng.fromSeed(0)) })[0]!;
    expectSameOutputs(before!, after!, 5);
    tf.dispose([x, before!, after, ...Object.values(gates)]);
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('a layer whose every unit gate closed keeps one (zero) unit, its gate still closed, and the same outputs', async () => {
    const net = createNetwork(gatedMlp, { seed: 5 });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 1 });
    init(p, net);
    const [theta1, theta2] = p.variables!();
    theta1!.assign(tf.tensor1d([1, 1, 1, 1, 1, 1]));
    theta2!.assign(tf.tensor1d([0, 0, 0, 0, 0]));
    await p.afterStep(stepCtx(net, 0));
    const x = tf.randomNormal([3, 8], 0, 1, 'float32', 9);
    const gates = p.gates!(false, Rng.fromSeed(0));
    const [before] = net.apply(x, { gates });
    const result = await p.afterEpoch!(stepCtx(net, 0));
    const small = result!.replaceNetwork!;
    expect(small.params.get('fc2/kernel')!.shape).toEqual([6, 1]);
    expect(Array.from(p.variables!()[1]!.dataSync())).toEqual([0]);
    const after = small.apply(x, { gates: p.gates!(false, Rng.fromSeed(0)) })[0]!;
    expectSameOutputs(before!, after!, 5);
    tf.dispose([x, before!, after, ...Object.values(gates)]);
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('with maxWeightRms, a closed gate is removed only once its weights are inside the attraction region', async () => {
    const net = createNetwork(gatedMlp, { seed: 3 });
    /** Multiplies everything of hidden unit `i` of fc1 (kernel column, bias, fc2's kernel row) by `f`. */
    const scaleUnit = (n: Network, i: number, f: number) => {
      for (const [param, axis] of [
        ['fc1/kernel', 1],
        ['fc1/bias', 0],
        ['fc2/kernel', 0],
      ] as const) {
        const v = n.params.get(param)!;
        const d = Float32Array.from(v.dataSync());
        const stride = v.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const dim = v.shape[axis]!;
        for (let o = 0; o < d.length / (stride * dim); o++)
          for (let k = 0; k < stride; k++) d[(o * dim + i) * stride + k]! *= f;
        tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
      }
    };
    scaleUnit(net, 0, 1e-3);
    const p = createBernoulliGatePruner({ patience: 2, warmupSteps: 0, maxWeightRms: 0.01, closedDecay: 0 });
    init(p, net);
    const [theta1, theta2] = p.variables!();
    theta1!.assign(tf.tensor1d([0, 1, 0, 1, 1, 1])); // units 0 and 2 closed; only unit 0 has small weights
    theta2!.assign(tf.tensor1d([1, 1, 1, 1, 1]));
    for (let s = 0; s < 2; s++) await p.afterStep(stepCtx(net, s));
    const first = await p.afterEpoch!(stepCtx(net, 1));
    const mid = first!.replaceNetwork!;
    expect(mid.params.get('fc1/kernel')!.shape).toEqual([8, 5]); // unit 0 went, unit 2 (θ = 0, large weights) stayed
    expect(p.metrics!().removedUnits).toBe(1);
    expect(Array.from(p.variables!()[0]!.dataSync())).toEqual([1, 0, 1, 1, 1]);
    // Once unit 2 (now index 1) has shrunk into the region, it goes too.
    scaleUnit(mid, 1, 1e-3);
    await p.afterStep(stepCtx(mid, 2));
    const second = await p.afterEpoch!(stepCtx(mid, 2));
    const small = second!.replaceNetwork!;
    expect(small.params.get('fc1/kernel')!.shape).toEqual([8, 4]);
    expect(p.metrics!().removedUnits).toBe(2);
    p.dispose!();
    net.dispose();
    mid.dispose();
    small.dispose();
  });

  it('by default a closed structure shrinks into the attraction region before it goes — never on θ alone', async () => {
    const net = createNetwork(gatedMlp, { seed: 6 });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0 }); // closedDecay 0.05, maxWeightRms 1e-3
    init(p, net);
    const [theta1, theta2] = p.variables!();
    theta1!.assign(tf.tensor1d([0, 0, 1, 1, 1, 1]));
    theta2!.assign(tf.tensor1d([1, 1, 1, 1, 1]));
    const rms = (unit: number) => {
      let sum = 0;
      let count = 0;
      for (const [param, axis] of [
        ['fc1/kernel', 1],
        ['fc1/bias', 0],
        ['fc2/kernel', 0],
      ] as const) {
        const v = net.params.get(param)!;
        const d = v.dataSync();
        const stride = v.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const dim = v.shape[axis]!;
        for (let o = 0; o < d.length / (stride * dim); o++)
          for (let k = 0; k < stride; k++) {
            sum += d[(o * dim + unit) * stride + k]! ** 2;
            count++;
          }
      }
      return Math.sqrt(sum / count);
    };
    const open = rms(2);
    const start = rms(0);
    const x = tf.randomNormal([4, 8], 0, 1, 'float32', 8);
    const outputs = () => {
      const gates = p.gates!(false, Rng.fromSeed(0));
      const [y] = net.apply(x, { gates });
      const out = Array.from(y!.dataSync());
      tf.dispose([y!, ...Object.values(gates)]);
      return out;
    };
    const y0 = outputs();
    await p.afterStep(stepCtx(net, 0));
    // Patience is met, but the weights are far outside the region: nothing goes.
    expect(await p.afterEpoch!(stepCtx(net, 0))).toBeUndefined();
    expect(rms(0)).toBeCloseTo(start * 0.95, 6);
    expect(rms(2)).toBe(open); // open structures are untouched
    // Unit 1 opens again after 10 steps at 0: it resumes with weights shrunk by 0.95^10.
    let step = 1;
    for (; step < 10; step++) await p.afterStep(stepCtx(net, step));
    // The shrinking never changed what the deterministic network computes (its gates are closed).
    const y1 = outputs();
    for (let i = 0; i < y0.length; i++) expect(y1[i]).toBeCloseTo(y0[i]!, 5);
    theta1!.assign(tf.tensor1d([0, 0.7, 1, 1, 1, 1]));
    const reopened = rms(1);
    let steps = 10;
    for (; rms(0) > 1e-3; step++, steps++) {
      expect(await p.afterEpoch!(stepCtx(net, step - 1))).toBeUndefined();
      await p.afterStep(stepCtx(net, step));
    }
    expect(rms(1)).toBe(reopened);
    expect(steps).toBe(Math.ceil(Math.log(1e-3 / start) / Math.log(0.95)));
    const result = await p.afterEpoch!(stepCtx(net, step));
    const small = result!.replaceNetwork!;
    expect(small.params.get('fc1/kernel')!.shape).toEqual([8, 5]);
    expect(p.metrics!().removedUnits).toBe(1);
    x.dispose();
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('removes a whole residual block whose layer gate closed', async () => {
    const net = createNetwork(gatedResidual, { seed: 4 });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 1 });
    init(p, net);
    const byId = new Map(net.gateSites.map((s, i) => [s.id, p.variables!()[i]!]));
    byId.get('b1')!.assign(tf.tensor1d([0]));
    const ctx = stepCtx(net);
    await p.afterStep(ctx);
    const result = await p.afterEpoch!(ctx);
    const small = result!.replaceNetwork!;
    expect(small.params.has('b1.conv1/kernel')).toBe(false);
    expect(small.gateSites.map((s) => s.id)).toEqual([]);
    expect(p.metrics!().removedLayers).toBe(1);
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('a closed gate on a channel tied to the residual stream removes nothing, and removal elsewhere still works', async () => {
    // b1.g2 gates b1.conv2's filters, which join the stream at the add: they have no structure group.
    const spec: NetworkSpec = {
      ...gatedResidual,
      nodes: gatedResidual.nodes.flatMap((n) =>
        n.id === 'b1.conv2'
          ? [n, { id: 'b1.g2', op: 'gate', inputs: ['b1.conv2'] }]
          : n.id === 'b1'
            ? [{ ...n, inputs: ['stem.relu', 'b1.g2'] } as NetworkSpec['nodes'][number]]
            : [n],
      ),
    };
    const net = createNetwork(spec, { seed: 4 });
    expect(net.gateSites.find((x) => x.id === 'b1.g2')).toMatchObject({ size: 4, groups: [] });
    const p = createBernoulliGatePruner({ patience: 1, warmupSteps: 0, closedDecay: 1 });
    init(p, net);
    const byId = new Map(net.gateSites.map((x, i) => [x.id, p.variables!()[i]!]));
    byId.get('b1.g2')!.assign(tf.tensor1d([0, 0, 0, 0]));
    await p.afterStep(stepCtx(net));
    // Only tied gates closed: nothing to remove, no new network.
    expect(await p.afterEpoch!(stepCtx(net))).toBeUndefined();
    // A removable filter closes too: the network shrinks there; the tied site keeps its 4 closed gates.
    byId.get('b1.g1')!.assign(tf.tensor1d([1, 0, 1]));
    await p.afterStep(stepCtx(net, 1));
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 3);
    const gates = p.gates!(false, Rng.fromSeed(0));
    const [before] = net.apply(x, { gates });
    const result = await p.afterEpoch!(stepCtx(net, 1));
    const small = result!.replaceNetwork!;
    expect(small.params.get('b1.conv1/kernel')!.shape[3]).toBe(2);
    expect(p.variables!().map((v) => v.shape[0])).toEqual([2, 4, 1]);
    const after = small.apply(x, { gates: p.gates!(false, Rng.fromSeed(0)) })[0]!;
    expectSameOutputs(before!, after!, 5);
    tf.dispose([x, before!, after, ...Object.values(gates)]);
    p.dispose!();
    net.dispose();
    small.dispose();
  });

  it('says what is missing when the network has no gate sites', () => {
    const plain = {
      ...gatedMlp,
      nodes: gatedMlp.nodes
        .filter((n) => n.op !== 'gate')
        .map((n) =>
          n.id === 'fc2' ? { ...n, inputs: ['relu1'] } : n.id === 'out' ? { ...n, inputs: ['relu2'] } : n,
        ),
    } as NetworkSpec;
    const net = createNetwork(plain, { seed: 5 });
    try {
      init(createBernoulliGatePruner(), net);
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'NO_STRUCTURE_GROUP')).toBe(true);
      expect(String(e)).toMatch(/gate/);
    }
    net.dispose();
  });
});

describePrunerConformance({
  name: 'bernoulliGates',
  create: (c) => createBernoulliGatePruner(c),
  config: { type: 'bernoulliGates', thetaInit: 0.3, patience: 2, warmupSteps: 0 },
  networks: [gatedMlp, gatedResidual],
  structured: true,
  // Gates are removed only once θ has sat at 0 for the patience window: not within 12 random steps
  // (removal is tested above on trajectories that drive θ to 0).
  prunes: false,
  describe,
  it,
});

/** The RMS of every slice of each of `groups` in `net` (what the pruner's attraction region measures). */
function groupRms(net: Network, groups: readonly string[]): number[] {
  return groups.map((id) => {
    let sum = 0;
    let count = 0;
    for (const slice of net.groups.find((g) => g.id === id)?.slices ?? []) {
      const v = net.params.get(slice.param)!;
      const d = v.dataSync();
      const stride = v.shape.slice(slice.axis + 1).reduce((a, b) => a * b, 1);
      const dim = v.shape[slice.axis]!;
      for (const index of slice.indices)
        for (let o = 0; o < d.length / (stride * dim); o++)
          for (let k = 0; k < stride; k++) {
            sum += d[(o * dim + index) * stride + k]! ** 2;
            count++;
          }
    }
    return count === 0 ? 0 : Math.sqrt(sum / count);
  });
}

describe('Bernoulli gates: the pruning condition (property)', () => {
  // Random θ trajectories on unit gates (an MLP) and on block gates (a residual net), removal tried
  // at random steps: a gate goes only after θ sat at exactly 0 for the patience window, never during
  // warm-up, and the removal leaves the deterministic network's function unchanged.
  const trajectory = fc.record({
    residual: fc.boolean(),
    patience: fc.integer({ min: 1, max: 4 }),
    warmup: fc.integer({ min: 0, max: 6 }),
    // 1: weights vanish at the first step at θ = 0; 0.6: they need about 7 steps to reach the region.
    closedDecay: fc.constantFrom(1, 0.6),
    steps: fc.array(
      fc.record({
        // Per gate: mostly 0, sometimes open — θ that stays at 0 a while and comes back.
        theta: fc.array(fc.constantFrom(0, 0, 0, 0.3, 0.8, 1), { minLength: 6, maxLength: 6 }),
        tryRemoval: fc.boolean(),
      }),
      { minLength: 2, maxLength: 14 },
    ),
  });

  const removed = { runs: 0 };
  test.prop([trajectory], { seed: 20261204, numRuns: 60 })(
    'nothing is removed before its patience window or during warm-up; a removed structure was already silent',
    async (c) => {
      const tensors = tf.memory().numTensors;
      let net = createNetwork(c.residual ? gatedResidual : gatedMlp, { seed: 5 });
      const p = createBernoulliGatePruner({
        patience: c.patience,
        warmupSteps: c.warmup,
        closedDecay: c.closedDecay,
        ...(c.residual ? { sites: 'layers' as const } : {}),
      });
      init(p, net);
      const x = tf.randomNormal(c.residual ? [3, 4, 4, 3] : [3, 8], 0, 1, 'float32', 11);
      // Our own count of consecutive steps at θ = 0, per gate, keyed by the current θ variable.
      let runs = new Map(p.variables!().map((v) => [v, new Array<number>(v.shape[0] ?? 1).fill(0)]));
      let removals = 0;
      for (const [step, s] of c.steps.entries()) {
        for (const v of p.variables!()) {
          const values = s.theta.slice(0, v.size);
          tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
          runs.set(
            v,
            runs.get(v)!.map((r, i) => (values[i] === 0 ? r + 1 : 0)),
          );
        }
        await p.afterStep(stepCtx(net, step));
        if (!s.tryRemoval) continue;
        const gates = p.gates!(false, Rng.fromSeed(0));
        const [before] = net.apply(x, { gates });
        const old = p.variables!();
        const rmsBefore = new Map(old.map((v, k) => [v, groupRms(net, net.gateSites[k]!.groups)]));
        const result = await p.afterEpoch!(stepCtx(net, step));
        tf.dispose(Object.values(gates));
        if (result?.replaceNetwork === undefined) {
          before!.dispose();
          continue;
        }
        removals++;
        const small = result.replaceNetwork;
        const replaced = new Map((result.replacedVariables ?? []).map((r) => [r.previous, r]));
        const next = new Map<tf.Variable, number[]>();
        for (const v of old) {
          const r = replaced.get(v);
          const kept = r === undefined ? [] : (r.takes?.[0]?.indices ?? [...runs.get(v)!.keys()]);
          runs.get(v)!.forEach((run, i) => {
            if (kept.includes(i)) return;
            // Removed: θ sat at 0 for the whole patience window, after warm-up, its weights in the
            // region — or, whatever its θ, its weights were exactly 0 already (a dead structure:
            // compaction drops it, exactly; closedDecay 1 leaves one behind when θ rises again).
            expect(step).toBeGreaterThanOrEqual(c.warmup);
            const rms = rmsBefore.get(v)![i]!;
            expect(rms).toBeLessThanOrEqual(1e-3);
            if (rms > 0) expect(run).toBeGreaterThanOrEqual(c.patience);
          });
          if (r)
            next.set(
              r.variable,
              kept.map((i) => runs.get(v)![i]!),
            );
        }
        runs = next;
        const evalGates = p.gates!(false, Rng.fromSeed(0));
        const [after] = small.apply(x, { gates: evalGates });
        expectSameOutputs(before!, after!, 4);
        tf.dispose([before!, after!, ...Object.values(evalGates)]);
        net.dispose();
        net = small;
      }
      removed.runs += removals > 0 ? 1 : 0;
      x.dispose();
      p.dispose!();
      net.dispose();
      expect(tf.memory().numTensors).toBe(tensors);
    },
  );

  it('the property above did remove structures', () => {
    expect(removed.runs).toBeGreaterThan(5);
  });
});
