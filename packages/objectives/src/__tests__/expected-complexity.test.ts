import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { fc, test } from '@fast-check/vitest';
import type { Network, NodeInfo, StructureGroup } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, fakeNetwork, read } from './fake-network.js';
import {
  complexityTotals,
  createObjective,
  expectedComplexity,
  expectedCounts,
  expectedUnits,
  validateObjectiveConfig,
} from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const node = (id: string, op: string, params: number, macs: number): NodeInfo => ({
  id,
  op,
  inputShapes: [],
  outputShape: [],
  params,
  macs,
});

/**
 * input [4,4,1] → conv1 3×3, 2 filters, 'same' (kernel [3,3,1,2] + bias 2,
 * 288 MACs) → unit gate site g1 (2 gates) → residual block gated by 'blk'
 * whose branch is conv2 3×3, 2→2 (kernel [3,3,2,2] + bias 2, 576 MACs) →
 * flatten (32) → fc 32→3 (96 + 3 params, 96 MACs, un-gated).
 * Filter k of conv1 owns its kernel column, bias entry and conv2's input slice k.
 * params₀ = 20 + 38 + 99 = 157; MACs₀ = 288 + 576 + 96 = 960.
 */
function blockNet(): Network {
  return fakeNetwork({
    params: [
      { node: 'conv1', op: 'conv2d', role: 'kernel', shape: [3, 3, 1, 2] },
      { node: 'conv1', op: 'conv2d', role: 'bias', shape: [2] },
      { node: 'conv2', op: 'conv2d', role: 'kernel', shape: [3, 3, 2, 2] },
      { node: 'conv2', op: 'conv2d', role: 'bias', shape: [2] },
      { node: 'fc', op: 'dense', role: 'kernel', shape: [32, 3] },
      { node: 'fc', op: 'dense', role: 'bias', shape: [3] },
    ],
    groups: [
      ...[0, 1].map(
        (k): StructureGroup => ({
          id: `conv1:filter:${k}`,
          kind: 'filter',
          node: 'conv1',
          index: k,
          gateSite: 'g1',
          slices: [
            { param: 'conv1/kernel', axis: 3, indices: [k] },
            { param: 'conv1/bias', axis: 0, indices: [k] },
            { param: 'conv2/kernel', axis: 2, indices: [k] },
          ],
        }),
      ),
      {
        id: 'blk:layer',
        kind: 'layer',
        node: 'blk',
        index: 0,
        gateSite: 'blk',
        slices: [
          { param: 'conv2/kernel', axis: 0, indices: [0, 1, 2] },
          { param: 'conv2/bias', axis: 0, indices: [0, 1] },
        ],
      },
    ],
    gateSites: [
      { id: 'g1', kind: 'unit', size: 2, gatedNode: 'conv1', groups: ['conv1:filter:0', 'conv1:filter:1'] },
      { id: 'blk', kind: 'layer', size: 1, groups: ['blk:layer'] },
    ],
    nodes: [node('conv1', 'conv2d', 20, 288), node('conv2', 'conv2d', 38, 576), node('fc', 'dense', 99, 96)],
  });
}

