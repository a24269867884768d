/**
 * The pruning evidence script: `pnpm --filter @moprune/experiment-pruning-evidence evidence [--smoke] [--only dense,magnitude,gates,relevance] [--seed N] [--out DIR] [--resume]`.
 * Writes DIR/<run>/ (config.json, metrics.jsonl, result.json, checkpoint/) and DIR/evidence.json, and prints a table.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '@moprune/backend';
import { FULL, SMOKE } from './configs.js';
import { EVIDENCE_RUNS, type EvidenceRun, runEvidence } from './evidence.js';

// `pnpm <script> -- --flag` hands the `--` on to the script (pnpm ≥ 9): drop it, or every flag after it
// would be a positional argument.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    seed: { type: 'string' },
  },
});
if (values.seed !== undefined && !/^\d+$/.test(values.seed)) {
  console.error(`evidence: --seed must be an integer ≥ 0, got '${values.seed}'`);
  process.exit(2);
}
const base = values.smoke ? SMOKE : FULL;
const scale = values.seed === undefined ? base : { ...base, seed: Number(values.seed) };
const only = values.only?.split(',').map((s) => s.trim()) as EvidenceRun[] | undefined;
const unknown = only?.filter((r) => !(EVIDENCE_RUNS as readonly string[]).includes(r)) ?? [];
if (unknown.length > 0) {
  console.error(`evidence: --only takes ${EVIDENCE_RUNS.join(', ')}; got '${unknown.join(', ')}'`);
  process.exit(2);
}
const outDir = values.out ?? `results/${values.smoke ? 'smoke' : 'full'}`;

const backend = await initBackend();
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const rows = await runEvidence({
  scale,
  outDir,
  resume: values.resume,
  signal: controller.signal,
  log: (l) => console.error(l),
  ...(only ? { only } : {}),
});
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
console.log(`\nbackend: ${backend.backend} (${backend.reason}); scale: ${JSON.stringify(scale)}\n`);
console.log(
  '| run | test accuracy | kernel weights removed | hidden units kept | params (dense → non-zero → compacted) | inference ms, batch 128 (dense → compacted) | wall time | s per epoch |',
);
console.log('| --- | ---: | ---: | ---: | --- | --- | ---: | --- |');
for (const r of rows) {
  console.log(
    `| ${r.run} | ${r.testAccuracy === null ? '—' : pct(r.testAccuracy)} | ${pct(r.kernelSparsity)} | ${r.hiddenUnitsKept}/${r.hiddenUnitsTotal} (${pct(
      r.hiddenUnitsKept / r.hiddenUnitsTotal,
    )}) | ${r.params.dense} → ${r.params.nonzero} → ${r.params.compacted} | ${
      r.inference
        ? `${r.inference.denseMs.toFixed(2)} → ${r.inference.compactedMs.toFixed(2)} (${r.inference.speedup.toFixed(1)}×)`
        : '—'
    } | ${(r.wallTimeMs / 1000).toFixed(0)} s | ${r.epochSeconds.join(', ')} |`,
  );
}
