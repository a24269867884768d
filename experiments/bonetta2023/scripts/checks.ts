// Reads a pruning run's check events (metrics.jsonl) and prints, as JSON, the checks the README's
// tables cite: the protocol's kept check (the sparsest with validation accuracy above the floor), the
// best validation among the checks at or below given sparsities (ties: the sparser), and the count of
// checks that cut. Test figures are printed beside, never used to choose.
//
//   npx tsx scripts/checks.ts <run dir or metrics.jsonl> --floor 0.98 [--at 1,0.5]
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Check {
  step: number;
  epoch: number;
  live: number;
  total: number;
  validationAccuracy: number;
  testAccuracy?: number;
  pruned: number;
}

const args = process.argv.slice(2);
const file = args[0];
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const floor = Number(opt('floor'));
if (!file || !Number.isFinite(floor)) {
  console.error('usage: checks.ts <run dir | metrics.jsonl> --floor <validation accuracy> [--at 1,0.5]');
  process.exit(2);
}
const at = (opt('at') ?? '1,0.5').split(',').map(Number);
const path = statSync(file).isDirectory() ? join(file, 'metrics.jsonl') : file;
const checks: Check[] = readFileSync(path, 'utf8')
  .split('\n')
  .filter((l) => l.includes('"event":"check"'))
  .map((l) => JSON.parse(l) as Check);
const row = (c: Check | undefined) =>
  c && {
    remainingPct: Number(((100 * c.live) / c.total).toFixed(3)),
    weights: c.live,
    validationError: Number((100 * (1 - c.validationAccuracy)).toFixed(2)),
    testError: c.testAccuracy === undefined ? null : Number((100 * (1 - c.testAccuracy)).toFixed(2)),
    step: c.step,
    epoch: c.epoch,
  };
const better = (a: Check, b: Check) =>
  a.validationAccuracy > b.validationAccuracy ||
  (a.validationAccuracy === b.validationAccuracy && a.live < b.live);
const bestWhere = (ok: (c: Check) => boolean) =>
  checks.filter(ok).reduce<Check | undefined>((b, c) => (b === undefined || better(c, b) ? c : b), undefined);
const above = checks.filter((c) => c.validationAccuracy > floor);
const kept = above.reduce<Check | undefined>(
  (b, c) =>
    b === undefined || c.live < b.live || (c.live === b.live && c.validationAccuracy > b.validationAccuracy)
      ? c
      : b,
  undefined,
);
console.log(
  JSON.stringify(
    {
      file: path,
      checks: checks.length,
      cut: checks.filter((c) => c.pruned > 0).length,
      aboveFloor: above.length,
      kept: row(kept),
      bestValidation: row(bestWhere(() => true)),
      ...Object.fromEntries(
        at.map((p) => [`bestValidationAtMost${p}Pct`, row(bestWhere((c) => (100 * c.live) / c.total <= p))]),
      ),
    },
    null,
    2,
  ),
);
