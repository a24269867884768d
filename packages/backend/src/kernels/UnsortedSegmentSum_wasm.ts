import type { KernelFunc, TensorInfo, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { replaceKernel } from './kernel_utils.js';
import type { WasmBackendIo } from './wasm_io.js';

/**
 * UnsortedSegmentSum for wasm in plain JavaScript: out[s] = Σ_{i : ids[i] = s} x[i]
 * along axis 0, ids outside [0, numSegments) dropped (TensorFlow's rule).
 * tfjs-backend-wasm 4.22 has no such kernel, and it is what `tf.gather`'s
 * gradient runs — without it any gather inside a tape (e.g. the expected
 * complexity of gated networks) fails on wasm.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const io = backend as WasmBackendIo;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const rows = x.shape[0] ?? 1;
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== rows) {
    throw new Error(
      `UnsortedSegmentSum (wasm): segmentIds must be 1-D with x.shape[0] = ${rows} entries, got [${segmentIds.shape}] for x [${x.shape}]`,
    );
  }
  const inner = tf.util.sizeFromShape(x.shape.slice(1));
  const out = io.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
  // Views after the last allocation: growing the heap detaches earlier ones.
  const dst = io.typedArrayFromHeap(out);
  const src = io.typedArrayFromHeap(x);
  const ids = io.typedArrayFromHeap(segmentIds);
  dst.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const from = i * inner;
    const to = s * inner;
    for (let k = 0; k < inner; k++) dst[to + k]! += src[from + k]!;
  }
  return out;
};

/** Registers the JavaScript UnsortedSegmentSum for wasm. */
export function registerWasmUnsortedSegmentSum(): void {
  replaceKernel({ kernelName: tf.UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum });
}
