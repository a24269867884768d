import { fc, test } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compact,
  createNetwork,
  type Network,
  type NetworkSpec,
  networkMetrics,
  toLayersModel,
  validateSpec,
} from '../index.js';
import { selectLastAxis } from '../network/select.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** input [h, w, 1] or [n] → (flatten) → input.gate → fc1 → relu → g1 → fc2: input-feature and unit gates. */
function gatedMlp(inputShape: readonly number[], hidden = 5, withInputGate = true): NetworkSpec {
  const nodes: NetworkSpec['nodes'][number][] = [];
  let x = 'input';
  if (inputShape.length > 1) {
    nodes.push({ id: 'flatten', op: 'flatten', inputs: [x] });
    x = 'flatten';
  }
  if (withInputGate) {
    nodes.push({ id: 'input.gate', op: 'gate', inputs: [x] });
    x = 'input.gate';
  }
  nodes.push(
    { id: 'fc1', op: 'dense', inputs: [x], units: hidden, init: 'torchDefault' },
    { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'g1', op: 'gate', inputs: ['relu1'] },
    { id: 'fc2', op: 'dense', inputs: ['g1'], units: 3, init: 'torchDefault' },
  );
  return { name: 'gated-mlp', inputShape, nodes, outputs: ['fc2'] };
}

const features = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** net.apply(x, { gates }) and compacted.apply(x): max absolute difference. */
function maxDiff(net: Network, small: Network, x: tf.Tensor, gates: Record<string, number[]>): number {
  return tf.tidy(() => {
    const g = Object.fromEntries(Object.entries(gates).map(([k, v]) => [k, tf.tensor1d(v)]));
    const want = net.apply(x, { gates: g })[0]!;
    const got = small.apply(x)[0]!;
    return tf.max(tf.abs(tf.sub(want, got))).dataSync()[0]!;
  });
}

