import { ADAM_UPDATE_KERNEL, hasAdamUpdateKernel } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { maxRelDiff, nativeIt, optimizerRun, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's Adam: on cpu eleven composed elementwise ops per variable, on native this package's
// one-pass kernel. Over several steps the two must give the same variables and moments, up to the
// float32 rounding of the composed ops' intermediates.

/** Six Adam updates of two variables (random gradients from `seed`): values and moments, flat. */
const adamOn = (backend: string, placement: 'raw' | 'corrected', seed: number) =>
  optimizerRun(
    backend,
    { type: 'adam', lr: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-3, epsilonPlacement: placement },
    [[37, 5], [5]],
    seed,
    6,
  );

describe(`Adam update kernel${skipReason}`, () => {
  nativeIt('is registered under the name @moprune/core calls, for native only', () => {
    expect(tf.getKernel(ADAM_UPDATE_KERNEL, 'native')).toBeDefined();
    expect(hasAdamUpdateKernel('native')).toBe(true);
    expect(hasAdamUpdateKernel('cpu')).toBe(false);
  });

  for (const placement of ['raw', 'corrected'] as const) {
    nativeIt(
      `matches the composed update over six steps (ε ${placement}), in one kernel per variable`,
      async () => {
        if (!registration.ok) return;
        for (const seed of [1, 2, 3]) {
          const cpu = await adamOn('cpu', placement, seed);
          const native = await adamOn('native', placement, seed);
          expect(cpu.kernels).not.toContain(ADAM_UPDATE_KERNEL);
          expect(native.kernels.filter((k) => k === ADAM_UPDATE_KERNEL)).toHaveLength(2);
          // Only the update kernels and the assignments' bookkeeping run: no elementwise chain.
          expect(native.kernels).not.toContain('Sqrt');
          // Moments within float rounding; values: the change each side made, within 1e-5 of that change
          // plus 2 ulp of the value (w − step rounds to the value's float grid).
          const size = 37 * 5 + 5;
          expect(maxRelDiff(cpu.out.subarray(size), native.out.subarray(size))).toBeLessThanOrEqual(1e-6);
          const start = [...values(seed, 37 * 5), ...values(seed + 1, 5)];
          for (let i = 0; i < size; i++) {
            const [a, b, w] = [cpu.out[i]!, native.out[i]!, start[i]!];
            expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.abs(a - w) + 2 ** -22 * Math.abs(a));
          }
        }
      },
    );
  }

  // The kernel's loop is compiled for several vector widths (AVX-512, AVX2, baseline) and split over
  // the pool; every width and split must give each element exactly the scalar float formula (the
  // build keeps multiply-adds unfused). The reference rounds to float after every operation.
  nativeIt('gives every element the scalar float formula bit for bit, at every size and split', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const f = Math.fround;
    const [beta1, beta2, epsilon, lr, t] = [0.9, 0.999, 1e-7, 0.001, 7];
    for (const corrected of [false, true]) {
      // 1–67 cover every tail of 4-, 8- and 16-lane loops; 65,537 and 266,610 run on the pool's threads.
      for (const n of [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 67, 65_537, 266_610]) {
        const [w, g, m] = [values(n, n), values(n + 1, n), values(n + 2, n)];
        const v = values(n + 3, n).map((x) => x * x);
        const ts = [w, g, m, v].map((a) => tf.tensor1d(a));
        const out = tf
          .engine()
          .runKernel(
            ADAM_UPDATE_KERNEL,
            { value: ts[0]!, grad: ts[1]!, m: ts[2]!, v: ts[3]! } as unknown as tf.NamedTensorMap,
            { beta1, beta2, epsilon, lr, t, corrected },
          ) as unknown as tf.Tensor[];
        const [w1, m1, v1] = out.map((o) => o.dataSync());
        const [b1, b2, eps] = [f(beta1), f(beta2), f(epsilon)];
        const [a1, a2] = [f(1 - b1), f(1 - b2)];
        const [bc1d, bc2d] = [1 - beta1 ** t, 1 - beta2 ** t];
        const [bc1, bc2] = [f(bc1d), f(bc2d)];
        const scale = f(corrected ? lr : (lr * Math.sqrt(bc2d)) / bc1d);
        let bad = 0;
        for (let i = 0; i < n; i++) {
          const mi = f(f(m[i]! * b1) + f(g[i]! * a1));
          const vi = f(f(v[i]! * b2) + f(f(g[i]! * g[i]!) * a2));
          const step = corrected
            ? f(f(f(mi / bc1) / f(f(Math.sqrt(f(vi / bc2))) + eps)) * scale)
            : f(f(mi / f(f(Math.sqrt(vi)) + eps)) * scale);
          const wi = f(w[i]! - step);
          if (m1![i] !== mi || v1![i] !== vi || w1![i] !== wi) bad += 1;
        }
        expect({ n, corrected, bad }).toEqual({ n, corrected, bad: 0 });
        tf.dispose([...ts, ...out]);
      }
    }
  });

  nativeIt('refuses tensors of different shapes with a typed error, and leaks nothing', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const [a, b] = [tf.zeros([3]), tf.zeros([4])];
    const e = thrown(() =>
      tf
        .engine()
        .runKernel(ADAM_UPDATE_KERNEL, { value: a, grad: b, m: a, v: a } as unknown as tf.NamedTensorMap, {
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-7,
          lr: 0.1,
          t: 1,
          corrected: false,
        }),
    );
    expect(e.code).toBe('BAD_SHAPE');
    expect(e.message).toContain('same shape');
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
