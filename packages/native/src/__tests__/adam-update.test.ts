import { ADAM_UPDATE_KERNEL, createOptimizer, hasAdamUpdateKernel } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { maxRelDiff, nativeIt, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's Adam: on cpu eleven composed elementwise ops per variable, on native this package's
// one-pass kernel. Over several steps the two must give the same variables and moments, up to the
// float32 rounding of the composed ops' intermediates.

/** Runs `steps` Adam updates on two variables (random gradients from `seed`); returns values and moments, flat. */
async function adamOn(
  backend: string,
  placement: 'raw' | 'corrected',
  seed: number,
  steps = 6,
): Promise<{ out: Float32Array; kernels: string[] }> {
  await tf.setBackend(backend);
  const shapes = [[37, 5], [5]];
  const vars = shapes.map((s, i) =>
    tf.variable(tf.tensor(values(seed + i, s[0]! * (s[1] ?? 1)), s), true, `w${i}`),
  );
  const opt = createOptimizer({
    type: 'adam',
    lr: 0.01,
    beta1: 0.8,
    beta2: 0.95,
    epsilon: 1e-3,
    epsilonPlacement: placement,
  });
  opt.resetVariables(vars);
  let kernels: string[] = [];
  let tensorsAfterFirst = 0;
  for (let k = 0; k < steps; k++) {
    const grads = Object.fromEntries(
      vars.map((v, i) => [v.name, tf.tensor(values(seed + 100 * (k + 1) + i, v.size), v.shape)]),
    );
    const info = await tf.profile(() => opt.applyGradients(grads));
    kernels = info.kernels.map((k) => k.name);
    tf.dispose(Object.values(grads));
    // No tensor is left behind by a step: the count after each step is the count after the first.
    if (k === 0) tensorsAfterFirst = tf.memory().numTensors;
    else expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
  }
  const state = opt.state();
  const parts = [
    ...vars.map((v) => v.dataSync()),
    ...Object.values(state.arrays).map((a) => Float32Array.from(a.data)),
  ];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  opt.dispose();
  tf.dispose(vars);
  return { out, kernels };
}

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