describe('input-feature gates', () => {
  it('a gate on the flattened input owns one group per feature: its rows in the first layer', () => {
    const net = createNetwork(gatedMlp([3, 2, 1]), { seed: 1 });
    const site = net.gateSites.find((s) => s.id === 'input.gate')!;
    expect(site).toMatchObject({ kind: 'unit', size: 6 });
    expect(site.groups).toHaveLength(6);
    const g = net.groups.find((x) => x.id === site.groups[4])!;
    expect(g).toMatchObject({ kind: 'input', node: 'flatten', index: 4, gateSite: 'input.gate' });
    expect(g.slices).toEqual([{ param: 'fc1/kernel', axis: 0, indices: [4] }]);
    // Without an input gate, no input groups: every other network keeps its structure.
    const plain = createNetwork(gatedMlp([3, 2, 1], 5, false), { seed: 1 });
    expect(plain.groups.some((x) => x.kind === 'input')).toBe(false);
    expect(plain.groups.map((x) => x.id)).toEqual(
      net.groups.filter((x) => x.kind !== 'input').map((x) => x.id),
    );
    net.dispose();
    plain.dispose();
  });

  test.prop(
    [
      fc.constantFrom([6] as const, [3, 2, 1] as const),
      fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    ],
    { seed: 42, numRuns: 30 },
  )(
    'closed input gates compact into a select of the kept features — same function, twice over',
    (shape, first, second, units) => {
      const net = createNetwork(gatedMlp(shape), { seed: 3 });
      const x = tf.randomUniform([4, ...shape], -1, 1, 'float32', 11);
      const gates1 = { 'input.gate': first.map((b) => (b ? 1 : 0)), g1: units.map((b) => (b ? 1 : 0)) };
      const small = compact(net, { gates: gates1 });
      try {
        expect(maxDiff(net, small, x, gates1)).toBeLessThan(1e-5);
        const kept = first.flatMap((b, i) => (b ? [i] : []));
        const keptInputs = kept.length === 0 ? [0] : kept; // a layer keeps at least one entry
        const select = small.spec.nodes.find((n) => n.op === 'select');
        if (keptInputs.length === 6) expect(select).toBeUndefined();
        else {
          expect(select).toMatchObject({ indices: keptInputs });
          expect(small.params.get('fc1/kernel')!.shape[0]).toBe(keptInputs.length);
          expect(small.gateSites.find((s) => s.id === 'input.gate')!.size).toBe(keptInputs.length);
        }
        // MACs and parameters of the kept network: its first layer reads only the kept features.
        const h = small.params.get('fc1/kernel')!.shape[1]!;
        expect(networkMetrics(small).dense.macs).toBe(keptInputs.length * h + h * 3);
        // Compacting the compacted network again narrows the same select node (indices into the data).
        const size = small.gateSites.find((s) => s.id === 'input.gate')!.size;
        const gates2 = { 'input.gate': second.slice(0, size).map((b) => (b ? 1 : 0)) };
        const smaller = compact(small, { gates: gates2 });
        try {
          expect(maxDiff(small, smaller, x, gates2)).toBeLessThan(1e-5);
          const selects = smaller.spec.nodes.filter((n) => n.op === 'select');
          expect(selects.length).toBeLessThanOrEqual(1);
          const stillKept = gates2['input.gate'].flatMap((v, i) => (v ? [i] : []));
          const want = stillKept.length === 0 ? [keptInputs[0]!] : stillKept.map((i) => keptInputs[i]!);
          if (want.length < 6) expect(selects[0]).toMatchObject({ indices: want });
        } finally {
          smaller.dispose();
        }
      } finally {
        small.dispose();
        net.dispose();
        x.dispose();
      }
    },
  );

  it('a compacted network with a select exports to a LayersModel that computes the same', () => {
    const net = createNetwork(gatedMlp([6]), { seed: 2 });
    const small = compact(net, { gates: { 'input.gate': [1, 0, 0, 1, 1, 0] } });
    const x = tf.randomUniform([3, 6], -1, 1, 'float32', 4);
    const model = toLayersModel(small);
    const want = small.apply(x)[0]!;
    const got = model.predict(x) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(want, got))).dataSync()[0]!)).toBeLessThan(1e-5);
    tf.dispose([x, want, got]);
    model.dispose();
    small.dispose();
    net.dispose();
  });

  it("the host select equals tf.gather — values and gradient — on cpu, where it replaces tfjs's slow gather kernel", () => {
    const x = tf.randomNormal([3, 2, 7], 0, 1, 'float32', 5);
    const idx = Int32Array.from([0, 3, 4, 6]);
    const w = tf.randomNormal([3, 2, 4], 0, 1, 'float32', 6);
    const before = tf.memory().numTensors;
    const got = selectLastAxis(x, idx);
    const want = tf.tidy(() => tf.gather(x, tf.tensor1d(idx, 'int32'), 2));
    expect(got.shape).toEqual([3, 2, 4]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(selectLastAxis(t, idx), w)))(x);
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(idx, 'int32'), 2), w)))(x);
    expect(Array.from(g1.dataSync())).toEqual(Array.from(g2.dataSync()));
    tf.dispose([got, want, g1, g2]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });

  it('refuses a select with bad indices', () => {
    const spec = (indices: number[]): NetworkSpec => ({
      name: 's',
      inputShape: [4],
      nodes: [
        { id: 'sel', op: 'select', inputs: ['input'], indices },
        { id: 'fc', op: 'dense', inputs: ['sel'], units: 2 },
      ],
      outputs: ['fc'],
    });
    expect(validateSpec(spec([0, 2]))).toEqual([]);
    for (const bad of [[], [2, 1], [0, 4], [1, 1], [-1]]) {
      expect(validateSpec(spec(bad)).map((i) => i.path)).toEqual(['nodes[0].indices']);
    }
    expect(features([3, 2])).toBe(6);
  });
});
