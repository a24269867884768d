import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SweepError } from './errors.js';
import type { TrialProgress } from './runner.js';
import { executeTrial, isPermanentTrialError, type TrialJob, type TrialOutcome } from './trial.js';

/**
 * How to start a trial process: a Node module that calls
 * {@link serveTrialHost} (the `moprune` CLI's internal `__trial-host`
 * command does, after loading every component and the backend).
 */
export interface HostCommand {
  /** The module to run with `child_process.fork`. */
  readonly module: string;
  readonly args?: readonly string[];
  /** Node options of the child (e.g. `['--import', 'tsx']` for TypeScript sources). @default [] */
  readonly execArgv?: readonly string[];
  /** Extra environment variables (on top of this process's). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Where a trial process writes and reads, besides the job itself. */
export interface HostRunOptions {
  readonly store: string;
  readonly dataDir?: string;
  readonly cacheDir?: string;
  readonly onProgress?: (progress: TrialProgress) => void;
}

/** How a trial ended in its process. */
export type HostRunResult =
  | { readonly kind: 'done'; readonly outcome: TrialOutcome }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly permanent: boolean };

type ToChild =
  | {
      readonly type: 'run';
      readonly job: TrialJob;
      readonly store: string;
      readonly dataDir?: string;
      readonly cacheDir?: string;
    }
  | { readonly type: 'abort' };

type FromChild =
  | { readonly type: 'progress'; readonly progress: TrialProgress }
  | { readonly type: 'result'; readonly result: HostRunResult };

/** Options of {@link serveTrialHost}. */
export interface TrialHostOptions {
  /** Imports a trial's modules (already imported ones are skipped by the caller's loader). */
  importModules(modules: readonly string[]): Promise<void>;
}

/**
 * The child side: serves `run` requests from the parent over IPC, one at a
 * time, until the parent disconnects. The process exits at once when the
 * parent goes away (even killed with SIGKILL): a trial must never outlive
 * the worker that holds its queue lock, or two processes would write one run
 * directory.
 */
export function serveTrialHost(options: TrialHostOptions): void {
  if (process.send === undefined) {
    throw new SweepError(
      'INVALID_ARGUMENT',
      'serveTrialHost must run in a process started by child_process.fork',
    );
  }
  const send = (m: FromChild) => process.send!(m);
  let controller: AbortController | undefined;
  process.on('disconnect', () => process.exit(137));
  process.on('message', (m: ToChild) => {
    if (m.type === 'abort') {
      controller?.abort();
      return;
    }
    controller = new AbortController();
    const signal = controller.signal;
    void (async (): Promise<HostRunResult> => {
      try {
        await options.importModules(m.job.modules);
        const r = await executeTrial(m.job, {
          store: m.store,
          signal,
          progress: (progress) => send({ type: 'progress', progress }),
          ...(m.dataDir === undefined ? {} : { dataDir: m.dataDir }),
          ...(m.cacheDir === undefined ? {} : { cacheDir: m.cacheDir }),
        });
        return r === 'interrupted' ? { kind: 'interrupted' } : { kind: 'done', outcome: r };
      } catch (e) {
        const err = e as { code?: unknown; message?: unknown };
        return {
          kind: 'error',
          code: typeof err.code === 'string' ? err.code : 'INTERNAL',
          message: String(err.message ?? e),
          permanent: isPermanentTrialError(e),
        };
      }
    })().then((result) => send({ type: 'result', result }));
  });
}

/**
 * The parent side: one child process that runs trials one at a time. The
 * child gets `MOPRUNE_NATIVE_THREADS=<threads>`, so the native kernels use as
 * many threads as the trial was given.
 */
export class TrialHost {
  private readonly child: ChildProcess;
  private pending:
    | { resolve: (r: HostRunResult) => void; onProgress?: (p: TrialProgress) => void }
    | undefined;
  private exitInfo: string | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;

  constructor(
    command: HostCommand,
    /** The threads this process's trials use. */
    readonly threads: number,
    onOutput: (line: string) => void,
  ) {
    this.child = fork(command.module, [...(command.args ?? [])], {
      execArgv: [...(command.execArgv ?? [])],
      env: { ...process.env, ...command.env, MOPRUNE_NATIVE_THREADS: String(threads) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      // Its own process group: a terminal's Ctrl-C reaches the coordinator, which stops the trial cleanly.
      detached: true,
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', onOutput);
    }
    this.child.on('message', (m: FromChild) => {
      if (m.type === 'progress') this.pending?.onProgress?.(m.progress);
      else this.settle(m.result);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = signal === null ? `exit code ${code}` : `signal ${signal}`;
        this.settle({
          kind: 'error',
          code: 'HOST_EXITED',
          message: `the trial process exited (${this.exitInfo}) during the trial`,
          permanent: false,
        });
        resolve();
      });
      this.child.on('error', () => resolve());
    });
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True while the process can take a trial. */
  get alive(): boolean {
    return this.exitInfo === undefined && this.child.connected;
  }

  /** True while a trial runs. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Runs a trial; never rejects (a dead process resolves to a `HOST_EXITED` error). */
  run(job: TrialJob, options: HostRunOptions): Promise<HostRunResult> {
    if (this.pending !== undefined) {
      throw new SweepError('INVALID_ARGUMENT', 'TrialHost.run: a trial is already running in this process');
    }
    return new Promise((resolve) => {
      this.pending = {
        resolve,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      };
      if (!this.alive) {
        this.settle({
          kind: 'error',
          code: 'HOST_EXITED',
          message: 'the trial process is gone',
          permanent: false,
        });
        return;
      }
      const message: ToChild = {
        type: 'run',
        job,
        store: options.store,
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      };
      this.child.send(message);
    });
  }

  /** Asks the running trial to checkpoint and stop (it resolves `interrupted`). */
  abort(): void {
    if (this.alive) this.child.send({ type: 'abort' } satisfies ToChild);
  }

  /** Ends the process (SIGKILL when `force`, else closes its IPC channel and it exits). */
  async close(force = false): Promise<void> {
    if (this.exitInfo === undefined) {
      if (force) this.child.kill('SIGKILL');
      else if (this.child.connected) this.child.disconnect();
    }
    await this.exited;
  }

  private settle(result: HostRunResult): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(result);
  }
}
