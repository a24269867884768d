import { joinPath, schema as s } from '@moprune/core';

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

const sparsity = s.number({ min: 0, lt: 1 });
const step = s.integer({ min: 0 });
const frequency = s.integer({ min: 1 });

/** The schema of a {@link SparsitySchedule}, told apart by `type`. */
export const sparsityScheduleSchema = s.tagged('type', {
  polynomialDecay: s
    .object({
      initialSparsity: sparsity,
      finalSparsity: sparsity,
      beginStep: step,
      endStep: step,
      power: s.number({ gt: 0 }).optional(),
      frequency: frequency.optional(),
      pruneAtEnd: s.boolean().optional(),
    })
    .refine((v, path) =>
      v.endStep <= v.beginStep
        ? [
            {
              path: joinPath(path, 'endStep'),
              message: `must be after beginStep (${v.beginStep}), got ${v.endStep}`,
            },
          ]
        : undefined,
    )
    .refine((v, path) =>
      v.finalSparsity < v.initialSparsity
        ? [
            {
              path: joinPath(path, 'finalSparsity'),
              message: 'must be ≥ initialSparsity (sparsity only grows)',
            },
          ]
        : undefined,
    ),
  constantSparsity: s
    .object({
      targetSparsity: sparsity,
      beginStep: step.optional(),
      endStep: s.integer({ min: -1 }).optional(),
      frequency: frequency.optional(),
    })
    .refine((v, path) =>
      v.endStep !== undefined && v.endStep !== -1 && v.endStep < (v.beginStep ?? 0)
        ? [{ path: joinPath(path, 'endStep'), message: 'must not precede beginStep' }]
        : undefined,
    ),
});
