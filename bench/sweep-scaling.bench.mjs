#!/usr/bin/env node
// Sweep throughput on this machine: the same sweep of single-thread trials on
// 1 and on 2 BullMQ workers (`moprune worker --slots 1`), alternating rounds;
// trials per hour from the coordinator's wall time (workers started and ready
// first). Starts its own redis-server (Debian package redis-server) on a free
// loopback port; writes bench/results/sweep-scaling.json.
//
//   node bench/sweep-scaling.bench.mjs [--rounds 2] [--trials 8] [--limit 4000]
//
// Needs a build (`pnpm run build`): it runs packages/cli/dist/bin.js.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'packages', 'cli', 'dist', 'bin.js');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    trials: { type: 'string', default: '8' },
    limit: { type: 'string', default: '4000' },
  },
});
const rounds = Number(values.rounds);
const trials = Number(values.trials);

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const root = mkdtempSync(join(tmpdir(), 'moprune-sweep-bench-'));
if (spawnSync('redis-server', ['--version']).error) {
  console.error('redis-server is not installed (Debian package redis-server)');
  process.exit(1);
}
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--dir', root, '--save', ''],
  {
    stdio: 'ignore',
  },
);
const url = `redis://127.0.0.1:${port}`;
// The server and the workers must not outlive the benchmark, whatever ends it.
const children = new Set([redis]);
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
await new Promise((r) => setTimeout(r, 500));

const config = {
  dataset: { type: 'mnist', validationSize: 1000 },
  model: { type: 'mlp', hidden: [300, 100] },
  objectives: [{ type: 'crossEntropy' }, { type: 'l1' }],
  solver: { type: 'smgd', lr: 0.05 },
  pruners: [{ type: 'itp', threshold: 0.001 }],
  training: { epochs: 1, batchSize: 64, seed: 0, limit: Number(values.limit), validation: { limit: 1000 } },
};

function run(args, onLine) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  for (const s of [child.stdout, child.stderr])
    s.on('data', (d) => {
      text += String(d);
      onLine?.(text);
    });
  children.add(child);
  const exited = new Promise((r) =>
    child.on('exit', (code) => {
      children.delete(child);
      r(code);
    }),
  );
  return { child, exited, output: () => text };
}

const results = [];
const order = Array.from({ length: rounds }, () => [1, 2]).flat();
for (const [round, workers] of order.entries()) {
  const store = join(root, `store-${round}`);
  mkdirSync(store, { recursive: true });
  const queue = `bench-${round}`;
  const file = join(root, `sweep-${round}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      id: `scaling-${round}`,
      base: config,
      seeds: Array.from({ length: trials }, (_, i) => i + 1),
    }),
  );
  const ws = [];
  for (let i = 0; i < workers; i++) {
    let ready;
    const isReady = new Promise((r) => {
      ready = r;
    });
    ws.push({
      ...run(['worker', '--redis', url, '--store', store, '--queue', queue, '--slots', '1'], (t) => {
        if (t.includes('ready on queue')) ready();
      }),
      isReady,
    });
  }
  await Promise.all(ws.map((w) => w.isReady));
  const load = loadavg()[0];
  const t0 = performance.now();
  const coordinator = run(['sweep', file, '--redis', url, '--store', store, '--queue', queue, '--quiet']);
  const code = await coordinator.exited;
  const wallS = (performance.now() - t0) / 1000;
  for (const w of ws) w.child.kill('SIGTERM');
  await Promise.all(ws.map((w) => w.exited));
  if (code !== 0) {
    console.error(coordinator.output());
    process.exit(1);
  }
  const state = JSON.parse(readFileSync(join(store, `scaling-${round}`, 'sweep-state.json'), 'utf8'));
  const done = state.trials.filter((t) => t.status === 'done').length;
  const perHour = (done / wallS) * 3600;
  results.push({ round, workers, trials: done, wallS, trialsPerHour: perHour, load1: load });
  console.log(
    `round ${round}: ${workers} worker(s), ${done} trials in ${wallS.toFixed(1)} s = ${perHour.toFixed(0)} trials/hour (load ${load.toFixed(2)})`,
  );
}
redis.kill('SIGTERM');
rmSync(root, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const of = (n) => results.filter((r) => r.workers === n).map((r) => r.trialsPerHour);
const summary = {
  date: new Date().toISOString(),
  machine: `${process.platform} ${process.arch}, ${(await import('node:os')).availableParallelism()} cores`,
  trial: 'LeNet-300-100 (mlp 300-100), MNIST subset, 1 epoch, SMGD + ITP, 1 thread',
  limit: Number(values.limit),
  rounds: results,
  medianTrialsPerHour: { 1: median(of(1)), 2: median(of(2)) },
  speedup: median(of(2)) / median(of(1)),
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'sweep-scaling.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(
  `\n| workers | trials/hour (median of ${rounds}) |\n| ---: | ---: |\n| 1 | ${summary.medianTrialsPerHour[1].toFixed(0)} |\n| 2 | ${summary.medianTrialsPerHour[2].toFixed(0)} |\nspeed-up ${summary.speedup.toFixed(2)}×`,
);
