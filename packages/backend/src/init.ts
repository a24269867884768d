import { createRequire } from 'node:module';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';
import { registerGradients } from './gradients/register_all.js';
import { registerKernels } from './kernels/register_all.js';
import { isNativeBackendModule, NATIVE_PACKAGE } from './native.js';
import { wasmBinaryDirectory } from './wasm_paths.js';

/** The backends `initBackend` knows, in its order of preference. */
export const BACKEND_NAMES = ['tensorflow', 'native', 'wasm', 'cpu'] as const;

/** A backend `initBackend` can select. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The environment variable that overrides the automatic choice. */
export const BACKEND_ENV_VAR = 'MOPRUNE_BACKEND';

/** The packages that provide the `tensorflow` backend, GPU build first. */
export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * The backend to use; `'auto'` picks the first that works of
   * {@link BACKEND_NAMES}. Takes precedence over the environment.
   * @default the value of `MOPRUNE_BACKEND`, else `'auto'`
   */
  readonly backend?: BackendName | 'auto';
  /**
   * How messages name where `backend` came from — a command line says
   * `'--backend native'`. @default `'options.backend'`
   */
  readonly requestedBy?: string;
  /**
   * Where `MOPRUNE_BACKEND` is read from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Receives the one line saying which backend was chosen and why.
   * @default writes the line to stderr
   */
  readonly logger?: (line: string) => void;
  /**
   * When true, nothing is logged.
   * @default false
   */
  readonly silent?: boolean;
  /**
   * Loads the native backend module (see {@link NativeBackendModule}).
   * @default resolves and imports `@moprune/native` when it is installed
   */
  readonly loadNative?: () => Promise<unknown>;
}

/** A backend that was tried and passed over, and why. */
export interface SkippedBackend {
  /** The backend that was passed over. */
  readonly backend: BackendName;
  /** Why, in words (package missing, load failure message …). */
  readonly reason: string;
}

/** What {@link initBackend} selected. */
export interface BackendSelection {
  /** The moprune backend name. */
  readonly backend: BackendName;
  /** The name tfjs knows the backend by (`tf.getBackend()`). */
  readonly tfBackend: string;
  /** What was asked for: a backend name, or `'auto'`. */
  readonly requested: BackendName | 'auto';
  /** Why this backend: where the request came from, or what auto-selection skipped. */
  readonly reason: string;
  /** Backends tried before this one in auto-selection. */
  readonly skipped: readonly SkippedBackend[];
  /**
   * False when no stock tfjs gradients are registered (only tfjs-core is
   * loaded): training then fails on the first gradient. Importing
   * `@tensorflow/tfjs` or `@tensorflow/tfjs-layers` registers them.
   */
  readonly stockGradients: boolean;
}

type Attempt =
  | { readonly status: 'ok'; readonly tfBackend: string; readonly detail: string }
  | { readonly status: 'missing'; readonly reason: string; readonly install: string }
  | { readonly status: 'failed'; readonly reason: string; readonly cause: unknown };

const localRequire = createRequire(import.meta.url);

