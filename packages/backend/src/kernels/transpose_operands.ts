import type {
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/** Marks kernel configs this package created, so wrapping twice is detected. */
const WRAPPED = Symbol.for('@moprune/backend/wrapped-kernel');

type WrappedConfig = KernelConfig & { [WRAPPED]?: KernelConfig };

/**
 * Wraps a backend's matmul-like kernel (inputs `a`, `b`; attrs `transposeA`,
 * `transposeB`) so that transposed operands are materialized with the
 * backend's own Transpose kernel and the wrapped kernel always runs
 * untransposed. wasm's XNNPACK matmul is ~10× slower with either transpose
 * flag set (measured: 18.9 ms vs 2.2 ms for 784×128 · 128×300), and every
 * matmul gradient and tfjs's fused matmul gradient use those flags.
 * Re-registering is idempotent: an already wrapped kernel is left alone.
 */
export function registerUntransposedMatMul(kernelName: string, backendName: string): void {
  const current = tf.getKernel(kernelName, backendName) as WrappedConfig | undefined;
  if (current === undefined || current[WRAPPED] !== undefined) return;
  const original = current;
  const transposeKernel = tf.getKernel(tf.Transpose, backendName);
  if (transposeKernel === undefined) return;
  const transposeLastTwo = (t: TensorInfo, backend: KernelBackend): TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    perm[r - 1] = r - 2;
    perm[r - 2] = r - 1;
    return transposeKernel.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
  };
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as KernelBackend;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original.kernelFunc(args);
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const aPlain = transposeA ? transposeLastTwo(a, backend) : a;
    const bPlain = transposeB ? transposeLastTwo(b, backend) : b;
    const plainAttrs: NamedAttrMap = { ...attrs, transposeA: false, transposeB: false };
    try {
      return original.kernelFunc({ inputs: { ...inputs, a: aPlain, b: bPlain }, backend, attrs: plainAttrs });
    } finally {
      if (aPlain !== a) backend.disposeData(aPlain.dataId);
      if (bPlain !== b) backend.disposeData(bPlain.dataId);
    }
  };
  const wrapped: WrappedConfig = { ...original, kernelFunc, [WRAPPED]: original };
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(wrapped);
}
