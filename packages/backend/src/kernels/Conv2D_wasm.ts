import type { TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { type KernelArgs, wrapKernel } from './kernel_utils.js';

/**
 * Rewrites 'same' padding as the explicit pads TensorFlow defines. With
 * 'same', tfjs-backend-wasm 4.22 lets XNNPACK derive the padding itself,
 * which disagrees with TensorFlow when the stride exceeds the filter
 * (measured: a 2×2 filter with stride 3 gives errors of order 1);
 * explicit pads are exact.
 */
function explicitSamePads(args: KernelArgs, depthwise: boolean): KernelArgs {
  if (args.attrs.pad !== 'same') return args;
  const x = args.inputs.x as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    'same',
    attrs.dimRoundingMode,
    depthwise,
    attrs.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
  const { top, bottom, left, right } = info.padInfo;
  const pad =
    attrs.dataFormat === 'NCHW'
      ? [
          [0, 0],
          [0, 0],
          [top, bottom],
          [left, right],
        ]
      : [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ];
  return { ...args, attrs: { ...args.attrs, pad } };
}

/** wasm Conv2D and FusedConv2D with exact 'same' padding. */
export function registerWasmConv2D(): void {
  wrapKernel(tf.Conv2D, 'wasm', (original) => (args) => original(explicitSamePads(args, false)));
  wrapKernel(tf.FusedConv2D, 'wasm', (original) => (args) => original(explicitSamePads(args, false)));
}
