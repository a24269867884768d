import {
  ADAM_UPDATE_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  BIAS_ADD_RELU_GRAD_KERNEL,
  BIAS_ADD_RELU_KERNEL,
  GATHER_BYTE_ROWS_KERNEL,
  type GatherByteRowsAttrs,
  MOVING_AVERAGE_KERNEL,
  SGD_UPDATE_KERNEL,
  SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
  SOFTMAX_CROSS_ENTROPY_KERNEL,
  SUM_OF_ABS_KERNEL,
  SUM_OF_SQUARES_KERNEL,
} from '@moprune/core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  backend_util,
  type DataType,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  slice_util,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { NativeError } from './errors.js';
import { outputPool } from './pool.js';

/** Name under which the backend registers with TensorFlow.js. */
export const NATIVE_BACKEND_NAME = 'native';

/** Kernels the native backend runs in C++; every other kernel is the `cpu` backend's own. */
export const NATIVE_KERNEL_NAMES = [
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'MaxPool',
  'MaxPoolGrad',
  'AvgPool',
  'AvgPoolGrad',
  'Add',
  'AddN',
  'Sub',
  'Multiply',
  'RealDiv',
  'Relu',
  'Step',
  'Square',
  'Abs',
  'Sign',
  'Exp',
  'Sum',
  'Mean',
  'Slice',
  'StridedSlice',
  'PadV2',
  'FusedBatchNorm',
  'Transpose',
  'Tile',
  'SplitV',
  'Softmax',
  BATCH_NORM_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BIAS_ADD_RELU_KERNEL,
  BIAS_ADD_RELU_GRAD_KERNEL,
  'MopruneReluGrad',
  ADAM_UPDATE_KERNEL,
  MOVING_AVERAGE_KERNEL,
  SGD_UPDATE_KERNEL,
  SOFTMAX_CROSS_ENTROPY_KERNEL,
  SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
  SUM_OF_SQUARES_KERNEL,
  SUM_OF_ABS_KERNEL,
  GATHER_BYTE_ROWS_KERNEL,
] as const;

/**
 * The one-pass ReLU gradient kernel `@moprune/backend`'s Relu gradient calls
 * when the active backend registers it (its `RELU_GRAD_KERNEL`; this package
 * does not depend on @moprune/backend, a test checks the two names agree).
 */
export const RELU_GRAD_KERNEL_NAME = 'MopruneReluGrad';

type Args = { inputs: NamedTensorInfoMap; backend: MathBackendCPU; attrs: NamedAttrMap };
type Conv2DInfo = backend_util.Conv2DInfo;
type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

const shapeText = (t: TensorInfo) => `[${t.shape.join(',')}]`;

function shapesText(tensors: Record<string, TensorInfo | undefined>): string {
  return Object.entries(tensors)
    .filter((e): e is [string, TensorInfo] => e[1] !== undefined)
    .map(([k, t]) => `${k} ${shapeText(t)}`)
    .join(', ');
}

function badShape(
  kernel: string,
  what: string,
  tensors: Record<string, TensorInfo | undefined>,
  cause?: unknown,
) {
  return new NativeError('BAD_SHAPE', `${kernel}: ${what} (${shapesText(tensors)})`, {
    details: { kernel, shapes: Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t?.shape])) },
    ...(cause === undefined ? {} : { cause }),
  });
}

function input(args: Args, kernel: string, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new NativeError('BAD_SHAPE', `${kernel}: input '${name}' is missing`);
  return t;
}

/**
 * The common dtype of a kernel's inputs: 'float32' runs natively, any other
 * shared dtype goes to the `cpu` kernel (tfjs allows int32 matmul), and a mix
 * of dtypes is an error.
 */
function commonDtype(kernel: string, tensors: Record<string, TensorInfo | undefined>): DataType {
  const present = Object.entries(tensors).filter((e): e is [string, TensorInfo] => e[1] !== undefined);
  const dtype = present[0]?.[1].dtype ?? 'float32';
  const odd = present.find(([, t]) => t.dtype !== dtype);
  if (odd) {
    throw new NativeError(
      'BAD_DTYPE',
      `${kernel}: inputs have different dtypes (${present.map(([k, t]) => `${k} ${t.dtype}${shapeText(t)}`).join(', ')})`,
      { details: { kernel } },
    );
  }
  return dtype;
}

/** The Float32Array the cpu data store holds for `t`, read in place (no copy). */
function f32(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

function cpuKernel(kernelName: string): KernelFunc {
  const config = getKernel(kernelName, 'cpu');
  if (!config)
    throw new NativeError('NATIVE_UNAVAILABLE', `kernel ${kernelName} is not registered for 'cpu'`);
  return config.kernelFunc;
}

function runCpu(kernelName: string, args: Args): TensorInfo {
  return cpuKernel(kernelName)(args) as TensorInfo;
}

/** Calls the addon and turns its RangeError into a NativeError naming the shapes. */
/** Throws unless every tensor is float32 (the fused kernels have no cpu fallback for other dtypes). */
function requireFloat32(kernel: string, tensors: Record<string, TensorInfo>): void {
  if (commonDtype(kernel, tensors) !== 'float32') {
    throw new NativeError('BAD_DTYPE', `${kernel}: inputs must be float32 (${shapesText(tensors)})`, {
      details: { kernel },
    });
  }
}

function call(kernel: string, tensors: Record<string, TensorInfo | undefined>, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    throw badShape(kernel, error instanceof Error ? error.message : String(error), tensors, error);
  }
}

