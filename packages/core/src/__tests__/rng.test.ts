import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isMopruneError, Rng } from '../index.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const c = Rng.fromSeed(43);
    const xs = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xs);
  });

  test.prop([fc.nat(), fc.nat({ max: 50 })], { seed: 1 })(
    'state() then fromState() continues the same stream',
    (seed, skip) => {
      const r = Rng.fromSeed(seed);
      for (let i = 0; i < skip; i++) r.normal();
      const copy = Rng.fromState(r.state());
      expect(Array.from({ length: 5 }, () => copy.next())).toEqual(Array.from({ length: 5 }, () => r.next()));
    },
  );

  test.prop([fc.nat(), fc.integer({ min: 1, max: 200 })], { seed: 2 })(
    'permutation is a permutation',
    (seed, n) => {
      const p = Rng.fromSeed(seed).permutation(n);
      expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    },
  );

  it('int(n) is unbiased to within sampling error and next() lies in [0,1)', () => {
    const r = Rng.fromSeed(7);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    for (let i = 0; i < 1000; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  it('normal() has mean 0 and variance 1 to sampling error', () => {
    const r = Rng.fromSeed(3);
    let s = 0;
    let s2 = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('fork gives independent, reproducible streams without advancing the parent', () => {
    const r = Rng.fromSeed(9);
    const before = r.state();
    const f1 = r.fork('init');
    const f2 = r.fork('shuffle');
    expect(r.state()).toEqual(before);
    expect(f1.nextU32()).not.toEqual(f2.nextU32());
    expect(Rng.fromSeed(9).fork('init').nextU32()).toEqual(Rng.fromSeed(9).fork('init').nextU32());
  });

  it('rejects bad seeds with a typed error', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      try {
        Rng.fromSeed(bad);
        expect.unreachable();
      } catch (e) {
        expect(isMopruneError(e, 'INVALID_ARGUMENT')).toBe(true);
        expect((e as Error).name).toBe('CoreError');
      }
    }
  });
});
