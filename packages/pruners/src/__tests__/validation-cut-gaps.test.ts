/**
 * The validation-guarded global cut shared by LOBSTER and the sensitivity pruner, pinned exactly:
 * the bisection's probe count and result, the loss budget's scale, the maxSparsity cap, the cut's
 * threshold over live weights only, that a check with no acceptable cut counts no cut, when checks
 * run within the epoch, and the config and state errors.
 */
import { createNetwork, type JsonObject, type Network, type PrunerStepContext, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCutState } from '../internal/global-cut.js';
import {
  type CutBudget,
  createValidationCutPruner,
  largestAcceptableCut,
  type ValidationCutSettings,
} from '../internal/validation-cut.js';
import { createLobsterPruner, createRelevancePruner, createSensitivityPruner } from '../relevance/index.js';
import { mlp, stepContext } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const KERNELS = ['fc1/kernel', 'out/kernel']; // 100 + 50 entries

/** A net whose kernel entries have distinct magnitudes 1, 2, …, 150 (fc1 first), signs alternating. */
function rankedNet(): Network {
  const net = createNetwork(mlp, { seed: 3 });
  let k = 0;
  for (const name of KERNELS) {
    const v = net.params.get(name)!;
    const data = Array.from({ length: v.size }, () => {
      k++;
      return k % 2 === 0 ? k : -k;
    });
    tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
  }
  return net;
}

/** Masked (zero-mask) entries over the kernels. */
function masked(net: Network): number {
  let z = 0;
  for (const name of KERNELS) {
    const m = net.getMask(name);
    if (m) z += Array.from(m.dataSync()).filter((x) => x === 0).length;
  }
  return z;
}

function snapshot(net: Network): number[][] {
  return KERNELS.flatMap((name) => [
    Array.from(net.params.get(name)!.dataSync()),
    // no mask and an all-ones mask are the same network
    Array.from(net.getMask(name)?.dataSync() ?? new Float32Array(net.params.get(name)!.size).fill(1)),
  ]);
}

function settings(over: Partial<ValidationCutSettings> = {}): ValidationCutSettings {
  return {
    name: 'cut',
    config: { type: 'cut' },
    every: 1,
    patience: 0,
    minDelta: 0,
    budget: { metric: 'loss', tolerance: 0.125 },
    bisectionSteps: 20,
    maxSparsity: 1,
    selector: { roles: ['kernel'] },
    floor: 0,
    evaluateTest: false,
    keep: undefined,
    ...over,
  };
}

/** Validation figures that worsen with every masked kernel entry: loss 2 + masked/64 (exact in binary). */
function lossPerMasked(net: Network, perEntry = 1 / 64): PrunerStepContext['evaluate'] {
  return async () => ({ loss: 2 + perEntry * masked(net), accuracy: 0.9 });
}

function init(p: ReturnType<typeof createValidationCutPruner>, net: Network, stepsPerEpoch = 4): void {
  p.init?.({ net, rng: Rng.fromSeed(0), totalSteps: 100, stepsPerEpoch });
}

describe('largestAcceptableCut: the bisection', () => {
  async function bisect(maxPrune: number, steps: number, accept: (cut: number) => boolean) {
    const net = rankedNet();
    const state = await readCutState(net, KERNELS);
    const before = snapshot(net);
    const probes: number[] = [];
    const cut = await largestAcceptableCut(net, state, maxPrune, steps, async () => {
      probes.push(masked(net));
      return accept(masked(net));
    });
    expect(snapshot(net)).toEqual(before); // every probe restored exactly
    net.dispose();
    return { cut, probes };
  }

  it('stops after `steps` probes: 100 candidates, 3 steps, all acceptable → 50, 75, 88', async () => {
    expect(await bisect(100, 3, () => true)).toEqual({ cut: 88, probes: [50, 75, 88] });
  });

  it('stops as soon as the interval closes, before the step budget', async () => {
    expect(await bisect(3, 10, () => true)).toEqual({ cut: 3, probes: [2, 3] });
    expect(await bisect(100, 20, (c) => c <= 37)).toEqual({
      cut: 37,
      probes: [50, 25, 37, 43, 40, 38],
    });
  });

  it('a negative or zero room probes nothing and cuts nothing', async () => {
    expect(await bisect(-5, 10, () => true)).toEqual({ cut: 0, probes: [] });
    expect(await bisect(0, 10, () => true)).toEqual({ cut: 0, probes: [] });
  });
});

