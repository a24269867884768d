/**
 * Mean and spread over seeds of the full runs:
 *   npx tsx scripts/seeds.ts $(ls results/bonetta2023/full/{name}/summary.json)
 * with every run directory's summary.json as arguments.
 * Prints a Markdown table (kept = sparsest check above the floor; target =
 * sparsest check within the acceptance's error on validation).
 */

import { readSummaries, type Spread, seedRows } from '../src/seeds.js';

const pct = (s: Spread, digits: number) =>
  s.n === 1
    ? `${(100 * s.mean).toFixed(digits)}%`
    : `${(100 * s.mean).toFixed(digits)}% ± ${(100 * s.std).toFixed(digits)} (${(100 * s.min).toFixed(digits)}–${(100 * s.max).toFixed(digits)})`;
const rows = seedRows(readSummaries(process.argv.slice(2)));
console.log(
  '| network | dataset | method | seeds | kept: % remaining | kept: test error | target: % remaining | target: test error |',
);
console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.net} | ${r.dataset} | ${r.method} | ${r.seeds.join(', ')} | ${r.kept ? pct(r.kept.remaining, 3) : '—'} | ${r.kept ? pct(r.kept.testError, 2) : '—'} | ${
      r.target
        ? `${pct(r.target.remaining, 3)}${r.target.seeds < r.seeds.length ? ` (${r.target.seeds} seeds)` : ''}`
        : '—'
    } | ${r.target ? pct(r.target.testError, 2) : '—'} |`,
  );
}