function isResolvable(specifier: string): boolean {
  try {
    localRequire.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Imports a module whose name is only known at run time (keeps bundlers from resolving optional peers). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

async function activate(tfBackend: string): Promise<boolean> {
  try {
    return await tf.setBackend(tfBackend);
  } catch {
    return false;
  }
}

async function tryTensorflow(): Promise<Attempt> {
  for (const pkg of TENSORFLOW_PACKAGES) {
    if (!isResolvable(pkg)) continue;
    try {
      await importOptional(pkg);
    } catch (cause) {
      return {
        status: 'failed',
        reason: `${pkg} is installed but failed to load: ${messageOf(cause)}`,
        cause,
      };
    }
    if (await activate('tensorflow')) return { status: 'ok', tfBackend: 'tensorflow', detail: pkg };
    return {
      status: 'failed',
      reason: `${pkg} loaded but its 'tensorflow' backend did not initialize`,
      cause: undefined,
    };
  }
  return {
    status: 'missing',
    reason: 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed',
    install: 'add @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA) to your dependencies',
  };
}

let nativeBackendName: string | undefined;

async function tryNative(load: (() => Promise<unknown>) | undefined): Promise<Attempt> {
  if (nativeBackendName === undefined) {
    if (load === undefined && !isResolvable(NATIVE_PACKAGE)) {
      return {
        status: 'missing',
        reason: `${NATIVE_PACKAGE} is not installed`,
        install: `add ${NATIVE_PACKAGE} to your dependencies`,
      };
    }
    try {
      const mod = await (load ?? (() => importOptional(NATIVE_PACKAGE)))();
      if (!isNativeBackendModule(mod)) {
        throw new Error(`${NATIVE_PACKAGE} does not export registerNativeBackend()`);
      }
      nativeBackendName = await mod.registerNativeBackend();
    } catch (cause) {
      return { status: 'failed', reason: `${NATIVE_PACKAGE} failed to load: ${messageOf(cause)}`, cause };
    }
  }
  if (await activate(nativeBackendName))
    return { status: 'ok', tfBackend: nativeBackendName, detail: NATIVE_PACKAGE };
  return {
    status: 'failed',
    reason: `the '${nativeBackendName}' backend did not initialize`,
    cause: undefined,
  };
}

async function tryWasm(): Promise<Attempt> {
  try {
    setWasmPaths(wasmBinaryDirectory());
  } catch (cause) {
    // Thrown only when an earlier initialization was aborted; the backend then cannot start.
    return { status: 'failed', reason: `wasm backend cannot start: ${messageOf(cause)}`, cause };
  }
  if (await activate('wasm'))
    return { status: 'ok', tfBackend: 'wasm', detail: 'XNNPACK, single thread in Node' };
  return { status: 'failed', reason: 'the wasm backend did not initialize', cause: undefined };
}

async function tryCpu(): Promise<Attempt> {
  if (await activate('cpu')) return { status: 'ok', tfBackend: 'cpu', detail: 'pure JavaScript' };
  return { status: 'failed', reason: 'the cpu backend did not initialize', cause: undefined };
}

function attempt(name: BackendName, options: InitBackendOptions): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow();
    case 'native':
      return tryNative(options.loadNative);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

function parseRequest(options: InitBackendOptions): { requested: BackendName | 'auto'; source: string } {
  const env = options.env ?? process.env;
  const fromOptions = options.backend !== undefined;
  const raw = fromOptions ? options.backend : env[BACKEND_ENV_VAR];
  const path = fromOptions ? 'options.backend' : `env.${BACKEND_ENV_VAR}`;
  const value = typeof raw === 'string' ? raw.trim() : raw;
  if (value === undefined || value === '' || value === 'auto') return { requested: 'auto', source: 'auto' };
  if (typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value)) {
    return {
      requested: value as BackendName,
      source: fromOptions ? (options.requestedBy ?? 'options.backend') : `${BACKEND_ENV_VAR}=${value}`,
    };
  }
  const valid = [...BACKEND_NAMES, 'auto'].join(', ');
  throw new BackendError(
    'UNKNOWN_BACKEND',
    `Unknown backend ${JSON.stringify(value)} in ${path}; valid: ${valid}.`,
    {
      issues: [{ path, message: `must be one of ${valid}` }],
      details: { value, valid: [...BACKEND_NAMES, 'auto'] },
    },
  );
}

function defaultLogger(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Selects and initializes the fastest TensorFlow.js backend present and
 * registers moprune's gradients and kernel fixes for it.
 *
 * Auto-selection order: `tensorflow` (when `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` resolves and loads), `native` (`@moprune/native`,
 * when installed; a load failure is logged), `wasm`, `cpu`. `options.backend`
 * or `MOPRUNE_BACKEND` names one backend instead; that one is then required:
 * nothing falls back silently. Logs one line saying which backend and why.
 *
 * Call it after importing `@tensorflow/tfjs` / `@tensorflow/tfjs-layers`:
 * they register tfjs's stock gradients on load, which would replace
 * moprune's if they loaded later.
 *
 * @throws {BackendError} `UNKNOWN_BACKEND` for a name not in {@link BACKEND_NAMES};
 *   `BACKEND_NOT_INSTALLED` when the requested backend's package is missing
 *   (the message names the package to add); `BACKEND_UNAVAILABLE` when it is
 *   installed but does not load or initialize.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendSelection> {
  const { requested, source } = parseRequest(options);
  const candidates: readonly BackendName[] = requested === 'auto' ? BACKEND_NAMES : [requested];
  const skipped: SkippedBackend[] = [];
  for (const name of candidates) {
    const result = await attempt(name, options);
    if (result.status === 'ok') {
      registerGradients();
      registerKernels(result.tfBackend);
      const stockGradients = tf.getGradient(tf.Sum) !== undefined;
      const why =
        requested === 'auto'
          ? skipped.length === 0
            ? `auto: first choice, ${result.detail}`
            : `auto: ${result.detail}; skipped ${skipped.map((s) => `${s.backend} (${s.reason})`).join('; ')}`
          : `requested by ${source}, ${result.detail}`;
      const warning = stockGradients
        ? ''
        : ' WARNING: no stock tfjs gradients are registered; import @tensorflow/tfjs or @tensorflow/tfjs-layers before training';
      if (options.silent !== true) {
        (options.logger ?? defaultLogger)(`[moprune] backend: ${name} (${why})${warning}`);
      }
      return { backend: name, tfBackend: result.tfBackend, requested, reason: why, skipped, stockGradients };
    }
    if (requested !== 'auto') {
      if (result.status === 'missing') {
        throw new BackendError(
          'BACKEND_NOT_INSTALLED',
          `Backend '${name}' was requested by ${source} but ${result.reason}: ${result.install}.`,
          { details: { backend: name } },
        );
      }
      throw new BackendError(
        'BACKEND_UNAVAILABLE',
        `Backend '${name}' was requested by ${source} but ${result.reason}.`,
        {
          cause: result.cause,
          details: { backend: name },
        },
      );
    }
    skipped.push({ backend: name, reason: result.reason });
  }
  throw new BackendError(
    'BACKEND_UNAVAILABLE',
    `No backend could be initialized: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
    {
      details: { skipped },
    },
  );
}