describe('the validation-cut pruner', () => {
  async function firstCheck(over: Partial<ValidationCutSettings>, setup?: (net: Network) => void) {
    const net = rankedNet();
    setup?.(net);
    const p = createValidationCutPruner(settings(over));
    init(p, net);
    await p.afterStep?.(stepContext(net, 0, 4, lossPerMasked(net)));
    return { net, p, metrics: p.metrics?.() };
  }

  it('the loss budget scales the pre-cut loss: 2 + k/64 ≤ 1.125·2 cuts k = 16', async () => {
    const { net, metrics } = await firstCheck({});
    expect(masked(net)).toBe(16);
    expect(metrics).toMatchObject({ cuts: 1, threshold: 16, zeros: 16, total: 150 });
    net.dispose();
  });

  it('an accuracy budget: accuracy ≥ current − tolerance', async () => {
    const net = rankedNet();
    const budget: CutBudget = { metric: 'accuracy', tolerance: 5 / 256 };
    const p = createValidationCutPruner(settings({ budget }));
    init(p, net);
    await p.afterStep?.(stepContext(net, 0, 4, async () => ({ loss: 1, accuracy: 0.5 - masked(net) / 256 })));
    expect(masked(net)).toBe(5);
    net.dispose();
  });

  it('maxSparsity caps the cut: at most total − ⌊total·(1 − maxSparsity)⌋ live entries go', async () => {
    const { net, metrics } = await firstCheck({ maxSparsity: 0.1 });
    expect(masked(net)).toBe(15); // 150 − ⌊150·0.9⌋; the budget alone would allow 16
    expect(metrics).toMatchObject({ cuts: 1, threshold: 15 });
    net.dispose();
  });

  it('the threshold is the largest |w| cut among the live entries only (masked zeros not counted)', async () => {
    // the 30 smallest entries (|w| 1…30) already masked: the cut takes |w| 31…49
    const { net, metrics } = await firstCheck({}, (n) => {
      const m = tf.tensor(
        Array.from({ length: 100 }, (_, i) => (i < 30 ? 0 : 1)),
        [10, 10],
        'float32',
      );
      n.setMask('fc1/kernel', m);
      m.dispose();
      n.applyMasks();
    });
    // loss 2 + 30/64 before the cut: 2 + (30 + k)/64 ≤ 1.125·(2 + 30/64) → k = 19
    expect(masked(net)).toBe(49);
    expect(metrics).toMatchObject({ cuts: 1, threshold: 49 });
    net.dispose();
  });

  it('a check that finds no acceptable cut counts no cut and leaves the threshold at 0', async () => {
    const net = rankedNet();
    const p = createValidationCutPruner(settings());
    init(p, net);
    await p.afterStep?.(stepContext(net, 0, 4, lossPerMasked(net, 1)));
    expect(masked(net)).toBe(0);
    expect(p.metrics?.()).toMatchObject({ cuts: 0, threshold: 0, checks: 1 });
    net.dispose();
  });

  it('checks run after batches every, 2·every, … of each epoch (every = 3 of 6: batches 2 and 5)', async () => {
    const net = rankedNet();
    const p = createValidationCutPruner(settings({ every: 3 }));
    init(p, net, 6);
    const checked: number[] = [];
    for (let step = 0; step < 12; step++) {
      await p.afterStep?.(
        stepContext(net, step, 6, lossPerMasked(net, 1), {
          log: (line) => {
            if (line.event === 'check') checked.push(step);
          },
        }),
      );
    }
    expect(checked).toEqual([2, 5, 8, 11]);
    net.dispose();
  });

  it('every > the batches of an epoch is refused at init (INVALID_CONFIG, path every)', () => {
    const net = rankedNet();
    const p = createValidationCutPruner(settings({ every: 5 }));
    expect(() => init(p, net, 4)).toThrow(
      expect.objectContaining({
        name: 'PrunerError',
        code: 'INVALID_CONFIG',
        issues: [{ path: 'every', message: 'must be ≤ the 4 batches of an epoch' }],
      }),
    );
    expect(() => init(createValidationCutPruner(settings({ every: 4 })), net, 4)).not.toThrow();
    net.dispose();
  });

  it('state: no targets before init; load refuses a state without its fields', async () => {
    expect(createValidationCutPruner(settings()).state?.().json.targets).toEqual([]);
    const { net, p } = await firstCheck({});
    const good = p.state!();
    const fresh = createValidationCutPruner(settings());
    fresh.load?.(good);
    expect(fresh.state!().json).toEqual(good.json);
    for (const broken of [
      { targets: 'fc1/kernel' },
      { wait: '0' },
      { cuts: null },
      { checks: undefined },
      { checks: null },
      { checks: 'none' },
    ]) {
      expect(
        () => fresh.load?.({ json: { ...good.json, ...broken } as unknown as JsonObject, arrays: {} }),
        JSON.stringify(broken),
      ).toThrow(expect.objectContaining({ name: 'PrunerError', code: 'STATE_MISMATCH' }));
    }
    net.dispose();
  });
});

