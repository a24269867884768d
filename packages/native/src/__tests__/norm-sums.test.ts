import {
  hasSumOfAbsKernel,
  hasSumOfSquaresKernel,
  SUM_OF_ABS_KERNEL,
  SUM_OF_SQUARES_KERNEL,
  sumOfAbs,
  sumOfSquares,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { nativeIt, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's sumOfSquares (a gradient's squared norm, logged every step): on cpu a square and a
// sum per tensor and an addN, on native one kernel that sums in double.

/** Σ x² (or Σ|x|) of every array in double, in order. */
function reference(arrays: readonly Float32Array[], abs = false): number {
  let total = 0;
  for (const a of arrays) for (const x of a) total += abs ? Math.abs(x) : x * x;
  return total;
}

describe(`sum of squares and sum of absolute values kernels${skipReason}`, () => {
  nativeIt('is registered under the name @moprune/core calls, for native only', () => {
    expect(hasSumOfSquaresKernel('native')).toBe(true);
    expect(hasSumOfSquaresKernel('cpu')).toBe(false);
    expect(hasSumOfAbsKernel('native')).toBe(true);
    expect(hasSumOfAbsKernel('cpu')).toBe(false);
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
        const squares = sumOfSquares(ts);
        const abs = sumOfAbs(ts);
        expect({ n, squares: squares.dataSync()[0], abs: abs.dataSync()[0] }).toEqual({
          n,
          squares: Math.fround(reference([a, b])),
          abs: Math.fround(reference([a, b], true)),
        });
        tf.dispose([...ts, squares, abs]);
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
    'differentiate like the composed ops: 2·x·dy and sign(x)·dy (0 at 0) per input, bit for bit',
    async () => {
      if (!registration.ok) return;
      const grads = async (backend: string) => {
        await tf.setBackend(backend);
        const vs = [
          tf.variable(tf.tensor1d([0, -0, 1.5, -2, 3e-8]), true, `a-${backend}`),
          tf.variable(tf.tensor2d(values(9, 6), [2, 3]), true, `b-${backend}`),
        ];
        const out: number[][] = [];
        const kernels: string[] = [];
        for (const f of [sumOfSquares, sumOfAbs]) {
          const info = await tf.profile(() => {
            const { value, grads: g } = tf.variableGrads(() => tf.mul(f(vs), 0.5) as tf.Scalar, vs);
            out.push([value.dataSync()[0]!], ...vs.map((v) => Array.from(g[v.name]!.dataSync())));
            tf.dispose([value, ...Object.values(g)]);
          });
          kernels.push(...info.kernels.map((k) => k.name));
        }
        tf.dispose(vs);
        return { out, kernels };
      };
      const cpu = await grads('cpu');
      const native = await grads('native');
      expect(native.kernels.filter((k) => k === SUM_OF_SQUARES_KERNEL)).toHaveLength(1);
      expect(native.kernels.filter((k) => k === SUM_OF_ABS_KERNEL)).toHaveLength(1);
      expect(native.kernels).not.toContain('Square');
      // Values within float summation order; gradients exactly (the same elementwise ops on both).
      for (const [i, row] of native.out.entries()) {
        if (i % 3 === 0)
          expect(Math.abs(row[0]! - cpu.out[i]![0]!)).toBeLessThanOrEqual(1e-6 * Math.abs(row[0]!));
        else expect(row).toEqual(cpu.out[i]);
      }
      // d(½Σ|x|)/dx at 0 and −0 is 0, not tfjs abs's −½.
      expect(native.out[4]!.slice(0, 3)).toEqual([0, 0, 0.5]);
    },
  );

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
      for (const f of [sumOfSquares, sumOfAbs]) {
        const empty = f([]);
        expect(empty.dataSync()[0]).toBe(0);
        empty.dispose();
      }
      const ints = tf.tensor1d([1, 2], 'int32');
      const e = thrown(() => sumOfSquares([ints]));
      expect(e).toMatchObject({ name: 'NativeError', code: 'BAD_DTYPE' });
      ints.dispose();
    },
  );
});
