#!/usr/bin/env node
// Where a real `train` step goes: runs an experiment config in this process (the same
// `runExperiment` the CLI calls, every component at its config) and times every kernel the backend
// runs during the epochs after the first (warm: no first-call compilation or allocation in the
// figures), then prints the kernels by wall time per step, their calls per step, and the step's wall
// time outside kernels (tfjs bookkeeping, gradient code, solver and pruner logic, logging).
//
//   MOPRUNE_NATIVE_THREADS=1 node bench/profile-train.mjs <config.json> [--backend native] [--top 30]
//
// The config needs at least two epochs (the first is the warm-up); `--limit N` caps its training
// images. The run directory is a temporary one, removed afterwards. Wrapping every kernel costs a
// few microseconds per call, so the figures are for finding what to optimize, not for ratios:
// those come from bench/train-epoch.mjs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@moprune/backend';
import { runExperiment } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import '@moprune/datasets/register';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import '@moprune/solvers';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: 'native' },
    top: { type: 'string', default: '30' },
    limit: { type: 'string' },
  },
});
if (positionals.length !== 1) {
  console.error(
    'usage: node bench/profile-train.mjs <config.json> [--backend native] [--top 30] [--limit N]',
  );
  process.exit(2);
}
const config = JSON.parse(readFileSync(positionals[0], 'utf8'));
const epochs = config.training?.epochs ?? 1;
if (!(epochs >= 2)) {
  console.error(`the config trains ${epochs} epoch(s); profile-train needs ≥ 2 (the first warms up)`);
  process.exit(2);
}
if (o.limit !== undefined) config.training = { ...config.training, limit: Number(o.limit) };
const { tfBackend } = await initBackend({ backend: o.backend });

// Wrap every kernel of the backend; a kernel that calls others through the engine counts once.
const byKernel = new Map();
let depth = 0;
let on = false;
for (const k of tf.getKernelsForBackend(tfBackend)) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, tfBackend);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (!on || depth > 0) return inner(args);
      depth++;
      const t0 = performance.now();
      try {
        return inner(args);
      } finally {
        depth--;
        const e = byKernel.get(k.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        byKernel.set(k.kernelName, e);
      }
    },
  });
}

let steps = 0;
let t0 = 0;
const runDir = mkdtempSync(join(tmpdir(), 'moprune-profile-train-'));
try {
  await runExperiment(config, {
    runDir,
    resume: false,
    callbacks: [
      {
        name: 'profile-train',
        onEpochEnd() {
          if (!on) {
            on = true;
            t0 = performance.now();
          }
          return undefined;
        },
        onStepEnd() {
          if (on) steps++;
          return undefined;
        },
      },
    ],
  });
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
const wall = performance.now() - t0;
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0);
const calls = rows.reduce((s, [, e]) => s + e.calls, 0);
console.log(
  `${config.name ?? positionals[0]} on ${tfBackend}, epochs 2–${epochs} (${steps} steps): ` +
    `${(wall / steps).toFixed(2)} ms wall per step, ${(inKernels / steps).toFixed(2)} ms in ` +
    `${(calls / steps).toFixed(1)} kernel calls, ${((wall - inKernels) / steps).toFixed(2)} ms outside kernels ` +
    '(epoch ends included)',
);
console.log(`${'kernel'.padEnd(34)} ${'ms/step'.padStart(8)} ${'calls/step'.padStart(10)}`);
for (const [name, e] of rows.slice(0, Number(o.top)))
  console.log(
    `${name.padEnd(34)} ${(e.ms / steps).toFixed(3).padStart(8)} ${(e.calls / steps).toFixed(2).padStart(10)}`,
  );