describe('the pruners built on the cut', () => {
  it('LOBSTER and sensitivity: their names, validation only unless evaluateTest is set, config errors naming them', async () => {
    const net = rankedNet();
    const builders = {
      lobster: (o: { evaluateTest?: boolean }) =>
        createLobsterPruner({ every: 1, patience: 1, bisectionSteps: 1, ...o }),
      sensitivity: (o: { evaluateTest?: boolean }) =>
        createSensitivityPruner({ every: 1, patience: 1, bisectionSteps: 1, ...o }),
    };
    for (const [name, build] of Object.entries(builders)) {
      const splits: string[] = [];
      const evaluate: PrunerStepContext['evaluate'] = async (split) => {
        splits.push(split ?? 'validation');
        return { loss: 2, accuracy: 0.9 };
      };
      const p = build({});
      expect(p.name).toBe(name);
      init(p, net);
      await p.afterStep?.(stepContext(net, 0, 4, evaluate));
      expect(new Set(splits), name).toEqual(new Set(['validation']));
      const withTest = build({ evaluateTest: true });
      init(withTest, net);
      await withTest.afterStep?.(stepContext(net, 1, 4, evaluate));
      expect(splits, name).toContain('test');
    }
    expect(() => createLobsterPruner({ twt: -1 })).toThrow(/^invalid lobster pruner config:\n {2}- twt: /);
    expect(() => createSensitivityPruner({ tolerance: -1 })).toThrow(
      /^invalid sensitivity pruner config:\n {2}- tolerance: /,
    );
    net.dispose();
  });

  it('relevance: no targets in its state before init', () => {
    expect(createRelevancePruner().state?.().json.targets).toEqual([]);
  });

  it('a selector that matches no parameter is refused at init, naming the pruner (INVALID_CONFIG, path params)', () => {
    const net = rankedNet();
    for (const [name, p] of [
      ['relevance', createRelevancePruner({ every: 1, params: { names: ['nothing/here'] } })],
      ['lobster', createLobsterPruner({ params: { names: ['nothing/here'] } })],
    ] as const) {
      expect(() => init(p, net)).toThrow(
        expect.objectContaining({
          name: 'PrunerError',
          code: 'INVALID_CONFIG',
          message: `${name} pruner: the selector {"names":["nothing/here"]} matches no parameter`,
          issues: [{ path: 'params', message: 'matches no parameter of the network' }],
        }),
      );
    }
    net.dispose();
  });
});
