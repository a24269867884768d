import {
  createNetwork,
  type JsonObject,
  type Network,
  type NetworkSpec,
  type Objective,
  type Pruner,
  type PrunerStepContext,
  Rng,
  registries,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  createRelevancePruner,
  lobsterPruner,
  RELEVANCE_DEFAULT_PARAMS,
  relevancePruner,
  sensitivityPruner,
} from '../relevance/index.js';
import { stepContext } from './fixtures.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 3 → 2 → 2: two kernels (6 + 4 entries) and two biases (2 + 2) to rank across. */
const two: NetworkSpec = {
  name: 'two',
  inputShape: [3],
  nodes: [
    { id: 'a', op: 'dense', inputs: ['input'], units: 2 },
    { id: 'r', op: 'activation', inputs: ['a'], fn: 'relu' },
    { id: 'b', op: 'dense', inputs: ['r'], units: 2 },
  ],
  outputs: ['b'],
};

/**
 * Hand-chosen weights, every |w| distinct; ascending |w|: a/bias[0] 0.05, a/kernel[1] 0.1,
 * b/kernel[0] 0.2, a/kernel[4] 0.3, b/kernel[3] 0.4, b/bias[1] 0.5, a/kernel[0] 0.6,
 * a/bias[1] 0.7, b/kernel[2] 0.8, a/kernel[3] 0.9, b/kernel[1] 1.1, a/kernel[2] 1.2,
 * b/bias[0] 1.3, a/kernel[5] 1.4.
 */
const W: Record<string, number[]> = {
  'a/kernel': [0.6, -0.1, 1.2, -0.9, 0.3, 1.4],
  'a/bias': [0.05, -0.7],
  'b/kernel': [-0.2, 1.1, 0.8, -0.4],
  'b/bias': [1.3, -0.5],
};
const KERNELS = ['a/kernel', 'b/kernel'];

function handNet(): Network {
  const net = createNetwork(two, { seed: 0 });
  for (const [name, values] of Object.entries(W)) {
    const v = net.params.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
  }
  return net;
}

/** The 0/1 mask of every parameter (all ones without a mask), by name. */
function masks(net: Network): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, v] of net.params) {
    const m = net.getMask(name);
    out[name] = m ? Array.from(m.dataSync()) : new Array<number>(v.size).fill(1);
  }
  return out;
}

function values(net: Network, name: string): number[] {
  return Array.from(net.params.get(name)!.dataSync());
}

type Evaluate = PrunerStepContext['evaluate'];

/** Runs `afterStep` for the given global steps, collecting log lines. */
async function run(
  p: Pruner,
  net: Network,
  steps: readonly number[],
  perEpoch: number,
  evaluate: Evaluate,
  extra: Partial<PrunerStepContext> = {},
): Promise<JsonObject[]> {
  const lines: JsonObject[] = [];
  for (const step of steps) {
    await p.afterStep!(stepContext(net, step, perEpoch, evaluate, { log: (r) => lines.push(r), ...extra }));
  }
  return lines;
}

const checksOf = (lines: readonly JsonObject[]) => lines.filter((l) => l.event === 'check');
const init = (p: Pruner, net: Network, totalSteps: number, stepsPerEpoch: number) =>
  p.init!({ net, rng: Rng.fromSeed(0), totalSteps, stepsPerEpoch });
const constant =
  (accuracy: number, loss = 1): Evaluate =>
  async () => ({ accuracy, loss });

