import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CoreError } from '@moprune/core';

/** The lock file of a run directory. */
export const RUN_LOCK_FILE = '.moprune-lock';

/** What a run directory's lock file holds. */
export interface RunLockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

/** A held lock; `release()` removes the file (idempotent). */
export interface RunLock {
  readonly file: string;
  readonly holder: RunLockHolder;
  release(): void;
}

/** Options of {@link lockRunDir}. */
export interface LockRunDirOptions {
  /** Told when a stale lock (its holder is gone) is taken over. */
  readonly onStale?: (holder: RunLockHolder, why: string) => void;
  /**
   * A lock of another host whose file was not renewed for this long is stale
   * (the holder renews it every `staleMs / 4`). @default 30000
   */
  readonly staleMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): RunLockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunLockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string'
      ? { pid: h.pid, host: h.host, since: String(h.since ?? '') }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the exclusive lock of a run directory: the file `<dir>/.moprune-lock`
 * (pid, host, time), created atomically (`O_EXCL`). A lock whose holder is
 * gone is stale and taken over (reported through `onStale`): on this host, a
 * dead pid; on another host, a file not renewed for `staleMs` (the holder
 * touches it every `staleMs / 4` while it runs). An unreadable lock file (a
 * writer killed between create and write) is stale too.
 * @throws CoreError `RUN_LOCKED` naming the holder's pid, host and start, and the file.
 */
export function lockRunDir(dir: string, options: LockRunDirOptions = {}): RunLock {
  const file = join(dir, RUN_LOCK_FILE);
  const staleMs = options.staleMs ?? 30_000;
  const me: RunLockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(file);
      let why: string | undefined;
      if (holder === undefined) why = 'the lock file is unreadable';
      else if (holder.pid === process.pid && holder.host === me.host)
        throw locked(file, holder, 'this process already writes it');
      else if (holder.host === me.host) why = alive(holder.pid) ? undefined : `process ${holder.pid} is gone`;
      else {
        let age = 0;
        try {
          age = Date.now() - statMtime(file);
        } catch {
          age = 0;
        }
        why = age > staleMs ? `not renewed for ${Math.round(age / 1000)} s` : undefined;
      }
      if (why === undefined) throw locked(file, holder!);
      if (holder !== undefined) options.onStale?.(holder, why);
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    const timer = setInterval(
      () => {
        try {
          const now = new Date();
          utimesSync(file, now, now);
        } catch {
          // The directory went away; nothing to renew.
        }
      },
      Math.max(1000, staleMs / 4),
    );
    timer.unref();
    let released = false;
    return {
      file,
      holder: me,
      release() {
        if (released) return;
        released = true;
        clearInterval(timer);
        const h = existsSync(file) ? readHolder(file) : undefined;
        if (h?.pid === me.pid && h.host === me.host) rmSync(file, { force: true });
      },
    };
  }
  throw locked(file, readHolder(file) ?? { pid: -1, host: '?', since: '' });
}

function statMtime(file: string): number {
  return statSync(file).mtimeMs;
}

function locked(file: string, h: RunLockHolder, extra?: string): CoreError {
  return new CoreError(
    'RUN_LOCKED',
    `the run directory is in use: process ${h.pid} on ${h.host}${h.since ? ` since ${h.since}` : ''} holds ${file}${
      extra ? ` (${extra})` : ''
    }; wait for it to finish or stop it (a lock left by a process that is gone is taken over; one of another machine 30 s after it was last renewed)`,
    { details: { file, pid: h.pid, host: h.host, since: h.since } },
  );
}
