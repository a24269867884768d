import * as tf from '@tensorflow/tfjs-core';
import { registerUntransposedMatMul } from './transpose_operands.js';

/**
 * Kernel replacements per backend. Only wasm needs any: its transposed
 * matmuls are slow. Kernels are registered per backend name, and a backend
 * package registers its own kernels when it loads, so this runs from
 * `initBackend` once the chosen backend's package is loaded.
 */
export function registerKernels(backendName: string): void {
  if (backendName === 'wasm') {
    registerUntransposedMatMul(tf.BatchMatMul, 'wasm');
    registerUntransposedMatMul(tf._FusedMatMul, 'wasm');
  }
}
