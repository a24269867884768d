import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { fc } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compact,
  countMacs,
  countParams,
  createNetwork,
  embed,
  layerNorm,
  type NetworkSpec,
  type NodeSpec,
  networkMetrics,
  selfAttention,
  toLayersModel,
  validateSpec,
} from '../index.js';
import { tensorsLeakedByTraining } from './fixtures/leak-check.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A one-block pre-norm Transformer encoder classifier, as @moprune/models builds it. */
function encoderSpec(o: {
  t: number;
  vocab: number;
  d: number;
  heads: number;
  ff: number;
  causal?: boolean;
}) {
  const nodes: NodeSpec[] = [
    { id: 'embed', op: 'embedding', inputs: ['input'], vocab: o.vocab, dim: o.d },
    { id: 'ln1', op: 'layerNorm', inputs: ['embed'] },
    { id: 'attention', op: 'selfAttention', inputs: ['ln1'], heads: o.heads, causal: o.causal ?? false },
    { id: 'projection', op: 'dense', inputs: ['attention'], units: o.d },
    { id: 'attend', op: 'add', inputs: ['embed', 'projection'] },
    { id: 'ln2', op: 'layerNorm', inputs: ['attend'] },
    { id: 'ff1', op: 'dense', inputs: ['ln2'], units: o.ff },
    { id: 'ff1.relu', op: 'activation', inputs: ['ff1'], fn: 'relu' },
    { id: 'ff2', op: 'dense', inputs: ['ff1.relu'], units: o.d },
    { id: 'residual', op: 'add', inputs: ['attend', 'ff2'] },
    { id: 'ln', op: 'layerNorm', inputs: ['residual'] },
    { id: 'pool', op: 'globalAvgPool', inputs: ['ln'] },
    { id: 'head', op: 'dense', inputs: ['pool'], units: 3 },
  ];
  return { name: 'encoder', inputShape: [o.t], nodes, outputs: ['head'] } satisfies NetworkSpec;
}

const SMALL = { t: 5, vocab: 7, d: 4, heads: 2, ff: 6 };

function tokens(n: number, t: number, vocab: number, seed: number): tf.Tensor {
  let s = seed;
  const ids = Array.from({ length: n * t }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % vocab;
  });
  return tf.tensor2d(ids, [n, t], 'float32');
}

/** Plain float64 loops from the definitions: the reference every op is held to. */
const ref = {
  layerNorm(x: number[], gamma: number[], beta: number[], eps: number): number[] {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    return x.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!);
  },
  /** One sequence x[T][d]; kernel[d][3d]; bias[3d]. */
  attention(x: number[][], kernel: number[][], bias: number[], heads: number, causal: boolean): number[][] {
    const d = x[0]!.length;
    const dh = d / heads;
    const proj = x.map((row) => bias.map((b, c) => b + row.reduce((s, v, i) => s + v * kernel[i]![c]!, 0)));
    return x.map((_, i) => {
      const out = new Array<number>(d).fill(0);
      for (let h = 0; h < heads; h++) {
        const q = proj[i]!.slice(h * dh, (h + 1) * dh);
        const scores = proj.map((p, k) =>
          causal && k > i
            ? Number.NEGATIVE_INFINITY
            : q.reduce((s, v, j) => s + v * p[d + h * dh + j]!, 0) / Math.sqrt(dh),
        );
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < dh; j++) {
          out[h * dh + j] = e.reduce((s, w, k) => s + (w / z) * proj[k]![2 * d + h * dh + j]!, 0);
        }
      }
      return out;
    });
  },
};

const close = (a: number, b: number, tol = 1e-4) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

