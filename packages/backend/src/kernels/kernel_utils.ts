import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';

/** Marks kernel configs this package created, so wrapping twice is detected. */
const WRAPPED = Symbol.for('@moprune/backend/wrapped-kernel');

type WrappedConfig = KernelConfig & { [WRAPPED]?: true };

/** The arguments tfjs passes to a kernel function, with the backend typed. */
export interface KernelArgs {
  readonly inputs: Record<string, TensorInfo | undefined>;
  readonly backend: KernelBackend;
  readonly attrs: Record<string, unknown>;
}

/** The kernel function of `kernelName` on `backendName`, typed for direct calls between kernels. */
export function kernelOf(kernelName: string, backendName: string): (args: KernelArgs) => TensorInfo {
  const config = tf.getKernel(kernelName, backendName);
  if (config === undefined)
    throw new Error(`kernel ${kernelName} is not registered for backend ${backendName}`);
  return config.kernelFunc as unknown as (args: KernelArgs) => TensorInfo;
}

/**
 * Replaces the kernel `kernelName` of `backendName` by `make(original)`,
 * keeping the original's setup/dispose hooks. Idempotent: a kernel this
 * package already wrapped is left alone, so `initBackend` may run many times.
 * Does nothing when the backend has no such kernel.
 */
export function wrapKernel(
  kernelName: string,
  backendName: string,
  make: (original: (args: KernelArgs) => TensorInfo) => (args: KernelArgs) => TensorInfo,
): void {
  const current = tf.getKernel(kernelName, backendName) as WrappedConfig | undefined;
  if (current === undefined || current[WRAPPED] === true) return;
  const wrapped: WrappedConfig = {
    ...current,
    kernelFunc: make(
      current.kernelFunc as unknown as (args: KernelArgs) => TensorInfo,
    ) as unknown as KernelFunc,
    [WRAPPED]: true,
  };
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(wrapped);
}

/** Registers a kernel this package implements outright (once). */
export function replaceKernel(config: KernelConfig): void {
  const current = tf.getKernel(config.kernelName, config.backendName) as WrappedConfig | undefined;
  if (current?.[WRAPPED] === true) return;
  if (current !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel({ ...config, [WRAPPED]: true } as WrappedConfig);
}

/** Transposes the last two axes with the backend's own Transpose kernel. */
export function transposeLastTwo(t: TensorInfo, backend: KernelBackend, backendName: string): TensorInfo {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return kernelOf(tf.Transpose, backendName)({ inputs: { x: t }, backend, attrs: { perm } });
}

/**
 * Runs `run` on materialized untransposed operands a and b: wasm's XNNPACK
 * matmul is ~10× slower with either transpose flag set (measured 18.9 ms vs
 * 2.2 ms for 784×128 · 128×300), and every matmul gradient — including
 * tfjs's fused-matmul gradient, which no registered gradient can replace —
 * passes those flags. Temporaries are released before returning.
 */
export function withUntransposedOperands(
  args: KernelArgs,
  backendName: string,
  run: (args: KernelArgs) => TensorInfo,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  if (attrs.transposeA !== true && attrs.transposeB !== true) return run(args);
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  const aPlain = attrs.transposeA === true ? transposeLastTwo(a, backend, backendName) : a;
  const bPlain = attrs.transposeB === true ? transposeLastTwo(b, backend, backendName) : b;
  try {
    return run({
      inputs: { ...inputs, a: aPlain, b: bPlain },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
  } finally {
    if (aPlain !== a) backend.disposeData(aPlain.dataId);
    if (bPlain !== b) backend.disposeData(bPlain.dataId);
  }
}
