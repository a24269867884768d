import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { BackendError } from '../errors.js';
import { type BackendName, type InitBackendOptions, initBackend } from '../init.js';
import { GRADIENT_CHECKS, type GradientCheck } from './checks.js';
import { type Arr, arr } from './reference.js';

export { GRADIENT_CHECKS, type GradientCheck } from './checks.js';

/**
 * The one tolerance of the suite: a float32 gradient g matches the float64
 * reference r when |g − r| ≤ GRADIENT_TOLERANCE · max(1, |g|, |r|). Forward
 * outputs are held to the same bound.
 */
export const GRADIENT_TOLERANCE = 2e-3;

/** Central-difference step of the float64 reference (error ~h² ≈ 1e-12, far below the tolerance). */
const FD_STEP = 1e-6;

/** Options of {@link runGradientSuite}. */
export interface GradientSuiteOptions {
  /** The backend to check; it is initialized with `initBackend({ backend })`. */
  readonly backend: BackendName;
  /** Run only these checks (names in {@link GRADIENT_CHECKS}). @default all */
  readonly include?: readonly string[];
  /** Skip these checks. @default none */
  readonly exclude?: readonly string[];
  /** Seed of case generation and input values. @default 20240601 */
  readonly seed?: number;
  /** Throw a `GRADIENT_MISMATCH` BackendError when a case fails. @default true */
  readonly throwOnFailure?: boolean;
  /** Passed to `initBackend` (e.g. `loadNative` for a backend package testing itself). @default {} */
  readonly init?: Omit<InitBackendOptions, 'backend'>;
}

/** The outcome of one generated case. */
export interface GradientCaseResult {
  /** The check's name. */
  readonly check: string;
  /** The generated case, as JSON. */
  readonly case: string;
  /** Largest scaled error over forward values and all input gradients. */
  readonly maxError: number;
  /** What disagreed most (e.g. `grad[1][7]`). */
  readonly worst: string;
  /** maxError ≤ GRADIENT_TOLERANCE. */
  readonly passed: boolean;
}

/** What {@link runGradientSuite} found. */
export interface GradientSuiteReport {
  /** The tfjs backend the suite ran on. */
  readonly backend: string;
  /** Every case, in order. */
  readonly results: readonly GradientCaseResult[];
  /** The cases that failed. */
  readonly failures: readonly GradientCaseResult[];
}

/** mulberry32: input values and upstream weights, reproducible per seed. */
function uniforms(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function scaledError(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b))
    return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
}

// biome-ignore lint/suspicious/noExplicitAny: see GRADIENT_CHECKS.
function runCase(check: GradientCheck<any>, c: unknown, seed: number): GradientCaseResult {
  const shapes = check.inputShapes(c);
  const values = shapes.map((shape, i) =>
    uniforms(
      seed * 31 + i,
      shape.reduce((a, b) => a * b, 1),
    ),
  );
  const refInputs = values.map((v, i) => arr(v, shapes[i]!));
  const expected = check.reference(c, refInputs);
  const weights = uniforms(seed * 31 + 17, expected.data.length);
  const loss64 = (inputs: Arr[]) => {
    const out = check.reference(c, inputs).data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * weights[i]!;
    return s;
  };
  const numeric = refInputs.map((input, which) => {
    const g = new Float64Array(input.data.length);
    for (let j = 0; j < input.data.length; j++) {
      const orig = input.data[j]!;
      input.data[j] = orig + FD_STEP;
      const up = loss64(refInputs);
      input.data[j] = orig - FD_STEP;
      const down = loss64(refInputs);
      input.data[j] = orig;
      g[j] = (up - down) / (2 * FD_STEP);
    }
    return { which, g };
  });
  const [forward, grads] = tf.tidy(() => {
    const xs = values.map((v, i) => tf.tensor(v, shapes[i]));
    const w = tf.tensor(weights, expected.shape as number[]);
    const out = check.forward(c, xs);
    const gs = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(check.forward(c, args), w)))(xs);
    return [out.dataSync().slice(), gs.map((g) => g.dataSync().slice())] as const;
  });
  let maxError = 0;
  let worst = '';
  const consider = (a: number, b: number, where: string) => {
    const e = scaledError(a, b);
    if (e > maxError) {
      maxError = e;
      worst = `${where}: got ${a}, expected ${b}`;
    }
  };
  if (forward.length !== expected.data.length) {
    consider(forward.length, expected.data.length, 'forward size');
  }
  forward.forEach((v, i) => {
    consider(v, expected.data[i]!, `forward[${i}]`);
  });
  for (const { which, g } of numeric) {
    const got = grads[which]!;
    g.forEach((v, i) => {
      consider(got[i]!, v, `grad[${which}][${i}]`);
    });
  }
  return {
    check: check.name,
    case: JSON.stringify(c),
    maxError,
    worst,
    passed: maxError <= GRADIENT_TOLERANCE,
  };
}

/**
 * Runs the gradient-correctness suite on one backend: for every check in
 * {@link GRADIENT_CHECKS}, fast-check generates small cases from a fixed
 * seed (shapes, strides, paddings, dilations, transposes), and the tfjs
 * forward output and gradients (of Σ f(x)·w for fixed random w) are compared
 * with central differences of a float64 plain-JS implementation.
 * Leaves `tf.memory().numTensors` unchanged. Runs in a few seconds on wasm.
 *
 * @throws {BackendError} `INVALID_ARGUMENT` for an unknown check name in
 *   include/exclude; `GRADIENT_MISMATCH` when a case fails (unless
 *   `throwOnFailure: false`); any error of `initBackend`.
 */
export async function runGradientSuite(options: GradientSuiteOptions): Promise<GradientSuiteReport> {
  const known = GRADIENT_CHECKS.map((c) => c.name);
  for (const key of ['include', 'exclude'] as const) {
    const unknown = (options[key] ?? []).filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      throw new BackendError(
        'INVALID_ARGUMENT',
        `Unknown gradient check(s) in ${key}: ${unknown.join(', ')}; known: ${known.join(', ')}.`,
        {
          issues: unknown.map((n) => ({
            path: `options.${key}`,
            message: `unknown check ${JSON.stringify(n)}`,
          })),
        },
      );
    }
  }
  await initBackend({ ...options.init, backend: options.backend, silent: options.init?.silent ?? true });
  const seed = options.seed ?? 20240601;
  const checks = GRADIENT_CHECKS.filter(
    (c) =>
      (options.include === undefined || options.include.includes(c.name)) &&
      !options.exclude?.includes(c.name),
  );
  const results: GradientCaseResult[] = [];
  checks.forEach((check, k) => {
    const cases = fc.sample(check.cases, { seed: seed + k, numRuns: check.runs });
    cases.forEach((c, i) => {
      results.push(runCase(check, c, seed + 1000 * k + i));
    });
  });
  const failures = results.filter((r) => !r.passed);
  const report = { backend: tf.getBackend(), results, failures };
  if (failures.length > 0 && options.throwOnFailure !== false) {
    const lines = failures
      .slice(0, 10)
      .map((f) => `  - ${f.check} ${f.case}: ${f.worst} (scaled error ${f.maxError.toExponential(2)})`);
    throw new BackendError(
      'GRADIENT_MISMATCH',
      `${failures.length} of ${results.length} gradient cases disagree with the float64 reference on '${report.backend}' (tolerance ${GRADIENT_TOLERANCE}):\n${lines.join('\n')}`,
      { details: { failures } },
    );
  }
  return report;
}