describe('expected complexity: hand-computed', () => {
  const net = blockNet();
  afterAll(() => net.dispose());

  it('reads params₀ and MACs₀ from the network', () => {
    expect(complexityTotals(net)).toEqual({ params: 157, macs: 960, units: 2 });
  });

  it('E[params] and E[MACs] with g1 = [0.5, 0.25], blk = 0.8', () => {
    const probs = { g1: tf.tensor1d([0.5, 0.25]), blk: tf.scalar(0.8) };
    const before = tf.memory().numTensors;
    // conv1 kernel 9·1·0.75 = 6.75, bias 0.75; conv2 kernel 0.8·9·0.75·2 = 10.8, bias 0.8·2; fc 99.
    let c = expectedCounts(net, probs);
    expect(read(c.params)).toBeCloseTo(6.75 + 0.75 + 10.8 + 1.6 + 99, 4);
    // MACs: 16·6.75 + 16·10.8 + 96.
    expect(read(c.macs)).toBeCloseTo(108 + 172.8 + 96, 3);
    // Unit gates only (block on): conv2 kernel 9·0.75·2 = 13.5, bias 2.
    c = expectedCounts(net, probs, { unit: true, layer: false });
    expect(read(c.params)).toBeCloseTo(6.75 + 0.75 + 13.5 + 2 + 99, 4);
    expect(read(c.macs)).toBeCloseTo(108 + 216 + 96, 3);
    // Layer gate only: conv1 20, conv2 0.8·38, fc 99.
    c = expectedCounts(net, probs, { unit: false, layer: true });
    expect(read(c.params)).toBeCloseTo(20 + 30.4 + 99, 4);
    expect(read(c.macs)).toBeCloseTo(288 + 460.8 + 96, 3);

    const cUnit = 0.5 * (420 / 960) + 0.5 * (122 / 157);
    const cLayer = 0.5 * (844.8 / 960) + 0.5 * (149.4 / 157);
    const cJoint = 0.5 * (376.8 / 960) + 0.5 * (118.9 / 157);
    expect(read(expectedComplexity(net, probs, { beta: 0.3 }))).toBeCloseTo(0.7 * cUnit + 0.3 * cLayer, 5);
    expect(read(expectedComplexity(net, probs, { mode: 'joint' }))).toBeCloseTo(cJoint, 5);
    // α weights FLOPs against params.
    const a = 0.9;
    expect(read(expectedComplexity(net, probs, { mode: 'joint', alpha: a }))).toBeCloseTo(
      a * (376.8 / 960) + (1 - a) * (118.9 / 157),
      5,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(probs));
  });

  it('units ω: (1 − ω)·C + ω·E[units]/units₀ on the unit part; the layer part holds units at 1', () => {
    const probs = { g1: tf.tensor1d([0.5, 0.25]), blk: tf.scalar(0.8) };
    const before = tf.memory().numTensors;
    expect(read(expectedUnits(net, probs))).toBeCloseTo(0.75, 6);
    expect(read(expectedUnits(net, {}))).toBe(2);
    const cUnit = 0.5 * (420 / 960) + 0.5 * (122 / 157);
    const cLayer = 0.5 * (844.8 / 960) + 0.5 * (149.4 / 157);
    const w = 0.4;
    expect(read(expectedComplexity(net, probs, { beta: 0.3, units: w }))).toBeCloseTo(
      0.7 * ((1 - w) * cUnit + w * (0.75 / 2)) + 0.3 * ((1 - w) * cLayer + w),
      5,
    );
    const cJoint = 0.5 * (376.8 / 960) + 0.5 * (118.9 / 157);
    expect(read(expectedComplexity(net, probs, { mode: 'joint', units: 1 }))).toBeCloseTo(0.75 / 2, 6);
    expect(read(expectedComplexity(net, probs, { mode: 'joint', units: 0 }))).toBeCloseTo(cJoint, 5);
    // units₀ comes from the reference when given (e.g. the dense net before compaction).
    const ref = { params: 157, macs: 960, units: 10 };
    expect(read(expectedComplexity(net, probs, { mode: 'joint', units: 1, reference: ref }))).toBeCloseTo(
      0.075,
      6,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(probs));
  });

  it('is 1 for the dense network, with missing sites treated as always kept', () => {
    const ones = { g1: tf.ones([2]), blk: tf.scalar(1) };
    expect(read(expectedComplexity(net, ones))).toBeCloseTo(1, 6);
    expect(read(expectedComplexity(net, {}, { mode: 'joint' }))).toBeCloseTo(1, 6);
    expect(read(expectedComplexity(net, ones, { units: 0.7, beta: 0.2 }))).toBeCloseTo(1, 6);
    tf.dispose(Object.values(ones));
  });

  it('as an objective: coefficient γ, fixed reference, values from ctx.gateProbabilities', () => {
    const probs = { g1: tf.tensor1d([0.5, 0.25]), blk: tf.scalar(0.8) };
    const obj = createObjective({
      type: 'expectedComplexity',
      mode: 'joint',
      alpha: 1,
      coefficient: 2,
      reference: { params: 1, macs: 1000 },
    });
    expect(read(obj.value(context(net, { gateProbabilities: probs })))).toBeCloseTo((2 * 376.8) / 1000, 5);
    tf.dispose(Object.values(probs));
  });

  it('rejects gate probabilities of the wrong size', () => {
    const bad = { g1: tf.tensor1d([0.5, 0.25, 1]) };
    expect(() => expectedComplexity(net, bad)).toThrowError(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    tf.dispose(Object.values(bad));
  });
});

describe('expected complexity: flatten rows and unsupported groups', () => {
  it('counts a dense layer after flatten by the filters that own its rows', () => {
    // conv1 1×1, 1→2 on [2,2,1] (8 MACs) → flatten (8, channel fastest) → fc 8→1.
    const net = fakeNetwork({
      params: [
        { node: 'conv1', op: 'conv2d', role: 'kernel', shape: [1, 1, 1, 2] },
        { node: 'conv1', op: 'conv2d', role: 'bias', shape: [2] },
        { node: 'fc', op: 'dense', role: 'kernel', shape: [8, 1] },
        { node: 'fc', op: 'dense', role: 'bias', shape: [1] },
      ],
      groups: [0, 1].map((k) => ({
        id: `conv1:filter:${k}`,
        kind: 'filter' as const,
        node: 'conv1',
        index: k,
        gateSite: 'g',
        slices: [
          { param: 'conv1/kernel', axis: 3, indices: [k] },
          { param: 'conv1/bias', axis: 0, indices: [k] },
          { param: 'fc/kernel', axis: 0, indices: [k, k + 2, k + 4, k + 6] },
        ],
      })),
      gateSites: [
        { id: 'g', kind: 'unit', size: 2, gatedNode: 'conv1', groups: ['conv1:filter:0', 'conv1:filter:1'] },
      ],
      nodes: [node('conv1', 'conv2d', 4, 8), node('fc', 'dense', 9, 8)],
    });
    const probs = { g: tf.tensor1d([0.5, 0]) };
    // E[params] = 0.5 + 0.5 + 4·0.5 + 1 = 4 of 13; E[MACs] = 4·0.5 + 2 = 4 of 16.
    expect(read(expectedComplexity(net, probs, { alpha: 0.25, beta: 0 }))).toBeCloseTo(
      0.25 * (4 / 16) + 0.75 * (4 / 13),
      5,
    );
    tf.dispose(Object.values(probs));
    net.dispose();
  });

  it('refuses a site that switches one parameter along two axes (not multilinear)', () => {
    const net = fakeNetwork({
      params: [{ node: 'fc', op: 'dense', role: 'kernel', shape: [2, 2] }],
      groups: [
        {
          id: 'u0',
          kind: 'unit',
          node: 'fc',
          index: 0,
          slices: [
            { param: 'fc/kernel', axis: 0, indices: [0] },
            { param: 'fc/kernel', axis: 1, indices: [0] },
          ],
        },
      ],
      gateSites: [{ id: 's', kind: 'unit', size: 1, groups: ['u0'] }],
      nodes: [node('fc', 'dense', 4, 4)],
    });
    expect(() => expectedComplexity(net, {})).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message:
          "gate site 's' switches 'fc/kernel' along axes 0 and 1; " +
          'the expected complexity is only multilinear when a site touches a parameter along one axis',
      }),
    );
    net.dispose();
  });
});

