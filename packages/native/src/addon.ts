import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the compiled addon reports about itself. */
export interface NativeAddonInfo {
  /** BLAS library the kernels call. */
  readonly library: 'openblas';
  /** OpenBLAS build configuration string (version, target core, threading). */
  readonly config: string;
  /** CPU kernel family OpenBLAS selected at load time. */
  readonly corename: string;
  /** Threads the kernels use (our pool and OpenBLAS alike). */
  readonly threads: number;
  /**
   * Times the kernel thread pool switched from spinning between jobs to blocking because its workers
   * were being preempted — another busy process shares the cores; it tries spinning again 2 s later.
   */
  readonly poolBackoffs: number;
  /** True while the pool blocks between jobs instead of spinning (see `poolBackoffs`). */
  readonly poolBlocking: boolean;
  /** Convolution kernels in use: oneDNN's direct kernels or im2col + sgemm. */
  readonly convolution: 'onednn' | 'im2col';
  /** oneDNN's version when the addon was built with it, else null. */
  readonly onednn: string | null;
  /**
   * The one-input-channel, stride-1 direct convolution (forward always; filter
   * gradient when `convolution` is 'im2col'): the instruction set it runs on,
   * or null on CPUs without AVX2 + FMA (or when switched off).
   */
  readonly directConvolution: 'avx512' | 'avx2' | null;
}

/**
 * The raw Node-API functions. Sizes are integers; geometry arrays hold
 * [batch, inH, inW, inC, filterH, filterW, outC, outH, outW, strideH, strideW,
 * dilationH, dilationW, padTop, padLeft]. Outputs are written into `out`.
 * Every call validates its arguments and throws a `RangeError` naming the
 * kernel on any mismatch.
 */
export interface NativeAddon {
  setThreads(threads: number): void;
  /** Chooses the convolution kernels; false (nothing changed) for 'onednn' in an addon built without it. */
  setConvImplementation(name: 'onednn' | 'im2col'): boolean;
  /**
   * The direct one-input-channel kernels: 'auto' (the best the CPU has), one
   * instruction set, or 'off' (the general path). For benchmarks and tests;
   * false (nothing changed) when the CPU lacks that instruction set.
   */
  setDirectConvolution(mode: 'auto' | 'avx512' | 'avx2' | 'off'): boolean;
  /** Tells glibc's malloc to keep freed memory for reuse (see backend.ts); false where unsupported. */
  keepFreedMemory(): boolean;
  info(): NativeAddonInfo;
  matMul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  conv2D(x: Float32Array, filter: Float32Array, out: Float32Array, geometry: number[]): void;
  conv2DBackpropInput(dy: Float32Array, filter: Float32Array, out: Float32Array, geometry: number[]): void;
  conv2DBackpropFilter(x: Float32Array, dy: Float32Array, out: Float32Array, geometry: number[]): void;
  biasActivation(y: Float32Array, bias: Float32Array | null, channels: number, activation: number): void;
  maxPool(x: Float32Array, out: Float32Array, geometry: number[]): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, out: Float32Array, geometry: number[]): void;
  avgPool(x: Float32Array, out: Float32Array, geometry: number[]): void;
  avgPoolGrad(dy: Float32Array, out: Float32Array, geometry: number[]): void;
  /** op: 0 add, 1 sub, 2 mul, 3 div; `out.length` = the larger input length, a multiple of both. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** General broadcast: shapes of equal rank, each axis equal to out's or 1. */
  binaryBroadcast(
    op: number,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    out: Float32Array,
    outShape: number[],
  ): void;
  /** out = x broadcast to outShape (same rank; each x axis 1 or equal to out's). */
  broadcastTo(x: Float32Array, xShape: number[], out: Float32Array, outShape: number[]): void;
  /** out = x with axes permuted (out axis d is x axis perm[d]). */
  transpose(x: Float32Array, shape: number[], perm: number[], out: Float32Array): void;
  /** out[r, c] = (x[r, c] − center[c]) · scale[c] + shift[c]; channels = scale.length. */
  channelAffine(
    x: Float32Array,
    out: Float32Array,
    center: Float32Array,
    scale: Float32Array,
    shift: Float32Array,
  ): void;
  /**
   * Training-mode batch norm of x viewed as [rows, channels] (channels =
   * scale.length): writes the batch mean and biased variance per channel
   * and y = (x − mean)·scale/√(variance + epsilon) + offset, clamped at 0
   * when `relu`.
   */
  batchNormTraining(
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    epsilon: number,
    relu: boolean,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  /** The exact gradient of {@link NativeAddon.batchNormTraining}'s y (see `@moprune/core`'s kernel contract). */
  batchNormTrainingGrad(
    dy: Float32Array,
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    epsilon: number,
    relu: boolean,
    dx: Float32Array,
    dscale: Float32Array,
    doffset: Float32Array,
  ): void;
  /** out = dy where x > 0, dy·0 where x ≤ 0, NaN where x is NaN (tfjs's dy·step(x)), in one pass. */
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void;
  /** Σ x[i]², each square and sum in double (sixteen interleaved partial sums, one thread). */
  sumSquares(x: Float32Array): number;
  /** Σ |x[i]| in double, the same way as `sumSquares`. */
  sumAbs(x: Float32Array): number;
  /**
   * out[k·rowSize + p] = lut[(p mod channels)·256 + source[rows[k]·rowSize + p]], channels = lut.length / 256
   * (see `@moprune/core`'s GATHER_BYTE_ROWS_KERNEL); every row index checked before any write.
   */
  gatherByteRows(
    source: Uint8Array,
    rows: Uint32Array,
    rowSize: number,
    lut: Float32Array,
    out: Float32Array,
  ): void;
  /**
   * One Adam update in float (see `@moprune/core`'s ADAM_UPDATE_KERNEL): the new value, m and v into the
   * three outputs; `scale` is lr·√bc2/bc1 (raw ε) or lr (corrected ε, which divides by bc1 and bc2 inside).
   */
  adamUpdate(
    value: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    valueOut: Float32Array,
    mOut: Float32Array,
    vOut: Float32Array,
    beta1: number,
    beta2: number,
    epsilon: number,
    scale: number,
    bc1: number,
    bc2: number,
    corrected: boolean,
  ): void;
  /** One step of a moving average (@moprune/core's MopruneMovingAverage): out = average·β + value·(1 − β) in float. */
  movingAverage(average: Float32Array, value: Float32Array, out: Float32Array, decay: number): void;
  /**
   * One SGD update (@moprune/core's MopruneSgdUpdate) into fresh outputs; `style` 0 is plain SGD
   * (`momentum`, `momentumOut` null), 1 PyTorch's momentum, 2 Keras's.
   */
  sgdUpdate(
    value: Float32Array,
    grad: Float32Array,
    momentum: Float32Array | null,
    valueOut: Float32Array,
    momentumOut: Float32Array | null,
    lr: number,
    mu: number,
    style: number,
    nesterov: boolean,
  ): void;
  /** out = max(x + bias, 0) with bias (C floats) repeating along x; NaN stays NaN. */
  biasAddRelu(x: Float32Array, bias: Float32Array, out: Float32Array): void;
  /** dx = dy·step(y) (as reluGrad) and dbias = column sums of dx, rows of dbias.length, in one pass. */
  biasAddReluGrad(dy: Float32Array, y: Float32Array, dx: Float32Array, dbias: Float32Array): void;
  /** op: 0 relu, 1 step (x > 0 ? 1 : alpha), 2 square, 3 abs, 4 sign (0 for ±0 and NaN, as tfjs's cpu), 5 exp (in double, as tfjs's cpu). */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** Sums x viewed as [outer, mid, inner] over mid into out [outer, inner]. */
  sumAxes(x: Float32Array, out: Float32Array, outer: number, mid: number, inner: number): void;
  /**
   * Copies `box` (elements per axis) from src at srcBegin, stepping srcStep,
   * into dst at dstBegin; `kernel` names the caller in error messages.
   */
  copyBox(
    kernel: string,
    src: Float32Array,
    srcShape: number[],
    srcBegin: number[],
    srcStep: number[],
    dst: Float32Array,
    dstShape: number[],
    dstBegin: number[],
    box: number[],
  ): void;
}

