// Reads a pruning run's check events (metrics.jsonl) and prints, as JSON, the checks the README's
// tables cite: the protocol's kept check (the sparsest eligible one, the pruners' rule), the best
// validation among all checks and among the checks at or below given sparsities (ties: the
// sparser), and how many checks cut. Test figures are printed beside, never used to choose.
// `testReadingAtMost…Pct` is the one exception, labelled as such: the check a reading on the test set
// would report (the authors' MNIST script validates on the test set) — what their figures mean next
// to ours, not a selection.
//
//   npx tsx scripts/checks.ts <run dir> [--at 1,0.5]
import {
  type CheckPoint,
  readBestOnTest,
  readChecks,
  selectBestValidation,
  selectSparsest,
} from '../src/runs.js';

const args = process.argv.slice(2);
const dir = args[0];
if (!dir || dir.startsWith('--')) {
  console.error('usage: checks.ts <run dir> [--at 1,0.5]');
  process.exit(2);
}
const i = args.indexOf('--at');
const at = (i < 0 ? '1,0.5' : args[i + 1]!).split(',').map(Number);
const { checks } = readChecks(dir);
const row = (c: CheckPoint | null) =>
  c && {
    remainingPct: Number((100 * c.remaining).toFixed(3)),
    weights: c.live,
    validationError: Number((100 * (1 - c.validationAccuracy)).toFixed(2)),
    testError: c.testAccuracy === null ? null : Number((100 * (1 - c.testAccuracy)).toFixed(2)),
    step: c.step,
    epoch: c.epoch,
  };
const bestWhere = (ok: (c: CheckPoint) => boolean) => selectBestValidation(checks, ok);
console.log(
  JSON.stringify(
    {
      dir,
      checks: checks.length,
      cut: checks.filter((c) => c.pruned > 0).length,
      eligible: checks.filter((c) => c.eligible).length,
      kept: row(selectSparsest(checks, (c) => c.eligible)),
      bestValidation: row(bestWhere(() => true)),
      ...Object.fromEntries(
        at.map((p) => [`bestValidationAtMost${p}Pct`, row(bestWhere((c) => 100 * c.remaining <= p))]),
      ),
      ...Object.fromEntries(
        at.map((p) => [
          `testReadingAtMost${p}Pct`,
          row(readBestOnTest(checks, (c) => 100 * c.remaining <= p)),
        ]),
      ),
    },
    null,
    2,
  ),
);
