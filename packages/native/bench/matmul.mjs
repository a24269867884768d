#!/usr/bin/env node
// Matmul throughput: the tfjs kernel on the 'native' backend (tf.matMul, with
// its tensor bookkeeping and output allocation) against the same OpenBLAS
// sgemm called directly through the addon on preallocated Float32Arrays.
// Usage: node bench/matmul.mjs [--json out.json] [--reps N]
// Needs a build (pnpm build) because it imports dist/.
import { renameSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadNativeAddon, tryRegisterNativeBackend } from '../dist/index.js';

const args = process.argv.slice(2);
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const repsArg = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : undefined;

const registration = tryRegisterNativeBackend();
if (!registration.ok) {
  console.log(`native matmul bench skipped: ${registration.reason}`);
  process.exit(0);
}
const loaded = loadNativeAddon();
const { addon } = loaded;

/** [m, k, n, transposeA, transposeB, label] — the big square case and LeNet-300-100's first layer (forward and both gradients). */
const CASES = [
  [2048, 2048, 2048, false, false, '2048x2048x2048'],
  [128, 784, 300, false, false, '128x784x300 (fc1 forward)'],
  [784, 128, 300, true, false, '784x128x300 (fc1 dW, A transposed)'],
  [128, 300, 784, false, true, '128x300x784 (fc1 dX, B transposed)'],
];

function fill(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Times two functions alternately (A, B, A, B …) so both see the same machine
 * load, and returns each one's per-call times in ms. On a shared machine the
 * minimum is the figure least disturbed by other processes.
 */
function timePair(a, b, reps) {
  a();
  b();
  const ta = [];
  const tb = [];
  for (let i = 0; i < reps; i++) {
    for (const [fn, out] of [
      [a, ta],
      [b, tb],
    ]) {
      const t0 = process.hrtime.bigint();
      fn();
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return [ta, tb];
}

await tf.setBackend('native');
const rows = [];
for (const [m, k, n, ta, tb, label] of CASES) {
  const flop = 2 * m * n * k;
  const reps = repsArg ?? (flop > 1e9 ? 15 : 100);
  const av = fill(m * k, 1);
  const bv = fill(k * n, 2);
  const out = new Float32Array(m * n);
  const a = tf.tensor2d(av, ta ? [k, m] : [m, k]);
  const b = tf.tensor2d(bv, tb ? [n, k] : [k, n]);
  const [direct, kernel] = timePair(
    () => addon.matMul(av, bv, out, 1, 1, m, n, k, ta, tb),
    () => tf.matMul(a, b, ta, tb).dispose(),
    reps,
  );
  tf.dispose([a, b]);
  const dMin = Math.min(...direct);
  const kMin = Math.min(...kernel);
  rows.push({
    case: label,
    m,
    k,
    n,
    reps,
    directMs: { min: dMin, median: median(direct) },
    kernelMs: { min: kMin, median: median(kernel) },
    directGflops: flop / dMin / 1e6,
    kernelGflops: flop / kMin / 1e6,
    ratio: dMin / kMin,
  });
}

const info = addon.info();
const [load] = (await import('node:os')).loadavg();
console.log(
  `native matmul: OpenBLAS core ${info.corename}, ${info.threads} threads, load average ${load.toFixed(1)}; best of interleaved runs`,
);
console.log('| case | BLAS direct ms | GFLOP/s | tfjs kernel ms | GFLOP/s | kernel/direct |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.case} | ${r.directMs.min.toFixed(2)} | ${r.directGflops.toFixed(1)} | ${r.kernelMs.min.toFixed(2)} | ${r.kernelGflops.toFixed(1)} | ${(100 * r.ratio).toFixed(0)}% |`,
  );
}
if (jsonPath) {
  const tmp = `${jsonPath}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `${JSON.stringify({ bench: 'native-matmul', info, loadAverage: load, rows }, null, 2)}\n`,
  );
  renameSync(tmp, jsonPath);
}
