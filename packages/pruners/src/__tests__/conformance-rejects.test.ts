import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMagnitudePruner } from '../index.js';
import { checkPrunerConformance } from '../testing/index.js';
import { neverPrunes, revivesMasked } from './fixtures/broken-pruners.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the pruner conformance suite rejects broken pruners', () => {
  it('a pruner that never prunes', async () => {
    await expect(
      checkPrunerConformance({ name: 'never', create: () => neverPrunes(), config: {}, registered: false }),
    ).rejects.toThrow(/prunes nothing in 12 steps/);
    // …unless its author says that this config rightly prunes nothing.
    await checkPrunerConformance({
      name: 'never',
      create: () => neverPrunes(),
      config: {},
      registered: false,
      prunes: false,
    });
  });

  it('a pruner that brings back weights it pruned without declaring regrowth', async () => {
    await expect(
      checkPrunerConformance({
        name: 'reviver',
        create: () => revivesMasked(),
        config: {},
        registered: false,
      }),
    ).rejects.toThrow(/was pruned and came back/);
  });

  it("a pruner whose reported sparsity or state does not match what it did (the suite's own checks, no vitest expect)", async () => {
    const config = {
      type: 'magnitude',
      scope: 'global',
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, frequency: 3 },
    };
    const liar = () => {
      const p = createMagnitudePruner(config as never);
      return { ...p, init: p.init.bind(p), afterStep: p.afterStep.bind(p), metrics: () => ({ sparsity: 0 }) };
    };
    await expect(
      checkPrunerConformance({ name: 'liar', create: liar, config, registered: false }),
    ).rejects.toThrow(/reported sparsity 0 equals the counted zeros/);
    // A state that changes every time it is read: state → load → state cannot round-trip.
    let reads = 0;
    const forgetful = () => {
      const p = createMagnitudePruner(config as never);
      const state = () => {
        const st = p.state();
        return { ...st, json: { ...st.json, reads: reads++ } };
      };
      return { ...p, init: p.init.bind(p), afterStep: p.afterStep.bind(p), load: p.load.bind(p), state };
    };
    await expect(
      checkPrunerConformance({ name: 'forgetful', create: forgetful, config, registered: false }),
    ).rejects.toThrow(/state json round-trips/);
  });

  it('and accepts a real one', async () => {
    const config = {
      type: 'magnitude',
      scope: 'global',
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, frequency: 3 },
    };
    await checkPrunerConformance({
      name: 'magnitude',
      create: (c) => createMagnitudePruner(c as never),
      config,
    });
  });
});