function caught(f: () => unknown): Record<string, unknown> {
  try {
    f();
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected a throw');
}

async function rejected(p: unknown): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

const paths = (issues: readonly { path: string }[]) => issues.map((i) => i.path);

describe('relevance pruner: config', () => {
  it('accepts every boundary value the schema allows', () => {
    for (const c of [
      { every: 1, fraction: 0.5, floor: 0, maxSparsity: 0.5 },
      { floor: 1 },
      { gamma: { initial: 0, decaySteps: 1, objective: '' } },
      { gamma: { initial: 2 } },
      { evaluateTest: true, keep: { rule: 'bestValidation', minAccuracy: 0.5 }, params: { roles: ['bias'] } },
    ]) {
      expect(relevancePruner.validate({ type: 'relevance', ...c })).toEqual([]);
    }
  });

  it.each([
    [{ every: 0 }, 'every'],
    [{ fraction: 0 }, 'fraction'],
    [{ fraction: 1 }, 'fraction'],
    [{ floor: -0.01 }, 'floor'],
    [{ floor: 1.01 }, 'floor'],
    [{ maxSparsity: 0 }, 'maxSparsity'],
    [{ maxSparsity: 1 }, 'maxSparsity'],
    [{ params: 5 }, 'params'],
    [{ gamma: { initial: -1 } }, 'gamma.initial'],
    [{ gamma: { initial: 1, decaySteps: 0 } }, 'gamma.decaySteps'],
    [{ gamma: { initial: 1, objective: 3 } }, 'gamma.objective'],
    [{ gamma: {} }, 'gamma.initial'],
    [{ evaluateTest: 'yes' }, 'evaluateTest'],
    [{ keep: { rule: 'latest' } }, 'keep.rule'],
    [{ keep: { minAccuracy: 2 } }, 'keep.minAccuracy'],
  ])('rejects %j at %s', (c, path) => {
    expect(paths(relevancePruner.validate({ type: 'relevance', ...c } as JsonObject))).toEqual([path]);
  });

  it('throws a PrunerError INVALID_CONFIG naming the relevance pruner and every issue', () => {
    const e = caught(() => createRelevancePruner({ every: 0, fraction: 1 }));
    expect(e.name).toBe('PrunerError');
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toBe(
      'invalid relevance pruner config:\n  - every: must be an integer ≥ 1, got 0\n  - fraction: must be a number > 0 and < 1, got 1',
    );
    expect(paths(e.issues as { path: string }[])).toEqual(['every', 'fraction']);
  });

  it('keeps its config with the type, is registered, and names its paper', () => {
    const p = createRelevancePruner({ every: 2 });
    expect(p.name).toBe('relevance');
    expect(p.config).toEqual({ type: 'relevance', every: 2 });
    expect(createRelevancePruner().config).toEqual({ type: 'relevance' });
    const viaRegistry = registries().pruners.create({ type: 'relevance', every: 3 }, undefined);
    expect(viaRegistry.name).toBe('relevance');
    expect(viaRegistry.config).toEqual({ type: 'relevance', every: 3 });
    expect(registries().pruners.get('relevance')?.description).toBe(
      'Relevance-based iterative global magnitude pruning gated by a validation floor, γ reset (Bonetta & Cancelliere 2023)',
    );
  });

  it('ranks kernels, biases and normalization scale/shift by default, never the moving statistics', () => {
    expect(RELEVANCE_DEFAULT_PARAMS).toEqual({ roles: ['kernel', 'bias', 'gamma', 'beta'] });
    const net = createNetwork(
      {
        name: 'bn',
        inputShape: [3],
        nodes: [
          { id: 'fc', op: 'dense', inputs: ['input'], units: 2 },
          { id: 'bn', op: 'batchNorm', inputs: ['fc'] },
        ],
        outputs: ['bn'],
      },
      { seed: 0 },
    );
    const p = createRelevancePruner({ every: 1 });
    init(p, net, 2, 2);
    expect(p.targets!()).toEqual(['fc/kernel', 'fc/bias', 'bn/gamma', 'bn/beta']);
    net.dispose();
  });
});

describe('relevance pruner: the cut', () => {
  it('removes round(fraction · remaining) of the smallest |w| across layers, biases included, at every check', async () => {
    const before = tf.memory().numTensors;
    const net = handNet();
    const p = createRelevancePruner({ every: 1, fraction: 0.25, floor: 0 });
    init(p, net, 8, 4);
    expect(p.targets!()).toEqual(['a/kernel', 'a/bias', 'b/kernel', 'b/bias']);
    const lines = await run(p, net, [0], 4, constant(1));
    // 14 live → round(3.5) = 4: 0.05, 0.1, 0.2, 0.3.
    expect(masks(net)).toEqual({
      'a/kernel': [1, 0, 1, 1, 0, 1],
      'a/bias': [0, 1],
      'b/kernel': [0, 1, 1, 1],
      'b/bias': [1, 1],
    });
    lines.push(...(await run(p, net, [1, 2], 4, constant(1))));
    // 10 live → round(2.5) = 3: 0.4, 0.5, 0.6; then 7 live → round(1.75) = 2: 0.7, 0.8.
    expect(masks(net)).toEqual({
      'a/kernel': [0, 0, 1, 1, 0, 1],
      'a/bias': [0, 0],
      'b/kernel': [0, 1, 0, 0],
      'b/bias': [1, 0],
    });
    expect(checksOf(lines).map((c) => [c.step, c.live, c.total, c.pruned])).toEqual([
      [0, 14, 14, 4],
      [1, 10, 14, 3],
      [2, 7, 14, 2],
    ]);
    // The survivors keep their values, the removed are exactly zero (signed, as w · 0).
    expect(values(net, 'a/kernel')).toEqual([0, -0, 1.2, -0.9, 0, 1.4].map(Math.fround));
    expect(p.metrics!()).toMatchObject({ zeros: 9, total: 14, pruneEvents: 3, checks: 3 });
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with params narrowed to kernels, leaves the biases alone', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 1, fraction: 0.25, floor: 0, params: { roles: ['kernel'] } });
    init(p, net, 4, 4);
    expect(p.targets!()).toEqual(KERNELS);
    await run(p, net, [0], 4, constant(1));
    // 10 live kernel entries → round(2.5) = 3: 0.1, 0.2, 0.3 (a/bias[0] = 0.05 is not a target).
    expect(masks(net)).toEqual({
      'a/kernel': [1, 0, 1, 1, 0, 1],
      'a/bias': [1, 1],
      'b/kernel': [0, 1, 1, 1],
      'b/bias': [1, 1],
    });
    expect(net.maskedParams()).toEqual(KERNELS);
    net.dispose();
  });

  it('removes at least one weight when the fraction of the remaining rounds to zero', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 1, fraction: 0.01, floor: 0 });
    init(p, net, 4, 4);
    const lines = await run(p, net, [0, 1], 4, constant(1));
    expect(checksOf(lines).map((c) => c.pruned)).toEqual([1, 1]);
    expect(masks(net)['a/bias']).toEqual([0, 1]);
    expect(masks(net)['a/kernel']).toEqual([1, 0, 1, 1, 1, 1]);
    net.dispose();
  });

  it('never removes more than maxSparsity allows, and stops once it is reached', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 1, fraction: 0.9, floor: 0, maxSparsity: 0.5 });
    init(p, net, 4, 4);
    const lines = await run(p, net, [0, 1], 4, constant(1));
    // round(0.9 · 14) = 13, but only 14 − floor(14 · 0.5) = 7 may go; then 7/14 = 0.5 is reached.
    expect(checksOf(lines).map((c) => [c.live, c.pruned])).toEqual([
      [14, 7],
      [7, 0],
    ]);
    expect(p.metrics!()).toMatchObject({ zeros: 7, pruneEvents: 1 });
    net.dispose();
  });

  it('at sparsity exactly maxSparsity prunes no more (the stop is "at or beyond")', async () => {
    const net = handNet();
    const p = createRelevancePruner({
      every: 1,
      fraction: 0.9,
      floor: 0,
      maxSparsity: 0.9,
      params: { roles: ['kernel'] },
    });
    init(p, net, 4, 4);
    const lines = await run(p, net, [0, 1, 2], 4, constant(1));
    expect(checksOf(lines).map((c) => [c.live, c.pruned])).toEqual([
      [10, 9],
      [1, 0],
      [1, 0],
    ]);
    net.dispose();
  });

  it('uses the defaults: 4% of the remaining, strictly above a 0.98 floor', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 1 });
    init(p, net, 4, 4);
    let accuracy = 0.98;
    const lines = await run(p, net, [0], 4, async () => ({ accuracy, loss: 1 }));
    expect(p.metrics!().zeros).toBe(0);
    accuracy = 0.981;
    lines.push(...(await run(p, net, [1], 4, async () => ({ accuracy, loss: 1 }))));
    // max(1, round(0.04 · 14)) = 1: the smallest |w| of all, a/bias[0].
    expect(checksOf(lines).map((c) => [c.eligible, c.pruned])).toEqual([
      [false, 0],
      [true, 1],
    ]);
    expect(masks(net)['a/bias']).toEqual([0, 1]);
    net.dispose();
  });

  it('checks every 250 batches by default, and refuses an epoch shorter than the cadence with the reason', async () => {
    const net = handNet();
    const p = createRelevancePruner({ floor: 0 });
    init(p, net, 500, 250);
    const checked: number[] = [];
    const steps = Array.from({ length: 500 }, (_, i) => i);
    await run(p, net, steps, 250, async () => {
      checked.push(-1);
      return { accuracy: 1, loss: 1 };
    });
    expect(checked.length).toBe(2);
    expect(p.metrics!()).toMatchObject({ checks: 2, pruneEvents: 2 });

    const e = caught(() => init(createRelevancePruner(), net, 500, 249));
    expect(e.name).toBe('PrunerError');
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toBe(
      'relevance pruner: every = 250 batches, but an epoch has only 249; checks count batches within the epoch, so none would ever run',
    );
    expect(e.issues).toEqual([{ path: 'every', message: 'must be ≤ the 249 batches of an epoch' }]);
    net.dispose();
  });

  it('evaluates the test split only when asked, and logs its figures', async () => {
    const net = handNet();
    const splits: string[] = [];
    const evaluate: Evaluate = async (split) => {
      splits.push(split ?? 'validation');
      return split === 'test' ? { accuracy: 0.25, loss: 3 } : { accuracy: 0.5, loss: 2 };
    };
    const quiet = createRelevancePruner({ every: 1, floor: 0.9 });
    init(quiet, net, 4, 4);
    const a = await run(quiet, net, [0], 4, evaluate);
    expect(splits).toEqual(['validation']);
    expect(checksOf(a)[0]).not.toHaveProperty('testAccuracy');
    splits.length = 0;
    const loud = createRelevancePruner({ every: 1, floor: 0.9, evaluateTest: true });
    init(loud, net, 4, 4);
    const b = await run(loud, net, [0], 4, evaluate);
    expect(splits).toEqual(['validation', 'test']);
    expect(checksOf(b)[0]).toMatchObject({ validationAccuracy: 0.5, testAccuracy: 0.25, testLoss: 3 });
    net.dispose();
  });

  it('re-applies the masks after every step, so a masked weight moved by training is zero again', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 2, fraction: 0.25, floor: 0 });
    init(p, net, 8, 4);
    await run(p, net, [0, 1], 4, constant(1));
    expect(values(net, 'a/bias')[0]).toBe(0);
    const v = net.params.get('a/bias')!;
    tf.tidy(() => v.assign(tf.tensor([5, 6], [2])));
    await run(p, net, [2], 4, constant(1)); // not a check
    expect(values(net, 'a/bias')).toEqual([0, 6]);
    net.dispose();
  });
});

