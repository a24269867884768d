import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, type Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { checkStoreWritable } from './coordinator.js';
import { SweepError } from './errors.js';
import type { ExecutorContext, SweepExecutor } from './executor.js';
import type { HostCommand } from './host.js';
import { isStaleHolder, type LockHolder, lockedError, type SweepLock, thisHolder } from './lock.js';
import { HostPool, machineCores } from './pool.js';
import type { TrialProgress } from './runner.js';
import { readOutcome, type TrialJob, trialRunDir } from './trial.js';

/** The queue sweeps and workers use unless told otherwise. */
export const DEFAULT_QUEUE = 'moprune-trials';

/** Options every Redis client of this package shares. */
export interface RedisTarget {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  readonly redis: string;
  /** The BullMQ queue. @default {@link DEFAULT_QUEUE} */
  readonly queue?: string;
  /** BullMQ's key prefix. @default 'bull' */
  readonly prefix?: string;
  /** How long to wait for Redis before failing (ms). @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function checkUrl(url: string): void {
  if (!/^rediss?:\/\/[^/]+/.test(url)) {
    throw new SweepError('INVALID_ARGUMENT', `'${url}' is not a Redis URL like redis://127.0.0.1:6379`, {
      details: { url: redactRedisUrl(url) },
    });
  }
}

/**
 * Connects once to Redis and pings it, giving up after `connectTimeoutMs`.
 * @throws SweepError `REDIS_UNREACHABLE` naming the URL (within the timeout, never hanging).
 */
export async function checkRedis(url: string, connectTimeoutMs = 5000): Promise<void> {
  checkUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
      }),
    ]);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SweepError(
      'REDIS_UNREACHABLE',
      `cannot reach Redis at ${redactRedisUrl(url)} (${err.code ?? err.message}); start redis-server there (Debian package redis-server) or fix --redis`,
      { cause: e, details: { url: redactRedisUrl(url) } },
    );
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** A long-lived client: commands wait through an outage and reconnect (BullMQ requires `maxRetriesPerRequest: null`). */
function connect(url: string): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
  return client;
}