describe('expected complexity: multilinearity', () => {
  const net = blockNet();
  afterAll(() => net.dispose());

  const prob = fc.double({ min: 0, max: 1, noNaN: true });
  test.prop(
    [fc.tuple(prob, prob, prob), prob, prob, fc.constantFrom<'mixture' | 'joint'>('mixture', 'joint'), prob],
    { seed: 5, numRuns: 40 },
  )('∂C/∂p equals C(p = 1) − C(p = 0) for every gate', ([p0, p1, g], alpha, beta, mode, units) => {
    const before = tf.memory().numTensors;
    const options = mode === 'joint' ? { alpha, mode, units } : { alpha, beta, mode, units };
    const c = (a: number, b: number, blk: number) =>
      tf.tidy(
        () =>
          expectedComplexity(net, { g1: tf.tensor1d([a, b]), blk: tf.scalar(blk) }, options).dataSync()[0]!,
      );
    const g1 = tf.tensor1d([p0, p1]);
    const blk = tf.scalar(g);
    const [dUnit, dBlock] = tf.grads((u: tf.Tensor, l: tf.Tensor) =>
      expectedComplexity(net, { g1: u, blk: l }, options),
    )([g1, blk]);
    const du = dUnit!.dataSync();
    const db = dBlock!.dataSync()[0]!;
    expect(du[0]).toBeCloseTo(c(1, p1, g) - c(0, p1, g), 5);
    expect(du[1]).toBeCloseTo(c(p0, 1, g) - c(p0, 0, g), 5);
    expect(db).toBeCloseTo(c(p0, p1, 1) - c(p0, p1, 0), 5);
    tf.dispose([g1, blk, dUnit!, dBlock!]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('expected complexity: what each setting needs of the network, and the messages', () => {
  const net = blockNet();
  afterAll(() => net.dispose());
  /** fc 2→1 with its MACs, no gate sites (no units). */
  const plain = () =>
    fakeNetwork({
      params: [
        { node: 'fc', op: 'dense', role: 'kernel', shape: [2, 1] },
        { node: 'fc', op: 'dense', role: 'bias', shape: [1] },
      ],
      nodes: [node('fc', 'dense', 3, 2)],
    });

  it('units ω > 0 needs unit gates; ω = 0 does not (and then E[units]/0 is never formed)', () => {
    const n = plain();
    expect(complexityTotals(n).units).toBe(0);
    expect(() => expectedComplexity(n, {}, { units: 0.5 })).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message: 'units > 0 needs a network with unit/filter gates',
      }),
    );
    expect(read(expectedComplexity(n, {}, { units: 0 }))).toBeCloseTo(1, 6);
    expect(read(expectedComplexity(n, {}, { units: 0, mode: 'joint' }))).toBeCloseTo(1, 6);
    n.dispose();
  });

  it('α > 0 needs MACs and α < 1 needs parameters; at α = 0 and α = 1 the missing side is never divided by', () => {
    const noMacs = { params: 157, macs: 0, units: 2 };
    const noParams = { params: 0, macs: 960, units: 2 };
    expect(() => expectedComplexity(net, {}, { alpha: 0.5, reference: noMacs })).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message: 'alpha > 0 needs a network with MACs (a conv or dense node)',
      }),
    );
    expect(() => expectedComplexity(net, {}, { alpha: 0.5, reference: noParams })).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message: 'alpha < 1 needs a network with trainable parameters',
      }),
    );
    for (const mode of ['mixture', 'joint'] as const) {
      expect(read(expectedComplexity(net, {}, { alpha: 0, reference: noMacs, mode }))).toBeCloseTo(1, 6);
      expect(read(expectedComplexity(net, {}, { alpha: 1, reference: noParams, mode }))).toBeCloseTo(1, 6);
    }
  });

  it('names the site, its size and the group it lacks; a node with MACs needs its kernel', () => {
    const bad = { g1: tf.tensor1d([0.5, 0.25, 1]) };
    expect(() => expectedComplexity(net, bad)).toThrowError(
      expect.objectContaining({
        code: 'SHAPE_MISMATCH',
        message: "gate probabilities of site 'g1' have shape [3], expected 2 value(s)",
      }),
    );
    tf.dispose(Object.values(bad));
    const orphan = fakeNetwork({
      params: [{ node: 'fc', op: 'dense', role: 'kernel', shape: [2, 2] }],
      gateSites: [{ id: 's', kind: 'unit', size: 1, groups: ['ghost'] }],
      nodes: [node('fc', 'dense', 4, 4)],
    });
    expect(() => complexityTotals(orphan)).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message: "gate site 's' names group 'ghost', which the network does not have",
      }),
    );
    orphan.dispose();
    const kernelless = fakeNetwork({
      params: [{ node: 'fc', op: 'dense', role: 'bias', shape: [2] }],
      nodes: [node('fc', 'dense', 2, 8)],
    });
    expect(() => complexityTotals(kernelless)).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message: "node 'fc' (dense) has 8 MACs but no 'fc/kernel' parameter to scale them by",
      }),
    );
    kernelless.dispose();
  });

  it("refuses β with mode 'joint' (and only there), and defaults its name", () => {
    expect(validateObjectiveConfig({ type: 'expectedComplexity', mode: 'mixture', beta: 0.3 })).toEqual([]);
    expect(validateObjectiveConfig({ type: 'expectedComplexity', mode: 'joint' })).toEqual([]);
    const issues = validateObjectiveConfig({ type: 'expectedComplexity', mode: 'joint', beta: 0.3 });
    expect(issues.map((i) => [i.path, i.message])).toEqual([['beta', "is not used when mode is 'joint'"]]);
    expect(createObjective({ type: 'expectedComplexity' }).name).toBe('expectedComplexity');
    expect(createObjective({ type: 'expectedComplexity', name: 'C' }).name).toBe('C');
  });
});