describe('relevance pruner: γ schedule', () => {
  const recorder = (name: string, log: number[]): Objective => ({
    name,
    config: { type: name },
    value: () => tf.scalar(0),
    setParameter: (param, v) => {
      log.push(param === 'gamma' ? v : Number.NaN);
    },
  });

  it('starts from the initial γ (0 without a schedule) and reports it', () => {
    const net = handNet();
    const with_ = createRelevancePruner({ every: 1, gamma: { initial: 0.004 } });
    init(with_, net, 4, 4);
    expect(with_.metrics!().gamma).toBe(0.004);
    expect(with_.state!().json.gamma).toBe(0.004);
    const without = createRelevancePruner({ every: 1 });
    init(without, net, 4, 4);
    expect(without.metrics!().gamma).toBe(0);
    net.dispose();
  });

  it('decays over one epoch by default, clamps at 0 and resets after a cut', async () => {
    const net = handNet();
    const log: number[] = [];
    const p = createRelevancePruner({ every: 4, floor: 0, gamma: { initial: 1 } });
    init(p, net, 8, 4);
    await run(p, net, [0, 1, 2, 3, 4], 4, constant(1), {
      objectives: [recorder('selectiveWeightDecay', log)],
    });
    // Steps 1, 2, 3 are the 2nd–4th of the run: 1 − k/4; the cut after step 3 resets: step 4 is the 1st.
    // Pushed after step 4 for step 5, the 2nd after the reset.
    expect(log).toEqual([0.5, 0.25, 0, 0.75, 0.5]);
    expect(p.metrics!().gamma).toBe(0.5);

    const clamped: number[] = [];
    const q = createRelevancePruner({ every: 4, floor: 0, gamma: { initial: 1, decaySteps: 2 } });
    init(q, net, 8, 4);
    await run(q, net, [0, 1], 4, constant(1), { objectives: [recorder('selectiveWeightDecay', clamped)] });
    expect(clamped).toEqual([0, 0]);
    net.dispose();
  });

  it('drives the objective it names, not another one', async () => {
    const net = handNet();
    const swd: number[] = [];
    const mine: number[] = [];
    const p = createRelevancePruner({ every: 4, gamma: { initial: 1, decaySteps: 4, objective: 'mine' } });
    init(p, net, 8, 4);
    await run(p, net, [0], 4, constant(1), {
      objectives: [recorder('selectiveWeightDecay', swd), recorder('mine', mine)],
    });
    expect(mine).toEqual([0.5]);
    expect(swd).toEqual([]);
    net.dispose();
  });

  it('without a matching objective that accepts parameters, says what the run has', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 4, gamma: { initial: 1 } });
    init(p, net, 8, 4);
    const none = await rejected(p.afterStep!(stepContext(net, 0, 4, constant(1))));
    expect(none.name).toBe('PrunerError');
    expect(none.code).toBe('INVALID_CONFIG');
    expect(none.message).toBe(
      "relevance pruner: gamma schedule needs an objective named 'selectiveWeightDecay' with setParameter; the run has none",
    );
    expect(none.issues).toEqual([
      { path: 'gamma.objective', message: "no objective 'selectiveWeightDecay' that accepts parameters" },
    ]);
    const empty = await rejected(p.afterStep!(stepContext(net, 0, 4, constant(1), { objectives: [] })));
    expect(String(empty.message)).toMatch(/the run has none$/);
    const fixed: Objective = {
      name: 'selectiveWeightDecay',
      config: { type: 'x' },
      value: () => tf.scalar(0),
    };
    const ce: Objective = {
      name: 'crossEntropy',
      config: { type: 'crossEntropy' },
      value: () => tf.scalar(0),
    };
    const two_ = await rejected(
      p.afterStep!(stepContext(net, 0, 4, constant(1), { objectives: [ce, fixed] })),
    );
    expect(two_.code).toBe('INVALID_CONFIG');
    expect(String(two_.message)).toMatch(/the run has 'crossEntropy', 'selectiveWeightDecay'$/);
    net.dispose();
  });
});

