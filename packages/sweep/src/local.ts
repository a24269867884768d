import { SweepError } from './errors.js';
import type { ExecutorContext, SweepExecutor } from './executor.js';
import type { HostCommand } from './host.js';
import { lockSweepDir } from './lock.js';
import { HostPool, machineCores } from './pool.js';
import type { TrialJob } from './trial.js';

/** Options of {@link localExecutor}. */
export interface LocalExecutorOptions {
  /** How to start a trial process (the CLI passes its own `__trial-host` command). */
  readonly host: HostCommand;
  /**
   * Most trials at once. @default the cores: with the default one thread per
   * trial, one trial per core
   */
  readonly workers?: number;
  /** Cores the pool fills. @default `os.availableParallelism()` */
  readonly cores?: number;
  /** Attempts per trial: a trial whose process died is run again, resuming from its checkpoint. @default 3 */
  readonly attempts?: number;
  /** Delay before the first retry (ms), doubled for each further one. @default 1000 */
  readonly backoffMs?: number;
  /** Directory of user-supplied data, for the trials. */
  readonly dataDir?: string;
  /** Directory of built data caches, for the trials. */
  readonly cacheDir?: string;
}

/**
 * How many trials the local pool runs at once: trials start while the sum of
 * their threads fits in `cores` (a trial wider than the machine runs alone)
 * and fewer than `workers` run. With the defaults (1 thread per trial,
 * `workers` = cores) that is one single-thread trial per core, so trainings
 * never compete for a core.
 */
export function fitsLocalPool(
  running: readonly number[],
  threads: number,
  options: { readonly workers: number; readonly cores: number },
): boolean {
  if (running.length === 0) return true;
  if (running.length >= options.workers) return false;
  return running.reduce((a, b) => a + b, 0) + threads <= options.cores;
}

interface Queued {
  readonly job: TrialJob;
  attempt: number;
}

/**
 * The embedded executor: a pool of trial processes on this machine (nothing
 * to start). Sized by {@link fitsLocalPool}; each process gets
 * `MOPRUNE_NATIVE_THREADS` = its trial's threads. A process that dies
 * mid-trial is replaced and the trial retried from its checkpoint (up to
 * `attempts`, with doubling backoff); a permanent error (invalid config,
 * non-finite loss) fails the trial at once. The coordinator lock is a file in
 * the sweep directory.
 */
export function localExecutor(options: LocalExecutorOptions): SweepExecutor {
  const cores = options.cores ?? machineCores();
  const workers = options.workers ?? cores;
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffMs ?? 1000;
  if (!Number.isInteger(workers) || workers < 1 || !Number.isInteger(attempts) || attempts < 1) {
    throw new SweepError(
      'INVALID_ARGUMENT',
      `localExecutor: workers and attempts must be integers ≥ 1, got ${workers} and ${attempts}`,
    );
  }
  const queue: Queued[] = [];
  const known = new Set<string>();
  const running = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let pool: HostPool | undefined;
  let ctx: ExecutorContext | undefined;
  let closing = false;
  const inflight = new Set<Promise<void>>();

  const runOne = async (q: Queued): Promise<void> => {
    const { job } = q;
    const threads = job.trial.threads ?? 1;
    const host = await pool!.acquire(threads);
    q.attempt += 1;
    ctx!.events.started(job.trial.id, `local:${host.pid}`, q.attempt);
    const result = await host.run(job, {
      store: ctx!.store,
      onProgress: (p) => ctx!.events.progress(job.trial.id, p),
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    });
    pool!.release(host);
    running.delete(job.trial.id);
    if (result.kind === 'done') {
      known.delete(job.trial.id);
      ctx!.events.finished(job.trial.id, result.outcome);
    } else if (result.kind === 'interrupted') {
      known.delete(job.trial.id);
    } else {
      const retry = !result.permanent && q.attempt < attempts && !closing;
      ctx!.events.failed(job.trial.id, { code: result.code, message: result.message }, retry);
      if (retry) {
        const t = setTimeout(
          () => {
            timers.delete(t);
            queue.unshift(q);
            schedule();
          },
          backoff * 2 ** (q.attempt - 1),
        );
        timers.add(t);
      } else known.delete(job.trial.id);
    }
    schedule();
  };

  const schedule = () => {
    while (!closing && queue.length > 0) {
      const next = queue[0]!;
      if (!fitsLocalPool([...running.values()], next.job.trial.threads ?? 1, { workers, cores })) return;
      queue.shift();
      running.set(next.job.trial.id, next.job.trial.threads ?? 1);
      const p = runOne(next).finally(() => inflight.delete(p));
      inflight.add(p);
    }
  };

  return {
    kind: 'local',
    async preflight() {},
    async lock(sweep, sweepDir) {
      return lockSweepDir(sweepDir, sweep);
    },
    async start(context) {
      // An executor runs one sweep at a time and can run another after close().
      closing = false;
      queue.length = 0;
      known.clear();
      running.clear();
      ctx = context;
      pool = new HostPool(options.host, workers, (line) => context.events.log(line));
    },
    async submit(job) {
      if (known.has(job.trial.id)) return;
      known.add(job.trial.id);
      queue.push({ job, attempt: 0 });
      schedule();
    },
    async close(interrupt) {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      queue.length = 0;
      if (interrupt) pool?.abortAll();
      while (inflight.size > 0) await Promise.all([...inflight]);
      await pool?.closeAll();
    },
  };
}
