// Inference time of LeNet-300-100: dense vs unit-pruned-and-compacted vs
// unstructured-masked, per backend and batch size. Not a test: it writes
// bench/results/inference.json and prints a table.
//
//   pnpm --filter @moprune/core build && node bench/inference.mjs [--runs 50]
//
// Unstructured rows keep the dense shapes: "masked" runs apply() with the masks
// set (as in training: W ⊙ M every call); "zeros" bakes the zeros into the
// weights and drops the masks (as in deployment without compaction). Both show
// that zeros alone do not make dense tfjs kernels faster; removing units does.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compact, countMacs, countParams, createNetwork, networkMetrics, Rng } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

const here = dirname(fileURLToPath(import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;
const WARMUP = 20;
const BATCHES = [128, 1];

/** LeNet-300-100 (LeCun et al. 1998): 784-300-100-10, ReLU, built inline so the bench needs only core. */
const lenet300 = {
  name: 'lenet-300-100',
  inputShape: [28, 28, 1],
  nodes: [
    { id: 'flatten', op: 'flatten', inputs: ['input'] },
    { id: 'fc1', op: 'dense', inputs: ['flatten'], units: 300 },
    { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'fc2', op: 'dense', inputs: ['relu1'], units: 100 },
    { id: 'relu2', op: 'activation', inputs: ['fc2'], fn: 'relu' },
    { id: 'fc3', op: 'dense', inputs: ['relu2'], units: 10 },
  ],
  outputs: ['fc3'],
};

function setMask(net, name, data) {
  const t = tf.tensor(data, net.params.get(name).shape);
  net.setMask(name, t);
  t.dispose();
}

/** Masks a random `fraction` of the hidden units of every prunable layer (whole groups), then compacts. */
function unitPruned(fraction, seed) {
  const net = createNetwork(lenet300, { seed });
  const rng = Rng.fromSeed(seed);
  const masks = new Map();
  for (const [name, info] of net.paramInfo) {
    if (info.trainable) masks.set(name, new Float32Array(info.shape.reduce((a, b) => a * b, 1)).fill(1));
  }
  const byNode = new Map();
  for (const g of net.groups) byNode.set(g.node, [...(byNode.get(g.node) ?? []), g]);
  for (const groups of byNode.values()) {
    const order = rng.permutation(groups.length);
    const drop = Math.round(fraction * groups.length);
    for (let i = 0; i < drop; i++) {
      for (const s of groups[order[i]].slices) {
        const shape = net.paramInfo.get(s.param).shape;
        const inner = shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
        const outer = shape.slice(0, s.axis).reduce((a, b) => a * b, 1);
        const m = masks.get(s.param);
        for (let o = 0; o < outer; o++) {
          for (const k of s.indices)
            m.fill(0, (o * shape[s.axis] + k) * inner, (o * shape[s.axis] + k + 1) * inner);
        }
      }
    }
  }
  for (const [name, m] of masks) setMask(net, name, m);
  const small = compact(net);
  net.dispose();
  // Only whole groups were masked, so the sliced masks are all ones: drop them,
  // as a deployed model would (a masked apply pays W ⊙ M on every call).
  for (const name of small.maskedParams()) small.setMask(name, null);
  return small;
}

/** Masks a random `fraction` of every kernel's entries; `bake` writes the zeros and removes the masks. */
function weightPruned(fraction, seed, bake) {
  const net = createNetwork(lenet300, { seed });
  const rng = Rng.fromSeed(seed + 1);
  for (const [name, info] of net.paramInfo) {
    if (info.role !== 'kernel') continue;
    const n = info.shape.reduce((a, b) => a * b, 1);
    setMask(
      net,
      name,
      Float32Array.from({ length: n }, () => (rng.next() < fraction ? 0 : 1)),
    );
  }
  if (bake) {
    net.applyMasks();
    for (const name of net.maskedParams()) net.setMask(name, null);
  }
  return net;
}

/** One timed forward pass (with a read-back, so lazy backends finish the work). */
function once(net, x) {
  const t0 = performance.now();
  const [y] = net.apply(x);
  y.dataSync();
  const ms = performance.now() - t0;
  y.dispose();
  return ms;
}

function summary(ms) {
  ms.sort((a, b) => a - b);
  const mid = ms.length >> 1;
  const median = ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  return { median, min: ms[0], max: ms[ms.length - 1] };
}

const variants = [
  ['dense', () => createNetwork(lenet300, { seed: 1 })],
  ['units-90% (compacted)', () => unitPruned(0.9, 1)],
  ['units-98% (compacted)', () => unitPruned(0.98, 1)],
  ['weights-90% (masked)', () => weightPruned(0.9, 1, false)],
  ['weights-98% (masked)', () => weightPruned(0.98, 1, false)],
  ['weights-90% (zeros)', () => weightPruned(0.9, 1, true)],
  ['weights-98% (zeros)', () => weightPruned(0.98, 1, true)],
];

const backends = ['cpu'];
try {
  await import('@tensorflow/tfjs-backend-wasm');
  backends.push('wasm');
} catch (e) {
  console.warn(`wasm backend not available: ${e.message}`);
}

const rows = [];
for (const backend of backends) {
  if (!(await tf.setBackend(backend))) {
    console.warn(`backend ${backend} failed to initialize; skipped`);
    continue;
  }
  await tf.ready();
  const nets = variants.map(([variant, make]) => ({ variant, net: make() }));
  for (const batch of BATCHES) {
    const x = tf.randomUniform([batch, 784], 0, 1, 'float32', 1);
    for (const { net } of nets) for (let i = 0; i < WARMUP; i++) once(net, x);
    // Round-robin, so load from other processes on the shared machine hits every variant alike.
    const ms = nets.map(() => []);
    for (let r = 0; r < RUNS; r++) {
      nets.forEach(({ net }, k) => {
        ms[k].push(once(net, x));
      });
    }
    x.dispose();
    nets.forEach(({ variant, net }, k) => {
      const m = networkMetrics(net);
      const structured = variant === 'dense' || variant.startsWith('units');
      const params = structured ? countParams(net.spec) : m.nonzero.params;
      const macs = structured ? countMacs(net.spec) : m.nonzero.macs;
      rows.push({ variant, backend, batch, params, macs, msPerBatch: summary(ms[k]) });
    });
  }
  for (const { net } of nets) net.dispose();
}

const result = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    tfjs: tf.version_core,
    runs: RUNS,
    warmup: WARMUP,
  },
  rows,
};
const out = join(here, 'results', 'inference.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${out}.tmp`, out);

const dense = new Map(rows.filter((r) => r.variant === 'dense').map((r) => [`${r.backend}/${r.batch}`, r]));
const pad = (s, n) => String(s).padEnd(n);
const num = (v, d = 3) => v.toFixed(d);
console.log(
  `${pad('backend', 8)}${pad('batch', 6)}${pad('variant', 24)}${pad('params', 9)}${pad('MACs', 9)}${pad('median ms', 11)}${pad('min', 9)}${pad('max', 9)}speed-up`,
);
for (const r of rows) {
  const d = dense.get(`${r.backend}/${r.batch}`);
  console.log(
    `${pad(r.backend, 8)}${pad(r.batch, 6)}${pad(r.variant, 24)}${pad(r.params, 9)}${pad(r.macs, 9)}${pad(num(r.msPerBatch.median), 11)}${pad(num(r.msPerBatch.min), 9)}${pad(num(r.msPerBatch.max), 9)}${num(d.msPerBatch.median / r.msPerBatch.median, 2)}×`,
  );
}
console.log(`\nwrote ${out}`);
