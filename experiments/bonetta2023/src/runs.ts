/** Reading a run's log: its validation checks (the error-vs-sparsity front) and step times. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One validation check of a pruning run, as its pruner logged it (before the check's cut). */
export interface CheckPoint {
  readonly step: number;
  readonly epoch: number;
  /** Live pruned-parameter entries and their total. */
  readonly live: number;
  readonly total: number;
  /** live / total. */
  readonly remaining: number;
  readonly validationAccuracy: number;
  readonly testAccuracy: number | null;
  /** Above the floor: the pruner could keep it. */
  readonly eligible: boolean;
  readonly pruned: number;
}

/** A selected check. */
export type Selection = CheckPoint;

/** The checks and the per-step wall times (ms) logged in `runDir/metrics.jsonl`. */
export function readChecks(runDir: string): { checks: CheckPoint[]; stepMs: number[] } {
  const file = join(runDir, 'metrics.jsonl');
  const checks: CheckPoint[] = [];
  const stepMs: number[] = [];
  if (!existsSync(file)) return { checks, stepMs };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as Record<string, unknown>;
    if (r.type === 'step' && typeof r.timeMs === 'number') stepMs.push(r.timeMs);
    if (r.type !== 'pruner' || r.event !== 'check') continue;
    const live = r.live as number;
    const total = r.total as number;
    checks.push({
      step: r.step as number,
      epoch: r.epoch as number,
      live,
      total,
      remaining: live / total,
      validationAccuracy: r.validationAccuracy as number,
      testAccuracy: typeof r.testAccuracy === 'number' ? r.testAccuracy : null,
      eligible: r.eligible === true,
      pruned: r.pruned as number,
    });
  }
  return { checks, stepMs };
}

/** The first check `qualifies` accepts that no later accepted check is `better` than. */
function selectWith(
  checks: readonly CheckPoint[],
  qualifies: (c: CheckPoint) => boolean,
  better: (c: CheckPoint, best: CheckPoint) => boolean,
): Selection | null {
  let best: CheckPoint | null = null;
  for (const c of checks) if (qualifies(c) && (best === null || better(c, best))) best = c;
  return best;
}

/** "`c` beats `best`": a higher `accuracy`, ties to fewer live weights (equal ones keep the earlier check). */
function higherThenSparser(
  accuracy: (c: CheckPoint) => number,
): (c: CheckPoint, best: CheckPoint) => boolean {
  return (c, b) => accuracy(c) > accuracy(b) || (accuracy(c) === accuracy(b) && c.live < b.live);
}

/**
 * The sparsest check among those `qualifies` accepts (ties: higher validation
 * accuracy, then the earlier check) — the pruners' `keep: { rule: 'sparsest' }`
 * rule, so with "above the floor" it finds the checkpoint the run kept.
 * Decided on validation figures only.
 */
export function selectSparsest(
  checks: readonly CheckPoint[],
  qualifies: (c: CheckPoint) => boolean,
): Selection | null {
  return selectWith(
    checks,
    qualifies,
    (c, b) => c.live < b.live || (c.live === b.live && c.validationAccuracy > b.validationAccuracy),
  );
}

/**
 * The check with the best validation accuracy among those `qualifies` accepts (ties: the sparser,
 * then the earlier check) — the spec's "best-validation checkpoint", within a sparsity range when
 * `qualifies` says so. Decided on validation figures only; test figures are read after.
 */
export function selectBestValidation(
  checks: readonly CheckPoint[],
  qualifies: (c: CheckPoint) => boolean,
): Selection | null {
  return selectWith(
    checks,
    qualifies,
    higherThenSparser((c) => c.validationAccuracy),
  );
}

/**
 * The check with the best **test** accuracy among those `qualifies` accepts (ties: the sparser, then
 * the earlier check): how the authors' MNIST figures are read — their script validates on the test
 * set (`validationset = testset`) and reports its best check. A diagnostic that says what such a
 * reading would report on our runs, never a selection of ours (those are decided on validation).
 * Checks without a test figure never qualify.
 */
export function readBestOnTest(
  checks: readonly CheckPoint[],
  qualifies: (c: CheckPoint) => boolean,
): Selection | null {
  return selectWith(
    checks,
    (c) => c.testAccuracy !== null && qualifies(c),
    higherThenSparser((c) => c.testAccuracy!),
  );
}
