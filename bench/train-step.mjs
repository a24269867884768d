#!/usr/bin/env node
// Benchmark (not a test): time of one training step (forward, backward, SGD
// update) at batch 128 for LeNet-5, LeNet-300-100 and ResNet-20 on stock tfjs
// `cpu`, moprune `cpu`, moprune `wasm`, `native`/`tensorflow` when they load,
// and PyTorch CPU when a Python with torch is found. Writes
// bench/results/train-step.json and prints a table.
//
//   node bench/train-step.mjs [--networks lenet5,lenet300,resnet20] [--backends cpu-stock,cpu,wasm,native,tensorflow,pytorch]
//                             [--batch 128] [--runs 20] [--budget 60] [--include-slow] [--print] [--out file.json]
//                             [--torch-threads N] [--rounds N] [--warmup-seconds 1]
//
// Before its timed runs every network warms up the same way on every side,
// PyTorch's included: untimed steps until --warmup-seconds have passed (at
// least one step, at most 200), so JIT compilation, heap growth and buffer
// pools have settled — the steady state a training run spends its time in.
//
// --rounds N repeats the whole measurement N times, alternating the order of
// the backends, and reports per network the median of the rounds' medians
// (min of minimums, max of maximums) plus the range of the per-round ratios
// to PyTorch: on a machine whose speed drifts, one round's ratio says little.
//
// MOPRUNE_NATIVE_THREADS=1 with --torch-threads 1 compares single-thread CPU
// time, the figure that stays stable on a shared machine.
//
// Every backend runs in its own child process: stock `cpu` must not see
// moprune's gradient registrations, and one backend's warm state must not
// flatter another's.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const ALL_NETWORKS = ['lenet5', 'lenet300', 'resnet20'];
const ALL_BACKENDS = ['cpu-stock', 'cpu', 'wasm', 'native', 'tensorflow', 'pytorch'];

const USAGE = `usage: node bench/train-step.mjs [--networks ${ALL_NETWORKS.join(',')}] [--backends ${ALL_BACKENDS.join(',')}]
       [--batch 128] [--runs 20] [--rounds 1] [--warmup-seconds 1] [--budget 60] [--include-slow] [--torch-threads N]
       [--out file.json] [--print]`;

function parseCli() {
  try {
    return parseArgs({ options: CLI_OPTIONS }).values;
  } catch (error) {
    // An unknown or malformed flag (or --help): say what is accepted, exit 2.
    process.stderr.write(
      `${error instanceof Error && !process.argv.includes('--help') ? `${error.message}\n` : ''}${USAGE}\n`,
    );
    process.exit(process.argv.includes('--help') ? 0 : 2);
  }
}

