import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OutputPool } from '../pool.js';
import { nativeIt, registration, skipReason, values } from './helpers.js';

describe('OutputPool', () => {
  it('reuses a released array only while it never escaped', () => {
    const pool = new OutputPool(1 << 20);
    const a = pool.take(100, false);
    pool.stored(a);
    pool.released(a);
    expect(pool.take(100, true)).toBe(a);
    expect(Array.from(a.subarray(0, 3))).toEqual([0, 0, 0]);

    const b = pool.take(100, false);
    pool.stored(b);
    pool.exposed(b); // dataSync() handed it out
    pool.released(b);
    expect(pool.take(100, false)).not.toBe(b);

    const c = pool.take(100, false);
    pool.stored(c);
    pool.stored(c.subarray(10, 20)); // a zero-copy view now shares its memory
    pool.released(c);
    expect(pool.take(100, false)).not.toBe(c);

    const d = pool.take(100, false);
    pool.stored(d);
    pool.stored(d); // two tensors on one array
    pool.released(d);
    expect(pool.take(100, false)).not.toBe(d);
  });

  it('keeps at most its byte limit, and nothing with limit 0', () => {
    const small = new OutputPool(400);
    const [a, b] = [small.take(100, false), small.take(100, false)];
    small.stored(a);
    small.stored(b);
    small.released(a);
    small.released(b); // over the 400-byte limit: dropped
    expect(small.take(100, false)).toBe(a);
    expect(small.take(100, false)).not.toBe(b);
    const off = new OutputPool(0);
    const e = off.take(100, false);
    off.stored(e);
    off.released(e);
    expect(off.take(100, false)).not.toBe(e);
  });
});

describe(`recycled outputs on 'native'${skipReason}`, () => {
  const xv = values(1, 200 * 300);
  /** Same-sized outputs, which would land in a recycled array of that size. */
  const churn = (x: tf.Tensor) => {
    for (let i = 0; i < 3; i++) tf.tidy(() => tf.neg(tf.relu(tf.mul(x, i + 2))).dataSync());
  };

  nativeIt('never change what dataSync() returned', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(xv, [200, 300]);
    const y = tf.relu(x);
    const seen = y.dataSync();
    const copy = Float32Array.from(seen);
    y.dispose();
    churn(x);
    expect(Array.from(seen)).toEqual(Array.from(copy));
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  nativeIt('never reuse memory a live slice view reads', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(xv, [200, 300]);
    const y = tf.relu(x);
    const row = tf.slice(y, [5, 0], [1, 300]); // contiguous: the cpu kernel's zero-copy view
    y.dispose();
    churn(x);
    const expected = Array.from(xv.subarray(1500, 1800), (v) => Math.max(v, 0));
    expect(Array.from(row.dataSync())).toEqual(expected);
    tf.dispose([x, row]);
    expect(tf.memory().numTensors).toBe(before);
  });

  nativeIt('do reuse arrays nobody can see', async () => {
    if (!registration.ok) return;
    await tf.setBackend('native');
    const x = tf.tensor2d(xv, [200, 300]);
    const backend = tf.backend() as unknown as { data: { get(id: object): { values: unknown } } };
    const valuesOf = (t: tf.Tensor) => backend.data.get(t.dataId).values;
    const y = tf.relu(x);
    const first = valuesOf(y);
    y.dispose();
    const z = tf.relu(x);
    expect(valuesOf(z)).toBe(first);
    tf.dispose([x, z]);
  });
});
