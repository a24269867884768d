import type { TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { type KernelArgs, kernelOf, withUntransposedOperands, wrapKernel } from './kernel_utils.js';

/** The activation kernels _FusedMatMul may fuse, and how to call them. */
function activate(args: KernelArgs, x: TensorInfo): TensorInfo {
  const { backend, attrs, inputs } = args;
  const run = (name: string, extra: Record<string, unknown> = {}, more: Record<string, TensorInfo> = {}) =>
    kernelOf(name, 'wasm')({ inputs: { x, ...more }, backend, attrs: extra });
  switch (attrs.activation) {
    case 'linear':
    case undefined:
      return x;
    case 'relu':
      return run(tf.Relu);
    case 'relu6':
      return run(tf.Relu6);
    case 'elu':
      return run(tf.Elu);
    case 'sigmoid':
      return run(tf.Sigmoid);
    case 'leakyrelu':
      return run(tf.LeakyRelu, { alpha: attrs.leakyreluAlpha ?? 0.2 });
    case 'prelu':
      return run(tf.Prelu, {}, { alpha: inputs.preluActivationWeights as TensorInfo });
    default:
      throw new Error(`_FusedMatMul: unsupported activation ${String(attrs.activation)}`);
  }
}

/**
 * wasm _FusedMatMul with two repairs: operands are untransposed first (speed,
 * see {@link withUntransposedOperands}), and a bias on a batched product
 * (leading dimension > 1) is added by separate Add and activation kernels,
 * because tfjs-backend-wasm 4.22 returns wrong values there (measured:
 * errors of order 1 for a [2,3,2]·[2,2,5] product with a bias).
 */
export function registerWasmFusedMatMul(): void {
  wrapKernel(
    tf._FusedMatMul,
    'wasm',
    (original) => (args) =>
      withUntransposedOperands(args, 'wasm', (plain) => {
        const { a, b, bias } = plain.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
        const batched =
          Math.max(a.shape.length > 2 ? (a.shape[0] ?? 1) : 1, b.shape.length > 2 ? (b.shape[0] ?? 1) : 1) >
          1;
        if (bias === undefined || !batched) return original(plain);
        const product = kernelOf(
          tf.BatchMatMul,
          'wasm',
        )({
          inputs: { a, b },
          backend: plain.backend,
          attrs: { transposeA: false, transposeB: false },
        });
        const biased = kernelOf(
          tf.Add,
          'wasm',
        )({ inputs: { a: product, b: bias }, backend: plain.backend, attrs: {} });
        plain.backend.disposeData(product.dataId);
        const out = activate(plain, biased);
        if (out !== biased) plain.backend.disposeData(biased.dataId);
        return out;
      }),
  );
}