const CLI_OPTIONS = {
  child: { type: 'boolean', default: false },
  backend: { type: 'string' },
  networks: { type: 'string', default: ALL_NETWORKS.join(',') },
  backends: { type: 'string', default: ALL_BACKENDS.join(',') },
  batch: { type: 'string', default: '128' },
  runs: { type: 'string', default: '20' },
  // Seconds of measurement per network on cpu/cpu-stock before runs are capped (never below 3).
  budget: { type: 'string', default: '60' },
  'include-slow': { type: 'boolean', default: false },
  // Print the table of the last results file (or of --out) instead of measuring.
  print: { type: 'boolean', default: false },
  // Results file (default bench/results/train-step.json).
  out: { type: 'string' },
  // PyTorch's intra-op threads. Default: every core, as a user would run it.
  'torch-threads': { type: 'string', default: String(cpus().length) },
  rounds: { type: 'string', default: '1' },
  'warmup-seconds': { type: 'string', default: '1' },
};
const args = parseCli();
const batch = Number(args.batch);
const runs = Number(args.runs);
const warmupSeconds = Number(args['warmup-seconds']);
if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0) {
  process.stderr.write(`--warmup-seconds must be a number >= 0, got ${args['warmup-seconds']}\n${USAGE}\n`);
  process.exit(2);
}
/** Most untimed warm-up steps per network (see --warmup-seconds); train_step.py is passed the same. */
const MAX_WARMUP_STEPS = 200;
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--rounds must be a positive integer, got ${args.rounds}\n${USAGE}\n`);
  process.exit(2);
}
const budgetMs = Number(args.budget) * 1000;
const MIN_RUNS = 3;

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  // The mean keeps the slow steps a median hides (what a loop of these steps takes per step).
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { median, mean, min: s[0], max: s[s.length - 1] };
}

/**
 * In this workspace @moprune/native is a sibling package, not a dependency of
 * @moprune/backend, so initBackend's own lookup cannot see it: resolve its
 * built entry through the package's self-reference and hand it over.
 */
function workspaceNativeLoader() {
  const pkg = join(here, '..', 'packages', 'native', 'package.json');
  if (!existsSync(pkg)) return {};
  try {
    const entry = createRequire(pkg).resolve('@moprune/native');
    return existsSync(entry) ? { loadNative: () => import(pathToFileURL(entry).href) } : {};
  } catch {
    return {};
  }
}

/** Child: measure the networks on one tfjs backend and print the rows as JSON. */
async function child(backend) {
  const tf = await import('@tensorflow/tfjs-core');
  // tfjs-layers registers tfjs's stock gradients; moprune's must come after it.
  await import('@tensorflow/tfjs-layers');
  let tfBackend = backend;
  if (backend === 'cpu-stock') {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    tfBackend = 'cpu';
  } else {
    const { initBackend } = await import('@moprune/backend');
    try {
      const native = backend === 'native' ? workspaceNativeLoader() : {};
      tfBackend = (await initBackend({ backend, ...native, logger: (l) => process.stderr.write(`${l}\n`) }))
        .tfBackend;
    } catch (e) {
      if (
        e?.name === 'BackendError' &&
        (e.code === 'BACKEND_NOT_INSTALLED' || e.code === 'BACKEND_UNAVAILABLE')
      ) {
        process.stdout.write(`${JSON.stringify({ unavailable: e.message })}\n`);
        return;
      }
      throw e;
    }
  }
  const { makeTrainStep, warmUp } = await import('./nets.mjs');
  const rows = [];
  for (const network of args.networks.split(',')) {
    if (backend === 'cpu-stock' && network === 'resnet20' && !args['include-slow']) {
      rows.push({
        network,
        backend,
        batch,
        msPerStep: null,
        samplesPerSec: null,
        note: 'skipped: stock cpu needs minutes per ResNet-20 step (its Conv2DBackpropFilter); --include-slow measures it',
      });
      continue;
    }
    const { step, dispose } = makeTrainStep(tf, network, batch);
    let t0 = performance.now();
    step();
    const first = performance.now() - t0;
    // Warm-up (see --warmup-seconds): untimed steps until the time is up.
    const warmupSteps = warmUp(step, warmupSeconds, { start: t0, done: 1, max: MAX_WARMUP_STEPS });
    // Only the JavaScript cpu backends take seconds to minutes per step; they are capped by the time budget.
    const capped = backend === 'cpu' || backend === 'cpu-stock';
    const planned =
      !capped || first * runs <= budgetMs ? runs : Math.max(MIN_RUNS, Math.floor(budgetMs / first));
    const times = [];
    // CPU time of the whole process (all threads) per step: on a shared
    // machine it varies far less than wall time, and with one thread it is
    // the time the step would take on an idle core.
    const cpuTimes = [];
    const before = tf.memory().numTensors;
    for (let i = 0; i < planned; i++) {
      const c0 = process.cpuUsage();
      t0 = performance.now();
      step();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuTimes.push((c.user + c.system) / 1000);
    }
    const leaked = tf.memory().numTensors - before;
    dispose();
    const msPerStep = stats(times);
    const notes = [];
    if (planned < runs) notes.push(`${planned} runs (time cap ${args.budget} s)`);
    if (leaked !== 0) notes.push(`leaked ${leaked} tensors over ${planned} steps`);
    rows.push({
      network,
      backend,
      batch,
      msPerStep,
      cpuMsPerStep: stats(cpuTimes),
      samplesPerSec: batch / (msPerStep.median / 1000),
      runs: planned,
      warmupSteps,
      tfBackend,
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    });
    process.stderr.write(
      `  ${backend} ${network}: ${msPerStep.median.toFixed(1)} ms/step (mean ${msPerStep.mean.toFixed(2)}), ${stats(cpuTimes).median.toFixed(1)} ms CPU (${planned} runs)\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ rows })}\n`);
}

/** The Python that can `import torch`: MOPRUNE_PYTHON, else python3, else Debian's /usr/bin/python3. */
function findTorchPython() {
  const candidates = process.env.MOPRUNE_PYTHON
    ? [process.env.MOPRUNE_PYTHON]
    : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return python;
  }
  return undefined;
}

function lastJsonLine(text) {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  return lines.length > 0 ? JSON.parse(lines[lines.length - 1]) : undefined;
}

function runChild(backend) {
  process.stderr.write(`train-step: ${backend} …\n`);
  const r = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      '--backend',
      backend,
      '--networks',
      args.networks,
      '--batch',
      args.batch,
      '--runs',
      args.runs,
      '--budget',
      args.budget,
      '--warmup-seconds',
      args['warmup-seconds'],
      ...(args['include-slow'] ? ['--include-slow'] : []),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  const out = lastJsonLine(r.stdout ?? '');
  if (r.status !== 0 || out === undefined)
    throw new Error(`train-step child for ${backend} failed (exit ${r.status})`);
  if (out.unavailable) {
    process.stderr.write(`  ${backend}: not measured: ${out.unavailable}\n`);
    return [];
  }
  return out.rows;
}

function runPytorch() {
  const python = findTorchPython();
  if (python === undefined) {
    process.stderr.write(
      '  pytorch: not measured: no Python with torch (set MOPRUNE_PYTHON, or apt-get install python3-torch)\n',
    );
    return [];
  }
  process.stderr.write(`train-step: pytorch (${python}) …\n`);
  const out = execFileSync(
    python,
    [
      join(here, 'train_step.py'),
      '--batch',
      args.batch,
      '--runs',
      args.runs,
      '--warmup-seconds',
      args['warmup-seconds'],
      '--max-warmup',
      String(MAX_WARMUP_STEPS),
      '--threads',
      args['torch-threads'],
      '--networks',
      args.networks,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return lastJsonLine(out).rows;
}

/** Range of the per-round median ratios to PyTorch ("0.71–0.80×"), when both rows come from several rounds. */
function roundRatios(row, torch) {
  const mine = row.roundMedians;
  const theirs = torch?.roundMedians;
  if (!mine || !theirs || mine.length !== theirs.length || row.backend === 'pytorch') return '—';
  const ratios = mine.map((m, i) => m / theirs[i]);
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`;
}

