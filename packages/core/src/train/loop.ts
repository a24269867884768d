// The training loop: a plan, a session, the step engine, and the parts around it in one lifecycle.
import type { EvaluationResult } from './evaluate.js';
import type { TrainOptions, TrainResult } from './options.js';
import { type EpochEvent, LOOP_PARTS, type LoopPart } from './parts.js';
import { planTraining } from './plan.js';
import { TrainSession } from './session.js';
import { startRun } from './state.js';
import { trainStep } from './step.js';

/**
 * Trains a network: epochs × batches of the training split.
 *
 * The lifecycle, one part per concern (`parts.ts`), in this order:
 * 1. **Plan** (`planTraining`): every option checked before any work and resolved once.
 * 2. **Start** (`startRun`): fresh, or resumed from the newest checkpoint that verifies and fits.
 * 3. **Every step** (the step engine, `trainStep`): the objectives' optional `prepare`, ONE
 *    `solver.step` (which applies the update), BatchNorm state updates, the objectives' decoupled
 *    `afterUpdate`s, mask re-application, every pruner's `afterStep` (a returned `replaceNetwork` is
 *    swapped in and the solver's state rebuilt through `resetVariables`); then the parts: record
 *    (epoch sums, the step line of metrics.jsonl) → callbacks' `onStepEnd` → progress → checkpoint
 *    every `everySteps`.
 * 4. **Every epoch's end**: the solver's `endEpoch`, the pruners' `afterEpoch` (swaps as above); then
 *    the parts: evaluation → metrics → history (the epoch line) → callbacks' `onEpochEnd` →
 *    checkpoint every `everyEpochs` and at the end.
 * 5. **Finish**: a last checkpoint when interrupted or stopped mid-epoch, final validation and test figures.
 *
 * With `averaging`, a moving average of the trained variables follows every step (after the
 * pruners' `afterStep`); every evaluation, and the epoch's end up to the callbacks, sees the averages
 * in place of the trained values; checkpoints keep both; a completed run returns the averages.
 *
 * Determinism: everything random derives from `seed` (see {@link streamSeeds}).
 * Resuming from a checkpoint reproduces the uninterrupted run bit for bit.
 *
 * Safety: objective values are checked in the step's first forward pass, before
 * the solver applies anything; a non-finite value writes a checkpoint of the
 * last finite state and throws `CoreError('NON_FINITE_LOSS')` naming the step
 * and the objective. An aborted `signal` stops at the next batch boundary after
 * a checkpoint and returns `interrupted: true`.
 *
 * Memory: a step's tensors are disposed within the step (the live tensor count
 * is the same after every epoch).
 *
 * @throws CoreError `INVALID_CONFIG` for bad options (every problem listed, before any work),
 *   `NON_FINITE_LOSS`, `CHECKPOINT_NOT_FOUND` / `CHECKPOINT_CORRUPT` when resuming.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const s = new TrainSession(planTraining(options));
  try {
    startRun(s);
    s.begin();
    const { run, plan } = s;
    while (!run.finished && run.pos.epoch < plan.epochs) {
      if (plan.signal?.aborted) {
        run.interrupted = true;
        break;
      }
      const startedAt = performance.now();
      if (!(await runSteps(s, LOOP_PARTS))) break;
      await endEpoch(s, LOOP_PARTS, startedAt);
    }
    return finish(s);
  } catch (e) {
    // A network the loop built or swapped in is unreachable for the caller; the one passed in stays the caller's.
    if (s.run.net !== options.net) s.run.net.dispose();
    throw e;
  } finally {
    s.average?.dispose();
    s.plan.store?.close?.();
  }
}

/** The rest of the current epoch's steps; false when the run was interrupted or stopped. */
async function runSteps(s: TrainSession, parts: readonly LoopPart[]): Promise<boolean> {
  const { run, plan } = s;
  const epoch = run.pos.epoch;
  const batchesPerEpoch = plan.batchCounts[epoch]!;
  if (run.pos.batch >= batchesPerEpoch) return true;
  const iterator = plan.dataset
    .batches('train', { ...plan.trainBatchOptions(epoch), startBatch: run.pos.batch })
    [Symbol.iterator]();
  try {
    while (run.pos.batch < batchesPerEpoch) {
      // Give Node a turn between steps so a SIGINT handler can abort the
      // signal mid-epoch (a synchronous step never lets timers or signals run).
      if (plan.signal !== undefined) await new Promise<void>((resolve) => setImmediate(resolve));
      if (plan.signal?.aborted) {
        run.interrupted = true;
        return false;
      }
      const next = iterator.next();
      if (next.done) break;
      const event = await trainStep(s, next.value, batchesPerEpoch);
      for (const part of parts) await part.step?.(s, event);
      if (run.finished) return false;
    }
  } finally {
    iterator.return?.();
  }
  return true;
}

