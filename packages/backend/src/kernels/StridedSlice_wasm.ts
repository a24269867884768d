import type { StridedSliceAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { wrapKernel } from './kernel_utils.js';
import type { WasmBackendIo } from './wasm_io.js';

/**
 * wasm StridedSlice as a gather in JavaScript over the wasm heap, copying
 * whole rows when the innermost stride is 1. tfjs-backend-wasm 4.22's kernel
 * took ~30 ms to subsample a [128, 32, 32, 16] activation by 2 (a ResNet
 * option-A shortcut); this takes a few. Mask semantics come from tfjs's own
 * `sliceInfo`; string tensors and rank 0 go to the original kernel.
 */
export function registerWasmStridedSlice(): void {
  wrapKernel(tf.StridedSlice, 'wasm', (original) => (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string' || x.shape.length === 0) return original(args);
    const a = args.attrs as unknown as StridedSliceAttrs;
    const info = tf.slice_util.sliceInfo(
      x.shape,
      a.begin,
      a.end,
      a.strides,
      a.beginMask,
      a.endMask,
      a.ellipsisMask,
      a.newAxisMask,
      a.shrinkAxisMask,
    );
    const io = args.backend as WasmBackendIo;
    const out = io.makeOutput(info.finalShape, x.dtype);
    const src = io.typedArrayFromHeap(x);
    const dst = io.typedArrayFromHeap(out);
    // Elements read per input axis (shrunk axes read one); finalShapeSparse omits shrunk axes.
    const sparse = info.begin.map((b, d) => Math.max(0, Math.ceil((info.end[d]! - b) / info.strides[d]!)));
    if (sparse.some((d) => d === 0)) return out;
    const rank = x.shape.length;
    const xStrides = tf.util.computeStrides(x.shape);
    xStrides.push(1);
    const last = rank - 1;
    const inner = sparse[last]!;
    const innerBegin = info.begin[last]!;
    const innerStep = info.strides[last]!;
    const index = new Array<number>(last).fill(0);
    let o = 0;
    for (;;) {
      let offset = innerBegin;
      for (let d = 0; d < last; d++) offset += (info.begin[d]! + index[d]! * info.strides[d]!) * xStrides[d]!;
      if (innerStep === 1) {
        dst.set(src.subarray(offset, offset + inner), o);
        o += inner;
      } else {
        for (let k = 0; k < inner; k++) dst[o++] = src[offset + k * innerStep]!;
      }
      let d = last - 1;
      while (d >= 0) {
        index[d]!++;
        if (index[d]! < sparse[d]!) break;
        index[d] = 0;
        d--;
      }
      if (d < 0) break;
    }
    return out;
  });
}
