/**
 * The small helpers the solvers are built from, pinned exactly: the growing batch schedule's defaults,
 * boundaries and messages, how `throwIfIssues` picks the code and words the message, the shared
 * config schemas (Frank–Wolfe options, weights on the simplex), and the tensor helpers' memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CodedIssue, throwIfIssues } from '../errors.js';
import { growingBatchSchedule } from '../index.js';
import { frankWolfeSchema, simplexSchema } from '../internal/config.js';
import { assignScalar, variableFrom } from '../internal/tensors.js';
import { thrown } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('growing batch schedule', () => {
  it('defaults: geometric with factor 1.5 per epoch, no cap', () => {
    const schedule = growingBatchSchedule({ initial: 4 });
    // 4, 6, 9, 13.5, 20.25, 30.375, rounded down.
    expect([0, 1, 2, 3, 4, 5].map(schedule)).toEqual([4, 6, 9, 13, 20, 30]);
    // No cap: 4·1.5^40 ≈ 4.4e7.
    expect(schedule(40)).toBe(Math.floor(4 * 1.5 ** 40));
    expect(growingBatchSchedule({ initial: 1, factor: 2 })(60)).toBe(2 ** 60);
  });

  it('linear mode without an increment stays at the initial size', () => {
    const schedule = growingBatchSchedule({ initial: 9, mode: 'linear' });
    expect([0, 1, 5, 1000].map(schedule)).toEqual([9, 9, 9, 9]);
    const growing = growingBatchSchedule({ initial: 3, mode: 'linear', increment: 2, every: 3, max: 8 });
    expect([0, 2, 3, 5, 6, 9, 100].map(growing)).toEqual([3, 3, 5, 5, 7, 8, 8]);
  });

  it('negative epochs count as epoch 0', () => {
    expect(growingBatchSchedule({ initial: 8, factor: 2 })(-3)).toBe(8);
    expect(growingBatchSchedule({ initial: 8, mode: 'linear', increment: 4 })(-2)).toBe(8);
  });

  it('rounds down, but not a size that is an integer up to rounding', () => {
    // 25·1.4² = 49 exactly, 48.99999999999999 in floating point.
    expect(25 * 1.4 ** 2).toBeLessThan(49);
    expect(growingBatchSchedule({ initial: 25, factor: 1.4 })(2)).toBe(49);
    // 10·1.15 = 11.5 → 11.
    expect(growingBatchSchedule({ initial: 10, factor: 1.15 })(1)).toBe(11);
  });

  it('accepts every boundary value', () => {
    const edge = growingBatchSchedule({ initial: 1, factor: 1, increment: 0, every: 1, max: 1 });
    expect([0, 7].map(edge)).toEqual([1, 1]);
    expect(growingBatchSchedule({ initial: 5, max: 5 })(3)).toBe(5);
    expect(growingBatchSchedule({ initial: 2, mode: 'linear', increment: 0 })(4)).toBe(2);
  });

  it('refuses each bad option with its path and message, all at once', () => {
    const issues = (options: Parameters<typeof growingBatchSchedule>[0]) => {
      const e = thrown(() => growingBatchSchedule(options));
      expect(e.name).toBe('SolverError');
      expect(e.code).toBe('INVALID_CONFIG');
      return e.issues;
    };
    expect(issues({ initial: 0 })).toEqual([{ path: 'initial', message: 'must be an integer ≥ 1, got 0' }]);
    expect(issues({ initial: 2.5 })).toEqual([
      { path: 'initial', message: 'must be an integer ≥ 1, got 2.5' },
    ]);
    expect(issues({ initial: 4, mode: 'cubic' as never })).toEqual([
      { path: 'mode', message: "must be 'geometric' or 'linear', got cubic" },
    ]);
    for (const factor of [0.5, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(issues({ initial: 4, factor })).toEqual([
        { path: 'factor', message: `must be a finite number ≥ 1, got ${factor}` },
      ]);
    }
    for (const increment of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(issues({ initial: 4, mode: 'linear', increment })).toEqual([
        { path: 'increment', message: `must be a finite number ≥ 0, got ${increment}` },
      ]);
    }
    for (const every of [0, 1.5]) {
      expect(issues({ initial: 4, every })).toEqual([
        { path: 'every', message: `must be an integer ≥ 1, got ${every}` },
      ]);
    }
    expect(issues({ initial: 8, max: 7 })).toEqual([
      { path: 'max', message: 'must be ≥ initial (8), got 7' },
    ]);
    expect(issues({ initial: 8, max: Number.NaN })).toEqual([
      { path: 'max', message: 'must be ≥ initial (8), got NaN' },
    ]);
    const all = thrown(() =>
      growingBatchSchedule({ initial: 0, mode: 'x' as never, factor: 0, increment: -1, every: 0, max: -1 }),
    );
    expect(all.issues.map((i) => i.path)).toEqual(['initial', 'mode', 'factor', 'increment', 'every', 'max']);
    expect(all.message).toBe(
      [
        'invalid growing batch schedule:',
        '  - initial: must be an integer ≥ 1, got 0',
        "  - mode: must be 'geometric' or 'linear', got x",
        '  - factor: must be a finite number ≥ 1, got 0',
        '  - increment: must be a finite number ≥ 0, got -1',
        '  - every: must be an integer ≥ 1, got 0',
        '  - max: must be ≥ initial (0), got -1',
      ].join('\n'),
    );
  });
});

describe('throwIfIssues', () => {
  it('returns when there are no issues', () => {
    expect(throwIfIssues('thing', [])).toBeUndefined();
  });

  it('lists every issue, (root) for an empty path, and keeps only path and message', () => {
    const e = thrown(() =>
      throwIfIssues('thing', [
        { path: '', message: 'is wrong' },
        { path: 'a.b', message: 'is bad' },
      ]),
    );
    expect(e.name).toBe('SolverError');
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toBe('invalid thing:\n  - (root): is wrong\n  - a.b: is bad');
    expect(e.issues).toEqual([
      { path: '', message: 'is wrong' },
      { path: 'a.b', message: 'is bad' },
    ]);
  });

  it('uses the issues’ code when they share one, else INVALID_CONFIG', () => {
    const off: CodedIssue = { path: 'w', message: 'off', code: 'WEIGHTS_OFF_SIMPLEX' };
    const plain: CodedIssue = { path: 'x', message: 'plain' };
    const empty: CodedIssue = { path: 'w', message: 'empty', code: 'EMPTY_OBJECTIVES' };
    const code = (issues: CodedIssue[]) => thrown(() => throwIfIssues('t', issues)).code;
    expect(code([off])).toBe('WEIGHTS_OFF_SIMPLEX');
    expect(code([off, { ...off, path: 'v' }])).toBe('WEIGHTS_OFF_SIMPLEX');
    expect(code([off, plain])).toBe('INVALID_CONFIG');
    expect(code([plain, off])).toBe('INVALID_CONFIG');
    expect(code([off, empty])).toBe('INVALID_CONFIG');
    expect(code([plain])).toBe('INVALID_CONFIG');
    // The code does not leak into the listed issues.
    expect(thrown(() => throwIfIssues('t', [off])).issues).toEqual([{ path: 'w', message: 'off' }]);
  });
});

describe('shared config schemas', () => {
  it('Frank–Wolfe options: an integer cap ≥ 1 and a tolerance ≥ 0, both optional', () => {
    expect(frankWolfeSchema.issues({})).toEqual([]);
    expect(frankWolfeSchema.issues({ maxIterations: 1, tolerance: 0 })).toEqual([]);
    expect(frankWolfeSchema.issues({ maxIterations: 0 }).map((i) => i.path)).toEqual(['maxIterations']);
    expect(frankWolfeSchema.issues({ maxIterations: 2.5 }).map((i) => i.path)).toEqual(['maxIterations']);
    expect(frankWolfeSchema.issues({ tolerance: -1e-12 }).map((i) => i.path)).toEqual(['tolerance']);
  });

  it('weights on the simplex: the codes, paths and messages of each problem', () => {
    expect(simplexSchema.issues([1])).toEqual([]);
    expect(simplexSchema.issues([0, 1])).toEqual([]);
    expect(simplexSchema.issues([0.25, 0.25, 0.5], 'w')).toEqual([]);
    // Within 1e-6 of 1.
    expect(simplexSchema.issues([0.5, 0.5000009])).toEqual([]);
    expect(simplexSchema.issues([], 'preference')).toEqual([
      {
        path: 'preference',
        message: 'needs one weight per objective, got an empty list',
        code: 'EMPTY_OBJECTIVES',
      },
    ]);
    // The first negative weight, even at index 0.
    expect(simplexSchema.issues([-0.5, 1.5, -1], 'weights')).toEqual([
      {
        path: 'weights[0]',
        message: 'weights must be ≥ 0 (on the simplex), got -0.5',
        code: 'WEIGHTS_OFF_SIMPLEX',
      },
    ]);
    expect(simplexSchema.issues([0.5, 0.75, -0.25], 'weights')).toEqual([
      {
        path: 'weights[2]',
        message: 'weights must be ≥ 0 (on the simplex), got -0.25',
        code: 'WEIGHTS_OFF_SIMPLEX',
      },
    ]);
    expect(simplexSchema.issues([0.5, 0.75], 'weights')).toEqual([
      {
        path: 'weights',
        message: 'weights must sum to 1 (on the simplex), got 1.25',
        code: 'WEIGHTS_OFF_SIMPLEX',
      },
    ]);
    expect(simplexSchema.issues([0.25, 0.5], 'weights')).toEqual([
      {
        path: 'weights',
        message: 'weights must sum to 1 (on the simplex), got 0.75',
        code: 'WEIGHTS_OFF_SIMPLEX',
      },
    ]);
    // Just outside: 1 + 2^−18 ≈ 1 + 3.8e−6.
    expect(simplexSchema.issues([0.5, 0.5 + 2 ** -18]).map((i) => i.message)).toEqual([
      `weights must sum to 1 (on the simplex), got ${1 + 2 ** -18}`,
    ]);
    expect(simplexSchema.issues([0.5, 0.5 - 2 ** -18]).length).toBe(1);
    expect(simplexSchema.description).toBe('weights on the simplex (≥ 0, summing to 1), one per objective');
  });
});

describe('tensor helpers', () => {
  it('variableFrom keeps the values, disposes the initial tensor, and is not trainable by default', () => {
    const before = tf.memory().numTensors;
    const v = variableFrom(tf.tensor1d([1, 2, 3]));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3]);
    expect(v.trainable).toBe(false);
    const t = variableFrom(tf.scalar(4), true);
    expect(t.trainable).toBe(true);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([v, t]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('assignScalar sets the value without leaking', () => {
    const v = variableFrom(tf.scalar(1), true);
    const before = tf.memory().numTensors;
    assignScalar(v, 2.5);
    expect(v.dataSync()[0]).toBe(2.5);
    assignScalar(v, -3);
    expect(v.dataSync()[0]).toBe(-3);
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});