/** The epoch's end: the solver's and pruners' epoch hooks, the position moved on, then the parts. */
async function endEpoch(s: TrainSession, parts: readonly LoopPart[], startedAt: number): Promise<void> {
  const { run, plan } = s;
  const epoch = run.pos.epoch;
  plan.solver.endEpoch?.(epoch);
  for (const [i, p] of plan.pruners.entries()) {
    if (p.afterEpoch)
      s.swap(await p.afterEpoch(s.prunerContext(run.pos.step, epoch, plan.batchCounts[epoch]!, i)));
  }
  const count = run.epochCount;
  const event: EpochEvent = {
    epoch,
    startedAt,
    train: Object.fromEntries(Object.entries(run.epochSums).map(([k, v]) => [k, v / Math.max(1, count)])),
    weights: run.weightSums.length === 0 || count === 0 ? undefined : run.weightSums.map((w) => w / count),
    metrics: {},
  };
  run.pos.epoch += 1;
  run.pos.batch = 0;
  run.epochSums = {};
  run.weightSums = [];
  run.epochCount = 0;
  if (run.pos.epoch >= plan.epochs) run.finished = true;
  // With `averaging`, evaluation, metrics, history and callbacks see the averaged variables.
  let restore = s.average?.swapIn(run.net);
  try {
    for (const part of parts) {
      if (part.trainedValues === true && restore !== undefined) {
        restore();
        restore = undefined;
      }
      await part.epoch?.(s, event);
    }
  } finally {
    restore?.();
  }
}

/** A last checkpoint where the loop did not write one, the final figures, and the result. */
function finish(s: TrainSession): TrainResult {
  const { run, plan } = s;
  if (run.interrupted) {
    s.checkpoint();
  } else if (!run.finished) {
    run.finished = true;
    s.checkpoint();
  } else if (run.stoppedEarly && run.pos.batch > 0) {
    // Stopped mid-epoch by a callback: record the finished state.
    s.checkpoint();
  }
  let validation: EvaluationResult | undefined;
  let test: EvaluationResult | undefined;
  if (!run.interrupted) {
    const v = plan.validation;
    if (plan.validationOn && v !== undefined) {
      // The last epoch's validation already describes the final network unless training stopped mid-epoch.
      const last = run.history[run.history.length - 1];
      validation =
        last?.validation !== undefined && last.step === run.pos.step
          ? { ...last.validation, split: v.split }
          : s.evaluate(v.split, v.limit);
    }
    if (plan.evaluateTest && plan.dataset.info.sizes.test > 0) test = s.evaluate('test');
    // The network returned is the one evaluated.
    s.average?.write(run.net);
  }
  return {
    net: run.net,
    epochsCompleted: run.pos.epoch,
    steps: run.pos.step,
    interrupted: run.interrupted,
    stoppedEarly: run.stoppedEarly,
    ...(run.resumedFrom === undefined ? {} : { resumedFrom: run.resumedFrom }),
    history: run.history,
    ...(validation === undefined ? {} : { validation }),
    ...(test === undefined ? {} : { test }),
    wallTimeMs: s.elapsed(),
  };
}
