import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { fc, test } from '@fast-check/vitest';
import { createNetwork, type Network, type NetworkSpec, type PrepareContext, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, read, readAll } from './fake-network.js';
import {
  createObjective,
  isObjectiveErrorLike,
  objectiveTypes,
  outputCount,
  outputSensitivity,
  SensitivityDecay,
  validateObjectiveConfig,
} from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SPEC: NetworkSpec = {
  name: 'two-two-two',
  inputShape: [2],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 2 },
    { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'out', op: 'dense', inputs: ['relu'], units: 2 },
  ],
  outputs: ['out'],
};

/**
 * x = [1, 4]; W1 = [[0.5, −1], [0.125, 0.5]], b1 = 0 → h = [1, 1] (both ReLUs on);
 * W2 = [[1, −1], [0, 1]], b2 = 0 → z = [1, 0].
 */
function handNet(): Network {
  const net = createNetwork(SPEC, { seed: 0 });
  const set = (name: string, values: number[][] | number[]) => {
    const t = tf.tensor(values);
    net.params.get(name)!.assign(t);
    t.dispose();
  };
  set('fc1/kernel', [
    [0.5, -1],
    [0.125, 0.5],
  ]);
  set('fc1/bias', [0, 0]);
  set('out/kernel', [
    [1, -1],
    [0, 1],
  ]);
  set('out/bias', [0, 0]);
  return net;
}

/** The 2-2-C net: the same layers with C output units. */
function specWith(classes: number): NetworkSpec {
  return {
    ...SPEC,
    nodes: [...SPEC.nodes.slice(0, 2), { id: 'out', op: 'dense', inputs: ['relu'], units: classes }],
  };
}

const NAMES = ['fc1/kernel', 'fc1/bias', 'out/kernel', 'out/bias'];

function prepareContext(net: Network, x: tf.Tensor): PrepareContext {
  return {
    net,
    batch: { x, y: [], size: x.shape[0]!, dispose: () => x.dispose() },
    dataGradients: () => {
      throw new Error('sensitivity decay must not need the data gradients');
    },
  };
}

function readMap(m: Map<string, tf.Tensor>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of m) out[k] = readAll(v);
  return out;
}

