// One report over runs trained into different output directories: the fronts per gate kind, their
// hypervolumes, means over seeds and the headline, computed over the union of the runs.
//
//   npx tsx scripts/merge.ts --out <dir> <summary.json | output dir> [<summary.json | output dir> …]
//
// (from experiments/guenter2024). Each input is a reproduction's `summary.json` (or the directory holding
// it); the parts must be of one network, data and mode, else a Guenter2024Error INCOMPATIBLE_SUMMARIES
// names the differences before anything is written. A run found in several parts is taken from the part
// with the latest date. Writes summary.md, summary.json and the plots into --out.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mergeSummaries, type ReproduceSummary, writeSummary } from '../src/index.js';

const args = process.argv.slice(2);
const at = args.indexOf('--out');
const out = at >= 0 ? args[at + 1] : undefined;
const inputs = args.filter((_, i) => i !== at && i !== at + 1);
if (out === undefined || inputs.length === 0) {
  console.error('usage: npx tsx scripts/merge.ts --out <dir> <summary.json | dir> [<summary.json | dir> …]');
  process.exit(2);
}
const paths = inputs.map((p) => (existsSync(p) && statSync(p).isDirectory() ? join(p, 'summary.json') : p));
const missing = paths.filter((p) => !existsSync(p));
if (missing.length > 0) {
  console.error(
    `merge: no summary at ${missing.join(', ')} (give a summary.json or a reproduction's output directory)`,
  );
  process.exit(2);
}
const parts = paths.map((p) => {
  const { analysis: _derived, ...summary } = JSON.parse(readFileSync(p, 'utf8')) as ReproduceSummary & {
    analysis?: unknown;
  };
  return summary as ReproduceSummary;
});
const merged = mergeSummaries(parts, paths);
mkdirSync(resolve(out), { recursive: true });
for (const f of await writeSummary(resolve(out), merged)) console.log(f);
