import * as tf from '@tensorflow/tfjs-core';
import { withUntransposedOperands, wrapKernel } from './kernel_utils.js';

/** wasm BatchMatMul that never hands XNNPACK a transposed operand (see {@link withUntransposedOperands}). */
export function registerWasmBatchMatMul(): void {
  wrapKernel(
    tf.BatchMatMul,
    'wasm',
    (original) => (args) => withUntransposedOperands(args, 'wasm', original),
  );
}
