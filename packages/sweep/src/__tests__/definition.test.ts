import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  expandTrials,
  preferenceGrid,
  type SweepDefinition,
  sweepDefinitionSchema,
  validateSweepDefinition,
} from '../index.js';

const base = { model: { type: 'mlp', hidden: [4] }, training: { epochs: 1, batchSize: 4, seed: 0 } };

describe('validateSweepDefinition', () => {
  it('lists every problem at once, each with its path', () => {
    const issues = validateSweepDefinition({
      id: 'no spaces',
      base,
      grid: {
        'model.hidden': [],
        'not a path!': [1],
        'solver.weights': { simplex: { dimensions: 1, divisions: 0, x: 1 } },
      },
      seeds: [1, -2, 1.5],
      threads: 0,
      modules: [3],
      surprise: true,
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'grid.model.hidden',
        'grid.not a path!',
        'grid.solver.weights.simplex.dimensions',
        'grid.solver.weights.simplex.divisions',
        'grid.solver.weights.simplex.x',
        'id',
        'modules[0]',
        'seeds[1]',
        'seeds[2]',
        'surprise',
        'threads',
      ].sort(),
    );
  });

  it('needs trials or a base with grid/seeds, not both', () => {
    expect(validateSweepDefinition({ id: 's' })).toEqual([
      { path: '', message: 'a sweep needs trials, or a base config with grid and/or seeds' },
    ]);
    expect(validateSweepDefinition({ id: 's', seeds: [1] }).map((i) => i.path)).toEqual(['base']);
    expect(
      validateSweepDefinition({ id: 's', base, seeds: [1], trials: [{ config: base }] }).map((i) => i.path),
    ).toEqual(['trials']);
    expect(
      validateSweepDefinition({ id: 's', trials: [{ set: { 'training.seed': 1 } }, { id: 'a b' }] }).map(
        (i) => i.path,
      ),
    ).toEqual(['trials[0].set', 'trials[1].id', 'trials[1]']);
  });
});

describe('sweepDefinitionSchema', () => {
  it("declares a sweep's fields in core's schema vocabulary, each trial's too", () => {
    expect(Object.keys(sweepDefinitionSchema.fields).sort()).toEqual(
      ['base', 'description', 'grid', 'id', 'modules', 'runner', 'seeds', 'threads', 'trials'].sort(),
    );
    expect(
      validateSweepDefinition({
        id: 's',
        base: [],
        trials: [
          { config: base, set: {}, threads: 1.5, runner: '' },
          { id: 'ok', config: 3 },
        ],
      }).map((i) => i.path),
    ).toEqual(['base', 'trials[0].runner', 'trials[0].threads', 'trials[0]', 'trials[1].config']);
    expect(
      validateSweepDefinition({
        id: 's',
        base,
        grid: { 'training.seed': { simplex: { dimensions: 3, divisions: 2, first: [0, 1.5] } }, x: 'a' },
      }).map((i) => i.path),
    ).toEqual(['grid.training.seed.simplex.first[1]', 'grid.x']);
  });
});

describe('expandTrials', () => {
  it('grid × seeds: seeds vary slowest, ids name the values, labels hold them', () => {
    const def: SweepDefinition = {
      id: 's',
      base,
      seeds: [1, 2],
      grid: { 'model.hidden': [[4], [8]], 'training.lr': [0.1, 0.01] },
    };
    const { trials, issues } = expandTrials(def);
    expect(issues).toEqual([]);
    expect(trials.map((t) => t.id)).toEqual([
      '0-seed=1-hidden=4-lr=0.1',
      '1-seed=1-hidden=4-lr=0.01',
      '2-seed=1-hidden=8-lr=0.1',
      '3-seed=1-hidden=8-lr=0.01',
      '4-seed=2-hidden=4-lr=0.1',
      '5-seed=2-hidden=4-lr=0.01',
      '6-seed=2-hidden=8-lr=0.1',
      '7-seed=2-hidden=8-lr=0.01',
    ]);
    expect(trials[6]!.config).toEqual({
      model: { type: 'mlp', hidden: [8] },
      training: { epochs: 1, batchSize: 4, seed: 2, lr: 0.1 },
    });
    expect(trials[6]!.labels).toEqual({ 'training.seed': 2, 'model.hidden': [8], 'training.lr': 0.1 });
    // The base is not modified.
    expect(base.training.seed).toBe(0);
  });

  it('explicit trials: whole configs or set on the base; paths that do not fit and duplicate ids are reported', () => {
    const ok = expandTrials({
      id: 's',
      base,
      trials: [
        { set: { 'training.seed': 7, 'model.hidden[0]': 16 } },
        { id: 'x', config: { a: 1 }, threads: 2 },
      ],
    });
    expect(ok.issues).toEqual([]);
    expect(ok.trials.map((t) => [t.id, t.config, t.threads])).toEqual([
      [
        '0',
        { model: { type: 'mlp', hidden: [16] }, training: { epochs: 1, batchSize: 4, seed: 7 } },
        undefined,
      ],
      ['x', { a: 1 }, 2],
    ]);
    const bad = expandTrials({
      id: 's',
      base,
      trials: [
        { id: 'a', set: { 'model.hidden[3]': 1 } },
        { id: 'b', config: base },
        { id: 'b', config: base },
      ],
    });
    expect(bad.issues.map((i) => i.path)).toEqual(['trials[0].set', 'trials[b]']);
  });

  it('preference vectors as a grid axis', () => {
    const { trials } = expandTrials({
      id: 's',
      base,
      grid: { 'solver.weights': { simplex: { dimensions: 2, divisions: 2 } } },
    });
    expect(trials.map((t) => (t.config.solver as { weights: number[] }).weights)).toEqual([
      [1, 0],
      [0.5, 0.5],
      [0, 1],
    ]);
  });
});

describe('preferenceGrid', () => {
  it("Hotegni et al.'s fronts: 19 vectors per k0, five k0 values", () => {
    const g = preferenceGrid({ dimensions: 3, divisions: 18, first: [0, 1e-4, 1e-3, 1e-2, 0.1] });
    expect(g).toHaveLength(95);
    expect(g[19]).toEqual([1e-4, 1 - 1e-4, 0]);
    expect(g.filter((v) => v[0] === 0.1).every((v) => Math.abs(v[1]! + v[2]! - 0.9) < 1e-12)).toBe(true);
  });

  test.prop([fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 8 })], { seed: 19, numRuns: 40 })(
    'the lattice: C(n+m−1, m−1) distinct vectors on the simplex',
    (m, n) => {
      const g = preferenceGrid({ dimensions: m, divisions: n });
      const binom = (a: number, b: number): number => (b === 0 ? 1 : (binom(a - 1, b - 1) * a) / b);
      expect(g).toHaveLength(Math.round(binom(n + m - 1, m - 1)));
      for (const v of g) {
        expect(v).toHaveLength(m);
        expect(v.every((x) => x >= 0)).toBe(true);
        expect(Math.abs(v.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
      }
      expect(new Set(g.map((v) => v.join(','))).size).toBe(g.length);
    },
  );

  it('rejects bad options', () => {
    expect(() => preferenceGrid({ dimensions: 1, divisions: 3 })).toThrow(/dimensions ≥ 2/);
    expect(() => preferenceGrid({ dimensions: 3, divisions: 3, first: [1.5] })).toThrow(/\[0, 1\]/);
  });
});
