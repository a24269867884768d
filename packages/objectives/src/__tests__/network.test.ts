import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createNetwork, type NetworkSpec } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, fakeBatch, read } from './fake-network.js';
import { complexityTotals, createObjective, expectedComplexity, expectedCounts } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * A residual block as Guenter & Sideris' reconstruction gates it:
 * stream = relu(conv0(x)); branch = g2(bn2(c2(g1(relu(bn1(c1(stream)))))));
 * add = stream + ξ_B·branch; then flatten → fc.
 */
const RESNET: NetworkSpec = {
  name: 'tiny-res',
  inputShape: [4, 4, 1],
  nodes: [
    { id: 'conv0', op: 'conv2d', inputs: ['input'], filters: 2, kernelSize: [3, 3], padding: 'same' },
    { id: 'relu0', op: 'activation', inputs: ['conv0'], fn: 'relu' },
    { id: 'c1', op: 'conv2d', inputs: ['relu0'], filters: 3, kernelSize: [3, 3], padding: 'same' },
    { id: 'bn1', op: 'batchNorm', inputs: ['c1'] },
    { id: 'relu1', op: 'activation', inputs: ['bn1'], fn: 'relu' },
    { id: 'g1', op: 'gate', inputs: ['relu1'] },
    { id: 'c2', op: 'conv2d', inputs: ['g1'], filters: 2, kernelSize: [3, 3], padding: 'same' },
    { id: 'bn2', op: 'batchNorm', inputs: ['c2'] },
    { id: 'g2', op: 'gate', inputs: ['bn2'] },
    { id: 'blk', op: 'add', inputs: ['relu0', 'g2'], gated: true },
    { id: 'flat', op: 'flatten', inputs: ['blk'] },
    { id: 'fc', op: 'dense', inputs: ['flat'], units: 3 },
  ],
  outputs: ['fc'],
};

