// Tests written against the survivors of `pnpm test:mutation pruners` (issue 17) in
// internal/rows.ts (a conv kernel's input-channel rows, against an index-by-index
// reference) and internal/masks.ts (equal magnitudes are pruned lower array, then
// lower index, first).
import { describe, expect, it } from 'vitest';
import { keepLargest } from '../internal/masks.js';
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
