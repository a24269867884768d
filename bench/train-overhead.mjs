#!/usr/bin/env node
// Benchmark (not a test): what `moprune train` costs around its steps — issue 16's "overhead over the
// bare step" — measured as ratios within each round, the sides alternating which goes first.
//
//   node bench/train-overhead.mjs [--rounds 5] [--epochs 6] [--threads 2] [--runs 300] [--limit 20000]
//                                 [--out bench/results/train-overhead.json]
//
// Sides of a round (LeNet-300-100, SGD lr 0.01, batch 128, native backend):
// - bare: `bench/train-step.mjs` — the same network and batch size stepped on one fixed batch by
//   tfjs's own optimizer, `--runs` timed steps after warm-up; its median and mean step.
// - train: `moprune train` on `--limit` MNIST images for `--epochs` epochs, no evaluation, every other
//   setting at its default (a step line per step, epoch metrics, a checkpoint per epoch).
// - train, no checkpoints: the same with `checkpoint: false`, which separates the epoch ends' I/O.
// From each train side's metrics.jsonl (epochs 2 onward, so start-up and first-epoch warm-up stay out):
// the median step (`timeMs`: the step itself), the median gap between consecutive step lines (step plus
// everything between steps: the next batch, the step line, callbacks) and the wall time per step over
// whole epochs (gaps, slow steps and the epoch ends). Ratios: train's median gap ÷ the bare median, and
// train's wall per step ÷ the bare mean (the mean keeps the slow steps a median hides).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values: o } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    epochs: { type: 'string', default: '6' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '300' },
    limit: { type: 'string', default: '20000' },
    out: { type: 'string', default: join(here, 'results', 'train-overhead.json') },
  },
});
const rounds = Number(o.rounds);
const epochs = Number(o.epochs);
if (!(Number.isInteger(rounds) && rounds >= 1 && Number.isInteger(epochs) && epochs >= 2)) {
  console.error('--rounds must be an integer ≥ 1 and --epochs an integer ≥ 2');
  process.exit(2);
}
const env = { ...process.env, MOPRUNE_NATIVE_THREADS: o.threads };
const work = mkdtempSync(join(tmpdir(), 'moprune-overhead-'));

const config = (checkpoint) => ({
  name: 'train-overhead',
  dataset: { type: 'mnist' },
  model: { type: 'lenet-300-100' },
  objectives: [{ type: 'crossEntropy' }],
  solver: { type: 'weighted-sum', weights: [1], optimizer: { type: 'sgd', lr: 0.01 } },
  pruners: [],
  training: {
    epochs,
    batchSize: 128,
    layout: 'flat',
    limit: Number(o.limit),
    seed: 1,
    evaluateTest: false,
    validation: false,
    ...(checkpoint ? {} : { checkpoint: false }),
  },
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r;
}

function bare() {
  const out = join(work, 'bare.json');
  run(process.execPath, [
    join(here, 'train-step.mjs'),
    '--networks',
    'lenet300',
    '--backends',
    'native',
    '--runs',
    o.runs,
    '--out',
    out,
  ]);
  const row = JSON.parse(readFileSync(out, 'utf8')).rows.find((r) => r.backend === 'native');
  return { median: row.msPerStep.median, mean: row.msPerStep.mean };
}

function train(checkpoint) {
  const dir = join(work, checkpoint ? 'train' : 'train-nockpt');
  rmSync(dir, { recursive: true, force: true });
  const cfg = join(work, `config-${checkpoint}.json`);
  writeFileSync(cfg, JSON.stringify(config(checkpoint)));
  run(process.execPath, [
    join(root, 'packages', 'cli', 'dist', 'bin.js'),
    'train',
    cfg,
    '--out',
    dir,
    '--quiet',
  ]);
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const steps = lines.filter((l) => l.type === 'step' && l.epoch >= 1);
  const epochLines = lines.filter((l) => l.type === 'epoch');
  const gaps = [];
  for (let i = 1; i < steps.length; i++) {
    if (steps[i].epoch === steps[i - 1].epoch) gaps.push(steps[i].elapsedMs - steps[i - 1].elapsedMs);
  }
  const first = epochLines[0];
  const last = epochLines[epochLines.length - 1];
  return {
    medianStep: median(steps.map((s) => s.timeMs)),
    medianGap: median(gaps),
    wallPerStep: (last.elapsedMs - first.elapsedMs) / (last.step - first.step),
  };
}

const results = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['bare', 'train', 'nockpt'] : ['nockpt', 'train', 'bare'];
  const round = { load: loadavg()[0] };
  for (const side of order) {
    if (side === 'bare') round.bare = bare();
    else if (side === 'train') round.train = train(true);
    else round.noCheckpoints = train(false);
  }
  round.gapOverBareMedian = round.train.medianGap / round.bare.median;
  round.wallOverBareMean = round.train.wallPerStep / round.bare.mean;
  round.wallNoCheckpointsOverBareMean = round.noCheckpoints.wallPerStep / round.bare.mean;
  results.push(round);
  const f = (x) => x.toFixed(3);
  console.log(
    `round ${r + 1} (${order.join(', ')}): bare ${f(round.bare.median)} median / ${f(round.bare.mean)} mean ms; ` +
      `train step ${f(round.train.medianStep)}, gap ${f(round.train.medianGap)}, wall ${f(round.train.wallPerStep)}; ` +
      `no checkpoints wall ${f(round.noCheckpoints.wallPerStep)} — gap ÷ bare median ${round.gapOverBareMedian.toFixed(2)}, ` +
      `wall ÷ bare mean ${round.wallOverBareMean.toFixed(2)} (${round.wallNoCheckpointsOverBareMean.toFixed(2)} without checkpoints)`,
  );
}
const range = (k) => {
  const xs = results.map((x) => x[k]);
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
};
const summary = {
  gapOverBareMedian: range('gapOverBareMedian'),
  wallOverBareMean: range('wallOverBareMean'),
  wallNoCheckpointsOverBareMean: range('wallNoCheckpointsOverBareMean'),
};
for (const [k, v] of Object.entries(summary)) {
  console.log(`${k}: median ${v.median.toFixed(2)} (${v.min.toFixed(2)}–${v.max.toFixed(2)})`);
}
const doc = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  options: { rounds, epochs, threads: Number(o.threads), runs: Number(o.runs), limit: Number(o.limit) },
  rounds: results,
  summary,
};
mkdirSync(dirname(o.out), { recursive: true });
writeFileSync(`${o.out}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
renameSync(`${o.out}.tmp`, o.out);
rmSync(work, { recursive: true, force: true });
console.log(`wrote ${o.out}`);
