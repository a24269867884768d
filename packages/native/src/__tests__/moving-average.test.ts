import { hasMovingAverageKernel, MOVING_AVERAGE_KERNEL, movingAverageStep } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { bothBackends, nativeIt, registration, skipReason, thrown, values } from './helpers.js';

// @moprune/core's moving average of the trained variables (`training.averaging`): on cpu three composed
// elementwise ops per variable, on native this package's one-pass kernel, with the same bits (float32
// constants β and 1 − β, each product rounded, multiply-adds unfused).

describe(`moving-average kernel${skipReason}`, () => {
  nativeIt('is registered under the name @moprune/core calls, for native only', () => {
    expect(tf.getKernel(MOVING_AVERAGE_KERNEL, 'native')).toBeDefined();
    expect(hasMovingAverageKernel('native')).toBe(true);
    expect(hasMovingAverageKernel('cpu')).toBe(false);
  });

  // 70,001 elements run on the pool's threads, split; the others in one piece.
  for (const [size, decay] of [
    [5, 0.9],
    [1_000, 0.999],
    [70_001, 0.999],
    [70_001, 0.3],
    [0, 0.5],
  ] as const) {
    nativeIt(`gives the composed ops' bits (${size} elements, β = ${decay}), one kernel call`, async () => {
      if (!registration.ok) return;
      const a = values(size + 1, size);
      const v = values(size + 2, size);
      const calls: string[] = [];
      const [cpu, native] = await bothBackends(() => {
        const profiled = tf.tidy(() => movingAverageStep(tf.tensor1d(a), tf.tensor1d(v), decay));
        calls.push(tf.getBackend());
        return profiled;
      });
      expect(calls).toEqual(['cpu', 'native']);
      expect(native.length).toBe(size);
      let differ = 0;
      for (let i = 0; i < size; i++) if (!Object.is(cpu[i], native[i])) differ += 1;
      expect(differ).toBe(0);
      await tf.setBackend('native');
      const profile = await tf.profile(() =>
        tf.tidy(() => movingAverageStep(tf.tensor1d(a), tf.tensor1d(v), decay)),
      );
      const names = profile.kernels.map((k) => k.name);
      if (size > 0) expect(names).toContain(MOVING_AVERAGE_KERNEL);
      expect(names).not.toContain('Multiply');
    });
  }

  nativeIt(
    'refuses misshapen inputs and a decay outside (0, 1) with typed errors, and leaks nothing',
    async () => {
      if (!registration.ok) return;
      await tf.setBackend('native');
      const before = tf.memory().numTensors;
      const [a, b] = [tf.zeros([3]), tf.zeros([4])];
      const run = (inputs: Record<string, tf.Tensor>, decay: number) =>
        thrown(() =>
          tf
            .engine()
            .runKernel(
              MOVING_AVERAGE_KERNEL,
              inputs as unknown as tf.NamedTensorMap,
              { decay } as tf.NamedAttrMap,
            ),
        );
      const shape = run({ average: a, value: b }, 0.9);
      expect(shape.code).toBe('BAD_SHAPE');
      expect(shape.message).toContain('same shape');
      expect(run({ average: a, value: a }, 1).code).toBe('INVALID_OPTION');
      expect(run({ average: a, value: a }, 0).code).toBe('INVALID_OPTION');
      tf.dispose([a, b]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