describe('output sensitivity (Tartaglione et al. 2018)', () => {
  it('matches the hand-derived S of a 2-2-2 ReLU net on softmax probabilities', () => {
    const net = handNet();
    const x = tf.tensor2d([[1, 4]]);
    expect(outputCount(net)).toBe(2);
    const s = readMap(outputSensitivity(net, x, NAMES));
    // p = softmax(z), q = σ(z1 − z2) = σ(1); ∂p1/∂z = [a, −a] with a = q(1 − q), and p2 = 1 − p1,
    // so both outputs have the same |∂p/∂w| and S = |∂p1/∂w|.
    const q = 1 / (1 + Math.exp(-1));
    const a = q * (1 - q);
    // ∂p1/∂h = W2·[a, −a] = [2a, −a]; ∂/∂W1[i][j] = x_i·∂p1/∂h_j; ∂/∂W2[i][j] = h_i·(±a).
    const expected: Record<string, number[]> = {
      'fc1/kernel': [2 * a, a, 8 * a, 4 * a],
      'fc1/bias': [2 * a, a],
      'out/kernel': [a, a, a, a],
      'out/bias': [a, a],
    };
    for (const name of NAMES) {
      for (const [i, v] of s[name]!.entries()) expect(v).toBeCloseTo(expected[name]![i]!, 6);
    }
    x.dispose();
    net.dispose();
  });

  it("on raw outputs ('outputs') gives the logit derivatives averaged over the C outputs", () => {
    const net = handNet();
    const x = tf.tensor2d([[1, 4]]);
    const s = readMap(outputSensitivity(net, x, NAMES, { of: 'outputs' }));
    // z1 = h1 − 0·h2 … : ∂z1/∂h = [1, 0], ∂z2/∂h = [−1, 1] → Σ_k |∂z_k/∂W1[i][j]| = x_i·(|W2[j][0]| + |W2[j][1]|).
    expect(s['fc1/kernel']!).toEqual([1, 0.5, 4, 2].map((v) => expect.closeTo(v, 6)));
    expect(s['fc1/bias']!).toEqual([1, 0.5].map((v) => expect.closeTo(v, 6)));
    // ∂z_j/∂W2[i][j] = h_i = 1, zero for the other output → 1/2.
    expect(s['out/kernel']!).toEqual([0.5, 0.5, 0.5, 0.5].map((v) => expect.closeTo(v, 6)));
    expect(s['out/bias']!).toEqual([0.5, 0.5].map((v) => expect.closeTo(v, 6)));
    x.dispose();
    net.dispose();
  });

  it('differentiates the batch-averaged output: opposite per-sample contributions cancel', () => {
    const net = handNet();
    // Both samples keep both ReLUs on (pre-activations [1, 1] and [0.5, 5]), so
    // ∂z_k/∂W1[i][j] = x_i·W2[j][k] per sample; the batch mean of x is [0, 6].
    const x = tf.tensor2d([
      [1, 4],
      [-1, 8],
    ]);
    const s = readMap(outputSensitivity(net, x, ['fc1/kernel'], { of: 'outputs' }));
    // S = |x̄_i|·(|W2[j][0]| + |W2[j][1]|)/2: row 0 cancels (a per-sample average would give 1 and 0.5).
    expect(s['fc1/kernel']!).toEqual([0, 0, 6, 3].map((v) => expect.closeTo(v, 6)));
    x.dispose();
    net.dispose();
  });

  it('the objective is γ·Σ max(0, 1 − S)·w², no decay where S ≥ 1, gradient 2γ·max(0, 1 − S)·w', () => {
    const net = handNet();
    const x = tf.tensor2d([[1, 4]]);
    const decay = new SensitivityDecay({ gamma: 0.5 });
    decay.prepare(prepareContext(net, x));
    const q = 1 / (1 + Math.exp(-1));
    const a = q * (1 - q);
    const f = (s: number) => Math.max(0, 1 - s);
    // W1² = [0.25, 1, 1/64, 0.25]; S(W1[1][0]) = 8a ≈ 1.57 ≥ 1 → factor 0.
    expect(8 * a).toBeGreaterThan(1);
    const w1 = [0.5, -1, 0.125, 0.5];
    const sW1 = [2 * a, a, 8 * a, 4 * a];
    const w2 = [1, -1, 0, 1];
    const expected =
      0.5 * (w1.reduce((t, w, i) => t + f(sW1[i]!) * w * w, 0) + w2.reduce((t, w) => t + f(a) * w * w, 0));
    expect(read(decay.value(context(net)))).toBeCloseTo(expected, 5);
    expect(readAll(decay.insensitivity()!.get('fc1/kernel')!.clone())[2]).toBe(0);

    const kernel = net.params.get('fc1/kernel')!;
    const { value, grads } = tf.variableGrads(() => decay.value(context(net)), [kernel]);
    value.dispose();
    const g = readAll(grads[kernel.name]!);
    for (const [i, v] of g.entries()) expect(v).toBeCloseTo(2 * 0.5 * f(sW1[i]!) * w1[i]!, 5);
    expect(g[2]).toBe(0);
    decay.dispose();
    x.dispose();
    net.dispose();
  });

  it('a subset of outputs per step is seeded, and K = C equals the full definition', () => {
    const net = createNetwork(specWith(5), { seed: 3 });
    const x = tf.randomNormal([4, 2], 0, 1, 'float32', 7);
    const factorsOf = (d: SensitivityDecay) => {
      d.prepare(prepareContext(net, x));
      return readAll(d.insensitivity()!.get('fc1/kernel')!.clone());
    };
    const full = factorsOf(new SensitivityDecay());
    const allFive = factorsOf(new SensitivityDecay({ outputsPerStep: 5 }));
    for (const [i, v] of allFive.entries()) expect(v).toBeCloseTo(full[i]!, 6);
    const a = new SensitivityDecay({ outputsPerStep: 2, seed: 11 });
    const b = new SensitivityDecay({ outputsPerStep: 2, seed: 11 });
    const first = [factorsOf(a), factorsOf(a)];
    expect([factorsOf(b), factorsOf(b)]).toEqual(first);
    expect(() => new SensitivityDecay({ outputsPerStep: 6 }).prepare(prepareContext(net, x))).toThrow(
      /outputsPerStep = 6 exceeds the network's C = 5/,
    );
    for (const d of [a, b]) d.dispose();
    x.dispose();
    net.dispose();
  });

  test.prop(
    [
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 1, max: 3 }),
      fc.boolean(),
      fc.constantFrom(1, 0.5, 0.01),
    ],
    { seed: 20181, numRuns: 16 },
  )(
    'S ≥ 0, factor = max(0, 1 − S/α) ∈ [0, 1], S ≥ α ⇒ no decay gradient, no leaks',
    (seed, n, probs, alpha) => {
      const net = createNetwork(specWith(3), { seed });
      // Large inputs push some sensitivities above 1 (on logits especially).
      const x = tf.randomNormal([n, 2], 0, 4, 'float32', seed);
      const before = tf.memory().numTensors;
      const of = probs ? 'probabilities' : 'outputs';
      const s = readMap(outputSensitivity(net, x, NAMES, { of }));
      const decay = new SensitivityDecay({ gamma: 1, of, alpha });
      decay.prepare(prepareContext(net, x));
      decay.prepare(prepareContext(net, x)); // a second prepare replaces (and frees) the first factors
      const variables = NAMES.map((name) => net.params.get(name)!);
      const { value, grads } = tf.variableGrads(() => decay.value(context(net)), variables);
      value.dispose();
      for (const [i, name] of NAMES.entries()) {
        const factor = readAll(decay.insensitivity()!.get(name)!.clone());
        const g = readAll(grads[variables[i]!.name]!);
        const w = readAll(variables[i]!.clone());
        s[name]!.forEach((si, j) => {
          expect(si).toBeGreaterThanOrEqual(0);
          expect(factor[j]!).toBeGreaterThanOrEqual(0);
          expect(factor[j]!).toBeLessThanOrEqual(1);
          expect(factor[j]!).toBeCloseTo(Math.max(0, 1 - si / alpha), 5);
          if (si >= alpha * (1 + 1e-5)) expect(Math.abs(g[j]!)).toBe(0);
          else expect(g[j]!).toBeCloseTo(2 * factor[j]! * w[j]!, 4);
        });
      }
      decay.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      net.dispose();
    },
  );

  it('is registered, validates its config field by field and builds from JSON', () => {
    expect(objectiveTypes()).toContain('sensitivityDecay');
    const issues = validateObjectiveConfig({
      type: 'sensitivityDecay',
      gamma: -1,
      alpha: 0,
      of: 'logits',
      outputsPerStep: 0.5,
      seed: 1.5,
    });
    expect(issues.map((i) => i.path).sort()).toEqual(['alpha', 'gamma', 'of', 'outputsPerStep', 'seed']);
    try {
      createObjective({ type: 'sensitivityDecay', outputsPerStep: 0 });
      expect.unreachable();
    } catch (e) {
      expect(isObjectiveErrorLike(e)).toBe(true);
      expect(String(e)).toMatch(/outputsPerStep/);
    }
    const built = createObjective({ type: 'sensitivityDecay', gamma: 2e-4, outputsPerStep: 3, seed: 5 });
    expect(built).toBeInstanceOf(SensitivityDecay);
    expect((built as SensitivityDecay).gamma).toBe(2e-4);
    expect((built as SensitivityDecay).outputsPerStep).toBe(3);
    built.setParameter!('gamma', 1e-5);
    expect((built as SensitivityDecay).gamma).toBe(1e-5);
    expect(() => built.setParameter!('alpha', 1)).toThrow(/only 'gamma'/);
    const net = handNet();
    expect(() => built.value(context(net))).toThrow(/before prepare/);
    net.dispose();
  });
});

