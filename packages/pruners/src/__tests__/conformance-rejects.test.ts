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
