/**
 * Every method of the reproduction in one table: `node --import tsx scripts/methods.ts OUT.md
 * SUMMARY.json…` (what `scripts/full.sh methods` runs). Missing files are skipped; of the paper's
 * method only the main vector (1e-3, 0.2, 0.799) is listed (the front is in its own summary.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { MAIN_VECTOR, type ReproduceSummary, writeMethods } from '../src/index.js';

const [out, ...inputs] = process.argv.slice(2);
if (out === undefined) {
  console.error('usage: node --import tsx scripts/methods.ts OUT.md SUMMARY.json…');
  process.exit(2);
}
const summaries = inputs
  .filter((f) => {
    if (!existsSync(f)) console.error(`skipped (not there yet): ${f}`);
    return existsSync(f);
  })
  .map((f) => JSON.parse(readFileSync(f, 'utf8')) as ReproduceSummary)
  .map((s) => ({
    ...s,
    results: s.results.filter((r) => r.vector === null || r.vector.every((x, i) => x === MAIN_VECTOR[i])),
  }));
writeMethods(out, summaries);
console.log(`wrote ${out} (${summaries.length} summaries)`);