/** BullMQ job ids of a sweep's trials. */
export function trialJobId(sweep: string, trial: string): string {
  return `${sweep}--${trial}`;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Takes the sweep's coordinator lock in Redis: a key set only if absent, with
 * a TTL renewed every third of it, so a coordinator that dies frees its sweep
 * within `ttlMs` (at once when it was a process of this host). A second
 * coordinator gets `SWEEP_LOCKED` naming the holder.
 */
export async function lockSweepInRedis(
  client: Redis,
  key: string,
  sweep: string,
  ttlMs = 15_000,
  onLost: (line: string) => void = () => {},
): Promise<SweepLock> {
  const me = { ...thisHolder(), token: randomUUID() };
  const value = JSON.stringify(me);
  for (let attempt = 0; attempt < 2; attempt++) {
    if ((await client.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') {
      const timer = setInterval(
        () => {
          client.eval(RENEW, 1, key, value, ttlMs).then(
            async (renewed) => {
              // Lost (e.g. Redis restarted without the key): take it again unless someone else did.
              if (renewed === 0 && (await client.set(key, value, 'PX', ttlMs, 'NX')) !== 'OK') {
                onLost(`the coordinator lock ${key} was taken by another process`);
              }
            },
            () => {},
          );
        },
        Math.max(100, Math.floor(ttlMs / 3)),
      );
      timer.unref();
      return {
        release: async () => {
          clearInterval(timer);
          await client.eval(RELEASE, 1, key, value).catch(() => {});
        },
      };
    }
    const current = await client.get(key);
    let holder: LockHolder | undefined;
    try {
      holder = current === null ? undefined : (JSON.parse(current) as LockHolder);
    } catch {
      holder = undefined;
    }
    if (holder === undefined || !isStaleHolder(holder)) {
      const pttl = await client.pttl(key);
      throw lockedError(
        sweep,
        holder,
        `Redis key ${key}, expires in ${Math.max(0, pttl)} ms unless its holder renews it`,
      );
    }
    await client.eval(RELEASE, 1, key, current!);
  }
  throw lockedError(sweep, undefined, `Redis key ${key}`);
}

/** Options of {@link bullmqExecutor}. */
export interface BullmqExecutorOptions extends RedisTarget {
  /** Attempts per trial (BullMQ `attempts`; a stalled job does not use one). @default 3 */
  readonly attempts?: number;
  /** BullMQ exponential backoff's first delay (ms). @default 10000 */
  readonly backoffMs?: number;
  /** How often the coordinator re-reads its jobs' states besides listening to queue events (ms). @default 2000 */
  readonly pollMs?: number;
}

interface Watched {
  readonly job: TrialJob;
  reported: 'none' | 'started' | 'done' | 'failed';
  attempts: number;
}

/**
 * The executor for many machines: trials become BullMQ jobs on Redis (job id
 * `<sweep>--<trial>`, so a trial is never enqueued twice), taken by any
 * number of `moprune worker` processes that mount the same store. The
 * coordinator follows the jobs through queue events and a periodic re-read
 * of their states (which also covers events missed while Redis was down);
 * a finished trial's outcome is read from the store.
 */
export function bullmqExecutor(options: BullmqExecutorOptions): SweepExecutor {
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const prefix = options.prefix ?? 'bull';
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffMs ?? 10_000;
  const pollMs = options.pollMs ?? 2000;
  const watched = new Map<string, Watched>();
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  let poller: NodeJS.Timeout | undefined;
  let ctx: ExecutorContext | undefined;
  const connections: Redis[] = [];

  const check = async (jobId: string) => {
    const w = watched.get(jobId);
    if (w === undefined || w.reported === 'done' || w.reported === 'failed' || queue === undefined) return;
    const job = await queue.getJob(jobId);
    const id = w.job.trial.id;
    if (job === undefined) {
      // Gone from Redis (flushed, or a restart without persistence): enqueue it again.
      await add(w.job);
      return;
    }
    const state = await job.getState();
    if (state === 'completed') {
      const outcome = readOutcome(trialRunDir(ctx!.store, w.job.sweep, id));
      if (outcome !== undefined && outcome.configSha256 === w.job.configSha256) {
        w.reported = 'done';
        ctx!.events.finished(id, outcome);
      } else {
        w.reported = 'failed';
        ctx!.events.failed(
          id,
          {
            code: 'TRIAL_FAILED',
            message: `a worker (${job.processedBy ?? '?'}) finished the trial but ${trialRunDir(ctx!.store, w.job.sweep, id)} has no outcome.json for it: do the workers mount the same store as this coordinator?`,
          },
          false,
        );
      }
    } else if (state === 'failed') {
      w.reported = 'failed';
      ctx!.events.failed(id, { code: 'TRIAL_FAILED', message: job.failedReason ?? 'failed' }, false);
    } else if (state === 'active' && job.attemptsStarted > w.attempts) {
      w.attempts = job.attemptsStarted;
      w.reported = 'started';
      ctx!.events.started(id, job.processedBy ?? 'a worker', job.attemptsStarted);
    } else if ((state === 'delayed' || state === 'waiting') && w.reported === 'started' && job.failedReason) {
      w.reported = 'none';
      ctx!.events.failed(id, { code: 'TRIAL_FAILED', message: job.failedReason }, true);
    }
  };

  const add = async (job: TrialJob) => {
    await queue!.add(job.trial.id, job, {
      jobId: trialJobId(job.sweep, job.trial.id),
      attempts,
      backoff: { type: 'exponential', delay: backoff },
      removeOnComplete: false,
      removeOnFail: false,
    });
  };

  const safeCheck = (jobId: string) => {
    check(jobId).catch(() => {});
  };

  return {
    kind: 'bullmq',
    async preflight() {
      await checkRedis(options.redis, options.connectTimeoutMs ?? 5000);
    },
    async lock(sweep) {
      checkUrl(options.redis);
      const client = connect(options.redis);
      client.on('error', () => {});
      try {
        const held = await lockSweepInRedis(
          client,
          `${prefix}:moprune:coordinator:${sweep}`,
          sweep,
          15_000,
          (l) => ctx?.events.log(l),
        );
        return {
          release: async () => {
            await held.release();
            client.disconnect();
          },
        };
      } catch (e) {
        client.disconnect();
        throw e;
      }
    },
    async start(context) {
      ctx = context;
      const connection = connect(options.redis);
      connections.push(connection);
      let down = false;
      connection.on('error', (e) => {
        if (!down)
          context.events.log(
            `moprune: lost Redis at ${redactRedisUrl(options.redis)} (${(e as NodeJS.ErrnoException).code ?? e.message}); waiting for it`,
          );
        down = true;
      });
      connection.on('ready', () => {
        if (down) context.events.log(`moprune: Redis at ${redactRedisUrl(options.redis)} is back`);
        down = false;
      });
      queue = new Queue(queueName, { connection, prefix });
      queue.on('error', () => {});
      const eventsConnection = connect(options.redis);
      eventsConnection.on('error', () => {});
      connections.push(eventsConnection);
      events = new QueueEvents(queueName, { connection: eventsConnection, prefix });
      events.on('error', () => {});
      const on = (jobId: string) => watched.has(jobId) && safeCheck(jobId);
      events.on('active', ({ jobId }) => on(jobId));
      events.on('completed', ({ jobId }) => on(jobId));
      events.on('failed', ({ jobId }) => on(jobId));
      events.on('progress', ({ jobId, data }) => {
        const w = watched.get(jobId);
        if (w !== undefined && typeof data === 'object' && data !== null)
          context.events.progress(w.job.trial.id, data as unknown as TrialProgress);
      });
      events.on('stalled', ({ jobId }) => {
        const w = watched.get(jobId);
        if (w !== undefined)
          context.events.log(
            `moprune: trial ${w.job.trial.id} stalled (its worker stopped renewing the lock): back in the queue, to be resumed from its checkpoint`,
          );
      });
      await events.waitUntilReady();
      poller = setInterval(() => {
        for (const jobId of watched.keys()) safeCheck(jobId);
      }, pollMs);
    },
    async submit(job, { retryFailed }) {
      const jobId = trialJobId(job.sweep, job.trial.id);
      const w: Watched = { job, reported: 'none', attempts: 0 };
      watched.set(jobId, w);
      const existing = await queue!.getJob(jobId);
      if (existing === undefined) {
        await add(job);
        return;
      }
      const state = await existing.getState();
      if (state === 'completed') {
        // The coordinator found no outcome for it in the store: run it again.
        await existing.remove();
        await add(job);
      } else if (state === 'failed' && retryFailed) {
        await existing.retry('failed');
      } else {
        w.attempts = state === 'active' ? 0 : existing.attemptsStarted;
        await check(jobId);
      }
    },
    async close() {
      if (poller !== undefined) clearInterval(poller);
      await events?.close().catch(() => {});
      await queue?.close().catch(() => {});
      // BullMQ leaves connections it was given open.
      for (const c of connections.splice(0)) c.disconnect();
    },
  };
}

/** Options of {@link startSweepWorker}. */
export interface SweepWorkerOptions extends RedisTarget {
  /** The store as this machine mounts it. */
  readonly store: string;
  /** How to start a trial process. */
  readonly host: HostCommand;
  /** Trials at once. @default the cores */
  readonly slots?: number;
  /** BullMQ lock duration (ms): a worker that stops renewing it for this long is considered dead. @default 30000 */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (ms). @default 30000 */
  readonly stalledIntervalMs?: number;
  /** How often one trial may stall (its worker die) before it fails. @default 3 */
  readonly maxStalledCount?: number;
  readonly dataDir?: string;
  readonly cacheDir?: string;
  /** How long `close()` waits for Redis to take running trials back before it stops anyway (ms). @default 15000 */
  readonly closeTimeoutMs?: number;
  /** Name shown in job records (`processedBy`). @default `<host>:<pid>` */
  readonly name?: string;
  readonly onEvent?: (event: WorkerEvent) => void;
}

/** What a worker reports. */
export type WorkerEvent =
  | { readonly type: 'ready'; readonly name: string; readonly queue: string; readonly slots: number }
  | {
      readonly type: 'trial';
      readonly sweep: string;
      readonly trial: string;
      readonly status: 'started' | 'done' | 'interrupted' | 'failed';
      readonly attempt: number;
      readonly message?: string;
    }
  | { readonly type: 'log'; readonly line: string };

/** A running worker. */
export interface SweepWorker {
  readonly name: string;
  /**
   * Stops taking trials; running ones checkpoint and go back to the queue at
   * once (another worker resumes them), then the worker disconnects.
   */
  close(): Promise<void>;
}

/**
 * A worker: takes trial jobs from the queue and runs each in a trial process
 * (`slots` at once), in the store it mounts. A dead worker's trials are found
 * by the other workers' stalled-job checks after `lockDurationMs` and resumed
 * from their last checkpoint; failures are retried with BullMQ's backoff, a
 * permanent error (invalid config, non-finite loss) fails the trial at once.
 * @throws SweepError `REDIS_UNREACHABLE`, `STORE_NOT_WRITABLE` before taking any job.
 */
export async function startSweepWorker(options: SweepWorkerOptions): Promise<SweepWorker> {
  checkStoreWritable(options.store);
  await checkRedis(options.redis, options.connectTimeoutMs ?? 5000);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const slots = options.slots ?? machineCores();
  const emit = options.onEvent ?? (() => {});
  const pool = new HostPool(options.host, slots, (line) => emit({ type: 'log', line }));
  const queueName = options.queue ?? DEFAULT_QUEUE;
  const connection = connect(options.redis);
  let down = false;
  const worker = new Worker(
    queueName,
    async (job: Job, token?: string) => {
      const data = job.data as TrialJob;
      const trial = data.trial.id;
      const attempt = job.attemptsStarted;
      emit({ type: 'trial', sweep: data.sweep, trial, status: 'started', attempt });
      const host = await pool.acquire(data.trial.threads ?? 1);
      const result = await host.run(data, {
        store: options.store,
        onProgress: (p) => {
          job.updateProgress(p as unknown as object).catch(() => {});
        },
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      });
      pool.release(host);
      if (result.kind === 'done') {
        emit({ type: 'trial', sweep: data.sweep, trial, status: 'done', attempt });
        return { status: result.outcome.status, configSha256: result.outcome.configSha256, worker: name };
      }
      if (result.kind === 'interrupted') {
        emit({ type: 'trial', sweep: data.sweep, trial, status: 'interrupted', attempt });
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const message = `${result.code}: ${result.message}`;
      emit({ type: 'trial', sweep: data.sweep, trial, status: 'failed', attempt, message });
      throw result.permanent ? new UnrecoverableError(message) : new Error(message);
    },
    {
      connection,
      prefix: options.prefix ?? 'bull',
      name,
      concurrency: slots,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 3,
      autorun: false,
    },
  );
  worker.on('error', (e) => {
    if (!down)
      emit({
        type: 'log',
        line: `moprune: worker ${name}: lost Redis at ${redactRedisUrl(options.redis)} (${(e as NodeJS.ErrnoException).code ?? e.message}); waiting for it`,
      });
    down = true;
  });
  connection.on('ready', () => {
    if (down) emit({ type: 'log', line: `moprune: worker ${name}: Redis is back` });
    down = false;
  });
  void worker.run();
  await worker.waitUntilReady();
  emit({ type: 'ready', name, queue: queueName, slots });
  let closing: Promise<void> | undefined;
  return {
    name,
    close() {
      closing ??= (async () => {
        pool.abortAll();
        // A graceful close needs Redis (to hand running trials back); without it, give up after a while:
        // the trials' locks then expire and other workers resume them from their checkpoints.
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), options.closeTimeoutMs ?? 15_000);
        });
        if ((await Promise.race([worker.close(), gaveUp])) === 'timeout') {
          emit({
            type: 'log',
            line: `moprune: worker ${name}: Redis did not answer while stopping; stopping anyway`,
          });
          void worker.close(true).catch(() => {});
          void worker.disconnect().catch(() => {});
        }
        clearTimeout(timer);
        await pool.closeAll(true);
        connection.disconnect();
      })();
      return closing;
    },
  };
}
