import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The parts of tfjs-backend-wasm's backend class that kernels written in
 * JavaScript need: allocating an output and viewing tensors in the wasm heap
 * without copying. Views must be taken after the last allocation, because
 * growing the heap detaches earlier ones.
 */
export interface WasmBackendIo extends KernelBackend {
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
