import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { axisWeights, composeCifar10Mnist, composeMultiMnist, resizeGray } from '../index.js';

const weightsOf = (w: ReturnType<typeof axisWeights>, o: number) =>
  Array.from(w.weights.subarray(o * w.taps, o * w.taps + w.count[o]!));
const square = (v: number) => new Uint8Array(784).fill(v);
const at = (img: Uint8Array, y: number, x: number, w = 28) => img[y * w + x]!;

describe('antialiased bilinear resize', () => {
  it('has the hand-computed weights for 36 → 28 and 28 → 32', () => {
    // 36 → 28: s = 9/7, output 0 centred at 1/7; triangle of radius 9/7 gives 8/9 and 1/3 → 8/11, 3/11.
    const down = axisWeights(36, 28);
    expect(down.first[0]).toBe(0);
    const w0 = weightsOf(down, 0);
    expect(w0).toHaveLength(2);
    expect(w0[0]).toBeCloseTo(8 / 11, 12);
    expect(w0[1]).toBeCloseTo(3 / 11, 12);
    // 28 → 32: plain bilinear; output 1 is centred at 0.8125 → weights 0.1875, 0.8125.
    const up = axisWeights(28, 32);
    expect(weightsOf(up, 0)).toEqual([1]);
    expect(up.first[1]).toBe(0);
    const w1 = weightsOf(up, 1);
    expect(w1[0]).toBeCloseTo(0.1875, 12);
    expect(w1[1]).toBeCloseTo(0.8125, 12);
  });

  test.prop(
    [fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 255 })],
    {
      seed: 77,
      numRuns: 80,
    },
  )('weights sum to one, so a constant image stays constant', (inSize, outSize, v) => {
    const w = axisWeights(inSize, outSize);
    for (let o = 0; o < outSize; o++) {
      expect(weightsOf(w, o).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    const out = resizeGray(new Uint8Array(inSize * inSize).fill(v), inSize, inSize, outSize, outSize);
    expect(out.every((p) => p === v)).toBe(true);
  });
});

describe('MultiMNIST composition (36×36 canvas, right digit at (6, 6), max, resize to 28×28)', () => {
  it('puts a left digit in the top-left 21×21 and nothing past row/column 21', () => {
    // Output o reads canvas pixels within 9/7 of (o + .5)·9/7 − .5: all inside 0…27 for o ≤ 20, none for o ≥ 22.
    const out = composeMultiMnist(square(255), square(0));
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = at(out, y, x);
        if (y <= 20 && x <= 20) expect(v).toBe(255);
        else if (y >= 22 || x >= 22) expect(v).toBe(0);
        else expect(v > 0 && v < 255).toBe(true);
      }
    }
  });

  it('puts a right digit in rows/columns 5…25, nothing in 0…3 or 27', () => {
    const out = composeMultiMnist(square(0), square(255));
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = at(out, y, x);
        if (y <= 3 || x <= 3 || y === 27 || x === 27) expect(v).toBe(0);
        else if (y >= 5 && y <= 25 && x >= 5 && x <= 25) expect(v).toBe(255);
        else expect(v > 0 && v < 255).toBe(true);
      }
    }
  });

  it('takes the pixel-wise maximum where the digits overlap', () => {
    const out = composeMultiMnist(square(100), square(200));
    expect(at(out, 0, 0)).toBe(100);
    expect(at(out, 10, 0)).toBe(100);
    expect(at(out, 10, 10)).toBe(200);
    expect(at(out, 20, 20)).toBe(200);
    const swapped = composeMultiMnist(square(200), square(100));
    expect(at(swapped, 10, 10)).toBe(200);
    expect(at(swapped, 25, 25)).toBe(100);
  });

  it('keeps a vertical bar on the left and a horizontal bar on the right apart', () => {
    const bar = new Uint8Array(784);
    const hbar = new Uint8Array(784);
    for (let y = 4; y < 24; y++) {
      bar[y * 28 + 10] = 255;
      bar[y * 28 + 11] = 255;
      hbar[14 * 28 + y] = 255;
      hbar[15 * 28 + y] = 255;
    }
    const out = composeMultiMnist(bar, hbar);
    // The left bar is canvas columns 10–11 (centre 10.5) → output column (10.5 + .5)·7/9 − .5 ≈ 8.06.
    // The right bar is canvas rows 20–21 (centre 20.5) → output row (20.5 + .5)·7/9 − .5 ≈ 15.83.
    const colMass = new Array<number>(28).fill(0);
    const rowMass = new Array<number>(28).fill(0);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        if (y < 12) colMass[x]! += at(out, y, x);
        if (x > 12) rowMass[y]! += at(out, y, x);
      }
    }
    const centroid = (m: number[]) => m.reduce((s, v, i) => s + v * i, 0) / m.reduce((s, v) => s + v, 0);
    expect(centroid(colMass)).toBeCloseTo(8.06, 1);
    expect(centroid(rowMass)).toBeCloseTo(15.83, 1);
  });
});

describe('Cifar10Mnist composition (digit resized to 32×32, non-zero pixels blended at 50%)', () => {
  it('leaves the CIFAR image unchanged where the digit is 0 and blends where it is not', () => {
    const cifar = new Uint8Array(3072).fill(100);
    for (let p = 0; p < 1024; p++) cifar[3 * p + 2] = 7;
    expect(composeCifar10Mnist(cifar, square(0))).toEqual(cifar);
    const top = new Uint8Array(784);
    top.fill(255, 0, 14 * 28);
    const out = composeCifar10Mnist(cifar, top);
    // Output row o reads digit rows within 1 of (o + .5)·7/8 − .5: all in 0…13 for o ≤ 14, none for o ≥ 17.
    for (let y = 0; y < 32; y++) {
      const px = 3 * (y * 32 + 16);
      if (y <= 14) expect([out[px], out[px + 1], out[px + 2]]).toEqual([178, 178, 131]);
      if (y >= 17) expect([out[px], out[px + 1], out[px + 2]]).toEqual([100, 100, 7]);
      // Row 15 reads 0.9375 of digit row 13 (d = 239), row 16 reads 0.0625 of it (d = 16): a faint digit
      // pixel is still non-zero and so is blended, darkening the CIFAR pixel.
      if (y === 15) expect([out[px], out[px + 1], out[px + 2]]).toEqual([170, 170, 123]);
      if (y === 16) expect([out[px], out[px + 1], out[px + 2]]).toEqual([58, 58, 12]);
    }
  });
});
