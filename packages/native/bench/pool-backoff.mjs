#!/usr/bin/env node
// Benchmark-style check (not a test): does the native pool back off from spinning? Runs threaded
// jobs back to back (a 1M-element reluGrad and a 256³ matMul, 20 each between event-loop turns, a
// little host work in between, as a training loop has) for --seconds, beside --competitors
// CPU-bound processes, and prints the pool's backoff count and state (`info().poolBackoffs`,
// `poolBlocking`). Expected: 0 backoffs with no competitor, > 0 with one or more.
//
//   node packages/native/bench/pool-backoff.mjs [--seconds 8] [--competitors 0] [--rounds 3]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadNativeAddon } from '../dist/index.js';

const { values: o } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    competitors: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
  },
});
const loaded = loadNativeAddon();
if (!loaded.ok) throw new Error(loaded.reason);
const a = loaded.addon;
a.setThreads(2);
const n = 1 << 20;
const [dy, x, out] = [new Float32Array(n).fill(1), new Float32Array(n).fill(-1), new Float32Array(n)];
const m = 256;
const [A, B, C] = [
  new Float32Array(m * m).fill(0.5),
  new Float32Array(m * m).fill(0.25),
  new Float32Array(m * m),
];
for (let r = 0; r < Number(o.rounds); r++) {
  const busy = Array.from({ length: Number(o.competitors) }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  try {
    const before = a.info().poolBackoffs;
    const t0 = Date.now();
    let jobs = 0;
    let sink = 0;
    while (Date.now() - t0 < Number(o.seconds) * 1000) {
      for (let k = 0; k < 20; k++) {
        a.reluGrad(dy, x, out);
        a.matMul(A, B, C, 1, 1, m, m, m, false, false);
        jobs += 2;
      }
      for (let i = 0; i < 20000; i++) sink += Math.sqrt(i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const info = a.info();
    console.log(
      JSON.stringify({
        round: r + 1,
        competitors: Number(o.competitors),
        jobs,
        backoffs: info.poolBackoffs - before,
        blocking: info.poolBlocking,
        sink: sink > 0,
      }),
    );
  } finally {
    for (const b of busy) b.kill('SIGKILL');
  }
  await new Promise((resolve) => setTimeout(resolve, 2500)); // past the 2 s hold
}