describe('relevance pruner: metrics, state and load', () => {
  it('reports nothing before init, the zero state after it, the last accuracy after a check', async () => {
    const net = handNet();
    const p = createRelevancePruner({ every: 2, fraction: 0.25, floor: 0 });
    expect(p.metrics!()).toEqual({});
    init(p, net, 8, 4);
    expect(p.metrics!()).toEqual({ sparsity: 0, zeros: 0, total: 14, gamma: 0, pruneEvents: 0, checks: 0 });
    expect(p.state!().json).toEqual({
      targets: ['a/kernel', 'a/bias', 'b/kernel', 'b/bias'],
      lastReset: 0,
      gamma: 0,
      pruneEvents: 0,
      lastAccuracy: null,
      checks: { records: [], keptIndex: null, restored: false },
    });
    await run(p, net, [0, 1], 4, constant(0.75, 0.5));
    expect(p.metrics!()).toEqual({
      sparsity: 4 / 14,
      zeros: 4,
      total: 14,
      gamma: 0,
      pruneEvents: 1,
      checks: 1,
      validationAccuracy: 0.75,
    });
    expect(p.state!().json).toMatchObject({ lastReset: 2, pruneEvents: 1, lastAccuracy: 0.75 });
    net.dispose();
  });

  it('round-trips its state: γ, the reset step, the prune count, the last accuracy', async () => {
    const net = handNet();
    const make = () =>
      createRelevancePruner({ every: 2, fraction: 0.25, floor: 0, gamma: { initial: 1, decaySteps: 8 } });
    const log: number[] = [];
    const objectives = [
      {
        name: 'selectiveWeightDecay',
        config: { type: 'selectiveWeightDecay' },
        value: () => tf.scalar(0),
        setParameter: (_: string, v: number) => {
          log.push(v);
        },
      },
    ];
    const p = make();
    init(p, net, 8, 4);
    await run(p, net, [0, 1], 4, constant(0.75), { objectives });
    // The cut after step 1 resets: step 2 is the 1st after it → 1 − 1/8.
    expect(log).toEqual([0.75, 0.875]);
    const saved = p.state!();
    expect(saved.json).toMatchObject({ lastReset: 2, gamma: 0.875, pruneEvents: 1, lastAccuracy: 0.75 });

    const q = make();
    init(q, net, 8, 4);
    q.load!(saved);
    expect(q.state!()).toEqual(saved);
    expect(q.metrics!()).toEqual(p.metrics!());
    await run(q, net, [2], 4, constant(0.75), { objectives });
    expect(log.at(-1)).toBe(0.75); // the 2nd step after the loaded reset

    // Without γ or accuracy in the state: the configured initial γ, no accuracy reported.
    const r = make();
    init(r, net, 8, 4);
    const { gamma: _g, lastAccuracy: _a, ...rest } = saved.json;
    r.load!({ json: { ...rest, lastAccuracy: null, targets: ['a/kernel'] }, arrays: {} });
    expect(r.metrics!().gamma).toBe(1);
    expect(r.metrics!()).not.toHaveProperty('validationAccuracy');
    expect(r.targets!()).toEqual(['a/kernel']);
    net.dispose();
  });

  it.each([
    ['targets not a list', { targets: 'a/kernel' }],
    ['no lastReset', { lastReset: undefined }],
    ['no pruneEvents', { pruneEvents: '1' }],
    ['no checks', { checks: undefined }],
    ['checks null', { checks: null }],
    ['checks not an object', { checks: 'none' }],
  ])('refuses a state with %s (STATE_MISMATCH)', (_, change) => {
    const p = createRelevancePruner({ every: 1 });
    const good: JsonObject = {
      targets: ['a/kernel'],
      lastReset: 0,
      pruneEvents: 0,
      checks: { records: [], keptIndex: null, restored: false },
    };
    const json = JSON.parse(JSON.stringify({ ...good, ...change })) as JsonObject;
    const e = caught(() => p.load!({ json, arrays: {} }));
    expect(e.name).toBe('PrunerError');
    expect(e.code).toBe('STATE_MISMATCH');
    expect(e.message).toBe('relevance pruner: state lacks targets/lastReset/pruneEvents/checks');
  });

  it('refuses check records it cannot read, naming the relevance pruner', () => {
    const p = createRelevancePruner({ every: 1 });
    const e = caught(() =>
      p.load!({ json: { targets: [], lastReset: 0, pruneEvents: 0, checks: {} }, arrays: {} }),
    );
    expect(e.code).toBe('STATE_MISMATCH');
    expect(e.message).toBe('relevance pruner: state lacks its check records');
  });
});

