import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { Network } from '../network-types.js';
import { Rng } from '../rng.js';
import { createNetwork } from './create.js';

/** Options of {@link lsuvInit}. */
export interface LsuvOptions {
  /** Seed of the orthonormal draws. */
  readonly seed: number;
  /** Wanted standard deviation of every layer's output. @default 1 */
  readonly targetStd?: number;
  /** Accepted distance from `targetStd`. @default 0.1 */
  readonly tolerance?: number;
  /** Rescalings per layer before moving on. @default 10 */
  readonly maxAttempts?: number;
  /** Start from orthonormal kernels and zero biases (else from the current values). @default true */
  readonly orthonormal?: boolean;
}

/** What {@link lsuvInit} did to one layer. */
export interface LsuvLayer {
  readonly node: string;
  /** Output standard deviation before and after the rescaling. */
  readonly stdBefore: number;
  readonly stdAfter: number;
  readonly attempts: number;
}

/** `rows` orthonormal vectors of length `n` (rows ≤ n), Gram–Schmidt on Gaussian draws. */
function orthonormalRows(rows: number, n: number, rng: Rng): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < rows) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const u of out) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += u[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i]! -= dot * u[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i]! ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-6) continue;
    for (let i = 0; i < n; i++) v[i]! /= norm;
    out.push(v);
  }
  return out;
}

/**
 * A kernel whose output units have orthonormal weight vectors: column o of a
 * dense `[in, out]` kernel, filter o (all `kh·kw·in` entries) of a conv
 * `[kh, kw, in, out]` kernel. With more units than fan-in the units are
 * orthonormal in groups of fan-in (as an SVD basis of a wide Gaussian matrix
 * would be on its rows).
 */
function orthonormalKernel(shape: readonly number[], rng: Rng): Float32Array {
  const units = shape[shape.length - 1]!;
  const fanIn = shape.reduce((a, b) => a * b, 1) / units;
  const vectors: Float64Array[] = [];
  while (vectors.length < units)
    vectors.push(...orthonormalRows(Math.min(fanIn, units - vectors.length), fanIn, rng));
  const w = new Float32Array(fanIn * units);
  for (let o = 0; o < units; o++) for (let i = 0; i < fanIn; i++) w[i * units + o] = vectors[o]![i]!;
  return w;
}

function std(t: tf.Tensor): number {
  return tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]!));
}

/**
 * Layer-sequential unit-variance initialization (Mishkin & Matas 2016), the
 * initialization of Hotegni et al.'s reference code: every dense and conv
 * kernel starts orthonormal (biases zero), then, layer by layer in spec
 * order, the kernel is rescaled until the layer's output (before any
 * activation) on the batch `x` has standard deviation `targetStd` within
 * `tolerance` (at most `maxAttempts` rescalings). Changes `net`'s parameters in
 * place; masks are not touched. Returns what it did per layer.
 * @throws CoreError `INVALID_ARGUMENT` for bad options or a network without dense or conv layers.
 */
export function lsuvInit(net: Network, x: tf.Tensor, options: LsuvOptions): LsuvLayer[] {
  const target = options.targetStd ?? 1;
  const tolerance = options.tolerance ?? 0.1;
  const maxAttempts = options.maxAttempts ?? 10;
  if (!(target > 0) || !(tolerance >= 0) || !(Number.isInteger(maxAttempts) && maxAttempts >= 0)) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `lsuvInit: targetStd must be > 0, tolerance ≥ 0 and maxAttempts an integer ≥ 0 (got ${target}, ${tolerance}, ${maxAttempts})`,
    );
  }
  const layers = net.spec.nodes.filter((n) => n.op === 'dense' || n.op === 'conv2d').map((n) => n.id);
  if (layers.length === 0)
    throw new CoreError('INVALID_ARGUMENT', 'lsuvInit: the network has no dense or conv layer');
  const rng = Rng.fromSeed(options.seed);
  if (options.orthonormal ?? true) {
    for (const id of layers) {
      const kernel = net.params.get(`${id}/kernel`)!;
      const values = orthonormalKernel(kernel.shape, rng);
      tf.tidy(() => kernel.assign(tf.tensor(values, kernel.shape)));
      const bias = net.params.get(`${id}/bias`);
      if (bias) tf.tidy(() => bias.assign(tf.zerosLike(bias)));
    }
  }
  const out: LsuvLayer[] = [];
  for (const id of layers) {
    // The same graph ending at this layer: its parameters are the network's.
    const probe = createNetwork({ ...net.spec, outputs: [id] }, { seed: 0 });
    try {
      const measure = (): number => {
        for (const [name, v] of probe.params) {
          const source = net.params.get(name);
          if (source) v.assign(source);
        }
        const y = probe.apply(x);
        try {
          return std(y[0]!);
        } finally {
          tf.dispose(y);
        }
      };
      const before = measure();
      let current = before;
      let attempts = 0;
      while (Math.abs(current - target) > tolerance && attempts < maxAttempts) {
        const kernel = net.params.get(`${id}/kernel`)!;
        const coefficient = target / (current + 1e-8);
        tf.tidy(() => kernel.assign(tf.mul(kernel, coefficient)));
        current = measure();
        attempts++;
      }
      out.push({ node: id, stdBefore: before, stdAfter: current, attempts });
    } finally {
      probe.dispose();
    }
  }
  return out;
}
