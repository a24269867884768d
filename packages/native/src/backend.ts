import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  type BackendValues,
  type DataId,
  type DataType,
  findBackendFactory,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
} from '@tensorflow/tfjs-core';
import { loadNativeAddon, type NativeAddonInfo } from './addon.js';
import { NativeError } from './errors.js';
import { NATIVE_BACKEND_NAME, NATIVE_KERNEL_NAMES, nativeKernelConfigs } from './kernels.js';
import { outputPool } from './pool.js';

/**
 * The `cpu` backend's storage (plain TypedArrays in `data`), so every cpu
 * kernel runs on it unchanged and the native kernels read the same arrays in
 * place.
 */
class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // MathBackendCPU's first write prints "install tfjs-node to speed things up"; here that advice is wrong.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  // The hooks below tell the output pool (pool.ts) when an array enters the
  // store, is handed out, or is dropped, so only arrays nobody else can see are reused.

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    outputPool.stored(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: DataId,
    values: BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    outputPool.stored(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): BackendValues {
    if (this.data.has(dataId)) outputPool.exposed(this.data.get(dataId).values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) outputPool.released(values);
    return released;
  }

  override dispose(): void {
    outputPool.clear();
    super.dispose();
  }
}

/** Options of {@link registerNativeBackend}. */
export interface NativeBackendOptions {
  /**
   * Threads for the kernels (our pool and OpenBLAS).
   * @default the environment variable MOPRUNE_NATIVE_THREADS, else every core the OS reports
   */
  readonly threads?: number;
  /**
   * Priority passed to `tf.registerBackend`: above wasm (2) and cpu (1), below tfjs-node (3),
   * so TensorFlow.js's own default choice follows moprune's order too.
   * @default 2.5
   */
  readonly priority?: number;
  /**
   * Convolution kernels: oneDNN's direct kernels (`'onednn'`, when the addon
   * was built with oneDNN) or im2col + OpenBLAS sgemm (`'im2col'`).
   * @default the environment variable MOPRUNE_NATIVE_CONV, else 'onednn' when built in
   */
  readonly convolution?: 'onednn' | 'im2col';
}

/** Result of {@link registerNativeBackend}: never throws for a missing addon, says why instead. */
export type NativeRegistration =
  | { readonly ok: true; readonly name: typeof NATIVE_BACKEND_NAME; readonly info: NativeAddonInfo }
  | { readonly ok: false; readonly reason: string };

let registered: NativeRegistration | undefined;

function threadsFrom(options: NativeBackendOptions): number | undefined {
  const raw =
    options.threads ??
    (process.env.MOPRUNE_NATIVE_THREADS ? Number(process.env.MOPRUNE_NATIVE_THREADS) : undefined);
  if (raw === undefined) return undefined;
  if (!Number.isInteger(raw) || raw < 1 || raw > 256) {
    throw new NativeError('INVALID_OPTION', `threads must be an integer in [1, 256], got ${String(raw)}`, {
      issues: [{ path: 'threads', message: 'must be an integer in [1, 256]' }],
    });
  }
  return raw;
}

function convolutionFrom(options: NativeBackendOptions): 'onednn' | 'im2col' | undefined {
  const raw = options.convolution ?? (process.env.MOPRUNE_NATIVE_CONV || undefined);
  if (raw === undefined || raw === 'onednn' || raw === 'im2col') return raw;
  throw new NativeError('INVALID_OPTION', `convolution must be 'onednn' or 'im2col', got '${String(raw)}'`, {
    issues: [{ path: 'convolution', message: "must be 'onednn' or 'im2col'" }],
  });
}

