// Tests written against the survivors of `pnpm test:mutation pruners` (issue 17) in
// internal/rows.ts (a conv kernel's input-channel rows, against an index-by-index
// reference) and internal/masks.ts (equal magnitudes are pruned lower array, then
// lower index, first).
import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { keepLargest, selectNth } from '../internal/masks.js';
import { fromRows, rowLayout, toRows } from '../internal/rows.js';

describe('kernel rows', () => {
  it('groups a conv kernel [kh, kw, in, out] by input channel, entry for entry', () => {
    const shape = [2, 3, 4, 5];
    const [kh, kw, cin, cout] = shape as [number, number, number, number];
    const l = rowLayout(shape);
    expect(l).toEqual({ rows: 4, cols: 30, outer: 6, inner: 5 });
    const values = Float32Array.from({ length: kh * kw * cin * cout }, (_, i) => i + 1);
    const rows = toRows(values, l);
    expect(rows.length).toBe(values.length);
    // Reference: row c holds w[h][x][c][o] for every (h, x, o), in (h, x, o) order.
    for (let c = 0; c < cin; c++) {
      let col = 0;
      for (let h = 0; h < kh; h++)
        for (let x = 0; x < kw; x++)
          for (let o = 0; o < cout; o++) {
            expect(rows[c * l.cols + col]).toBe(values[((h * kw + x) * cin + c) * cout + o]);
            col++;
          }
    }
    expect(Array.from(fromRows(rows, l))).toEqual(Array.from(values));
  });

  it('a dense kernel [in, out] is already its rows', () => {
    const l = rowLayout([3, 2]);
    expect(l).toEqual({ rows: 3, cols: 2, outer: 1, inner: 2 });
    const v = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(toRows(v, l))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(fromRows(v, l))).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('keepLargest ties', () => {
  it('prunes equal magnitudes lower array first, then lower index first', () => {
    const mags = [new Float32Array(9).fill(1), new Float32Array(9).fill(1)];
    const live = [new Float32Array(9).fill(1), new Float32Array(9).fill(1)];
    live[0]![2] = 0; // already pruned: not counted again
    const keep = keepLargest(mags, live, 12);
    expect(Array.from(keep[0]!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(keep[1]!)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1]);
  });
});

/** The definition keepLargest must meet: sort the live (|w|, array, index) triples, prune the first `prune`. */
function keepLargestBySorting(
  magnitudes: readonly Float32Array[],
  live: readonly Float32Array[],
  prune: number,
): Float32Array[] {
  const keep = live.map((l) => Float32Array.from(l));
  const triples: [number, number, number][] = [];
  live.forEach((l, a) => {
    l.forEach((x, i) => {
      if (x !== 0) triples.push([Math.abs(magnitudes[a]![i]!), a, i]);
    });
  });
  triples.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
  for (const [, a, i] of triples.slice(0, Math.max(0, prune))) keep[a]![i] = 0;
  return keep;
}

describe('keepLargest selection', () => {
  it('prunes exactly the entries a sort of (|w|, array, index) puts first, for any magnitudes, masks and count (property)', () => {
    // Magnitudes from a few values, signs mixed, so ties across and within arrays are common.
    const array = fc
      .array(fc.tuple(fc.constantFrom(0, 0.5, -0.5, 1, -1, 2, 1e-3, -3.25), fc.boolean()), { maxLength: 30 })
      .map((xs) => ({
        mags: Float32Array.from(xs.map(([m]) => m)),
        live: Float32Array.from(xs.map(([, l]) => (l ? 1 : 0))),
      }));
    fc.assert(
      fc.property(
        fc.array(array, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -2, max: 130 }),
        (arrays, prune) => {
          const mags = arrays.map((x) => x.mags);
          const live = arrays.map((x) => x.live);
          const got = keepLargest(mags, live, prune).map((k) => Array.from(k));
          expect(got).toEqual(keepLargestBySorting(mags, live, prune).map((k) => Array.from(k)));
          // The inputs are not changed.
          expect(live.map((l) => Array.from(l))).toEqual(arrays.map((x) => Array.from(x.live)));
        },
      ),
      { seed: 20261206, numRuns: 2000 },
    );
  });

  it('prunes NaN magnitudes after every number', () => {
    const mags = [Float32Array.of(Number.NaN, 3, 1), Float32Array.of(2, Number.NaN)];
    const live = [Float32Array.of(1, 1, 1), Float32Array.of(1, 1)];
    expect(keepLargest(mags, live, 3).map((k) => Array.from(k))).toEqual([
      [1, 0, 0],
      [0, 1],
    ]);
    expect(keepLargest(mags, live, 4).map((k) => Array.from(k))).toEqual([
      [0, 0, 0],
      [0, 1],
    ]);
  });
});

describe('selectNth', () => {
  it('is the k-th entry of the sorted numbers, for runs of ties, sorted and reversed input (property)', () => {
    const arrays = fc.oneof(
      fc.array(fc.constantFrom(0, 1, 2, 3), { minLength: 1, maxLength: 200 }),
      fc.array(fc.float({ noNaN: true, noDefaultInfinity: false }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => i)),
      fc.integer({ min: 1, max: 300 }).map((n) => Array.from({ length: n }, (_, i) => n - i)),
    );
    fc.assert(
      fc.property(arrays, fc.nat(), (xs, pick) => {
        const a = Float32Array.from(xs);
        const sorted = Float32Array.from(xs).sort();
        const k = pick % xs.length;
        expect(selectNth(a, a.length, k)).toBe(sorted[k]);
        // A permutation of the input.
        expect(Array.from(a.sort())).toEqual(Array.from(sorted));
      }),
      { seed: 20261206, numRuns: 1000 },
    );
  });

  it('selects among the first `size` entries only', () => {
    expect(selectNth(Float32Array.of(5, 4, 3, -100, -200), 3, 0)).toBe(3);
  });
});