/** Result of {@link loadNativeAddon}. */
export type NativeAddonLoad =
  | { readonly ok: true; readonly addon: NativeAddon }
  | { readonly ok: false; readonly reason: string };

let cached: NativeAddonLoad | undefined;

/**
 * Path of the compiled addon: `build/Release/moprune_native.node` in the
 * package root (one level above both `src/` and `dist/`), unless the
 * environment variable `MOPRUNE_NATIVE_ADDON` names another file.
 */
export function nativeAddonPath(): string {
  const override = process.env.MOPRUNE_NATIVE_ADDON;
  if (override) return override;
  return fileURLToPath(new URL('../build/Release/moprune_native.node', import.meta.url));
}

/**
 * Loads the addon once per process. Never throws: when the addon was not built
 * (no OpenBLAS or compiler at install time) or its shared library is missing
 * at run time, the result carries a one-line reason.
 */
export function loadNativeAddon(): NativeAddonLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

/**
 * OpenBLAS 0.3.21 (Debian 12) does not know AMD Zen 4/5 and runs its AVX2
 * kernels there (and machines are often set up with OPENBLAS_CORETYPE=Haswell
 * to pin that fallback); its AVX-512 'SkylakeX' sgemm measured 1.5–1.8× faster
 * on this project's Zen 5 machines (see README). So on a CPU with the AVX-512
 * subsets those kernels need, an unset or AVX2-level core type (Haswell, Zen)
 * is raised to SkylakeX, the kernel OpenBLAS itself picks on Intel AVX-512
 * CPUs. MOPRUNE_OPENBLAS_CORETYPE, when set, is used as given. This must run
 * before the shared library loads: OpenBLAS reads the variable once, then.
 */
function chooseOpenBlasCore(): void {
  const forced = process.env.MOPRUNE_OPENBLAS_CORETYPE;
  if (forced) {
    process.env.OPENBLAS_CORETYPE = forced;
    return;
  }
  const current = (process.env.OPENBLAS_CORETYPE ?? '').toLowerCase();
  if (!['', 'haswell', 'zen'].includes(current) || process.platform !== 'linux' || process.arch !== 'x64')
    return;
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
    if (['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))) {
      process.env.OPENBLAS_CORETYPE = 'SkylakeX';
    }
  } catch {
    // No /proc: keep OpenBLAS's own choice.
  }
}

function tryLoad(): NativeAddonLoad {
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    const reasonFile = fileURLToPath(new URL('../build/unavailable.txt', import.meta.url));
    const why = existsSync(reasonFile)
      ? readFileSync(reasonFile, 'utf8').trim()
      : 'the install step did not build it';
    return {
      ok: false,
      reason: `addon ${path} not built: ${why} (rebuild: pnpm --filter @moprune/native build:addon)`,
    };
  }
  chooseOpenBlasCore();
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as NativeAddon;
    addon.info();
    return { ok: true, addon };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `cannot load ${path}: ${message.split('\n')[0]}` };
  }
}