function geometry(info: Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

function rank4(
  kernel: string,
  tensors: Record<string, TensorInfo | undefined>,
  shape: readonly number[],
  name: string,
) {
  if (shape.length !== 4) throw badShape(kernel, `${name} must be rank 4`, tensors);
  return shape as [number, number, number, number];
}

/** Runs tfjs's own geometry checks, rethrowing them as NativeError with the shapes. */
function convInfo(
  kernel: string,
  tensors: Record<string, TensorInfo | undefined>,
  compute: () => Conv2DInfo,
): Conv2DInfo {
  let info: Conv2DInfo;
  try {
    info = compute();
  } catch (error) {
    throw badShape(kernel, error instanceof Error ? error.message : String(error), tensors, error);
  }
  if (info.outHeight < 0 || info.outWidth < 0)
    throw badShape(kernel, 'the window is larger than the input', tensors);
  return info;
}

const isEmpty = (shape: readonly number[]) => shape.some((d) => d === 0);

/**
 * A fresh output array, recycled from disposed tensors when possible (see
 * pool.ts). `everyElementWritten`: the kernel about to run writes every
 * element, so the array need not be zeroed.
 */
function newOutput(size: number, everyElementWritten: boolean): Float32Array {
  return outputPool.take(size, !everyElementWritten);
}

function output(backend: MathBackendCPU, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

// ---------------------------------------------------------------- matmul

function matMulCore(kernel: string, args: Args, addon: NativeAddon): TensorInfo | null {
  const a = input(args, kernel, 'a');
  const b = input(args, kernel, 'b');
  const tensors = { a, b };
  const transposeA = args.attrs.transposeA === true;
  const transposeB = args.attrs.transposeB === true;
  if (a.shape.length < 2 || b.shape.length < 2)
    throw badShape(kernel, 'a and b must have rank >= 2', tensors);
  if (commonDtype(kernel, tensors) !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const ka = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (ka !== kb) {
    throw badShape(
      kernel,
      `inner dimensions ${ka} and ${kb} differ (transposeA=${transposeA}, transposeB=${transposeB})`,
      tensors,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  let outer: number[];
  try {
    outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch (error) {
    throw badShape(kernel, 'batch dimensions do not broadcast', tensors, error);
  }
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  // Native batching covers equal batch shapes and a single matrix on one side;
  // the cpu kernel keeps the rarer mixed broadcasts.
  if (!(batchA === 1 || batchB === 1 || util.arraysEqual(outerA, outerB))) return null;
  const outShape = [...outer, m, n];
  const out = newOutput(util.sizeFromShape(outShape), ka > 0);
  if (out.length > 0 && ka > 0) {
    const av = f32(args.backend, a);
    const bv = f32(args.backend, b);
    call(kernel, tensors, () => addon.matMul(av, bv, out, batchA, batchB, m, n, ka, transposeA, transposeB));
  }
  return output(args.backend, outShape, out);
}

function batchMatMul(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    return matMulCore('BatchMatMul', args, addon) ?? runCpu('BatchMatMul', args);
  };
}

const ACTIVATION_CODES: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

/**
 * Adds `bias` and applies `activation` to `y` (which the caller owns). Bias of
 * the channel size (or size 1) and linear/relu/relu6 run in one native pass;
 * other combinations use the cpu kernels, disposing every intermediate.
 */
function biasAndActivation(kernel: string, args: Args, addon: NativeAddon, y: TensorInfo): TensorInfo {
  const { backend } = args;
  const bias = args.inputs.bias;
  const activation = (args.attrs.activation as string | undefined) ?? 'linear';
  const channels = y.shape[y.shape.length - 1] ?? 1;
  const code = ACTIVATION_CODES[activation];
  const size = util.sizeFromShape(y.shape);
  const biasSize = bias ? util.sizeFromShape(bias.shape) : 0;
  const biasAlongChannels =
    bias !== undefined &&
    bias.dtype === 'float32' &&
    (biasSize === 1 || (biasSize === channels && bias.shape[bias.shape.length - 1] === channels)) &&
    bias.shape.length <= y.shape.length;
  let current = y;
  if (bias !== undefined && !biasAlongChannels) {
    current = runCpu('Add', { inputs: { a: y, b: bias }, backend, attrs: {} });
    backend.disposeIntermediateTensorInfo(y);
  }
  if (size === 0) return current;
  if (biasAlongChannels || code !== undefined) {
    const values = f32(backend, current);
    let biasValues: Float32Array | null = null;
    if (biasAlongChannels && bias) {
      const bv = f32(backend, bias);
      biasValues = biasSize === channels ? bv : new Float32Array(channels).fill(bv[0] ?? 0);
    }
    call(kernel, { y: current, bias }, () =>
      addon.biasActivation(values, biasValues, channels, code === undefined ? 0 : code),
    );
  }
  if (code !== undefined) return current;
  const next = applyCpuActivation(args, current, activation);
  backend.disposeIntermediateTensorInfo(current);
  return next;
}

function applyCpuActivation(args: Args, x: TensorInfo, activation: string): TensorInfo {
  const { backend } = args;
  switch (activation) {
    case 'elu':
      return runCpu('Elu', { inputs: { x }, backend, attrs: {} });
    case 'sigmoid':
      return runCpu('Sigmoid', { inputs: { x }, backend, attrs: {} });
    case 'leakyrelu':
      return runCpu('LeakyRelu', {
        inputs: { x },
        backend,
        attrs: { alpha: args.attrs.leakyreluAlpha ?? 0.2 },
      });
    case 'prelu': {
      const alpha = args.inputs.preluActivationWeights;
      if (!alpha) throw badShape('fused activation', "prelu needs 'preluActivationWeights'", { x });
      return runCpu('Prelu', { inputs: { x, alpha }, backend, attrs: {} });
    }
    default:
      throw new NativeError('BAD_SHAPE', `activation '${activation}' is not supported`, {
        details: { activation },
      });
  }
}

function fusedMatMul(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const { a, b, bias } = args.inputs;
    commonDtype('_FusedMatMul', { a, b, bias });
    const y = matMulCore('_FusedMatMul', args, addon);
    if (y === null) return runCpu('_FusedMatMul', args);
    return biasAndActivation('_FusedMatMul', args, addon, y);
  };
}

// ---------------------------------------------------------------- conv

function isChannelsLast(attrs: NamedAttrMap): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast';
}

function conv2DCore(kernel: string, args: Args, addon: NativeAddon): TensorInfo | null {
  const x = input(args, kernel, 'x');
  const filter = input(args, kernel, 'filter');
  const tensors = { x, filter };
  const xs = rank4(kernel, tensors, x.shape, 'x');
  const fs = rank4(kernel, tensors, filter.shape, 'filter');
  if (commonDtype(kernel, tensors) !== 'float32' || !isChannelsLast(args.attrs)) return null;
  if (xs[3] !== fs[2]) {
    throw badShape(kernel, `x has ${xs[3]} channels but the filter expects ${fs[2]}`, tensors);
  }
  const { strides, pad, dilations, dimRoundingMode } = args.attrs as {
    strides: number | [number, number];
    pad: Pad;
    dilations: number | [number, number];
    dimRoundingMode: Rounding;
  };
  const info = convInfo(kernel, tensors, () =>
    backend_util.computeConv2DInfo(
      xs,
      fs,
      strides,
      dilations ?? 1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    ),
  );
  const out = newOutput(util.sizeFromShape(info.outShape), !isEmpty(xs) && !isEmpty(fs));
  if (out.length > 0 && !isEmpty(xs) && !isEmpty(fs)) {
    const xv = f32(args.backend, x);
    const fv = f32(args.backend, filter);
    call(kernel, tensors, () => addon.conv2D(xv, fv, out, geometry(info)));
  }
  return output(args.backend, [...info.outShape], out);
}

function conv2D(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    return conv2DCore('Conv2D', args, addon) ?? runCpu('Conv2D', args);
  };
}

function fusedConv2D(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const { x, filter, bias } = args.inputs;
    commonDtype('FusedConv2D', { x, filter, bias });
    const y = conv2DCore('FusedConv2D', args, addon);
    if (y === null) return runCpu('FusedConv2D', args);
    return biasAndActivation('FusedConv2D', args, addon, y);
  };
}

function conv2DBackpropInput(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = 'Conv2DBackpropInput';
    const dy = input(args, kernel, 'dy');
    const filter = input(args, kernel, 'filter');
    const { inputShape, strides, pad, dimRoundingMode } = args.attrs as {
      inputShape: number[];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode: Rounding;
    };
    const tensors = { dy, filter };
    rank4(kernel, tensors, dy.shape, 'dy');
    const fs = rank4(kernel, tensors, filter.shape, 'filter');
    if (!Array.isArray(inputShape)) throw badShape(kernel, 'attribute inputShape is missing', tensors);
    const xs = rank4(kernel, tensors, inputShape, 'inputShape');
    if (commonDtype(kernel, tensors) !== 'float32' || !isChannelsLast(args.attrs))
      return runCpu(kernel, args);
    if (xs[3] !== fs[2])
      throw badShape(kernel, `inputShape [${xs}] has ${xs[3]} channels, filter ${fs[2]}`, tensors);
    const info = convInfo(kernel, tensors, () =>
      backend_util.computeConv2DInfo(xs, fs, strides, 1, pad, dimRoundingMode, false, 'channelsLast'),
    );
    if (!util.arraysEqual(dy.shape, info.outShape)) {
      throw badShape(kernel, `dy must have shape [${info.outShape}] for inputShape [${xs}]`, tensors);
    }
    const out = newOutput(util.sizeFromShape(xs), !isEmpty(dy.shape) && !isEmpty(fs));
    if (out.length > 0 && !isEmpty(dy.shape) && !isEmpty(fs)) {
      const dyv = f32(args.backend, dy);
      const fv = f32(args.backend, filter);
      call(kernel, tensors, () => addon.conv2DBackpropInput(dyv, fv, out, geometry(info)));
    }
    return output(args.backend, [...xs], out);
  };
}