describe('schemas of the validation-cut pruners', () => {
  it.each([
    [{ every: 0 }, 'every'],
    [{ patience: 0 }, 'patience'],
    [{ minDelta: -0.001 }, 'minDelta'],
    [{ twt: -0.01 }, 'twt'],
    [{ bisectionSteps: 0 }, 'bisectionSteps'],
    [{ bisectionSteps: 65 }, 'bisectionSteps'],
    [{ maxSparsity: 0 }, 'maxSparsity'],
    [{ maxSparsity: 1 }, 'maxSparsity'],
    [{ params: 'kernel' }, 'params'],
    [{ floor: -0.1 }, 'floor'],
    [{ floor: 1.1 }, 'floor'],
    [{ evaluateTest: 1 }, 'evaluateTest'],
    [{ keep: { rule: 'first' } }, 'keep.rule'],
  ])('lobster rejects %j at %s', (c, path) => {
    expect(paths(lobsterPruner.validate({ type: 'lobster', ...c } as JsonObject))).toEqual([path]);
  });

  it('lobster accepts the boundaries', () => {
    expect(
      lobsterPruner.validate({
        type: 'lobster',
        every: 1,
        patience: 1,
        minDelta: 0,
        twt: 0,
        bisectionSteps: 64,
        maxSparsity: 0.5,
        params: { roles: ['kernel'] },
        floor: 1,
        evaluateTest: false,
        keep: { rule: 'sparsest' },
      }),
    ).toEqual([]);
    expect(lobsterPruner.validate({ type: 'lobster', bisectionSteps: 1, floor: 0 })).toEqual([]);
  });

  it.each([
    [{ every: 0 }, 'every'],
    [{ metric: 'error' }, 'metric'],
    [{ tolerance: -0.01 }, 'tolerance'],
    [{ patience: -1 }, 'patience'],
    [{ minDelta: -1 }, 'minDelta'],
    [{ bisectionSteps: 0 }, 'bisectionSteps'],
    [{ bisectionSteps: 65 }, 'bisectionSteps'],
    [{ maxSparsity: 0 }, 'maxSparsity'],
    [{ maxSparsity: 1 }, 'maxSparsity'],
    [{ params: [] }, 'params'],
    [{ floor: -0.1 }, 'floor'],
    [{ floor: 1.1 }, 'floor'],
    [{ evaluateTest: 'no' }, 'evaluateTest'],
    [{ keep: { minAccuracy: -1 } }, 'keep.minAccuracy'],
  ])('sensitivity rejects %j at %s', (c, path) => {
    expect(paths(sensitivityPruner.validate({ type: 'sensitivity', ...c } as JsonObject))).toEqual([path]);
  });

  it('sensitivity accepts the boundaries; an accuracy tolerance above 1 is refused with the reason', () => {
    expect(
      sensitivityPruner.validate({
        type: 'sensitivity',
        every: 1,
        metric: 'accuracy',
        tolerance: 1,
        patience: 0,
        minDelta: 0,
        bisectionSteps: 64,
        maxSparsity: 0.5,
        floor: 1,
      }),
    ).toEqual([]);
    expect(sensitivityPruner.validate({ type: 'sensitivity', bisectionSteps: 1, floor: 0 })).toEqual([]);
    expect(sensitivityPruner.validate({ type: 'sensitivity', tolerance: 1.5 })).toEqual([
      { path: 'tolerance', message: 'must be ≤ 1 (an accuracy drop), got 1.5' },
    ]);
    expect(sensitivityPruner.validate({ type: 'sensitivity', metric: 'loss', tolerance: 1.5 })).toEqual([]);
    expect(
      paths(sensitivityPruner.validate({ type: 'sensitivity', metric: 'accuracy', tolerance: 1.5 })),
    ).toEqual(['tolerance']);
  });
});
