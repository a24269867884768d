/**
 * The check ledger of the validation-gated pruners (relevance, validation-cut, LOBSTER), pinned
 * directly: which check each keep rule keeps (ties included), what `keep.minAccuracy` adds to the
 * floor, that the kept network is put back once and only after the last step, and that the kept
 * copy survives the pruner's state round trip (weights and masks), refusing a copy whose shapes no
 * longer fit the network.
 */
import { createNetwork, type JsonObject, type Network, type PrunerStepContext } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckLedger, type KeepConfig } from '../internal/checks.js';
import { mlp, stepContext } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const noEvaluate: PrunerStepContext['evaluate'] = async () => {
  throw new Error('the ledger must not evaluate here');
};

function ledger(keep: KeepConfig | undefined, floor = 0.5): CheckLedger {
  return new CheckLedger({ pruner: 'test', floor, evaluateTest: false, keep });
}

/** Records one check per [live, accuracy] at steps 0, 1, …; returns the kept check's step. */
async function keptStepOf(l: CheckLedger, checks: readonly [number, number][]): Promise<number | undefined> {
  const net = createNetwork(mlp, { seed: 1 });
  for (const [i, [live, accuracy]] of checks.entries()) {
    await l.record(stepContext(net, i, 100, noEvaluate), { accuracy, loss: 1 - accuracy }, live, 100);
    l.settle(stepContext(net, i, 100, noEvaluate), 0);
  }
  net.dispose();
  return l.keptCheck()?.step;
}

function values(net: Network, name: string): number[] {
  return Array.from(net.params.get(name)!.dataSync());
}

function setValues(net: Network, name: string, fill: (i: number) => number): void {
  const v = net.params.get(name)!;
  tf.tidy(() =>
    v.assign(
      tf.tensor(
        Array.from({ length: v.size }, (_, i) => fill(i)),
        v.shape,
        'float32',
      ),
    ),
  );
}

function setMask(net: Network, name: string, keep: (i: number) => boolean): void {
  const v = net.params.get(name)!;
  const m = tf.tensor(
    Array.from({ length: v.size }, (_, i) => (keep(i) ? 1 : 0)),
    v.shape,
    'float32',
  );
  net.setMask(name, m);
  m.dispose();
  net.applyMasks();
}

describe('keep rules', () => {
  // step:         0          1          2          3           4          5
  const checks: [number, number][] = [
    [10, 0.9],
    [8, 0.8],
    [8, 0.85],
    [8, 0.82],
    [9, 0.95],
    [6, 0.4], // below the floor: never kept
  ];

  it("'sparsest' (the default): fewest live, ties to the higher accuracy, then to the earlier check", async () => {
    expect(await keptStepOf(ledger({}), checks)).toBe(2);
    expect(await keptStepOf(ledger({ rule: 'sparsest' }), checks)).toBe(2);
    // an equal live count with an equal accuracy keeps the earlier check
    expect(
      await keptStepOf(ledger({}), [
        [8, 0.8],
        [8, 0.8],
      ]),
    ).toBe(0);
  });

  it("'bestValidation': highest accuracy, ties to fewer live, then to the earlier check", async () => {
    expect(await keptStepOf(ledger({ rule: 'bestValidation' }), checks)).toBe(4);
    expect(
      await keptStepOf(ledger({ rule: 'bestValidation' }), [
        [9, 0.9],
        [7, 0.9],
        [8, 0.9],
        [7, 0.9],
      ]),
    ).toBe(1);
    // fewer live weights never outweigh a lower accuracy
    expect(
      await keptStepOf(ledger({ rule: 'bestValidation' }), [
        [9, 0.9],
        [5, 0.8],
      ]),
    ).toBe(0);
  });

  it('without keep nothing is kept; checks below the floor (or at it) are not eligible', async () => {
    expect(await keptStepOf(ledger(undefined), checks)).toBeUndefined();
    const l = ledger({}, 0.8);
    expect(await keptStepOf(l, [[5, 0.8]])).toBeUndefined();
    expect(l.checks()[0]!.eligible).toBe(false);
  });

  it('minAccuracy: a check above the floor but below it is not eligible; one equal to it is', async () => {
    const l = ledger({ minAccuracy: 0.85 });
    expect(
      await keptStepOf(l, [
        [9, 0.86],
        [4, 0.84],
        [5, 0.85],
      ]),
    ).toBe(2);
    expect(l.checks().map((c) => c.eligible)).toEqual([true, false, true]);
    expect(l.metrics()).toEqual({ checks: 3, keptStep: 2, keptLive: 5, keptValidationAccuracy: 0.85 });
  });
});