/**
 * Registers the TensorFlow.js backend `'native'`: the cpu backend with its hot
 * kernels (see {@link NATIVE_KERNEL_NAMES}) replaced by OpenBLAS-backed C++.
 * Every other kernel is the cpu backend's, so any model that runs on `cpu`
 * runs here. Never throws for a missing addon: the result says why.
 * Idempotent: later calls return the first result (a `threads` option still
 * takes effect). Does not select the backend: call `await tf.setBackend('native')`.
 *
 * @returns `{ ok: true, name: 'native', info }`, or `{ ok: false, reason }` with a
 * one-line reason when the addon is not built or cannot load.
 * @throws NativeError `INVALID_OPTION` for a bad `threads` or `convolution` value, or
 * `convolution: 'onednn'` (or MOPRUNE_NATIVE_CONV=onednn) in an addon built without oneDNN.
 */
export function tryRegisterNativeBackend(options: NativeBackendOptions = {}): NativeRegistration {
  const threads = threadsFrom(options);
  const conv = convolutionFrom(options);
  if (registered) {
    if (registered.ok && (threads !== undefined || options.convolution !== undefined)) {
      const loaded = loadNativeAddon();
      if (loaded.ok) {
        if (threads !== undefined) loaded.addon.setThreads(threads);
        if (options.convolution !== undefined && !loaded.addon.setConvImplementation(options.convolution)) {
          throw new NativeError(
            'INVALID_OPTION',
            "convolution 'onednn' requested, but the addon was built without oneDNN",
            {
              issues: [{ path: 'convolution', message: 'oneDNN is not built in' }],
            },
          );
        }
        registered = { ...registered, info: loaded.addon.info() };
      }
    }
    return registered;
  }
  const loaded = loadNativeAddon();
  if (!loaded.ok) {
    registered = { ok: false, reason: loaded.reason };
    return registered;
  }
  const { addon } = loaded;
  if (threads !== undefined) addon.setThreads(threads);
  // A forced oneDNN in an addon without it is a set-up error, not a reason to fall back silently.
  if (conv !== undefined && !addon.setConvImplementation(conv)) {
    throw new NativeError(
      'INVALID_OPTION',
      "convolution 'onednn' requested, but the addon was built without oneDNN",
      {
        issues: [{ path: 'convolution', message: 'oneDNN is not built in' }],
      },
    );
  }
  // Every op allocates its output afresh; by default glibc maps and unmaps big
  // blocks each time, and the page faults cost more than a relu itself
  // (1.3 ms vs 0.2 ms on a 128×28×28×6 tensor). MOPRUNE_NATIVE_MALLOC=default keeps glibc's policy.
  if (process.env.MOPRUNE_NATIVE_MALLOC !== 'default') addon.keepFreedMemory();
  if (!findBackendFactory(NATIVE_BACKEND_NAME)) {
    registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(), options.priority ?? 2.5);
    const replaced = new Set<string>(NATIVE_KERNEL_NAMES);
    for (const config of getKernelsForBackend('cpu')) {
      if (!replaced.has(config.kernelName)) registerKernel({ ...config, backendName: NATIVE_BACKEND_NAME });
    }
    for (const config of nativeKernelConfigs(addon)) registerKernel(config);
  }
  registered = { ok: true, name: NATIVE_BACKEND_NAME, info: addon.info() };
  return registered;
}

/**
 * {@link tryRegisterNativeBackend}, throwing when the native kernels are
 * unavailable. This is the hook `@moprune/backend`'s `initBackend` calls: it
 * returns the tfjs backend name to activate, and its error message is the
 * one-line reason initBackend logs before falling back to wasm.
 * @returns `'native'`
 * @throws NativeError `NATIVE_UNAVAILABLE` with the reason (addon not built, shared library missing …).
 */
export function registerNativeBackend(options: NativeBackendOptions = {}): typeof NATIVE_BACKEND_NAME {
  const result = tryRegisterNativeBackend(options);
  if (!result.ok) {
    throw new NativeError('NATIVE_UNAVAILABLE', `native kernels unavailable: ${result.reason}`, {
      details: { reason: result.reason },
    });
  }
  return result.name;
}
