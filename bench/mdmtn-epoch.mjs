#!/usr/bin/env node
// Benchmark (not a test): one training epoch of Hotegni et al.'s search phase — MDMTN on the full
// 50,000-image MultiMNIST training split, batch 256, the Chebyshev-AL solver on (GrOWL, NLL, NLL)
// and the GrOWL prox at the epoch's end, exactly the config `moprune reproduce hotegni2023 --full`
// trains (experiments/hotegni2023/src/configs.ts), without validation — at 1 and at 2 backend
// threads, alternating which goes first. The figure is the train loop (the sum of the steps'
// `timeMs` in metrics.jsonl, what the reference's 46 s per epoch measures) and the epoch's wall
// time; the reference's own figure (its code on this machine, torch 1.13, one thread: 47.5 s search,
// 46.1 s retraining per epoch) is issue 20's anchor, not re-measured here.
//
//   node bench/mdmtn-epoch.mjs [--rounds 2] [--out bench/results/mdmtn-epoch.json]
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
    rounds: { type: 'string', default: '2' },
    out: { type: 'string', default: join(here, 'results', 'mdmtn-epoch.json') },
  },
});
const REFERENCE_SECONDS = 46.1;

/** The experiment's search config for the main vector, one epoch, no evaluation or checkpoints. */
function config() {
  const script = `import { searchConfig, FULL, MAIN_VECTOR } from './experiments/hotegni2023/src/configs.ts';
const c = searchConfig({ scale: FULL, vector: MAIN_VECTOR, form: 'textbook', seed: 0, minZeroRows: 0 });
const { keepBest, checkpoint, ...training } = c.training;
console.log(JSON.stringify({ ...c, training: { ...training, epochs: 1, validation: false, evaluateTest: false, checkpoint: false } }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`could not build the config: ${r.stderr}`);
  return r.stdout.trim();
}

function run(threads, file, dir) {
  const out = join(dir, `out-${threads}`);
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(
    process.execPath,
    [join(root, 'packages', 'cli', 'dist', 'bin.js'), 'train', file, '--out', out, '--quiet'],
    { env: { ...process.env, MOPRUNE_NATIVE_THREADS: String(threads) }, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`moprune train failed: ${r.stderr}`);
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const steps = lines.filter((l) => l.type === 'step');
  const epoch = lines.find((l) => l.type === 'epoch');
  const backend = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).environment?.backend;
  return {
    threads,
    steps: steps.length,
    trainLoopSeconds: steps.reduce((a, s) => a + s.timeMs, 0) / 1000,
    epochSeconds: epoch.timeMs / 1000,
    backend,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'moprune-mdmtn-epoch-'));
try {
  const file = join(dir, 'config.json');
  writeFileSync(file, config());
  const rounds = [];
  for (let k = 0; k < Number(o.rounds); k++) {
    const order = k % 2 === 0 ? [1, 2] : [2, 1];
    const got = {};
    for (const t of order) got[t] = run(t, file, dir);
    rounds.push(got);
    console.error(
      `round ${k + 1}: 1 thread ${got[1].trainLoopSeconds.toFixed(1)} s (epoch ${got[1].epochSeconds.toFixed(1)} s), ` +
        `2 threads ${got[2].trainLoopSeconds.toFixed(1)} s (epoch ${got[2].epochSeconds.toFixed(1)} s)`,
    );
  }
  const side = (t) => ({
    trainLoopSeconds: median(rounds.map((r) => r[t].trainLoopSeconds)),
    epochSeconds: median(rounds.map((r) => r[t].epochSeconds)),
    ratioToReference: median(rounds.map((r) => r[t].trainLoopSeconds)) / REFERENCE_SECONDS,
  });
  const result = {
    benchmark: 'mdmtn-epoch',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    backend: rounds[0][1].backend,
    steps: rounds[0][1].steps,
    referenceSecondsPerEpoch: REFERENCE_SECONDS,
    oneThread: side(1),
    twoThreads: side(2),
    rounds,
  };
  mkdirSync(dirname(o.out), { recursive: true });
  const tmp = `${o.out}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(tmp, o.out);
  console.log(
    `MDMTN search epoch (${result.steps} steps, ${result.backend}): train loop ${result.oneThread.trainLoopSeconds.toFixed(1)} s on 1 thread ` +
      `(${result.oneThread.ratioToReference.toFixed(2)}× the reference's ${REFERENCE_SECONDS} s), ` +
      `${result.twoThreads.trainLoopSeconds.toFixed(1)} s on 2 (${result.twoThreads.ratioToReference.toFixed(2)}×); wrote ${o.out}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
