import { hasSumOfSquaresKernel, SUM_OF_SQUARES_KERNEL, sumOfSquares } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { nativeIt, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's sumOfSquares (a gradient's squared norm, logged every step): on cpu a square and a
// sum per tensor and an addN, on native one kernel that sums in double.

/** Σ x² of every array in double, in order. */
function reference(arrays: readonly Float32Array[]): number {
  let total = 0;
  for (const a of arrays) for (const x of a) total += x * x;
  return total;
}

describe(`sum of squares kernel${skipReason}`, () => {
  nativeIt('is registered under the name @moprune/core calls, for native only', () => {
    expect(hasSumOfSquaresKernel('native')).toBe(true);
    expect(hasSumOfSquaresKernel('cpu')).toBe(false);
  });

  nativeIt(
    'sums in double: the float of the exact sum, at every length of the 16-lane loop and its tail',
    async () => {
      if (!registration.ok) return;
      await tf.setBackend('native');
      const before = tf.memory().numTensors;
      for (let n = 1; n <= 70; n++) {
        // Values that cancel badly in float: 1e4 beside 1e-4, so a float accumulator loses the small ones.
        const a = values(n, n).map((x, i) => (i % 5 === 0 ? x * 1e4 : x * 1e-4));
        const b = values(n + 100, 3);
        const ts = [tf.tensor1d(a), tf.tensor2d(b, [1, 3])];
        const out = sumOfSquares(ts);
        const got = out.dataSync()[0]!;
        const exact = reference([a, b]);
        expect({ n, got }).toEqual({ n, got: Math.fround(exact) });
        tf.dispose([...ts, out]);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  nativeIt('agrees with the composed ops on cpu across many tensors, in one kernel call', async () => {
    if (!registration.ok) return;
    const shapes = [[784, 300], [300], [300, 100], [100], [100, 10], [10], [0, 4]];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const ts = shapes.map((s, i) =>
        tf.tensor(
          values(
            i + 1,
            s.reduce((x, y) => x * y, 1),
          ),
          s,
        ),
      );
      const info = await tf.profile(() => {
        const r = sumOfSquares(ts);
        const v = r.dataSync()[0]!;
        r.dispose();
        return tf.scalar(v);
      });
      const v = (info.result as tf.Tensor).dataSync()[0]!;
      tf.dispose([...ts, info.result as tf.Tensor]);
      return { v, kernels: info.kernels.map((k) => k.name) };
    };
    const cpu = await run('cpu');
    const native = await run('native');
    expect(native.kernels.filter((k) => k === SUM_OF_SQUARES_KERNEL)).toHaveLength(1);
    expect(native.kernels).not.toContain('Square');
    expect(cpu.kernels).toContain('Square');
    expect(Math.abs(native.v - cpu.v) / cpu.v).toBeLessThanOrEqual(1e-5);
  });

  nativeIt(
    'gives NaN or +∞ for a NaN or infinite entry, 0 for an empty list, and refuses int32',
    async () => {
      if (!registration.ok) return;
      await tf.setBackend('native');
      const cases: [number, (v: number) => boolean][] = [
        [Number.NaN, Number.isNaN],
        [Number.NEGATIVE_INFINITY, (v) => v === Number.POSITIVE_INFINITY],
      ];
      for (const [bad, check] of cases) {
        const t = tf.tensor1d([1, bad, 2]);
        const r = sumOfSquares([t]);
        expect(check(r.dataSync()[0]!)).toBe(true);
        tf.dispose([t, r]);
      }
      const empty = sumOfSquares([]);
      expect(empty.dataSync()[0]).toBe(0);
      empty.dispose();
      const ints = tf.tensor1d([1, 2], 'int32');
      const e = thrown(() => sumOfSquares([ints]));
      expect(e).toMatchObject({ name: 'NativeError', code: 'BAD_DTYPE' });
      ints.dispose();
    },
  );
});
