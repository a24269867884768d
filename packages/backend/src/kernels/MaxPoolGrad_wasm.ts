import type { KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { replaceKernel } from './kernel_utils.js';
import type { WasmBackendIo } from './wasm_io.js';

/**
 * MaxPoolGrad for wasm in plain JavaScript: each output's upstream gradient
 * goes to the first maximum of its window (TensorFlow's rule for ties).
 * tfjs-backend-wasm 4.22's kernel drops gradients whenever windows overlap
 * or are not square (measured against the float64 reference by the
 * gradient suite), and this loop is also faster than it at LeNet sizes.
 */
const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const io = backend as WasmBackendIo;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
  } = info;
  const { strideHeight, strideWidth, padInfo } = info;
  const out = io.makeOutput([...input.shape], 'float32');
  const dx = io.typedArrayFromHeap(out) as Float32Array;
  const x = io.typedArrayFromHeap(input) as Float32Array;
  const g = io.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const bestValue = new Float32Array(c);
  const bestIndex = new Int32Array(c);
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * c;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - padInfo.top;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(inHeight, y0 + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - padInfo.left;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(inWidth, x0 + filterWidth);
        if (yStart >= yEnd || xStart >= xEnd) continue;
        // Channels innermost: NHWC keeps each tap's channels contiguous.
        const first = xBase + (yStart * inWidth + xStart) * c;
        for (let ch = 0; ch < c; ch++) {
          bestValue[ch] = x[first + ch]!;
          bestIndex[ch] = first + ch;
        }
        for (let iy = yStart; iy < yEnd; iy++) {
          for (let ix = iy === yStart ? xStart + 1 : xStart; ix < xEnd; ix++) {
            const base = xBase + (iy * inWidth + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch]!;
              if (v > bestValue[ch]!) {
                bestValue[ch] = v;
                bestIndex[ch] = base + ch;
              }
            }
          }
        }
        const gBase = ((b * outHeight + oy) * outWidth + ox) * c;
        for (let ch = 0; ch < c; ch++) dx[bestIndex[ch]!]! += g[gBase + ch]!;
      }
    }
  }
  return out;
};

/** Registers {@link maxPoolGrad} as wasm's MaxPoolGrad. */
export function registerWasmMaxPoolGrad(): void {
  replaceKernel({ kernelName: tf.MaxPoolGrad, backendName: 'wasm', kernelFunc: maxPoolGrad });
}