function conv2DBackpropFilter(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = 'Conv2DBackpropFilter';
    const x = input(args, kernel, 'x');
    const dy = input(args, kernel, 'dy');
    const { filterShape, strides, pad, dimRoundingMode } = args.attrs as {
      filterShape: number[];
      strides: number | [number, number];
      pad: Pad;
      dimRoundingMode: Rounding;
    };
    const tensors = { x, dy };
    const xs = rank4(kernel, tensors, x.shape, 'x');
    rank4(kernel, tensors, dy.shape, 'dy');
    if (!Array.isArray(filterShape)) throw badShape(kernel, 'attribute filterShape is missing', tensors);
    const fs = rank4(kernel, tensors, filterShape, 'filterShape');
    if (commonDtype(kernel, tensors) !== 'float32' || !isChannelsLast(args.attrs))
      return runCpu(kernel, args);
    if (xs[3] !== fs[2])
      throw badShape(kernel, `x has ${xs[3]} channels, filterShape [${fs}] expects ${fs[2]}`, tensors);
    const info = convInfo(kernel, tensors, () =>
      backend_util.computeConv2DInfo(xs, fs, strides, 1, pad, dimRoundingMode, false, 'channelsLast'),
    );
    if (!util.arraysEqual(dy.shape, info.outShape)) {
      throw badShape(kernel, `dy must have shape [${info.outShape}] for x and filterShape [${fs}]`, tensors);
    }
    const out = newOutput(util.sizeFromShape(fs), !isEmpty(dy.shape) && !isEmpty(xs));
    if (out.length > 0 && !isEmpty(dy.shape) && !isEmpty(xs)) {
      const xv = f32(args.backend, x);
      const dyv = f32(args.backend, dy);
      call(kernel, tensors, () => addon.conv2DBackpropFilter(xv, dyv, out, geometry(info)));
    }
    return output(args.backend, [...fs], out);
  };
}

// ---------------------------------------------------------------- pooling

type PoolKind = 'MaxPool' | 'AvgPool' | 'MaxPoolGrad' | 'AvgPoolGrad';

function poolInfo(
  kernel: string,
  args: Args,
  x: TensorInfo,
  tensors: Record<string, TensorInfo | undefined>,
) {
  const xs = rank4(kernel, tensors, x.shape, 'x');
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: Pad;
    dimRoundingMode: Rounding;
  };
  return convInfo(kernel, tensors, () =>
    backend_util.computePool2DInfo(xs, filterSize, strides, 1, pad, dimRoundingMode),
  );
}

function pool(kind: PoolKind, addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const { backend } = args;
    if (kind === 'MaxPool' || kind === 'AvgPool') {
      const x = input(args, kind, 'x');
      const tensors = { x };
      const info = poolInfo(kind, args, x, tensors);
      if (commonDtype(kind, tensors) !== 'float32') return runCpu(kind, args);
      // A 1x1 window that keeps the shape is the identity in tfjs's cpu kernels (NaN stays NaN).
      if (
        info.filterHeight === 1 &&
        info.filterWidth === 1 &&
        util.arraysEqual(info.inShape, info.outShape)
      ) {
        return runCpu(kind, args);
      }
      const out = newOutput(util.sizeFromShape(info.outShape), !isEmpty(x.shape));
      if (out.length > 0 && !isEmpty(x.shape)) {
        const xv = f32(backend, x);
        const g = geometry(info);
        call(kind, tensors, () =>
          kind === 'MaxPool' ? addon.maxPool(xv, out, g) : addon.avgPool(xv, out, g),
        );
      }
      return output(backend, [...info.outShape], out);
    }
    const dy = input(args, kind, 'dy');
    const x = input(args, kind, 'input');
    const tensors = { dy, input: x };
    const info = poolInfo(kind, args, x, tensors);
    if (commonDtype(kind, tensors) !== 'float32') return runCpu(kind, args);
    if (!util.arraysEqual(dy.shape, info.outShape)) {
      throw badShape(kind, `dy must have the pooled shape [${info.outShape}]`, tensors);
    }
    const out = newOutput(util.sizeFromShape(x.shape), !isEmpty(dy.shape));
    if (out.length > 0 && !isEmpty(dy.shape)) {
      const dyv = f32(backend, dy);
      const g = geometry(info);
      if (kind === 'MaxPoolGrad') {
        const xv = f32(backend, x);
        call(kind, tensors, () => addon.maxPoolGrad(xv, dyv, out, g));
      } else {
        call(kind, tensors, () => addon.avgPoolGrad(dyv, out, g));
      }
    }
    return output(backend, [...x.shape], out);
  };
}

// ---------------------------------------------------------------- elementwise

/**
 * True when `shape`, without its leading 1s, is the tail of `out`: then
 * element i of the output reads element i % size of the operand, the fast
 * loop (bias over channels, scalars, equal shapes); other broadcasts walk
 * per-axis strides.
 */
function isSuffixBroadcast(shape: readonly number[], out: readonly number[]): boolean {
  let start = 0;
  while (start < shape.length && shape[start] === 1) start++;
  const core = shape.slice(start);
  if (core.length > out.length) return false;
  const tail = out.slice(out.length - core.length);
  return core.every((d, i) => d === tail[i]);
}

const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;