describe('sequence ops', () => {
  it('selfAttention matches the float64 definition (heads, causal masks)', () => {
    fc.assert(
      fc.property(
        fc.record({
          t: fc.integer({ min: 1, max: 5 }),
          heads: fc.integer({ min: 1, max: 3 }),
          dh: fc.integer({ min: 1, max: 3 }),
          causal: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        ({ t, heads, dh, causal, seed }) => {
          const d = heads * dh;
          const x = tf.randomNormal([2, t, d], 0, 1, 'float32', seed);
          const k = tf.randomNormal([d, 3 * d], 0, 0.7, 'float32', seed + 1);
          const b = tf.randomNormal([3 * d], 0, 0.3, 'float32', seed + 2);
          const got = selfAttention(x, k, b, { heads, causal });
          const xs = x.arraySync() as number[][][];
          const ks = k.arraySync() as number[][];
          const bs = b.arraySync() as number[];
          const g = got.arraySync() as number[][][];
          tf.dispose([x, k, b, got]);
          for (let n = 0; n < 2; n++) {
            const want = ref.attention(xs[n]!, ks, bs, heads, causal);
            want.forEach((row, i) => {
              row.forEach((v, j) => {
                expect(close(g[n]![i]![j]!, v), `[${n}][${i}][${j}]`).toBe(true);
              });
            });
          }
        },
      ),
      { seed: 11, numRuns: 25 },
    );
  });

  it('causal attention at position 0 sees only itself (its value projection)', () => {
    const x = tf.tensor3d([
      [
        [1, 0],
        [0, 1],
        [5, 5],
      ],
    ]);
    const k = tf.tensor2d([
      [1, 0, 1, 0, 1, 0],
      [0, 1, 0, 1, 0, 1],
    ]);
    const y = selfAttention(x, k, undefined, { heads: 1, causal: true });
    expect(Array.from(y.dataSync().slice(0, 2))).toEqual([1, 0]);
    tf.dispose([x, k, y]);
  });

  it('layerNorm matches the definition on each position', () => {
    const x = tf.tensor3d([
      [
        [1, 2, 3, 4],
        [-1, 0, 0, 5],
      ],
    ]);
    const gamma = tf.tensor1d([1, 2, 0.5, -1]);
    const beta = tf.tensor1d([0, 1, 0, 0.25]);
    const y = layerNorm(x, gamma, beta, 1e-5).arraySync() as number[][][];
    const want = [
      ref.layerNorm([1, 2, 3, 4], [1, 2, 0.5, -1], [0, 1, 0, 0.25], 1e-5),
      ref.layerNorm([-1, 0, 0, 5], [1, 2, 0.5, -1], [0, 1, 0, 0.25], 1e-5),
    ];
    want.forEach((row, i) => {
      row.forEach((v, j) => {
        expect(close(y[0]![i]![j]!, v)).toBe(true);
      });
    });
    tf.dispose([x, gamma, beta]);
  });

  it('embed picks table rows, adds positions, and embeds ids outside the table to zero', () => {
    const table = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const positions = tf.tensor2d([
      [0.5, 0],
      [0, 0.5],
    ]);
    const ids = tf.tensor2d([
      [2, 0],
      [1, 3],
    ]);
    expect(embed(ids, table, positions).arraySync()).toEqual([
      [
        [5.5, 6],
        [1, 2.5],
      ],
      [
        [3.5, 4],
        [0, 0.5],
      ],
    ]);
    tf.dispose([table, positions, ids]);
  });
});

describe('a Transformer encoder as a Network', () => {
  it('validates, counts parameters and MACs, and rejects bad nodes with their paths', () => {
    const spec = encoderSpec(SMALL);
    expect(validateSpec(spec)).toEqual([]);
    const { t, vocab, d, ff } = SMALL;
    const params =
      vocab * d +
      t * d +
      2 * d +
      (3 * d * d + 3 * d) +
      (d * d + d) +
      2 * d +
      (d * ff + ff) +
      (ff * d + d) +
      2 * d +
      (d * 3 + 3);
    expect(countParams(spec)).toBe(params);
    const macs = 3 * t * d * d + 2 * t * t * d + t * d * d + t * d * ff + t * ff * d + d * 3;
    expect(countMacs(spec)).toBe(macs);
    const edit = (id: string, change: object): NetworkSpec => ({
      ...spec,
      nodes: spec.nodes.map((n) => (n.id === id ? { ...n, ...change } : n)) as NodeSpec[],
    });
    expect(validateSpec(edit('attention', { heads: 3 })).map((i) => i.path)).toEqual(['nodes[2].heads']);
    expect(validateSpec(edit('embed', { vocab: 1 })).map((i) => i.path)).toEqual(['nodes[0].vocab']);
    expect(validateSpec(edit('ln1', { epsilon: 0 })).map((i) => i.path)).toEqual(['nodes[1].epsilon']);
  });

  it('gives every parameter the gradient of central differences (embedding, positions, attention, layer norm)', () => {
    const net = createNetwork(encoderSpec({ ...SMALL, causal: true }), { seed: 3 });
    const x = tokens(3, SMALL.t, SMALL.vocab, 7);
    const w = tf.randomNormal([3, 3], 0, 1, 'float32', 5);
    const loss = () => tf.sum(tf.mul(net.apply(x)[0]!, w)) as tf.Scalar;
    const { grads, value } = tf.variableGrads(loss);
    value.dispose();
    // Directional derivative along a random direction per parameter, float32 central differences.
    const eps = 1e-2;
    for (const [name, v] of net.params) {
      const g = grads[v.name]!;
      const dir = tf.randomNormal(v.shape, 0, 1, 'float32', name.length);
      const original = v.clone();
      v.assign(tf.add(original, tf.mul(dir, eps)));
      const up = loss().dataSync()[0]!;
      v.assign(tf.sub(original, tf.mul(dir, eps)));
      const down = loss().dataSync()[0]!;
      v.assign(original);
      const numeric = (up - down) / (2 * eps);
      const analytic = tf.sum(tf.mul(g, dir)).dataSync()[0]!;
      expect(Math.abs(numeric - analytic), name).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(analytic)));
      tf.dispose([dir, original]);
    }
    tf.dispose([...Object.values(grads), x, w]);
    net.dispose();
  });

  it('trains without leaking tensors', () => {
    const net = createNetwork(encoderSpec(SMALL), { seed: 1 });
    const x = tokens(4, SMALL.t, SMALL.vocab, 3);
    expect(tensorsLeakedByTraining(net, x, 3)).toBe(0);
    x.dispose();
    net.dispose();
  });

  it('compacts dead feed-forward units and computes the same function', () => {
    const net = createNetwork(encoderSpec(SMALL), { seed: 2 });
    // Kill feed-forward units 1 and 4: their ff1 column, bias and ff2 row.
    const mask = (name: string, dead: (i: number[]) => boolean) => {
      const v = net.params.get(name)!;
      const m = tf.buffer(v.shape);
      for (let i = 0; i < v.size; i++) {
        const idx = m.indexToLoc(i);
        m.set(dead(idx) ? 0 : 1, ...idx);
      }
      const t = m.toTensor();
      net.setMask(name, t);
      t.dispose();
    };
    const deadUnit = (u: number) => u === 1 || u === 4;
    mask('ff1/kernel', ([, c]) => deadUnit(c!));
    mask('ff1/bias', ([c]) => deadUnit(c!));
    mask('ff2/kernel', ([r]) => deadUnit(r!));
    net.applyMasks();
    const small = compact(net);
    expect(small.params.get('ff1/kernel')!.shape).toEqual([SMALL.d, SMALL.ff - 2]);
    expect(networkMetrics(net).units.ff1).toEqual({ live: SMALL.ff - 2, total: SMALL.ff });
    const x = tokens(6, SMALL.t, SMALL.vocab, 9);
    const a = net.apply(x)[0]!.dataSync();
    const b = small.apply(x)[0]!.dataSync();
    a.forEach((v, i) => {
      expect(close(v, b[i]!, 1e-5)).toBe(true);
    });
    tf.dispose([x]);
    small.dispose();
    net.dispose();
  });

  it('exports layer norm, embeddings and sequence dense layers; attention fails with a typed error naming the node', () => {
    const net = createNetwork(encoderSpec(SMALL), { seed: 4 });
    expect(() => toLayersModel(net)).toThrow(
      expect.objectContaining({
        name: 'CoreError',
        code: 'UNSUPPORTED_OP',
        details: { node: 'embed', op: 'embedding' },
      }),
    );
    const noPositions: NetworkSpec = {
      ...encoderSpec(SMALL),
      nodes: encoderSpec(SMALL).nodes.map((n) => (n.op === 'embedding' ? { ...n, positions: false } : n)),
    };
    const net2 = createNetwork(noPositions, { seed: 4 });
    expect(() => toLayersModel(net2)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_OP',
        details: { node: 'attention', op: 'selfAttention' },
      }),
    );
    // Without attention the rest exports and computes the same function.
    const plain: NetworkSpec = {
      name: 'bag',
      inputShape: [SMALL.t],
      nodes: [
        {
          id: 'embed',
          op: 'embedding',
          inputs: ['input'],
          vocab: SMALL.vocab,
          dim: SMALL.d,
          positions: false,
        },
        { id: 'ln', op: 'layerNorm', inputs: ['embed'] },
        { id: 'ff', op: 'dense', inputs: ['ln'], units: 5 },
        { id: 'pool', op: 'globalAvgPool', inputs: ['ff'] },
        { id: 'head', op: 'dense', inputs: ['pool'], units: 3 },
      ],
      outputs: ['head'],
    };
    const net3 = createNetwork(plain, { seed: 5 });
    const model = toLayersModel(net3);
    const x = tokens(4, SMALL.t, SMALL.vocab, 1);
    const a = net3.apply(x)[0]!.dataSync();
    const b = (model.predict(x) as tf.Tensor).dataSync();
    a.forEach((v, i) => {
      expect(close(v, b[i]!, 1e-5)).toBe(true);
    });
    model.dispose();
    tf.dispose([x]);
    for (const n of [net, net2, net3]) n.dispose();
  });
});
