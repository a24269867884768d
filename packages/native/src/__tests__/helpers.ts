import { createOptimizer, type OptimizerConfig, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expect, it } from 'vitest';
import { tryRegisterNativeBackend } from '../index.js';

/** Registration result shared by every test file (registration is per process). */
export const registration = tryRegisterNativeBackend();

/**
 * `it` when the addon loaded; otherwise one skipped test whose title carries the
 * reason, so a run without OpenBLAS says why the native tests did not run.
 */
export const nativeIt: typeof it = registration.ok ? it : (it.skip as typeof it);
export const skipReason = registration.ok ? '' : ` [skipped: ${registration.reason}]`;

/** `n` uniform values in [-1, 1) from a seeded generator. */
export function values(seed: number, n: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

/** Runs `build` on `backend` and returns its output's values (all tensors disposed). */
export async function runOn(backend: string, build: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const y = build();
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return data;
}

/** Runs `build` on cpu and native and returns both outputs. */
export async function bothBackends(build: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const cpu = await runOn('cpu', build);
  const native = await runOn('native', build);
  return [cpu, native];
}

/**
 * Max of |a−b| / max(1, |a|, |b|) over the arrays; NaN pairs count as equal,
 * NaN against a number as infinitely far; lengths must match.
 */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (x === y) continue;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(x), Math.abs(y)));
  }
  return worst;
}

/** Float32 sums of a few hundred terms in another order differ by ~1e-6 relative. */
export const TOL = 2e-5;

/** The error `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): { name: string; code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { name: string; code?: string; message: string };
  }
  throw new Error('expected a throw');
}

/**
 * Runs `steps` updates of the optimizer `config` on variables of `shapes` (initial values and every
 * step's gradients random from `seed`) on `backend`. Checks that no step leaves a tensor behind.
 * @returns the variables' values then every optimizer slot, flat, and the kernels of the last step.
 */
export async function optimizerRun(
  backend: string,
  config: OptimizerConfig,
  shapes: readonly (readonly number[])[],
  seed: number,
  steps: number,
): Promise<{ out: Float32Array; kernels: string[] }> {
  await tf.setBackend(backend);
  const vars = shapes.map((s, i) =>
    tf.variable(
      tf.tensor(
        values(
          seed + i,
          s.reduce((a, b) => a * b, 1),
        ),
        [...s],
      ),
      true,
      `w${i}`,
    ),
  );
  const opt = createOptimizer(config);
  opt.resetVariables(vars);
  let kernels: string[] = [];
  let tensorsAfterFirst = 0;
  for (let k = 0; k < steps; k++) {
    const grads = Object.fromEntries(
      vars.map((v, i) => [v.name, tf.tensor(values(seed + 100 * (k + 1) + i, v.size), v.shape)]),
    );
    const info = await tf.profile(() => opt.applyGradients(grads));
    kernels = info.kernels.map((x) => x.name);
    tf.dispose(Object.values(grads));
    // No tensor is left behind by a step: the count after each step is the count after the first.
    if (k === 0) tensorsAfterFirst = tf.memory().numTensors;
    else expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
  }
  const parts = [
    ...vars.map((v) => v.dataSync()),
    ...Object.values(opt.state().arrays).map((a) => Float32Array.from(a.data)),
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