function binary(kernel: keyof typeof BINARY_OPS, addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const a = input(args, kernel, 'a');
    const b = input(args, kernel, 'b');
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return runCpu(kernel, args);
    let outShape: number[];
    try {
      outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    } catch (error) {
      throw badShape(kernel, 'shapes do not broadcast', { a, b }, error);
    }
    if (isEmpty(outShape)) return runCpu(kernel, args);
    const out = newOutput(util.sizeFromShape(outShape), true);
    const av = f32(args.backend, a);
    const bv = f32(args.backend, b);
    if (isSuffixBroadcast(a.shape, outShape) && isSuffixBroadcast(b.shape, outShape)) {
      call(kernel, { a, b }, () => addon.binary(BINARY_OPS[kernel], av, bv, out));
    } else {
      const rank = Math.max(outShape.length, 1);
      const padded = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
      call(kernel, { a, b }, () =>
        addon.binaryBroadcast(
          BINARY_OPS[kernel],
          av,
          padded(a.shape),
          bv,
          padded(b.shape),
          out,
          padded(outShape),
        ),
      );
    }
    return output(args.backend, outShape, out);
  };
}

/**
 * AddN of same-shape float32 tensors as a running sum of the addon's elementwise Add, written into
 * one output: ((t₀ + t₁) + t₂) + …, the order of the cpu kernel's accumulation, so the sums are the
 * same bits; a single input is copied. (A multi-gradient step sums gradients and Gram terms with it;
 * on the cpu kernel each call was a JavaScript loop.) Other dtypes and empty shapes go to the cpu kernel.
 */
function addN(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as { inputs: TensorInfo[]; backend: MathBackendCPU; attrs: NamedAttrMap };
    const tensors = args.inputs;
    const first = tensors[0];
    if (
      first === undefined ||
      isEmpty(first.shape) ||
      tensors.some((t) => t.dtype !== 'float32' || !util.arraysEqual(t.shape, first.shape))
    )
      return runCpu('AddN', args as unknown as Args);
    const named = Object.fromEntries(tensors.map((t, i) => [`tensors[${i}]`, t]));
    const out = newOutput(util.sizeFromShape(first.shape), true);
    const add = BINARY_OPS.Add;
    const second = tensors[1];
    if (second === undefined) out.set(f32(args.backend, first));
    else
      call('AddN', named, () => {
        addon.binary(add, f32(args.backend, first), f32(args.backend, second), out);
        for (let i = 2; i < tensors.length; i++) addon.binary(add, out, f32(args.backend, tensors[i]!), out);
      });
    return output(args.backend, [...first.shape], out);
  };
}

const UNARY_OPS = { Relu: 0, Step: 1, Square: 2, Abs: 3, Sign: 4, Exp: 5 } as const;

function unary(kernel: keyof typeof UNARY_OPS, addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, kernel, 'x');
    if (x.dtype !== 'float32' || isEmpty(x.shape)) return runCpu(kernel, args);
    const out = newOutput(util.sizeFromShape(x.shape), true);
    const xv = f32(args.backend, x);
    const alpha = kernel === 'Step' ? Number(args.attrs.alpha ?? 0) : 0;
    call(kernel, { x }, () => addon.unary(UNARY_OPS[kernel], xv, out, alpha));
    return output(args.backend, [...x.shape], out);
  };
}

/** `@moprune/backend`'s one-pass Relu gradient: dx from dy and x. */
function reluGrad(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = RELU_GRAD_KERNEL_NAME;
    const dy = input(args, kernel, 'dy');
    const x = input(args, kernel, 'x');
    const tensors = { dy, x };
    requireFloat32(kernel, tensors);
    if (!util.arraysEqual(dy.shape, x.shape))
      throw badShape(kernel, 'dy and x must have the same shape', tensors);
    const out = newOutput(util.sizeFromShape(x.shape), true);
    if (out.length > 0) {
      const [dv, xv] = [f32(args.backend, dy), f32(args.backend, x)];
      call(kernel, tensors, () => addon.reluGrad(dv, xv, out));
    }
    return output(args.backend, [...x.shape], out);
  };
}

/** `@moprune/core`'s bias + ReLU: y = max(x + bias, 0) in one pass. */
function biasAddRelu(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = BIAS_ADD_RELU_KERNEL;
    const x = input(args, kernel, 'x');
    const bias = input(args, kernel, 'bias');
    const tensors = { x, bias };
    requireFloat32(kernel, tensors);
    const channels = x.shape[x.shape.length - 1];
    if (x.shape.length < 1 || bias.shape.length !== 1 || bias.shape[0] !== channels) {
      throw badShape(kernel, "bias must have shape [C], C = x's last axis", tensors);
    }
    const out = newOutput(util.sizeFromShape(x.shape), true);
    if (out.length > 0) {
      const [xv, bv] = [f32(args.backend, x), f32(args.backend, bias)];
      call(kernel, tensors, () => addon.biasAddRelu(xv, bv, out));
    }
    return output(args.backend, [...x.shape], out);
  };
}

/** The gradient kernel of {@link biasAddRelu}: dx and dbias in one pass over dy and y. */
function biasAddReluGrad(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = BIAS_ADD_RELU_GRAD_KERNEL;
    const dy = input(args, kernel, 'dy');
    const y = input(args, kernel, 'y');
    const tensors = { dy, y };
    requireFloat32(kernel, tensors);
    if (y.shape.length < 1) throw badShape(kernel, 'y must have rank >= 1 (channels last)', tensors);
    if (!util.arraysEqual(dy.shape, y.shape))
      throw badShape(kernel, 'dy and y must have the same shape', tensors);
    const channels = y.shape[y.shape.length - 1]!;
    const dx = newOutput(util.sizeFromShape(y.shape), true);
    const dbias = new Float32Array(channels);
    if (dx.length > 0) {
      const [dyv, yv] = [f32(args.backend, dy), f32(args.backend, y)];
      call(kernel, tensors, () => addon.biasAddReluGrad(dyv, yv, dx, dbias));
    }
    return [output(args.backend, [...y.shape], dx), output(args.backend, [channels], dbias)];
  };
}

/** The checks both softmax cross-entropy kernels share: `[n, k]` float32 and `[n]` int32 labels, a positive divisor. */
function crossEntropyInputs(
  kernel: string,
  args: Args,
  name: 'logits' | 'probabilities',
): { x: TensorInfo; labels: Int32Array; n: number; k: number; divisor: number } {
  const x = input(args, kernel, name);
  const labelsInfo = input(args, kernel, 'labels');
  const tensors = { [name]: x, labels: labelsInfo };
  if (x.dtype !== 'float32' || labelsInfo.dtype !== 'int32') {
    throw new NativeError(
      'BAD_DTYPE',
      `${kernel}: ${name} must be float32 and labels int32 (${shapesText(tensors)})`,
      {
        details: { kernel },
      },
    );
  }
  if (x.shape.length !== 2 || labelsInfo.shape.length !== 1 || labelsInfo.shape[0] !== x.shape[0]) {
    throw badShape(kernel, `${name} must be [n, k] and labels [n]`, tensors);
  }
  const divisor = Number(args.attrs.divisor);
  if (!(divisor > 0) || !Number.isFinite(divisor)) {
    throw new NativeError(
      'INVALID_OPTION',
      `${kernel}: divisor must be a positive number, got ${args.attrs.divisor}`,
      {
        details: { kernel },
      },
    );
  }
  const values = args.backend.data.get(labelsInfo.dataId).values;
  const labels = values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  return { x, labels, n: x.shape[0]!, k: x.shape[1]!, divisor };
}

