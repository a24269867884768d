#!/usr/bin/env node
// Runs every benchmark present, each in its own process, each writing its
// JSON under bench/results/: train-step, inference (bench/inference.mjs, if
// present) and any bench/*.bench.mjs. `--only <name>` runs one of them; other
// arguments are passed through to it.
//
//   pnpm bench                      # all
//   pnpm bench --only train-step --networks lenet5
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benchmarks = [
  ['train-step', join(here, 'train-step.mjs')],
  ['inference', join(here, 'inference.mjs')],
  ...readdirSync(here)
    .filter((f) => f.endsWith('.bench.mjs'))
    .sort()
    .map((f) => [f.slice(0, -'.bench.mjs'.length), join(here, f)]),
].filter(([, file]) => existsSync(file));

const argv = process.argv.slice(2);
const at = argv.indexOf('--only');
const only = at >= 0 ? argv[at + 1] : undefined;
const passThrough = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : argv;
const names = benchmarks.map(([n]) => n);
if (at >= 0 && (only === undefined || !names.includes(only))) {
  console.error(`--only needs one of: ${names.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const [name, file] of benchmarks) {
  if (only !== undefined && name !== only) continue;
  console.log(`\n=== bench: ${name} ===`);
  const r = spawnSync(process.execPath, [file, ...(only !== undefined ? passThrough : [])], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`bench ${name} failed (exit ${r.status})`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
