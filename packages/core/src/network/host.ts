import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../network-types.js';

/** A parameter copied to the host: compaction and metrics slice and count these. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Effective (masked) parameter values of `net`, on the host. */
export function effectiveValues(net: Network): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, v] of net.params) {
    const m = net.getMask(name);
    const data = m ? tf.tidy(() => tf.mul(v, m).dataSync() as Float32Array) : (v.dataSync() as Float32Array);
    out.set(name, { shape: v.shape, data: Float32Array.from(data) });
  }
  return out;
}

/** Masks of `net`, on the host. */
export function hostMasks(net: Network): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const name of net.maskedParams()) {
    const m = net.getMask(name)!;
    out.set(name, { shape: m.shape, data: Float32Array.from(m.dataSync()) });
  }
  return out;
}

/** The entries of `t` at `indices` along `axis`, in the given order. */
export function take(t: HostTensor, axis: number, indices: readonly number[]): HostTensor {
  const shape = [...t.shape];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = shape[axis]!;
  const data = new Float32Array(outer * indices.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const i of indices) {
      const from = (a * n + i) * inner;
      data.set(t.data.subarray(from, from + inner), o);
      o += inner;
    }
  }
  shape[axis] = indices.length;
  return { shape, data };
}

/** Sets the entries of `t` at `indices` along `axis` to zero, in place. */
export function zeroAt(t: HostTensor, axis: number, indices: readonly number[]): void {
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = t.shape[axis]!;
  for (let a = 0; a < outer; a++)
    for (const i of indices) t.data.fill(0, (a * n + i) * inner, (a * n + i + 1) * inner);
}

/** Multiplies the entries of `t` at `indices` along `axis` by `factor` (in place). */
export function scaleAt(t: HostTensor, axis: number, indices: readonly number[], factor: number): void {
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = t.shape[axis]!;
  for (let a = 0; a < outer; a++)
    for (const i of indices)
      for (let k = (a * n + i) * inner; k < (a * n + i + 1) * inner; k++) t.data[k]! *= factor;
}

/** True when every entry of `t` at `indices` along `axis` is zero. */
export function allZeroAt(t: HostTensor, axis: number, indices: readonly number[]): boolean {
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = t.shape[axis]!;
  const d = t.data;
  for (let a = 0; a < outer; a++) {
    for (const i of indices) {
      const from = (a * n + i) * inner;
      for (let k = from; k < from + inner; k++) if (d[k] !== 0) return false;
    }
  }
  return true;
}

/** Number of non-zero entries. */
export function countNonzero(data: Float32Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  return n;
}
