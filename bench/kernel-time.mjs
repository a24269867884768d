// Preload (not a test): times every top-level tfjs kernel call of a process by kernel name and
// prints, at exit, the calls and milliseconds per step — what `moprune train` spends in each kernel
// and how many kernels a step runs. Nested calls (a kernel's fallback, a gradient's ops inside a
// kernel) count in their caller.
//
//   KERNEL_TIME_STEPS=<steps the run takes> node --import ./bench/kernel-time.mjs \
//     packages/cli/dist/bin.js train <config.json> --out <dir> --quiet
//
// Used for issue 16 (LeNet-300-100, Adam, batch 128: 86 → 44 kernels a step).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tf = createRequire(join(here, '..', 'packages', 'core', 'package.json'))('@tensorflow/tfjs-core');
const engine = tf.engine();
const byKernel = new Map();
let depth = 0;
const runKernel = engine.runKernel.bind(engine);
engine.runKernel = (name, inputs, attrs) => {
  if (depth > 0) return runKernel(name, inputs, attrs);
  depth++;
  const start = performance.now();
  try {
    return runKernel(name, inputs, attrs);
  } finally {
    depth--;
    const entry = byKernel.get(name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += performance.now() - start;
    byKernel.set(name, entry);
  }
};
process.on('exit', () => {
  const steps = Number(process.env.KERNEL_TIME_STEPS ?? 1);
  const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  const calls = rows.reduce((n, [, e]) => n + e.calls, 0);
  const ms = rows.reduce((n, [, e]) => n + e.ms, 0);
  console.error(`kernels per step ${(calls / steps).toFixed(1)}, ${(ms / steps).toFixed(3)} ms per step`);
  for (const [name, e] of rows) {
    console.error(
      `  ${name.padEnd(34)} ${(e.calls / steps).toFixed(1).padStart(6)}× ${(e.ms / steps).toFixed(3)} ms`,
    );
  }
});
