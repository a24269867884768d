import { createNetwork, isMopruneError, type Network, Rng, registries } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { createLobsterPruner, createSensitivityPruner, sensitivityPruner } from '../index.js';
import { describePrunerConformance } from '../testing/index.js';
import { mlp, stepContext, zerosOf } from './fixtures.js';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function absValues(net: Network, names: readonly string[]): number[] {
  return names.flatMap((n) => Array.from(net.params.get(n)!.dataSync()).map(Math.abs));
}

describe('sensitivity pruner (Tartaglione et al. 2018)', () => {
  it('raises the global threshold T as far as validation accuracy holds, at every check', async () => {
    const net = createNetwork(mlp, { seed: 4 });
    const p = createSensitivityPruner({ every: 2, bisectionSteps: 20 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 5 });
    const targets = p.targets!();
    expect(targets).toEqual(['fc1/kernel', 'out/kernel']);
    const sorted = absValues(net, targets).sort((a, b) => a - b);
    // Accuracy holds at 0.9 until more than 30 weights are zero, then drops.
    const evaluate = async () => ({ accuracy: zerosOf(net, targets) <= 30 ? 0.9 : 0.8, loss: 1 });
    const ctx = (step: number) => stepContext(net, step, 5, evaluate);
    await p.afterStep(ctx(0)); // not a check
    expect(zerosOf(net, targets)).toBe(0);
    await p.afterStep(ctx(1)); // check: no plateau wait by default
    expect(zerosOf(net, targets)).toBe(30);
    // T is the 30th smallest |w|: everything below is pruned, everything above survives.
    const t = p.metrics!().threshold!;
    expect(t).toBeCloseTo(sorted[29]!, 6);
    for (const v of absValues(net, targets)) expect(v === 0 || v >= t).toBe(true);
    expect(p.metrics!()).toMatchObject({ cuts: 1, zeros: 30, total: 150 });
    expect(p.metrics!().sparsity).toBeCloseTo(30 / 150, 12);
    // The next check: the budget is measured from the current accuracy (0.9 still), so nothing more goes.
    await p.afterStep(ctx(3));
    expect(zerosOf(net, targets)).toBe(30);
    net.dispose();
  });

  it('tolerance allows a bounded accuracy drop; a loss budget is LOBSTER’s twt', async () => {
    const net = createNetwork(mlp, { seed: 5 });
    const targets = ['fc1/kernel', 'out/kernel'];
    // Accuracy falls 0.001 per zeroed weight from 0.95.
    const evaluate = async () => {
      const z = zerosOf(net, targets);
      return { accuracy: 0.95 - z / 1000, loss: 1 + z / 100 };
    };
    const p = createSensitivityPruner({ every: 1, tolerance: 0.0125, bisectionSteps: 20 });
    p.init({ net, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 1 });
    await p.afterStep(stepContext(net, 0, 1, evaluate));
    expect(zerosOf(net, targets)).toBe(12); // 0.95 − 12/1000 ≥ 0.95 − 0.0125 > 0.95 − 13/1000
    net.dispose();

    // metric 'loss', tolerance = twt, patience as LOBSTER's → the same cut as the lobster pruner.
    const cutsOf = async (make: () => ReturnType<typeof createSensitivityPruner>) => {
      const n = createNetwork(mlp, { seed: 6 });
      const pr = make();
      pr.init({ net: n, rng: Rng.fromSeed(0), totalSteps: 10, stepsPerEpoch: 1 });
      const ev = async () => ({ accuracy: 1, loss: 1 + zerosOf(n, targets) / 100 });
      for (let step = 0; step < 3; step++) {
        await pr.afterStep(stepContext(n, step, 1, ev));
      }
      const out = Array.from(n.params.get('fc1/kernel')!.dataSync());
      n.dispose();
      return out;
    };
    const viaSensitivity = await cutsOf(() =>
      createSensitivityPruner({ every: 1, patience: 1, metric: 'loss', tolerance: 0.1, bisectionSteps: 20 }),
    );
    const viaLobster = await cutsOf(() =>
      createLobsterPruner({ every: 1, patience: 1, twt: 0.1, bisectionSteps: 20 }),
    );
    expect(viaSensitivity.filter((v) => v === 0).length).toBeGreaterThan(0);
    expect(viaSensitivity).toEqual(viaLobster);
  });

  it('rejects bad configs with a typed PrunerError naming every field', () => {
    try {
      createSensitivityPruner({
        every: 0,
        metric: 'error' as 'loss',
        tolerance: -0.1,
        patience: -1,
        maxSparsity: 1,
      });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect((e as { name: string }).name).toBe('PrunerError');
      const paths = (e as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
      expect(paths).toEqual(['every', 'maxSparsity', 'metric', 'patience', 'tolerance']);
    }
    expect(sensitivityPruner.validate({ type: 'sensitivity', tolerance: 2 }).map((i) => i.path)).toEqual([
      'tolerance',
    ]);
    expect(sensitivityPruner.validate({ type: 'sensitivity', metric: 'loss', tolerance: 2 })).toEqual([]);
    expect(sensitivityPruner.validate({ type: 'sensitivity', typo: 1 }).map((i) => i.path)).toEqual(['typo']);
  });

  it('is registered under its own type, described by the paper it implements', () => {
    expect(registries().pruners.get('sensitivity')?.description).toMatch(/Tartaglione et al\. 2018/);
    const p = registries().pruners.create({ type: 'sensitivity', tolerance: 0.001 }, undefined);
    expect(p.name).toBe('sensitivity');
  });
});

describePrunerConformance({
  name: 'sensitivity',
  create: (c) => createSensitivityPruner(c),
  config: { type: 'sensitivity', every: 3, bisectionSteps: 6, maxSparsity: 0.9 },
  evaluate: (net) => {
    // Accuracy that falls once a fifth of the kernels are zero, so the bisection has a real boundary.
    let zeros = 0;
    let total = 0;
    for (const [name, v] of net.params) {
      if (!name.endsWith('/kernel')) continue;
      const d = v.dataSync();
      total += d.length;
      for (const x of d) if (x === 0) zeros++;
    }
    return { accuracy: zeros / total <= 0.2 ? 0.9 : 0.5, loss: 1 };
  },
  describe,
  it,
});
