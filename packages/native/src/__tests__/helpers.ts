import { Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { it } from 'vitest';
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