describe('objectives on createNetwork networks', () => {
  it('expected complexity of a gated residual block equals the hand-derived polynomial', () => {
    const net = createNetwork(RESNET, { seed: 1 });
    // Dense totals: conv0 18+2, c1 54+3, bn1 6, c2 54+2, bn2 4, fc 96+3 = 242 params;
    // MACs 16·18 + 16·54 + 16·54 + 96 = 2112.
    // Unit gates: g1 (3 filters of c1) + g2 (2 filters of c2) = 5.
    expect(complexityTotals(net)).toEqual({ params: 242, macs: 2112, units: 5 });
    expect(complexityTotals(net).params).toBe(net.nodes.reduce((s, n) => s + n.params, 0));
    const p = [0.5, 1, 0]; // g1, Σ = 1.5
    const q = [0.25, 0.75]; // g2, Σ = 1
    const g = 0.6;
    const probs = { g1: tf.tensor1d(p), g2: tf.tensor1d(q), blk: tf.scalar(g) };
    const before = tf.memory().numTensors;
    const { params, macs } = expectedCounts(net, probs);
    // c1: g·(9·2·Σp + Σp + 2Σp); c2: g·(9·Σp·Σq + Σq + 2Σq); conv0 20 and fc 99 constant.
    const sp = 1.5;
    const sq = 1;
    const eParams = 20 + 99 + g * (18 * sp + sp + 2 * sp) + g * (9 * sp * sq + sq + 2 * sq);
    const eMacs = 288 + 96 + 16 * g * 18 * sp + 16 * g * 9 * sp * sq;
    expect(read(params)).toBeCloseTo(eParams, 3);
    expect(read(macs)).toBeCloseTo(eMacs, 2);
    expect(read(expectedComplexity(net, probs, { mode: 'joint', alpha: 0.5 }))).toBeCloseTo(
      0.5 * (eMacs / 2112) + 0.5 * (eParams / 242),
      5,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(probs));
    net.dispose();
  });

  it('expected complexity with input-feature gates: E[params of the first layer] = (Σa)(Σb) + Σb', () => {
    // input [4] → input.gate (a) → fc1 (3 units) → relu → g1 (b) → fc2 (2)
    const spec: NetworkSpec = {
      name: 'input-gated',
      inputShape: [4],
      nodes: [
        { id: 'input.gate', op: 'gate', inputs: ['input'] },
        { id: 'fc1', op: 'dense', inputs: ['input.gate'], units: 3 },
        { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'g1', op: 'gate', inputs: ['relu1'] },
        { id: 'fc2', op: 'dense', inputs: ['g1'], units: 2 },
      ],
      outputs: ['fc2'],
    };
    const net = createNetwork(spec, { seed: 1 });
    // Params: fc1 12 + 3, fc2 6 + 2 = 23; MACs 12 + 6 = 18; unit gates 4 inputs + 3 units = 7.
    expect(complexityTotals(net)).toEqual({ params: 23, macs: 18, units: 7 });
    const a = [1, 0, 0.5, 0.25]; // Σa = 1.75
    const b = [0.5, 1, 0]; // Σb = 1.5
    const probs = { 'input.gate': tf.tensor1d(a), g1: tf.tensor1d(b) };
    const { params, macs } = expectedCounts(net, probs);
    const sa = 1.75;
    const sb = 1.5;
    expect(read(params)).toBeCloseTo(sa * sb + sb + 2 * sb + 2, 5);
    expect(read(macs)).toBeCloseTo(sa * sb + 2 * sb, 5);
    tf.dispose([...Object.values(probs), params, macs]);
    net.dispose();
  });

  it("Reiners' f1 and f2 on a real MLP: values and gradients for every variable, no leaks", () => {
    const spec: NetworkSpec = {
      name: 'mlp',
      inputShape: [4],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 3 },
        { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'fc2', op: 'dense', inputs: ['relu'], units: 2 },
      ],
      outputs: ['fc2'],
    };
    const net = createNetwork(spec, { seed: 7 });
    const x = tf.tensor2d([
      [1, 0, -1, 2],
      [0.5, 0.5, 0.5, 0.5],
    ]);
    const batch = fakeBatch([tf.tensor1d([1, 0], 'int32')]);
    const f1 = createObjective({
      type: 'sum',
      terms: [
        { objective: { type: 'crossEntropy' } },
        { weight: 1e-4, objective: { type: 'l2', params: { roles: ['kernel'] } } },
      ],
    });
    const f2 = createObjective({ type: 'l1', params: { ops: ['dense'], roles: ['kernel'] } });
    const before = tf.memory().numTensors;
    const expectedF2 = [...net.params.entries()]
      .filter(([name]) => name.endsWith('/kernel'))
      .reduce((s, [, v]) => s + Array.from(v.dataSync()).reduce((a, b) => a + Math.abs(b), 0), 0);
    const ctxOf = () => context(net, { outputs: net.apply(x), batch });
    const { value, grads } = tf.variableGrads(() => {
      const ctx = ctxOf();
      return tf.add(f1.value(ctx), f2.value(ctx)) as tf.Scalar;
    }, net.trainableVariables());
    expect(Object.keys(grads)).toHaveLength(4);
    for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    const total = read(value);
    const f2Value = tf.tidy(() => f2.value(ctxOf()).dataSync()[0]!);
    expect(f2Value).toBeCloseTo(expectedF2, 4);
    expect(total).toBeGreaterThan(f2Value);
    tf.dispose(Object.values(grads));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    batch.dispose();
    net.dispose();
  });

  it('GrOWL over dense units and over the rows of dense kernels', () => {
    const spec: NetworkSpec = {
      name: 'mlp',
      inputShape: [3],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 4 },
        { id: 'fc2', op: 'dense', inputs: ['fc1'], units: 2 },
      ],
      outputs: ['fc2'],
    };
    const net = createNetwork(spec, { seed: 3 });
    const rows = createObjective({
      type: 'growl',
      groups: { from: 'axis', params: { ops: ['dense'], roles: ['kernel'] }, axis: 0 },
    });
    const units = createObjective({ type: 'groupL21', groups: { from: 'structures', kinds: ['unit'] } });
    // fc1 units: column of fc1/kernel, fc1/bias entry, row of fc2/kernel.
    const k1 = net.params.get('fc1/kernel')!.arraySync() as number[][];
    const b1 = net.params.get('fc1/bias')!.arraySync() as number[];
    const k2 = net.params.get('fc2/kernel')!.arraySync() as number[][];
    let l21 = 0;
    for (let u = 0; u < 4; u++) {
      const sq =
        k1.reduce((s, r) => s + r[u]! ** 2, 0) + b1[u]! ** 2 + k2[u]!.reduce((s, v) => s + v ** 2, 0);
      l21 += Math.sqrt(sq);
    }
    expect(read(units.value(context(net)))).toBeCloseTo(l21, 4);
    const rowNorms = (k: number[][]) =>
      k.map((r) => Math.sqrt(r.reduce((s, v) => s + v * v, 0))).sort((a, b) => b - a);
    const spike = (norms: number[]) => norms.reduce((s, v, i) => s + (i === 0 ? 1 : 0.2) * v, 0);
    expect(read(rows.value(context(net)))).toBeCloseTo(spike(rowNorms(k1)) + spike(rowNorms(k2)), 4);
    net.dispose();
  });
});