/**
 * Softmax cross-entropy from logits against int32 labels (`@moprune/core`'s contract): the loss
 * and the row softmax in one pass. Each row's terms follow tfjs's composed ops (x − max, exp
 * rounded to float, the row's exp sum in double, its log rounded to float); the rows' losses add up
 * in double. In JavaScript: a batch's n × k values are a few thousand, where one native call would
 * cost about as much as the arithmetic.
 */
function softmaxCrossEntropy(): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = SOFTMAX_CROSS_ENTROPY_KERNEL;
    const { x, labels, n, k, divisor } = crossEntropyInputs(kernel, args, 'logits');
    const xs = f32(args.backend, x);
    const p = newOutput(n * k, true);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const row = i * k;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < k; j++) {
        const v = xs[row + j]!;
        if (v > max || Number.isNaN(v)) max = v;
        if (Number.isNaN(v)) break;
      }
      let sum = 0;
      for (let j = 0; j < k; j++) {
        p[row + j] = Math.exp(Math.fround(xs[row + j]! - max));
        sum += p[row + j]!;
      }
      const sumF = Math.fround(sum);
      for (let j = 0; j < k; j++) p[row + j] = p[row + j]! / sumF;
      const label = labels[i]!;
      if (label >= 0 && label < k) {
        // −log p = lse − (x − max), as tfjs's logSoftmax: both terms rounded to float.
        total += -Math.fround(Math.fround(xs[row + label]! - max) - Math.fround(Math.log(sumF)));
      }
    }
    const loss = newOutput(1, true);
    loss[0] = Math.fround(total) / divisor;
    return [output(args.backend, [], loss), output(args.backend, [n, k], p)];
  };
}

/**
 * A batch from byte rows through a lookup table (`@moprune/core`'s contract): one C++ pass into a
 * recycled output, threads over the rows for large batches. The addon checks every argument
 * (types, whole rows, each row index) before writing.
 */
function gatherByteRows(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = GATHER_BYTE_ROWS_KERNEL;
    const { source, rows, rowSize, lut, shape } = args.attrs as unknown as GatherByteRowsAttrs;
    const size = (rows?.length ?? 0) * rowSize;
    const out = newOutput(size, true);
    call(kernel, {}, () => addon.gatherByteRows(source, rows, rowSize, lut, out));
    return output(args.backend, [...shape], out);
  };
}

/** The gradient of {@link softmaxCrossEntropy}: (dy / divisor)·(p − one-hot), 0 on rows without a valid label. */
function softmaxCrossEntropyGrad(): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL;
    const { x: probabilities, labels, n, k, divisor } = crossEntropyInputs(kernel, args, 'probabilities');
    const dyInfo = input(args, kernel, 'dy');
    if (dyInfo.dtype !== 'float32' || util.sizeFromShape(dyInfo.shape) !== 1) {
      throw badShape(kernel, 'dy must be a float32 scalar', { dy: dyInfo, probabilities });
    }
    const scale = Math.fround(f32(args.backend, dyInfo)[0]! / divisor);
    const p = f32(args.backend, probabilities);
    const dx = newOutput(n * k, true);
    for (let i = 0; i < n; i++) {
      const row = i * k;
      const label = labels[i]!;
      if (label < 0 || label >= k) {
        dx.fill(0, row, row + k);
        continue;
      }
      for (let j = 0; j < k; j++) dx[row + j] = scale * (p[row + j]! - (j === label ? 1 : 0));
    }
    return output(args.backend, [n, k], dx);
  };
}

/**
 * `@moprune/core`'s sum of squares or of absolute values over a list of float32 tensors: one addon
 * pass per tensor, summed in double.
 */
function sumOver(kernel: string, pass: (x: Float32Array) => number): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const tensors = Object.values(args.inputs) as TensorInfo[];
    requireFloat32(kernel, Object.fromEntries(tensors.map((t, i) => [`x${i}`, t])));
    let total = 0;
    for (const t of tensors) if (util.sizeFromShape(t.shape) > 0) total += pass(f32(args.backend, t));
    const out = newOutput(1, true);
    out[0] = total;
    return output(args.backend, [], out);
  };
}

/**
 * `@moprune/core`'s Adam update: the new value and both moments of a variable
 * in one threaded pass over its elements, in float in the composed ops' order
 * (the composed update is eleven elementwise kernels, each a pass and a fresh
 * tensor).
 */
function adamUpdate(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = ADAM_UPDATE_KERNEL;
    const value = input(args, kernel, 'value');
    const grad = input(args, kernel, 'grad');
    const m = input(args, kernel, 'm');
    const v = input(args, kernel, 'v');
    const tensors = { value, grad, m, v };
    requireFloat32(kernel, tensors);
    if (![grad, m, v].every((t) => util.arraysEqual(t.shape, value.shape))) {
      throw badShape(kernel, 'value, grad, m and v must have the same shape', tensors);
    }
    const { beta1: b1, beta2: b2, epsilon: eps, lr, t } = args.attrs as Record<string, number>;
    const corrected = args.attrs.corrected === true;
    const bc1 = 1 - b1! ** t!;
    const bc2 = 1 - b2! ** t!;
    const n = util.sizeFromShape(value.shape);
    const w1 = newOutput(n, true);
    const m1 = newOutput(n, true);
    const v1 = newOutput(n, true);
    if (n > 0) {
      const [w0, g0, m0, v0] = [value, grad, m, v].map((x) => f32(args.backend, x)) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const scale = corrected ? lr! : (lr! * Math.sqrt(bc2)) / bc1;
      call(kernel, tensors, () =>
        addon.adamUpdate(w0, g0, m0, v0, w1, m1, v1, b1!, b2!, eps!, scale, bc1, bc2, corrected),
      );
    }
    const shape = [...value.shape];
    return [
      output(args.backend, shape, w1),
      output(args.backend, shape, m1),
      output(args.backend, shape, v1),
    ];
  };
}

function movingAverage(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = MOVING_AVERAGE_KERNEL;
    const average = input(args, kernel, 'average');
    const value = input(args, kernel, 'value');
    const tensors = { average, value };
    requireFloat32(kernel, tensors);
    if (!util.arraysEqual(average.shape, value.shape)) {
      throw badShape(kernel, 'average and value must have the same shape', tensors);
    }
    const decay = Number(args.attrs.decay);
    if (!(decay > 0 && decay < 1)) {
      throw new NativeError(
        'INVALID_OPTION',
        `${kernel}: decay must be in (0, 1), got ${String(args.attrs.decay)}`,
        {
          details: { kernel },
        },
      );
    }
    const n = util.sizeFromShape(average.shape);
    const out = newOutput(n, true);
    if (n > 0) {
      const a0 = f32(args.backend, average);
      const v0 = f32(args.backend, value);
      call(kernel, tensors, () => addon.movingAverage(a0, v0, out, decay));
    }
    return output(args.backend, [...average.shape], out);
  };
}