/** One row per network and backend from several rounds' rows (see --rounds). */
function mergeRounds(perRound) {
  const median = (xs) => stats(xs).median;
  const merged = [];
  for (const first of perRound[0]) {
    const same = perRound
      .map((rows) => rows.find((r) => r.network === first.network && r.backend === first.backend))
      .filter((r) => r?.msPerStep);
    if (same.length < perRound.length) {
      merged.push(first);
      continue;
    }
    const msPerStep = {
      median: median(same.map((r) => r.msPerStep.median)),
      min: Math.min(...same.map((r) => r.msPerStep.min)),
      max: Math.max(...same.map((r) => r.msPerStep.max)),
    };
    const notes = [...new Set(same.map((r) => r.note).filter(Boolean))];
    merged.push({
      ...first,
      msPerStep,
      cpuMsPerStep: first.cpuMsPerStep
        ? {
            median: median(same.map((r) => r.cpuMsPerStep.median)),
            min: Math.min(...same.map((r) => r.cpuMsPerStep.min)),
            max: Math.max(...same.map((r) => r.cpuMsPerStep.max)),
          }
        : first.cpuMsPerStep,
      samplesPerSec: batch / (msPerStep.median / 1000),
      runs: same.reduce((n, r) => n + (r.runs ?? 0), 0),
      roundMedians: same.map((r) => r.msPerStep.median),
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    });
  }
  return merged;
}

