import { type CodedIssue, throwIfIssues } from './errors.js';

/** Options of {@link growingBatchSchedule}. */
export interface GrowingBatchOptions {
  /** Batch size of epoch 0 (an integer ≥ 1). */
  readonly initial: number;
  /** `'geometric'`: b = initial·factor^s; `'linear'`: b = initial + increment·s (s = ⌊epoch/every⌋). @default 'geometric' */
  readonly mode?: 'geometric' | 'linear';
  /** Growth factor per stage of the geometric mode (≥ 1). @default 1.5 */
  readonly factor?: number;
  /** Growth per stage of the linear mode (≥ 0). @default 0 */
  readonly increment?: number;
  /** Epochs per stage. @default 1 */
  readonly every?: number;
  /** Upper bound (e.g. the training-set size). @default Infinity */
  readonly max?: number;
}

/**
 * A growing mini-batch schedule, as the convergence theory of Liu & Vicente's
 * stochastic multi-gradient method asks for: the min-norm weights computed
 * from stochastic gradients are biased, and the bias shrinks as the batch
 * grows. Returns the batch size of an epoch (0-based), rounded down, at least
 * 1 and at most `max`. The training loop or an experiment calls it when it
 * builds each epoch's batches (`dataset.batches(split, { batchSize: schedule(epoch) })`);
 * solvers are unaffected by the batch size.
 * @throws SolverError `INVALID_CONFIG` naming the bad option.
 */
export function growingBatchSchedule(options: GrowingBatchOptions): (epoch: number) => number {
  const mode = options.mode ?? 'geometric';
  const factor = options.factor ?? 1.5;
  const increment = options.increment ?? 0;
  const every = options.every ?? 1;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const issues: CodedIssue[] = [];
  if (!Number.isInteger(options.initial) || options.initial < 1) {
    issues.push({ path: 'initial', message: `must be an integer ≥ 1, got ${options.initial}` });
  }
  if (mode !== 'geometric' && mode !== 'linear')
    issues.push({ path: 'mode', message: `must be 'geometric' or 'linear', got ${String(mode)}` });
  if (!(Number.isFinite(factor) && factor >= 1))
    issues.push({ path: 'factor', message: `must be a finite number ≥ 1, got ${factor}` });
  if (!(Number.isFinite(increment) && increment >= 0)) {
    issues.push({ path: 'increment', message: `must be a finite number ≥ 0, got ${increment}` });
  }
  if (!Number.isInteger(every) || every < 1)
    issues.push({ path: 'every', message: `must be an integer ≥ 1, got ${every}` });
  if (!(max >= options.initial))
    issues.push({ path: 'max', message: `must be ≥ initial (${options.initial}), got ${max}` });
  throwIfIssues('growing batch schedule', issues);
  return (epoch: number) => {
    const stage = Math.floor(Math.max(0, epoch) / every);
    const size =
      mode === 'geometric' ? options.initial * factor ** stage : options.initial + increment * stage;
    return Math.max(1, Math.min(max, Math.floor(size + 1e-9)));
  };
}