const SGD_STYLES: Readonly<Record<string, number>> = { pytorch: 1, keras: 2 };

function sgdUpdate(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = SGD_UPDATE_KERNEL;
    const value = input(args, kernel, 'value');
    const grad = input(args, kernel, 'grad');
    const { lr, momentum: mu } = args.attrs as Record<string, number>;
    const withMomentum = (mu ?? 0) > 0;
    const slot = withMomentum ? input(args, kernel, 'momentum') : undefined;
    const tensors: Record<string, TensorInfo> = slot ? { value, grad, momentum: slot } : { value, grad };
    requireFloat32(kernel, tensors);
    if (![grad, ...(slot ? [slot] : [])].every((t) => util.arraysEqual(t.shape, value.shape))) {
      throw badShape(kernel, 'value, grad and momentum must have the same shape', tensors);
    }
    const style = withMomentum ? SGD_STYLES[String(args.attrs.style)] : 0;
    if (style === undefined) {
      throw new NativeError(
        'INVALID_OPTION',
        `${kernel}: style must be 'pytorch' or 'keras', got ${String(args.attrs.style)}`,
        {
          details: { kernel },
        },
      );
    }
    const n = util.sizeFromShape(value.shape);
    const w1 = newOutput(n, true);
    const b1 = withMomentum ? newOutput(n, true) : null;
    if (n > 0) {
      const w0 = f32(args.backend, value);
      const g0 = f32(args.backend, grad);
      const b0 = slot ? f32(args.backend, slot) : null;
      call(kernel, tensors, () =>
        addon.sgdUpdate(w0, g0, b0, w1, b1, lr!, mu ?? 0, style, args.attrs.nesterov === true),
      );
    }
    const shape = [...value.shape];
    return b1
      ? [output(args.backend, shape, w1), output(args.backend, shape, b1)]
      : [output(args.backend, shape, w1)];
  };
}

/**
 * Sum or Mean over one contiguous block of axes (bias gradients, batch-norm
 * moments, global average pooling, per-row losses) runs natively; other axis
 * sets use the cpu kernel.
 */
function reduce(kernel: 'Sum' | 'Mean', addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, kernel, 'x');
    if (x.dtype !== 'float32' || isEmpty(x.shape)) return runCpu(kernel, args);
    const rank = x.shape.length;
    let axes: number[];
    try {
      axes = [...new Set(util.parseAxisParam(args.attrs.axis as number | number[], x.shape))].sort(
        (p, q) => p - q,
      );
    } catch (error) {
      throw badShape(kernel, `axis ${JSON.stringify(args.attrs.axis)} is out of range`, { x }, error);
    }
    const first = axes[0];
    const last = axes[axes.length - 1];
    if (first === undefined || last === undefined || last - first + 1 !== axes.length)
      return runCpu(kernel, args);
    const [reduced] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const outShape =
      args.attrs.keepDims === true ? backend_util.expandShapeToKeepDim(reduced, axes) : reduced;
    const outer = util.sizeFromShape(x.shape.slice(0, first));
    const mid = util.sizeFromShape(x.shape.slice(first, last + 1));
    const inner = util.sizeFromShape(x.shape.slice(last + 1, rank));
    const out = newOutput(outer * inner, true);
    const xv = f32(args.backend, x);
    call(kernel, { x }, () => addon.sumAxes(xv, out, outer, mid, inner));
    if (kernel === 'Mean') {
      for (let i = 0; i < out.length; i++) out[i] = out[i]! / mid;
    }
    return output(args.backend, outShape, out);
  };
}

/**
 * Batch norm over the last axis: y = (x − mean)·scale/√(var + ε) + offset with
 * per-channel (or size-1) parameters, as the cpu kernel computes it; other
 * parameter shapes use the cpu kernel.
 */
function fusedBatchNorm(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'FusedBatchNorm', 'x');
    const { mean, variance, scale, offset } = args.inputs;
    if (!mean || !variance)
      throw badShape('FusedBatchNorm', 'mean and variance are required', { x, mean, variance });
    const tensors = { x, mean, variance, scale, offset };
    if (commonDtype('FusedBatchNorm', tensors) !== 'float32' || isEmpty(x.shape))
      return runCpu('FusedBatchNorm', args);
    const channels = x.shape[x.shape.length - 1]!;
    const params = [mean, variance, scale, offset];
    const perChannel = (t: TensorInfo | undefined) => {
      const n = t ? util.sizeFromShape(t.shape) : 1;
      return n === 1 || (n === channels && t !== undefined && t.shape[t.shape.length - 1] === channels);
    };
    if (!params.every(perChannel)) return runCpu('FusedBatchNorm', args);
    const expand = (t: TensorInfo | undefined, fallback: number) => {
      if (!t) return new Float32Array(channels).fill(fallback);
      const v = f32(args.backend, t);
      return v.length === channels ? v : new Float32Array(channels).fill(v[0] ?? fallback);
    };
    const eps = Number(args.attrs.varianceEpsilon ?? 0.001);
    const center = expand(mean, 0);
    const variances = expand(variance, 1);
    const scales = expand(scale, 1);
    const factor = new Float32Array(channels);
    for (let c = 0; c < channels; c++) factor[c] = scales[c]! / Math.sqrt(variances[c]! + eps);
    const shift = expand(offset, 0);
    const out = newOutput(util.sizeFromShape(x.shape), true);
    const xv = f32(args.backend, x);
    call('FusedBatchNorm', tensors, () => addon.channelAffine(xv, out, center, factor, shift));
    return output(args.backend, [...x.shape], out);
  };
}

/** Checks a batch-norm kernel's inputs: float32, x of rank ≥ 2, per-channel parameters of shape [C]. */
function batchNormInputs(kernel: string, args: Args, names: readonly string[]) {
  const tensors = Object.fromEntries(names.map((n) => [n, input(args, kernel, n)])) as Record<
    string,
    TensorInfo
  >;
  const x = tensors.x!;
  requireFloat32(kernel, tensors);
  if (x.shape.length < 2) throw badShape(kernel, 'x must have rank >= 2 (channels last)', tensors);
  const channels = x.shape[x.shape.length - 1]!;
  for (const [name, t] of Object.entries(tensors)) {
    const perChannel = name !== 'x' && name !== 'dy';
    const ok = perChannel
      ? t.shape.length === 1 && t.shape[0] === channels
      : util.arraysEqual(t.shape, x.shape);
    if (!ok) {
      throw badShape(
        kernel,
        `${name} must have shape ${perChannel ? `[${channels}]` : shapeText(x)}`,
        tensors,
      );
    }
  }
  const epsilon = Number(args.attrs.epsilon);
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw badShape(kernel, `epsilon must be a finite number > 0, got ${String(args.attrs.epsilon)}`, tensors);
  }
  const relu = args.attrs.relu ?? false;
  if (typeof relu !== 'boolean') {
    throw badShape(kernel, `relu must be a boolean, got ${JSON.stringify(relu)}`, tensors);
  }
  return { tensors, x, channels, epsilon, relu };
}

