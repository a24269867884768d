// Per-kernel time of one training step:
//   node bench/profile.mjs <backend> <network> [batch] [--steps N] [--warmup-seconds 1]
// Prints the kernels by total time and what the step spends outside kernels
// (tfjs bookkeeping, gradient code, JavaScript kernels' glue), to see what
// remains to optimize. Times are process CPU time (all threads), which a
// shared machine disturbs far less than wall time; run with
// MOPRUNE_NATIVE_THREADS=1 to read them as single-core times.
import '@tensorflow/tfjs-layers';
import { parseArgs } from 'node:util';
import { initBackend } from '@moprune/backend';
import * as tf from '@tensorflow/tfjs-core';
import { makeTrainStep, warmUp } from './nets.mjs';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { steps: { type: 'string', default: '5' }, 'warmup-seconds': { type: 'string', default: '1' } },
});
const [backend = 'wasm', network = 'lenet5', batch = '128'] = positionals;
const steps = Number(opts.steps);
const { tfBackend } = await initBackend({ backend });

// Wrap every kernel of the backend to add up its CPU time and calls, keyed by kernel name.
const byKernel = new Map();
let inKernel = 0;
for (const config of tf.getKernelsForBackend(tfBackend)) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, tfBackend);
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      // Kernels that call other kernels through the engine count once, at the outside.
      if (inKernel++ > 0) {
        try {
          return inner(args);
        } finally {
          inKernel--;
        }
      }
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      try {
        return inner(args);
      } finally {
        const c = process.cpuUsage(c0);
        const wall = performance.now() - w0;
        inKernel--;
        const e = byKernel.get(config.kernelName) ?? { ms: 0, wall: 0, calls: 0 };
        e.ms += (c.user + c.system) / 1000;
        e.wall += wall;
        e.calls += 1;
        byKernel.set(config.kernelName, e);
      }
    },
  });
}

const { step, dispose } = makeTrainStep(tf, network, Number(batch));
// Warm-up as bench/train-step.mjs does it (untimed steps for --warmup-seconds).
warmUp(step, Number(opts['warmup-seconds']));
byKernel.clear();
const c0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const wall = (performance.now() - t0) / steps;
const cpu = process.cpuUsage(c0);
const stepCpu = (cpu.user + cpu.system) / 1000 / steps;
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0) / steps;
const inKernelsWall = rows.reduce((s, [, e]) => s + e.wall, 0) / steps;
const calls = rows.reduce((s, [, e]) => s + e.calls, 0) / steps;
console.log(
  `${network} on ${backend}, batch ${batch}, mean of ${steps} steps: ${stepCpu.toFixed(1)} ms CPU (${wall.toFixed(1)} ms wall), ` +
    `${inKernels.toFixed(1)} ms CPU (${inKernelsWall.toFixed(1)} ms wall) in ${calls.toFixed(0)} kernel calls, ` +
    `${(stepCpu - inKernels).toFixed(1)} ms CPU (${(wall - inKernelsWall).toFixed(1)} ms wall) outside kernels`,
);
for (const [name, e] of rows.slice(0, 30)) {
  console.log(
    `${name.padEnd(30)} ${(e.ms / steps).toFixed(2).padStart(9)} ms CPU ${(e.wall / steps).toFixed(2).padStart(9)} ms wall ${String(e.calls / steps).padStart(6)} calls`,
  );
}
dispose();
