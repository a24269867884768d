import { hasSgdUpdateKernel, SGD_UPDATE_KERNEL } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { nativeIt, optimizerRun, registration, skipReason, thrown } from './helpers.js';

// @moprune/core's SGD: on cpu two to six composed elementwise ops per variable, on native this
// package's one-pass kernel. The kernel rounds every product and sum to float in the composed ops'
// order (the build keeps multiply-adds unfused), so the two give the same bits, step after step.

type Variant = { momentum: number; style: 'pytorch' | 'keras'; nesterov: boolean };

const VARIANTS: readonly Variant[] = [
  { momentum: 0, style: 'pytorch', nesterov: false },
  { momentum: 0.9, style: 'pytorch', nesterov: false },
  { momentum: 0.9, style: 'pytorch', nesterov: true },
  { momentum: 0.8, style: 'keras', nesterov: false },
  { momentum: 0.8, style: 'keras', nesterov: true },
];

/** Five SGD updates of three variables (random gradients from `seed`): values and slots, flat. */
const sgdOn = (backend: string, variant: Variant, seed: number) =>
  optimizerRun(
    backend,
    {
      type: 'sgd',
      lr: 0.05,
      momentum: variant.momentum,
      momentumStyle: variant.style,
      nesterov: variant.nesterov,
    },
    // 70,001 elements run on the pool's threads, split; the others in one piece.
    [[37, 5], [5], [70_001]],
    seed,
    5,
  );

const label = (v: Variant) =>
  v.momentum === 0 ? 'no momentum' : `${v.style} momentum${v.nesterov ? ', Nesterov' : ''}`;

describe(`SGD update kernel${skipReason}`, () => {
  nativeIt('is registered under the name @moprune/core calls, for native only', () => {
    expect(tf.getKernel(SGD_UPDATE_KERNEL, 'native')).toBeDefined();
    expect(hasSgdUpdateKernel('native')).toBe(true);
    expect(hasSgdUpdateKernel('cpu')).toBe(false);
  });

  for (const variant of VARIANTS) {
    nativeIt(
      `gives the composed update's bits over five steps (${label(variant)}), one kernel per variable`,
      async () => {
        if (!registration.ok) return;
        for (const seed of [1, 2]) {
          const cpu = await sgdOn('cpu', variant, seed);
          const native = await sgdOn('native', variant, seed);
          expect(cpu.kernels).not.toContain(SGD_UPDATE_KERNEL);
          expect(native.kernels.filter((k) => k === SGD_UPDATE_KERNEL)).toHaveLength(3);
          expect(native.kernels).not.toContain('Multiply');
          expect(native.out.length).toBe(cpu.out.length);
          let differ = 0;
          let first = -1;
          for (let i = 0; i < cpu.out.length; i++) {
            if (!Object.is(cpu.out[i], native.out[i])) {
              differ += 1;
              if (first < 0) first = i;
            }
          }
          expect({ seed, differ, first }).toEqual({ seed, differ: 0, first: -1 });
        }
      },
    );
  }

  nativeIt(
    'refuses a missing or misshapen slot and an unknown style with typed errors, and leaks nothing',
    async () => {
      if (!registration.ok) return;
      await tf.setBackend('native');
      const before = tf.memory().numTensors;
      const [a, b] = [tf.zeros([3]), tf.zeros([4])];
      const run = (inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) =>
        thrown(() =>
          tf
            .engine()
            .runKernel(
              SGD_UPDATE_KERNEL,
              inputs as unknown as tf.NamedTensorMap,
              { lr: 0.1, momentum: 0.9, style: 'pytorch', nesterov: false, ...attrs } as tf.NamedAttrMap,
            ),
        );
      const shape = run({ value: a, grad: a, momentum: b }, {});
      expect(shape.code).toBe('BAD_SHAPE');
      expect(shape.message).toContain('same shape');
      expect(run({ value: a, grad: b }, { momentum: 0 }).code).toBe('BAD_SHAPE');
      expect(run({ value: a, grad: a }, {}).message).toContain('momentum');
      const style = run({ value: a, grad: a, momentum: a }, { style: 'adagrad' });
      expect(style.code).toBe('INVALID_OPTION');
      tf.dispose([a, b]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
