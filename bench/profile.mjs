// Per-kernel time of one training step: `node bench/profile.mjs <backend> <network> [batch]`.
// Prints the kernels by total time (tf.profile), to see what remains to optimize.
import '@tensorflow/tfjs-layers';
import { initBackend } from '@moprune/backend';
import * as tf from '@tensorflow/tfjs-core';
import { makeTrainStep } from './nets.mjs';

const [backend = 'wasm', network = 'lenet5', batch = '128'] = process.argv.slice(2);
await initBackend({ backend });
const { step, dispose } = makeTrainStep(tf, network, Number(batch));
step();
step();
const t0 = performance.now();
const info = await tf.profile(() => {
  step();
});
const wall = performance.now() - t0;
const byKernel = new Map();
for (const k of info.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls += 1;
  byKernel.set(k.name, e);
}
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(
  `${network} on ${backend}, batch ${batch}: profiled step ${wall.toFixed(1)} ms wall, ${total.toFixed(1)} ms in kernels`,
);
for (const [name, e] of rows.slice(0, 25)) {
  console.log(`${name.padEnd(24)} ${e.ms.toFixed(2).padStart(9)} ms ${String(e.calls).padStart(5)} calls`);
}
dispose();
