import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SweepError } from './errors.js';

/** Who holds a sweep: written into its lock. */
export interface LockHolder {
  readonly host: string;
  readonly pid: number;
  readonly since: string;
}

/** A held coordinator lock. */
export interface SweepLock {
  release(): Promise<void>;
}

/** This process as a lock holder. */
export function thisHolder(): LockHolder {
  return { host: hostname(), pid: process.pid, since: new Date().toISOString() };
}

/** True when `holder` is a process of this host that no longer exists. */
export function isStaleHolder(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The error a second coordinator gets. */
export function lockedError(sweep: string, holder: LockHolder | undefined, where: string): SweepError {
  const who =
    holder === undefined
      ? 'another coordinator'
      : `pid ${holder.pid} on ${holder.host} (since ${holder.since})`;
  return new SweepError(
    'SWEEP_LOCKED',
    `sweep '${sweep}' is being coordinated by ${who}; one coordinator per sweep (lock: ${where})`,
    { details: { sweep, ...(holder === undefined ? {} : { holder }) } },
  );
}

/**
 * Takes the file lock `<sweepDir>/coordinator.lock` (created exclusively;
 * holds host, pid and start time). A lock left by a dead process of this
 * host is taken over; any other holder makes this throw.
 * @throws SweepError `SWEEP_LOCKED` naming the holder.
 */
export function lockSweepDir(sweepDir: string, sweep: string): SweepLock {
  const file = join(sweepDir, 'coordinator.lock');
  const me = thisHolder();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      return {
        release: async () => {
          rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    } catch {
      holder = undefined;
    }
    if (holder === undefined || !isStaleHolder(holder)) throw lockedError(sweep, holder, file);
    rmSync(file, { force: true });
  }
  throw lockedError(sweep, undefined, file);
}
