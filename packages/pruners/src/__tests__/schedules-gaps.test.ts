import { describe, expect, it } from 'vitest';
import { magnitudePruner, type SparsitySchedule, scheduleAt } from '../index.js';

/** The steps in [from, to] at which `schedule` prunes. */
function pruneSteps(schedule: SparsitySchedule, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t++) if (scheduleAt(schedule, t).prune) out.push(t);
  return out;
}

/** The issues (path: message) the magnitude pruner's config check reports for `schedule`. */
function issues(schedule: unknown): string[] {
  return magnitudePruner.validate({ type: 'magnitude', schedule }).map((i) => `${i.path}: ${i.message}`);
}

describe('sparsity schedules: the steps that prune (TF-MOT semantics)', () => {
  it('constant sparsity prunes from beginStep through endStep every frequency steps, counted from beginStep', () => {
    const s: SparsitySchedule = {
      type: 'constantSparsity',
      targetSparsity: 0.5,
      beginStep: 3,
      endStep: 11,
      frequency: 4,
    };
    // 3, 7, 11: not 2 (before), not 15 (after the end), not 4 or 8 (off the beat counted from 0).
    expect(pruneSteps(s, 0, 20)).toEqual([3, 7, 11]);
    expect(scheduleAt(s, 2)).toEqual({ prune: false, sparsity: 0 });
    expect(scheduleAt(s, 3)).toEqual({ prune: true, sparsity: 0.5 });
    // After the end: no pruning, the target still holds.
    expect(scheduleAt(s, 15)).toEqual({ prune: false, sparsity: 0.5 });
  });

  it('constant sparsity defaults: from step 0, no end, every 100 steps', () => {
    const s: SparsitySchedule = { type: 'constantSparsity', targetSparsity: 0.25 };
    expect(pruneSteps(s, 0, 350)).toEqual([0, 100, 200, 300]);
    expect(scheduleAt(s, 10_000)).toEqual({ prune: true, sparsity: 0.25 });
  });

  it('constant sparsity with endStep = beginStep prunes exactly once', () => {
    const s: SparsitySchedule = {
      type: 'constantSparsity',
      targetSparsity: 0.5,
      beginStep: 5,
      endStep: 5,
      frequency: 1,
    };
    expect(pruneSteps(s, 0, 10)).toEqual([5]);
  });

  it('polynomial decay prunes on the beat from beginStep, at the end step (pruneAtEnd), never outside', () => {
    const s: SparsitySchedule = {
      type: 'polynomialDecay',
      initialSparsity: 0.1,
      finalSparsity: 0.9,
      beginStep: 2,
      endStep: 12,
      frequency: 4,
    };
    expect(pruneSteps(s, 0, 30)).toEqual([2, 6, 10, 12]);
    expect(pruneSteps({ ...s, pruneAtEnd: false }, 0, 30)).toEqual([2, 6, 10]);
  });

  it('polynomial decay: s(t) = final + (initial − final)(1 − p)^power, 0 before beginStep, final after endStep', () => {
    const s: SparsitySchedule = {
      type: 'polynomialDecay',
      initialSparsity: 0.2,
      finalSparsity: 0.8,
      beginStep: 10,
      endStep: 20,
      frequency: 1,
    };
    expect(scheduleAt(s, 9).sparsity).toBe(0);
    expect(scheduleAt(s, 10).sparsity).toBeCloseTo(0.2, 12);
    // p = 0.3, power 3 (the default): 0.8 − 0.6·0.7³
    expect(scheduleAt(s, 13).sparsity).toBeCloseTo(0.8 - 0.6 * 0.343, 12);
    expect(scheduleAt(s, 20).sparsity).toBeCloseTo(0.8, 12);
    expect(scheduleAt(s, 40)).toEqual({ prune: false, sparsity: 0.8 });
    // power 1: linear; p = 0.5
    expect(scheduleAt({ ...s, power: 1 }, 15).sparsity).toBeCloseTo(0.5, 12);
  });

  it('polynomial decay defaults to every 100 steps', () => {
    const s: SparsitySchedule = {
      type: 'polynomialDecay',
      initialSparsity: 0,
      finalSparsity: 0.5,
      beginStep: 50,
      endStep: 450,
    };
    expect(pruneSteps(s, 0, 500)).toEqual([50, 150, 250, 350, 450]);
    expect(pruneSteps({ ...s, endStep: 420 }, 0, 500)).toEqual([50, 150, 250, 350, 420]);
  });
});

describe('sparsity schedules: config checks', () => {
  const poly = {
    type: 'polynomialDecay',
    initialSparsity: 0.1,
    finalSparsity: 0.5,
    beginStep: 10,
    endStep: 20,
  };

  it('accepts a valid polynomial decay and an equal initial and final sparsity', () => {
    expect(issues(poly)).toEqual([]);
    expect(issues({ ...poly, finalSparsity: 0.1 })).toEqual([]);
    expect(issues({ ...poly, endStep: 11 })).toEqual([]);
  });

  it('refuses an end step that is not after the begin step, naming both', () => {
    expect(issues({ ...poly, endStep: 10 })).toEqual([
      'schedule.endStep: must be after beginStep (10), got 10',
    ]);
    expect(issues({ ...poly, endStep: 4 })).toEqual([
      'schedule.endStep: must be after beginStep (10), got 4',
    ]);
  });

  it('refuses a final sparsity below the initial one', () => {
    expect(issues({ ...poly, finalSparsity: 0.05 })).toEqual([
      'schedule.finalSparsity: must be ≥ initialSparsity (sparsity only grows)',
    ]);
  });

  it('constant sparsity: an end step before the begin step is refused; −1, equal, or no begin step are not', () => {
    const c = { type: 'constantSparsity', targetSparsity: 0.5 };
    expect(issues({ ...c, beginStep: 10, endStep: 9 })).toEqual([
      'schedule.endStep: must not precede beginStep',
    ]);
    expect(issues({ ...c, endStep: 0 })).toEqual([]);
    expect(issues({ ...c, beginStep: 10, endStep: 10 })).toEqual([]);
    expect(issues({ ...c, beginStep: 10, endStep: -1 })).toEqual([]);
    expect(issues({ ...c, beginStep: 10 })).toEqual([]);
  });
});