describe("LOBSTER's loss-based insensitivity (selectiveWeightDecay factor: 'lobster')", () => {
  it('is γ·Σ max(0, 1 − |∂L/∂w|/α)·w²: weights with |∂L/∂w| ≥ α get no decay', () => {
    const net = handNet();
    const grads = new Map<string, tf.Tensor>([
      [
        'fc1/kernel',
        tf.tensor2d([
          [0, -0.5],
          [2, 1],
        ]),
      ],
    ]);
    const x = tf.zeros([1, 2]);
    const before = tf.memory().numTensors;
    const decay = createObjective({
      type: 'selectiveWeightDecay',
      factor: 'lobster',
      gamma: 0.5,
      params: { names: ['fc1/kernel'] },
    });
    decay.prepare!({ net, batch: { x, y: [], size: 1, dispose() {} }, dataGradients: () => grads });
    // w = [0.5, −1, 0.125, 0.5]; factors [1, 0.5, 0, 0] → 0.5·(0.25 + 0.5) = 0.375.
    expect(read(decay.value(context(net)))).toBeCloseTo(0.375, 6);
    decay.dispose!();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...grads.values()]);
    net.dispose();
  });
});

describe('sensitivity decay: settings, outputs and heads (what the mutation run found untested)', () => {
  it('refuses α, outputsPerStep and seed out of range when built directly, naming the value', () => {
    for (const alpha of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new SensitivityDecay({ alpha }), String(alpha)).toThrowError(
        expect.objectContaining({
          name: 'ObjectiveError',
          code: 'INVALID_ARGUMENT',
          message: `alpha must be a finite number > 0, got ${alpha}`,
        }),
      );
    }
    // 1.5 is ≥ 1 but not an integer; 0 and −2 are integers below 1.
    for (const outputsPerStep of [0, -2, 1.5]) {
      expect(() => new SensitivityDecay({ outputsPerStep }), String(outputsPerStep)).toThrowError(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: `outputsPerStep must be an integer ≥ 1, got ${outputsPerStep}`,
        }),
      );
    }
    expect(() => new SensitivityDecay({ seed: 1.5 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'seed must be an integer, got 1.5' }),
    );
    // The smallest legal values are accepted.
    expect(new SensitivityDecay({ alpha: 1e-9 }).alpha).toBe(1e-9);
    expect(new SensitivityDecay({ outputsPerStep: 1 }).outputsPerStep).toBe(1);
  });

  it('records its settings as its config (subset and seed only when a subset is drawn), and defaults its name', () => {
    const plain = new SensitivityDecay();
    expect(plain.name).toBe('sensitivityDecay');
    expect(plain.decoupled).toBe(false);
    expect(plain.config).toEqual({
      type: 'sensitivityDecay',
      gamma: 1e-3,
      alpha: 1,
      of: 'probabilities',
      from: 'logits',
    });
    expect(
      new SensitivityDecay({ outputsPerStep: 2, seed: 4, decoupled: true, gamma: 0.5, of: 'outputs' }).config,
    ).toEqual({
      type: 'sensitivityDecay',
      gamma: 0.5,
      alpha: 1,
      of: 'outputs',
      from: 'logits',
      outputsPerStep: 2,
      seed: 4,
      decoupled: true,
    });
    const built = createObjective({ type: 'sensitivityDecay' }) as SensitivityDecay;
    expect(built.name).toBe('sensitivityDecay');
    expect(built.decoupled).toBe(false);
    expect(built.outputsPerStep).toBeUndefined();
  });

  it('a drawn subset is the seeded permutation’s first K outputs, not all C', () => {
    const net = createNetwork(specWith(5), { seed: 3 });
    const x = tf.randomNormal([4, 2], 0, 1, 'float32', 7);
    const decay = new SensitivityDecay({ outputsPerStep: 2, seed: 11, of: 'outputs', alpha: 100 });
    decay.prepare(prepareContext(net, x));
    const drawn = [...Rng.fromSeed(11).permutation(5).subarray(0, 2)].sort((a, b) => a - b);
    const subset = readMap(outputSensitivity(net, x, NAMES, { of: 'outputs', outputs: drawn }));
    const all = readMap(outputSensitivity(net, x, NAMES, { of: 'outputs' }));
    const factor = readAll(decay.insensitivity()!.get('out/kernel')!.clone());
    // out/kernel: only the two drawn columns have a non-zero S; over all C outputs every column does.
    for (const [j, s] of subset['out/kernel']!.entries()) expect(factor[j]!).toBeCloseTo(1 - s / 100, 6);
    expect(all['out/kernel']!.filter((s) => s > 0)).toHaveLength(10);
    expect(subset['out/kernel']!.filter((s) => s > 0)).toHaveLength(4);
    decay.dispose();
    x.dispose();
    net.dispose();
  });

  it('locates flat output indices across several heads; index C and an empty list are refused', () => {
    // Two heads on one hidden layer: a (2 outputs) then b (3 outputs), C = 5; flat index 3 is b's column 1.
    const spec: NetworkSpec = {
      name: 'two-heads',
      inputShape: [2],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 2 },
        { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'a', op: 'dense', inputs: ['relu'], units: 2 },
        { id: 'b', op: 'dense', inputs: ['relu'], units: 3 },
      ],
      outputs: ['a', 'b'],
    };
    const net = createNetwork(spec, { seed: 5 });
    const x = tf.tensor2d([
      [1, 2],
      [3, -1],
    ]);
    expect(outputCount(net)).toBe(5);
    const s = readMap(outputSensitivity(net, x, ['a/kernel', 'b/kernel'], { of: 'outputs', outputs: [3] }));
    // ∂ mean(b[:, 1]) / ∂ b/kernel is mean(h) in column 1 and 0 elsewhere; head a is not on the path.
    const h = readAll(
      tf.tidy(() =>
        tf.mean(tf.relu(tf.add(tf.matMul(x, net.params.get('fc1/kernel')!), net.params.get('fc1/bias')!)), 0),
      ),
    );
    expect(s['a/kernel']).toEqual([0, 0, 0, 0]);
    const bk = s['b/kernel']!;
    for (const [i, hi] of h.entries()) {
      expect(bk[i * 3]).toBe(0);
      expect(bk[i * 3 + 1]).toBeCloseTo(Math.abs(hi), 6);
      expect(bk[i * 3 + 2]).toBe(0);
    }
    expect(() => outputSensitivity(net, x, ['b/kernel'], { outputs: [5] })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'output index 5 is not below C = 5' }),
    );
    expect(() => outputSensitivity(net, x, ['b/kernel'], { outputs: [] })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'outputSensitivity: no outputs' }),
    );
    expect(() => outputSensitivity(net, x, ['nope'])).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_PARAMETER', message: "the network has no parameter 'nope'" }),
    );
    x.dispose();
    net.dispose();
  });

  it('names an output without node info', () => {
    const broken = { spec: { outputs: ['ghost'] }, nodes: [] } as unknown as Network;
    expect(() => outputCount(broken)).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED_NETWORK',
        message: "the network has no node info for output 'ghost'",
      }),
    );
  });

  it("takes softmax outputs as they are (from: 'probabilities'), and runs in inference mode (dropout off)", () => {
    const withHead = (extra: NetworkSpec['nodes'], output = 'out'): NetworkSpec => ({
      ...SPEC,
      nodes: [SPEC.nodes[0]!, SPEC.nodes[1]!, ...extra],
      outputs: [output],
    });
    const logits = createNetwork(withHead([SPEC.nodes[2]!]), { seed: 2 });
    const softmaxed = createNetwork(
      withHead([SPEC.nodes[2]!, { id: 'p', op: 'activation', inputs: ['out'], fn: 'softmax' }], 'p'),
      { seed: 2 },
    );
    const dropped = createNetwork(
      withHead([
        { id: 'drop', op: 'dropout', inputs: ['relu'], rate: 0.5 },
        { id: 'out', op: 'dense', inputs: ['drop'], units: 2 },
      ]),
      { seed: 2 },
    );
    for (const other of [softmaxed, dropped]) {
      for (const name of NAMES) other.params.get(name)!.assign(logits.params.get(name)!);
    }
    const x = tf.tensor2d([
      [1, 4],
      [-2, 0.5],
    ]);
    const reference = readMap(outputSensitivity(logits, x, NAMES));
    const fromProbabilities = readMap(outputSensitivity(softmaxed, x, NAMES, { from: 'probabilities' }));
    const inference = readMap(outputSensitivity(dropped, x, NAMES));
    for (const name of NAMES) {
      expect(
        reference[name]!.some((v) => v > 0),
        name,
      ).toBe(true);
      reference[name]!.forEach((v, j) => {
        expect(fromProbabilities[name]![j]).toBeCloseTo(v, 6);
        expect(inference[name]![j]).toBeCloseTo(v, 6);
      });
    }
    x.dispose();
    for (const n of [logits, softmaxed, dropped]) n.dispose();
  });
});
