import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect } from 'vitest';
import { loadNativeAddon } from '../index.js';
import { nativeIt, skipReason } from './helpers.js';

// The kernel thread pool spins between jobs on an idle machine and blocks instead when its workers
// keep being preempted by other busy processes (csrc/thread_pool.h). Behaviour, not speed: with a
// CPU-bound process on every core, a 2-thread pool running jobs back to back must switch to
// blocking (info().poolBackoffs grows, poolBlocking turns true) — it fails if the watch is gone.

describe(`native thread pool on a shared machine${skipReason}`, () => {
  nativeIt(
    'backs off from spinning while other processes keep every core busy',
    async () => {
      const loaded = loadNativeAddon();
      if (!loaded.ok) throw new Error(loaded.reason);
      const { addon } = loaded;
      const threads = addon.info().threads;
      addon.setThreads(2);
      const busy: ChildProcess[] = [];
      try {
        for (let i = 0; i < availableParallelism(); i++) {
          busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
        }
        const before = addon.info().poolBackoffs;
        const n = 1 << 20;
        const [dy, x, out] = [new Float32Array(n).fill(1), new Float32Array(n).fill(-1), new Float32Array(n)];
        // Threaded jobs (a 1M-element pass is split over the pool), with macrotask turns so the test
        // runner stays responsive; give up after 20 s.
        const deadline = Date.now() + 20_000;
        while (addon.info().poolBackoffs === before && Date.now() < deadline) {
          for (let k = 0; k < 50; k++) addon.reluGrad(dy, x, out);
          await new Promise((r) => setImmediate(r));
        }
        const info = addon.info();
        expect(info.poolBackoffs).toBeGreaterThan(before);
        expect(info.poolBlocking).toBe(true);
        // The jobs still ran right while blocking.
        addon.reluGrad(dy, x, out);
        expect(out.every((v) => v === 0)).toBe(true);
      } finally {
        for (const b of busy) b.kill('SIGKILL');
        addon.setThreads(threads);
      }
    },
    60_000,
  );
});
