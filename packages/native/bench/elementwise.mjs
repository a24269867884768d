#!/usr/bin/env node
// Benchmark (not a test): the addon's one-pass training kernels on preallocated arrays the size of
// LeNet-300-100's parameters (266,610 floats): the Adam update (both ε placements), the ReLU
// gradient (a plain memory-bound pass, for scale) and the sums of squares and absolute values.
// Median of --rounds rounds of --reps calls each, after 50 warm-up calls.
//
//   node packages/native/bench/elementwise.mjs [--size 266610] [--reps 400] [--rounds 3]
// Needs a build (pnpm build) because it imports dist/.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadNativeAddon } from '../dist/index.js';

const { values: o } = parseArgs({
  options: {
    size: { type: 'string', default: '266610' },
    reps: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '3' },
  },
});
const loaded = loadNativeAddon();
if (!loaded.ok) throw new Error(loaded.reason);
const { addon } = loaded;
const n = Number(o.size);
const make = (k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + k) * 0.01);
const [w, g, m, w1, m1, v1] = [0, 1, 2, 3, 4, 5].map(make);
const v = make(6).map((x) => x * x);
const cases = {
  'adam (ε corrected)': () =>
    addon.adamUpdate(w, g, m, v, w1, m1, v1, 0.9, 0.999, 1e-7, 0.001, 0.5, 0.3, true),
  'adam (ε raw)': () => addon.adamUpdate(w, g, m, v, w1, m1, v1, 0.9, 0.999, 1e-7, 0.001, 0.5, 0.3, false),
  reluGrad: () => addon.reluGrad(g, w, w1),
  sumSquares: () => addon.sumSquares(g),
  sumAbs: () => addon.sumAbs(g),
};
const time = (f) => {
  for (let i = 0; i < 50; i++) f();
  const start = performance.now();
  for (let i = 0; i < Number(o.reps); i++) f();
  return (performance.now() - start) / Number(o.reps);
};
// An older build (a --baseline checkout) may lack the sums.
if (typeof addon.sumSquares !== 'function') for (const k of ['sumSquares', 'sumAbs']) delete cases[k];
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < Number(o.rounds); r++)
  for (const [k, f] of Object.entries(cases)) results[k].push(time(f));
console.log(
  `${n} floats, ${addon.info().threads} threads, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
for (const [k, ts] of Object.entries(results)) {
  const s = [...ts].sort((a, b) => a - b);
  console.log(
    `${k.padEnd(20)} median ${s[s.length >> 1].toFixed(3)} ms (${s.map((t) => t.toFixed(3)).join(', ')})`,
  );
}