describe('restoring the kept network', () => {
  /** A net with a mask on fc1/kernel, a ledger that kept its check at step 0, then the net changed. */
  async function keptThenChanged(): Promise<{
    net: Network;
    l: CheckLedger;
    kernel: number[];
    bias: number[];
  }> {
    const net = createNetwork(mlp, { seed: 2 });
    setValues(net, 'fc1/kernel', (i) => i / 10 - 5);
    setValues(net, 'out/bias', (i) => i + 1);
    setMask(net, 'fc1/kernel', (i) => i % 3 !== 0);
    const kernel = values(net, 'fc1/kernel');
    const bias = values(net, 'out/bias');
    const l = ledger({});
    await l.record(stepContext(net, 0, 10, noEvaluate), { accuracy: 0.9, loss: 0.1 }, 66, 100);
    l.settle(stepContext(net, 0, 10, noEvaluate), 5);
    // training goes on: new values, a new mask on another parameter, the old mask lifted
    setValues(net, 'fc1/kernel', () => 7);
    setValues(net, 'out/bias', () => -1);
    net.setMask('fc1/kernel', null);
    setMask(net, 'out/kernel', (i) => i % 2 === 0);
    return { net, l, kernel, bias };
  }

  it('puts back weights and masks after the last step only, once, and says so', async () => {
    const { net, l, kernel, bias } = await keptThenChanged();
    const lines: JsonObject[] = [];
    const log = (line: JsonObject) => void lines.push(line);
    expect(l.restoreIfLast(stepContext(net, 8, 10, noEvaluate, { log }), 10)).toBe(false);
    expect(values(net, 'out/bias')).toEqual(new Array(5).fill(-1));
    expect(l.restoreIfLast(stepContext(net, 9, 10, noEvaluate, { log }), 10)).toBe(true);
    expect(values(net, 'fc1/kernel')).toEqual(kernel);
    expect(values(net, 'out/bias')).toEqual(bias);
    expect(Array.from(net.getMask('fc1/kernel')!.dataSync())).toEqual(
      kernel.map((_, i) => (i % 3 !== 0 ? 1 : 0)),
    );
    expect(net.getMask('out/kernel')).toBeUndefined();
    expect(lines).toEqual([{ event: 'restore', keptStep: 0, live: 66, validationAccuracy: 0.9 }]);
    // once: a second call (a resumed last step) changes nothing
    setValues(net, 'out/bias', () => 3);
    expect(l.restoreIfLast(stepContext(net, 9, 10, noEvaluate, { log }), 10)).toBe(false);
    expect(values(net, 'out/bias')).toEqual(new Array(5).fill(3));
    expect(lines).toHaveLength(1);
    net.dispose();
  });

  it("keeps the network as evaluated (the context's withEvaluatedValues, e.g. the run's averages) and says when it writes it back (valuesWritten)", async () => {
    const net = createNetwork(mlp, { seed: 2 });
    setValues(net, 'out/bias', () => 1); // the trained values
    // The run's evaluated values (with `averaging`, its averages) are 2s; the trained ones return after.
    const withEvaluatedValues: PrunerStepContext['withEvaluatedValues'] = async (fn) => {
      const trained = values(net, 'out/bias');
      setValues(net, 'out/bias', () => 2);
      try {
        return await fn();
      } finally {
        setValues(net, 'out/bias', (i) => trained[i]!);
      }
    };
    let written = 0;
    const valuesWritten = () => {
      written += 1;
    };
    const l = ledger({});
    const ctx = (step: number) =>
      stepContext(net, step, 10, noEvaluate, { withEvaluatedValues, valuesWritten });
    await l.record(ctx(0), { accuracy: 0.9, loss: 0.1 }, 66, 100);
    l.settle(ctx(0), 0);
    expect(values(net, 'out/bias')).toEqual(new Array(5).fill(1));
    setValues(net, 'out/bias', () => 3);
    expect(l.restoreIfLast(ctx(8), 10)).toBe(false);
    expect(written).toBe(0);
    expect(l.restoreIfLast(ctx(9), 10)).toBe(true);
    expect(values(net, 'out/bias')).toEqual(new Array(5).fill(2));
    expect(written).toBe(1);
    net.dispose();
  });

  it('the kept copy and the restored flag survive state() → load() into a fresh ledger', async () => {
    const { net, l, kernel, bias } = await keptThenChanged();
    const state = l.state();
    expect(Object.keys(state.arrays).sort()).toEqual([
      'kept/mask/fc1/kernel',
      'kept/param/fc1/bias',
      'kept/param/fc1/kernel',
      'kept/param/out/bias',
      'kept/param/out/kernel',
    ]);
    const fresh = ledger({});
    fresh.load(state);
    expect(fresh.keptCheck()).toEqual(l.keptCheck());
    expect(fresh.restoreIfLast(stepContext(net, 9, 10, noEvaluate), 10)).toBe(true);
    expect(values(net, 'fc1/kernel')).toEqual(kernel);
    expect(values(net, 'out/bias')).toEqual(bias);
    expect(net.getMask('out/kernel')).toBeUndefined();
    expect(Array.from(net.getMask('fc1/kernel')!.dataSync()).filter((m) => m === 0)).toHaveLength(34);

    // restored: true is kept too — a ledger loaded after the restore does not restore again
    const after = ledger({});
    after.load(fresh.state());
    setValues(net, 'out/bias', () => 3);
    expect(after.restoreIfLast(stepContext(net, 9, 10, noEvaluate), 10)).toBe(false);
    expect(values(net, 'out/bias')).toEqual(new Array(5).fill(3));
    net.dispose();
  });

  it('a kept copy whose parameter no longer fits the network is refused with STATE_MISMATCH', async () => {
    const { net, l } = await keptThenChanged();
    const state = l.state();
    const fresh = ledger({});
    fresh.load({
      ...state,
      arrays: { ...state.arrays, 'kept/param/out/bias': { shape: [4], data: new Float32Array(4) } },
    });
    expect(() => fresh.restoreIfLast(stepContext(net, 9, 10, noEvaluate), 10)).toThrow(
      expect.objectContaining({ name: 'PrunerError', code: 'STATE_MISMATCH' }),
    );
    net.dispose();
  });
});
