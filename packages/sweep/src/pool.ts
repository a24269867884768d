import { availableParallelism } from 'node:os';
import { type HostCommand, TrialHost } from './host.js';

/**
 * Trial processes, reused across trials: a trial with `threads` t runs in a
 * process started with `MOPRUNE_NATIVE_THREADS=t`; an idle process of another
 * thread count is ended to make room.
 */
export class HostPool {
  private readonly idle: TrialHost[] = [];
  private readonly all = new Set<TrialHost>();

  constructor(
    private readonly command: HostCommand,
    /** Most processes alive at once. */
    private readonly size: number,
    private readonly onOutput: (line: string) => void,
  ) {}

  /** A process for a trial of `threads` threads (reused or new). */
  async acquire(threads: number): Promise<TrialHost> {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const h = this.idle[i]!;
      if (!h.alive) {
        this.idle.splice(i, 1);
        this.all.delete(h);
      }
    }
    const k = this.idle.findIndex((h) => h.threads === threads);
    if (k >= 0) return this.idle.splice(k, 1)[0]!;
    while (this.all.size >= this.size && this.idle.length > 0) {
      const old = this.idle.shift()!;
      this.all.delete(old);
      await old.close();
    }
    const host = new TrialHost(this.command, threads, this.onOutput);
    this.all.add(host);
    return host;
  }

  /** Gives a process back after its trial (a dead one is dropped). */
  release(host: TrialHost): void {
    if (host.alive) this.idle.push(host);
    else this.all.delete(host);
  }

  /** Asks every busy process to checkpoint and stop its trial. */
  abortAll(): void {
    for (const h of this.all) if (h.busy) h.abort();
  }

  /** Ends every process (busy ones should have been aborted and awaited first). */
  async closeAll(force = false): Promise<void> {
    const hosts = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(hosts.map((h) => h.close(force)));
  }
}

/** The cores this machine offers (`os.availableParallelism()`). */
export function machineCores(): number {
  return availableParallelism();
}