/** `@moprune/core`'s training-mode batch norm: y, batch mean, batch variance in one pass pair. */
function batchNormTraining(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = BATCH_NORM_TRAINING_KERNEL;
    const { tensors, x, channels, epsilon, relu } = batchNormInputs(kernel, args, ['x', 'scale', 'offset']);
    const y = newOutput(util.sizeFromShape(x.shape), true);
    const mean = new Float32Array(channels);
    const variance = new Float32Array(channels);
    const [xv, sv, ov] = [tensors.x!, tensors.scale!, tensors.offset!].map((t) => f32(args.backend, t)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    call(kernel, tensors, () => addon.batchNormTraining(xv, sv, ov, epsilon, relu, y, mean, variance));
    return [
      output(args.backend, [...x.shape], y),
      output(args.backend, [channels], mean),
      output(args.backend, [channels], variance),
    ];
  };
}

/** The gradient kernel of {@link batchNormTraining}: dx, dscale, doffset in two passes. */
function batchNormTrainingGrad(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const kernel = BATCH_NORM_TRAINING_GRAD_KERNEL;
    const names = ['dy', 'x', 'scale', 'offset', 'mean', 'variance'] as const;
    const { tensors, x, channels, epsilon, relu } = batchNormInputs(kernel, args, names);
    const dx = newOutput(util.sizeFromShape(x.shape), true);
    const dscale = new Float32Array(channels);
    const doffset = new Float32Array(channels);
    const [dyv, xv, sv, ov, mv, vv] = names.map((n) => f32(args.backend, tensors[n]!)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    call(kernel, tensors, () =>
      addon.batchNormTrainingGrad(dyv, xv, sv, ov, mv, vv, epsilon, relu, dx, dscale, doffset),
    );
    return [
      output(args.backend, [...x.shape], dx),
      output(args.backend, [channels], dscale),
      output(args.backend, [channels], doffset),
    ];
  };
}

// ---------------------------------------------------------------- data movement

/** Slice: contiguous slices stay the cpu kernel's zero-copy views; others copy natively. */
function slice(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'Slice', 'x');
    let begin: number[];
    let size: number[];
    try {
      [begin, size] = slice_util.parseSliceParams(
        x,
        args.attrs.begin as number[],
        args.attrs.size as number[],
      ) as [number[], number[]];
      slice_util.assertParamsValid(x, begin, size);
    } catch (error) {
      throw badShape(
        'Slice',
        // tfjs's own reason (e.g. "slice() does not support negative begin indexing.") stays in the message.
        `begin ${JSON.stringify(args.attrs.begin)} / size ${JSON.stringify(args.attrs.size)} do not fit: ${error instanceof Error ? error.message : String(error)}`,
        { x },
        error,
      );
    }
    if (x.dtype !== 'float32' || isEmpty(size) || slice_util.isSliceContinous(x.shape, begin, size)) {
      return runCpu('Slice', args);
    }
    const out = newOutput(util.sizeFromShape(size), true);
    const xv = f32(args.backend, x);
    call('Slice', { x }, () =>
      addon.copyBox(
        'Slice',
        xv,
        [...x.shape],
        begin,
        begin.map(() => 1),
        out,
        size,
        size.map(() => 0),
        size,
      ),
    );
    return output(args.backend, size, out);
  };
}

/**
 * SplitV: each part is a {@link slice} of the input — a zero-copy view when
 * it is contiguous, a native copy otherwise (tfjs's cpu kernel slices element
 * by element: 64 ms to split a [1600, 96] attention projection in three).
 */
function splitV(addon: NativeAddon): KernelFunc {
  const sliceKernel = slice(addon);
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'SplitV', 'x');
    if (x.dtype !== 'float32') return cpuKernel('SplitV')(args) as TensorInfo[];
    let axis: number;
    let sizes: number[];
    try {
      axis = util.parseAxisParam(args.attrs.axis as number, [...x.shape])[0]!;
      sizes = backend_util.prepareSplitSize(x, args.attrs.numOrSizeSplits as number | number[], axis);
    } catch (error) {
      throw badShape(
        'SplitV',
        `numOrSizeSplits ${JSON.stringify(args.attrs.numOrSizeSplits)} / axis ${JSON.stringify(args.attrs.axis)} do not fit: ${error instanceof Error ? error.message : String(error)}`,
        { x },
        error,
      );
    }
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const part = sliceKernel({
        inputs: { x },
        backend: args.backend,
        attrs: { begin: [...begin], size },
      } as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
      begin[axis]! += s;
      return part;
    });
  };
}

/**
 * Softmax over the last axis in one pass per row, with the roundings of
 * tfjs's cpu kernel (its max, sub, exp, sum and div kernels, each rounding to
 * float32; the row sum accumulated in double), so the output is the cpu
 * kernel's to the bit. The cpu kernel broadcasts element by element: 14 ms
 * for the [200, 16, 16] attention scores of the Transformer block.
 */
function softmax(): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const logits = input(args, 'Softmax', 'logits');
    const rank = logits.shape.length;
    const dim = args.attrs.dim as number;
    const size = util.sizeFromShape(logits.shape);
    // Non-last axes (which tfjs refuses with its own message), other dtypes, scalars and empty tensors: the cpu kernel.
    if (logits.dtype !== 'float32' || rank === 0 || size === 0 || (dim !== -1 && dim !== rank - 1)) {
      return runCpu('Softmax', args);
    }
    const k = logits.shape[rank - 1]!;
    const x = f32(args.backend, logits);
    const out = newOutput(size, true);
    for (let row = 0; row < size; row += k) {
      let max = x[row]!;
      // tfjs's max also lets a NaN win; either way a NaN in the row makes the sum, so every output, NaN.
      for (let j = 1; j < k; j++) if (x[row + j]! > max) max = x[row + j]!;
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.fround(Math.exp(Math.fround(x[row + j]! - max)));
        out[row + j] = e;
        sum += e;
      }
      const total = Math.fround(sum);
      for (let j = 0; j < k; j++) out[row + j] = out[row + j]! / total;
    }
    return output(args.backend, [...logits.shape], out);
  };
}

/** StridedSlice with positive strides and no new/shrunk axes mid-way copies natively. */
function stridedSlice(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'StridedSlice', 'x');
    if (x.dtype !== 'float32') return runCpu('StridedSlice', args);
    const a = args.attrs as Record<string, number | number[]>;
    let info: slice_util.SliceInfo;
    try {
      info = slice_util.sliceInfo(
        [...x.shape],
        a.begin as number[],
        a.end as number[],
        a.strides as number[],
        (a.beginMask as number) ?? 0,
        (a.endMask as number) ?? 0,
        (a.ellipsisMask as number) ?? 0,
        (a.newAxisMask as number) ?? 0,
        (a.shrinkAxisMask as number) ?? 0,
      );
    } catch (error) {
      throw badShape('StridedSlice', 'begin/end/strides do not fit the input', { x }, error);
    }
    const { finalShapeSparse: box, finalShape, begin, strides } = info;
    if (
      info.isIdentity ||
      info.sliceDim0 ||
      info.isSimpleSlice ||
      box.length !== x.shape.length ||
      strides.some((st) => st < 1) ||
      isEmpty(box)
    ) {
      return runCpu('StridedSlice', args);
    }
    const out = newOutput(util.sizeFromShape(box), true);
    const xv = f32(args.backend, x);
    call('StridedSlice', { x }, () =>
      addon.copyBox(
        'StridedSlice',
        xv,
        [...x.shape],
        begin,
        strides,
        out,
        box,
        box.map(() => 0),
        box,
      ),
    );
    return output(args.backend, finalShape, out);
  };
}

