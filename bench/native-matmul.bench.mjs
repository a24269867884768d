#!/usr/bin/env node
// GFLOP/s of @moprune/native's matmul through the tfjs kernel against the same
// OpenBLAS sgemm called directly (2048³ and 128×784×300), in one process.
// Writes bench/results/native-matmul.json; skipped when the addon is not built.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, '..', 'packages', 'native', 'bench', 'matmul.mjs');
if (!existsSync(script)) {
  console.log('native-matmul: packages/native/bench/matmul.mjs not found; skipped');
  process.exit(0);
}
const r = spawnSync(
  process.execPath,
  [script, '--json', join(here, 'results', 'native-matmul.json'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);
