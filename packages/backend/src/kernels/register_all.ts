import { registerWasmFusedMatMul } from './_FusedMatMul_wasm.js';
import { registerWasmBatchMatMul } from './BatchMatMul_wasm.js';
import { registerWasmConv2D } from './Conv2D_wasm.js';
import { registerWasmMaxPoolGrad } from './MaxPoolGrad_wasm.js';
import { registerWasmStridedSlice } from './StridedSlice_wasm.js';
import { registerWasmUnsortedSegmentSum } from './UnsortedSegmentSum_wasm.js';

/** Kernel replacements per tfjs backend name. Only wasm needs any. */
const kernelRegistrations: Readonly<Record<string, readonly (() => void)[]>> = {
  wasm: [
    registerWasmBatchMatMul,
    registerWasmFusedMatMul,
    registerWasmConv2D,
    registerWasmMaxPoolGrad,
    registerWasmStridedSlice,
    registerWasmUnsortedSegmentSum,
  ],
};

/**
 * Registers moprune's kernel replacements for one tfjs backend. A backend
 * package registers its own kernels when it loads, so this runs from
 * `initBackend` after the chosen backend's package is loaded. Idempotent.
 */
export function registerKernels(backendName: string): void {
  for (const register of kernelRegistrations[backendName] ?? []) register();
}
