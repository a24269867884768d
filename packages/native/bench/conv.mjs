#!/usr/bin/env node
// Benchmark (not a test): the convolutions of LeNet-5 and ResNet-20 at batch
// 128 — forward, input gradient, filter gradient — on oneDNN's direct kernels
// against im2col + OpenBLAS sgemm, called through the addon on preallocated
// arrays. Runs interleave the two implementations and keep each one's best
// (the machine is shared); the table prints the load average. The oneDNN and
// im2col columns run with the one-input-channel direct kernel switched off;
// the `direct` columns (shapes with one input channel and stride 1 only) run
// the direct kernel's forward and filter gradient, AVX-512 and AVX2 variants
// (the filter gradient with `im2col` selected, the only setting that
// dispatches it; the input gradient there is the general path, oneDNN when
// built in).
//
//   node packages/native/bench/conv.mjs [--threads 1] [--reps 15] [--only LeNet]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadNativeAddon } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '15' },
    only: { type: 'string', default: '' },
  },
});
const loaded = loadNativeAddon();
if (!loaded.ok) throw new Error(loaded.reason);
const { addon } = loaded;
addon.setThreads(Number(args.threads));
addon.keepFreedMemory();
const reps = Number(args.reps);
const general = addon.info().onednn ? ['onednn', 'im2col'] : ['im2col'];
const best = addon.info().directConvolution;
const direct = best === 'avx512' ? ['avx512', 'avx2'] : best ? [best] : [];
const impls = [...general, ...direct.map((isa) => `direct ${isa}`)];
const select = (impl) => {
  if (impl.startsWith('direct ')) {
    addon.setConvImplementation(general[0]);
    addon.setDirectConvolution(impl.slice('direct '.length));
  } else {
    addon.setConvImplementation(impl);
    addon.setDirectConvolution('off');
  }
};

// [name, n, h, w, cin, k, stride, padTop, cout] with tfjs's 'same'/'valid' padding.
const SHAPES = [
  ['ResNet stem 32×32×3→16', 128, 32, 32, 3, 3, 1, 1, 16],
  ['ResNet 32×32×16→16', 128, 32, 32, 16, 3, 1, 1, 16],
  ['ResNet 32×32×16→32 /2', 128, 32, 32, 16, 3, 2, 0, 32],
  ['ResNet 16×16×32→32', 128, 16, 16, 32, 3, 1, 1, 32],
  ['ResNet 16×16×32→64 /2', 128, 16, 16, 32, 3, 2, 0, 64],
  ['ResNet 8×8×64→64', 128, 8, 8, 64, 3, 1, 1, 64],
  ['LeNet-5 conv1 28×28×1→6', 128, 28, 28, 1, 5, 1, 2, 6],
  ['LeNet-5 conv2 14×14×6→16', 128, 14, 14, 6, 5, 1, 0, 16],
];

const random = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
console.log(
  `convolutions, batch 128, ${args.threads} thread(s), best of ${reps} (ms): forward / input gradient / filter gradient`,
);
console.log(`${'shape'.padEnd(28)}${impls.map((i) => i.padStart(24)).join('')}`);
for (const [name, n, h, w, cin, k, stride, pad, cout] of SHAPES) {
  if (!name.includes(args.only)) continue;
  const runs = impls.filter((i) => !i.startsWith('direct ') || (cin === 1 && stride === 1));
  const oh = stride === 1 ? (pad > 0 ? h : h - k + 1) : Math.ceil(h / stride);
  const ow = oh;
  const g = [n, h, w, cin, k, k, cout, oh, ow, stride, stride, 1, 1, pad, pad];
  const x = random(n * h * w * cin);
  const f = random(k * k * cin * cout);
  const dy = random(n * oh * ow * cout);
  const y = new Float32Array(dy.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(f.length);
  const times = Object.fromEntries(runs.map((i) => [i, [Infinity, Infinity, Infinity]]));
  for (let r = 0; r < reps; r++) {
    for (const impl of runs) {
      select(impl);
      const direct = impl.startsWith('direct ');
      const calls = [
        () => addon.conv2D(x, f, y, g),
        () => addon.conv2DBackpropInput(dy, f, dx, g),
        () => {
          if (direct) addon.setConvImplementation('im2col');
          addon.conv2DBackpropFilter(x, dy, dw, g);
        },
      ];
      calls.forEach((call, j) => {
        const t0 = performance.now();
        call();
        times[impl][j] = Math.min(times[impl][j], performance.now() - t0);
      });
    }
  }
  const cells = impls.map((i) =>
    (times[i] ? times[i].map((t) => t.toFixed(2)).join(' / ') : '—').padStart(24),
  );
  console.log(`${name.padEnd(28)}${cells.join('')}`);
}
addon.setDirectConvolution('auto');
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on this machine`,
);
