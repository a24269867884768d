/**
 * Mean and spread over seeds of the full runs:
 *   npx tsx scripts/seeds.ts $(ls results/bonetta2023/full/{name}/summary.json)
 * with every run directory's summary.json as arguments.
 * Prints a Markdown table, a row per network, dataset, method, floor and
 * mode; two runs of one seed in a row are refused (DUPLICATE_SEED). Kept =
 * sparsest check above the floor; drop = its test error minus the dense
 * start's, seed by seed; target = sparsest check within the acceptance's
 * error on validation. The Transformer block's runs
 * are the row 'transformer / query-count'.
 */

import { readSummaries, type Spread, seedRows } from '../src/seeds.js';

const pct = (s: Spread, digits: number) =>
  s.n === 1
    ? `${(100 * s.mean).toFixed(digits)}%`
    : `${(100 * s.mean).toFixed(digits)}% ± ${(100 * s.std).toFixed(digits)} (${(100 * s.min).toFixed(digits)}–${(100 * s.max).toFixed(digits)})`;
const rows = seedRows(readSummaries(process.argv.slice(2)));
console.log(
  '| network | dataset | method | floor | seeds | dense: test error | kept: % remaining | kept: test error | kept: drop (points) | target: % remaining | target: test error |',
);
console.log('| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
const points = (s: Spread) =>
  s.n === 1
    ? (100 * s.mean).toFixed(2)
    : `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)} (${(100 * s.min).toFixed(2)}–${(100 * s.max).toFixed(2)})`;
for (const r of rows) {
  console.log(
    `| ${r.net}${r.mode === 'full' ? '' : ` (${r.mode})`} | ${r.dataset} | ${r.method} | ${(100 * r.floor).toFixed(1)}% | ${r.seeds.join(', ')} | ${pct(r.denseTestError, 2)} | ${r.kept ? pct(r.kept.remaining, 3) : '—'} | ${r.kept ? pct(r.kept.testError, 2) : '—'} | ${r.kept ? points(r.kept.drop) : '—'} | ${
      r.target
        ? `${pct(r.target.remaining, 3)}${r.target.seeds < r.seeds.length ? ` (${r.target.seeds} of ${r.seeds.length} seeds)` : ''}`
        : '—'
    } | ${r.target ? pct(r.target.testError, 2) : '—'} |`,
  );
}
const retrained = rows.filter((r) => r.result !== null);
if (retrained.length > 0) {
  console.log('');
  console.log(
    'With retraining: what each run hands over (the retrained network where validation chose it, else the kept one).',
  );
  console.log('');
  console.log(
    '| network | dataset | method | seeds | retrained chosen | % remaining | validation error | test error |',
  );
  console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of retrained) {
    const x = r.result!;
    console.log(
      `| ${r.net}${r.mode === 'full' ? '' : ` (${r.mode})`} | ${r.dataset} | ${r.method} | ${r.seeds.join(', ')} | ${x.retrainedChosen} of ${x.remaining.n} | ${pct(x.remaining, 3)} | ${pct(x.validationError, 2)} | ${pct(x.testError, 2)} |`,
    );
  }
}