function transpose(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'Transpose', 'x');
    const perm = args.attrs.perm as number[];
    const rank = x.shape.length;
    if (
      !Array.isArray(perm) ||
      perm.length !== rank ||
      [...perm].sort((p, q) => p - q).some((p, i) => p !== i)
    ) {
      throw badShape('Transpose', `perm ${JSON.stringify(perm)} is not a permutation of the ${rank} axes`, {
        x,
      });
    }
    if (x.dtype !== 'float32' || isEmpty(x.shape)) return runCpu('Transpose', args);
    const outShape = perm.map((p) => x.shape[p]!);
    const out = newOutput(util.sizeFromShape(outShape), true);
    const xv = f32(args.backend, x);
    call('Transpose', { x }, () => addon.transpose(xv, [...x.shape], perm, out));
    return output(args.backend, outShape, out);
  };
}

function padV2(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'PadV2', 'x');
    const paddings = args.attrs.paddings as [number, number][];
    if (!Array.isArray(paddings) || paddings.length !== x.shape.length) {
      throw badShape('PadV2', `paddings ${JSON.stringify(paddings)} must have one [before, after] per axis`, {
        x,
      });
    }
    if (x.dtype !== 'float32' || isEmpty(x.shape)) return runCpu('PadV2', args);
    const before = paddings.map((p) => p[0]);
    const outShape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
    const out = newOutput(util.sizeFromShape(outShape), false);
    const constant = Number(args.attrs.constantValue ?? 0);
    if (constant !== 0) out.fill(constant);
    const xv = f32(args.backend, x);
    call('PadV2', { x }, () =>
      addon.copyBox(
        'PadV2',
        xv,
        [...x.shape],
        x.shape.map(() => 0),
        x.shape.map(() => 1),
        out,
        outShape,
        before,
        [...x.shape],
      ),
    );
    return output(args.backend, outShape, out);
  };
}

/**
 * Tile where it is a broadcast (every axis either has size 1 or is not
 * repeated): what `tf.broadcastTo` runs, e.g. in `@moprune/backend`'s Mean and
 * Sum gradients. Other repetitions use the cpu kernel.
 */
function tile(addon: NativeAddon): KernelFunc {
  return (raw) => {
    const args = raw as unknown as Args;
    const x = input(args, 'Tile', 'x');
    const reps = args.attrs.reps as number[];
    if (
      !Array.isArray(reps) ||
      reps.length !== x.shape.length ||
      reps.some((r) => !Number.isInteger(r) || r < 0)
    ) {
      throw badShape('Tile', `reps ${JSON.stringify(reps)} must hold one non-negative integer per axis`, {
        x,
      });
    }
    const broadcast = x.shape.every((d, i) => d === 1 || reps[i] === 1);
    if (x.dtype !== 'float32' || x.shape.length === 0 || !broadcast) return runCpu('Tile', args);
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const out = newOutput(util.sizeFromShape(outShape), true);
    if (out.length > 0) {
      const xv = f32(args.backend, x);
      call('Tile', { x }, () => addon.broadcastTo(xv, [...x.shape], out, outShape));
    }
    return output(args.backend, outShape, out);
  };
}

/** The kernel configs that replace the cpu kernels of {@link NATIVE_KERNEL_NAMES} on the native backend. */
export function nativeKernelConfigs(addon: NativeAddon): KernelConfig[] {
  const funcs: Record<(typeof NATIVE_KERNEL_NAMES)[number], KernelFunc> = {
    BatchMatMul: batchMatMul(addon),
    _FusedMatMul: fusedMatMul(addon),
    Conv2D: conv2D(addon),
    FusedConv2D: fusedConv2D(addon),
    Conv2DBackpropInput: conv2DBackpropInput(addon),
    Conv2DBackpropFilter: conv2DBackpropFilter(addon),
    MaxPool: pool('MaxPool', addon),
    MaxPoolGrad: pool('MaxPoolGrad', addon),
    AvgPool: pool('AvgPool', addon),
    AvgPoolGrad: pool('AvgPoolGrad', addon),
    Add: binary('Add', addon),
    AddN: addN(addon),
    Sub: binary('Sub', addon),
    Multiply: binary('Multiply', addon),
    RealDiv: binary('RealDiv', addon),
    Relu: unary('Relu', addon),
    Step: unary('Step', addon),
    Square: unary('Square', addon),
    Abs: unary('Abs', addon),
    Exp: unary('Exp', addon),
    Sign: unary('Sign', addon),
    Sum: reduce('Sum', addon),
    Mean: reduce('Mean', addon),
    Slice: slice(addon),
    StridedSlice: stridedSlice(addon),
    SplitV: splitV(addon),
    Softmax: softmax(),
    PadV2: padV2(addon),
    FusedBatchNorm: fusedBatchNorm(addon),
    Transpose: transpose(addon),
    Tile: tile(addon),
    [BATCH_NORM_TRAINING_KERNEL]: batchNormTraining(addon),
    [BATCH_NORM_TRAINING_GRAD_KERNEL]: batchNormTrainingGrad(addon),
    MopruneReluGrad: reluGrad(addon),
    [BIAS_ADD_RELU_KERNEL]: biasAddRelu(addon),
    [BIAS_ADD_RELU_GRAD_KERNEL]: biasAddReluGrad(addon),
    [ADAM_UPDATE_KERNEL]: adamUpdate(addon),
    [SOFTMAX_CROSS_ENTROPY_KERNEL]: softmaxCrossEntropy(),
    [SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL]: softmaxCrossEntropyGrad(),
    [SUM_OF_SQUARES_KERNEL]: sumOver(SUM_OF_SQUARES_KERNEL, (x) => addon.sumSquares(x)),
    [SUM_OF_ABS_KERNEL]: sumOver(SUM_OF_ABS_KERNEL, (x) => addon.sumAbs(x)),
    [GATHER_BYTE_ROWS_KERNEL]: gatherByteRows(addon),
    [SGD_UPDATE_KERNEL]: sgdUpdate(addon),
    [MOVING_AVERAGE_KERNEL]: movingAverage(addon),
  };
  return NATIVE_KERNEL_NAMES.map((kernelName) => ({
    kernelName,
    backendName: NATIVE_BACKEND_NAME,
    kernelFunc: funcs[kernelName],
  }));
}
