import type { Issue, JsonObject } from '@moprune/core';

/**
 * Sparsity schedules with the semantics of the TensorFlow Model Optimization
 * Toolkit (`tfmot.sparsity.keras.PolynomialDecay` / `ConstantSparsity`):
 * pruning happens at step s iff `beginStep ≤ s` and (`endStep = −1` or
 * `s ≤ endStep`) and `(s − beginStep) % frequency = 0`.
 *
 * One deliberate difference, on by default (`pruneAtEnd`): TF-MOT skips the
 * end step when `endStep − beginStep` is not a multiple of `frequency`, so the
 * final sparsity is never reached; here the end step always prunes.
 */
export type SparsitySchedule = PolynomialDecaySchedule | ConstantSparsitySchedule;

/** s(t) = final + (initial − final)·(1 − p)^power, p = clamp((t − begin)/(end − begin), 0, 1). */
export interface PolynomialDecaySchedule {
  readonly type: 'polynomialDecay';
  readonly initialSparsity: number;
  readonly finalSparsity: number;
  readonly beginStep: number;
  readonly endStep: number;
  /** @default 3 */
  readonly power?: number;
  /** @default 100 */
  readonly frequency?: number;
  /** @default true */
  readonly pruneAtEnd?: boolean;
}

/** s(t) = target from `beginStep` on. */
export interface ConstantSparsitySchedule {
  readonly type: 'constantSparsity';
  readonly targetSparsity: number;
  /** @default 0 */
  readonly beginStep?: number;
  /** −1 means no end. @default -1 */
  readonly endStep?: number;
  /** @default 100 */
  readonly frequency?: number;
}

/** Whether the schedule prunes after global step `step`, and to what sparsity. */
export function scheduleAt(schedule: SparsitySchedule, step: number): { prune: boolean; sparsity: number } {
  if (schedule.type === 'constantSparsity') {
    const begin = schedule.beginStep ?? 0;
    const end = schedule.endStep ?? -1;
    const freq = schedule.frequency ?? 100;
    const inRange = step >= begin && (end === -1 || step <= end);
    return {
      prune: inRange && (step - begin) % freq === 0,
      sparsity: step >= begin ? schedule.targetSparsity : 0,
    };
  }
  const { initialSparsity: s0, finalSparsity: s1, beginStep: begin, endStep: end } = schedule;
  const power = schedule.power ?? 3;
  const freq = schedule.frequency ?? 100;
  const p = Math.min(1, Math.max(0, (step - begin) / (end - begin)));
  const sparsity = step < begin ? 0 : s1 + (s0 - s1) * (1 - p) ** power;
  const inRange = step >= begin && step <= end;
  const turn = (step - begin) % freq === 0 || ((schedule.pruneAtEnd ?? true) && step === end);
  return { prune: inRange && turn, sparsity };
}

/** Every problem with a schedule config, with paths under `path`. */
export function validateSchedule(value: unknown, path: string): Issue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ path, message: "must be an object with type 'polynomialDecay' or 'constantSparsity'" }];
  }
  const s = value as JsonObject;
  const issues: Issue[] = [];
  const num = (key: string, check: (v: number) => string | undefined, required = true) => {
    const v = s[key];
    if (v === undefined) {
      if (required) issues.push({ path: `${path}.${key}`, message: 'is required' });
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push({ path: `${path}.${key}`, message: `must be a finite number, got ${JSON.stringify(v)}` });
      return;
    }
    const problem = check(v);
    if (problem) issues.push({ path: `${path}.${key}`, message: problem });
  };
  const sparsity = (v: number) => (v >= 0 && v < 1 ? undefined : `must be in [0, 1), got ${v}`);
  const step = (v: number) =>
    Number.isInteger(v) && v >= 0 ? undefined : `must be a non-negative integer, got ${v}`;
  const freq = (v: number) =>
    Number.isInteger(v) && v >= 1 ? undefined : `must be a positive integer, got ${v}`;
  if (s.type === 'polynomialDecay') {
    num('initialSparsity', sparsity);
    num('finalSparsity', sparsity);
    num('beginStep', step);
    num('endStep', step);
    num('power', (v) => (v > 0 ? undefined : `must be > 0, got ${v}`), false);
    num('frequency', freq, false);
    if (typeof s.beginStep === 'number' && typeof s.endStep === 'number' && s.endStep <= s.beginStep) {
      issues.push({
        path: `${path}.endStep`,
        message: `must be after beginStep (${s.beginStep}), got ${s.endStep}`,
      });
    }
    if (
      typeof s.initialSparsity === 'number' &&
      typeof s.finalSparsity === 'number' &&
      s.finalSparsity < s.initialSparsity
    ) {
      issues.push({
        path: `${path}.finalSparsity`,
        message: 'must be ≥ initialSparsity (sparsity only grows)',
      });
    }
  } else if (s.type === 'constantSparsity') {
    num('targetSparsity', sparsity);
    num('beginStep', step, false);
    num(
      'endStep',
      (v) => (Number.isInteger(v) && v >= -1 ? undefined : `must be an integer ≥ −1, got ${v}`),
      false,
    );
    num('frequency', freq, false);
    if (
      typeof s.endStep === 'number' &&
      s.endStep !== -1 &&
      s.endStep < ((s.beginStep as number | undefined) ?? 0)
    ) {
      issues.push({ path: `${path}.endStep`, message: 'must not precede beginStep' });
    }
  } else {
    issues.push({ path: `${path}.type`, message: "must be 'polynomialDecay' or 'constantSparsity'" });
  }
  return issues;
}