function fmt(x, digits = 1) {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

function printTable(rows) {
  const find = (network, backend) =>
    rows.find((r) => r.network === network && r.backend === backend && r.msPerStep);
  const header = [
    'network',
    'backend',
    'median ms',
    'min',
    'max',
    'samples/s',
    'time ÷ PyTorch',
    'min ÷ PyTorch min',
    'CPU ms',
    'CPU ÷ PyTorch CPU',
    'speedup vs cpu-stock',
    'rounds ÷ PyTorch',
  ];
  // Under CPU contention medians swing widely (a 2-thread PyTorch suffers most); the ratio of
  // minimums estimates uncontended speed better, so both are shown.
  const body = rows.map((r) => {
    const torch = find(r.network, 'pytorch');
    const stock = find(r.network, 'cpu-stock');
    const m = r.msPerStep?.median;
    return [
      r.network,
      r.backend,
      fmt(m),
      fmt(r.msPerStep?.min),
      fmt(r.msPerStep?.max),
      fmt(r.samplesPerSec, 0),
      m && torch ? `${(m / torch.msPerStep.median).toFixed(2)}×` : '—',
      m && torch ? `${(r.msPerStep.min / torch.msPerStep.min).toFixed(2)}×` : '—',
      fmt(r.cpuMsPerStep?.median),
      r.cpuMsPerStep && torch?.cpuMsPerStep
        ? `${(r.cpuMsPerStep.median / torch.cpuMsPerStep.median).toFixed(2)}×`
        : '—',
      m && stock ? `${(stock.msPerStep.median / m).toFixed(1)}×` : '—',
      roundRatios(r, torch),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(
    `\nTraining step, batch ${batch} (median of up to ${runs} after warm-up; CPU = process CPU time per step, all threads)`,
  );
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  for (const r of rows) if (r.note) console.log(`  ${r.network}/${r.backend}: ${r.note}`);
}

async function main() {
  if (args.child) return child(args.backend);
  if (args.print) {
    const saved = JSON.parse(readFileSync(args.out ?? join(here, 'results', 'train-step.json'), 'utf8'));
    printTable(saved.rows);
    console.log(
      `\n${saved.date}, load average at start ${saved.machine.loadAverageAtStart}, at end ${saved.machine.loadAverageAtEnd ?? '—'}; native threads ${saved.machine.nativeThreads ?? 'all'}, torch threads ${saved.machine.torchThreads ?? '—'}`,
    );
    return;
  }
  const wanted = args.backends.split(',');
  const unknown = wanted.filter((b) => !ALL_BACKENDS.includes(b));
  if (unknown.length > 0)
    throw new Error(`unknown backend(s) ${unknown.join(', ')}; known: ${ALL_BACKENDS.join(', ')}`);
  const load = loadavg()[0];
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so a drift in machine speed does not always favour the same backend.
    const order = round % 2 === 0 ? wanted : [...wanted].reverse();
    if (rounds > 1) process.stderr.write(`train-step: round ${round + 1} of ${rounds}\n`);
    const rows = [];
    for (const backend of order) rows.push(...(backend === 'pytorch' ? runPytorch() : runChild(backend)));
    // Rows in the order the backends were asked for, whatever order they ran in.
    rows.sort((a, b) => wanted.indexOf(a.backend) - wanted.indexOf(b.backend));
    perRound.push(rows);
  }
  const rows = rounds === 1 ? perRound[0] : mergeRounds(perRound);
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverageAtStart: Number(load.toFixed(2)),
      loadAverageAtEnd: Number(loadavg()[0].toFixed(2)),
      nativeThreads: process.env.MOPRUNE_NATIVE_THREADS ? Number(process.env.MOPRUNE_NATIVE_THREADS) : 'all',
      torchThreads: Number(args['torch-threads']),
    },
    rounds,
    rows,
    ...(rounds > 1 ? { perRound } : {}),
  };
  const file = args.out ?? join(here, 'results', 'train-step.json');
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(tmp, file);
  printTable(rows);
  console.log(
    `\nwrote ${file} (load average at start ${load.toFixed(2)}, at end ${result.machine.loadAverageAtEnd} on ${cpus().length} cores; MOPRUNE_NATIVE_THREADS=${process.env.MOPRUNE_NATIVE_THREADS ?? 'unset'}, torch threads ${args['torch-threads']})`,
  );
}

await main();
