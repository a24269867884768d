// The parts of the training loop around the step engine, each one concern, run in a fixed order at
// two points of the lifecycle (see `train`): after every step and at the end of every epoch.
import type { JsonObject } from '../json.js';
import type { EpochInfo, ProgressInfo, StepInfo } from './callbacks.js';
import { type EvaluationResult, evaluationGates } from './evaluate.js';
import type { EpochRecord } from './options.js';
import type { TrainSession } from './session.js';
import type { StepEvent } from './step.js';

/** The end of an epoch, as the epoch parts see it (each may add what it computed). */
export interface EpochEvent {
  readonly epoch: number;
  /** `performance.now()` when the epoch began. */
  readonly startedAt: number;
  /** Mean objective values and solver weights over the epoch's steps. */
  readonly train: Readonly<Record<string, number>>;
  readonly weights: readonly number[] | undefined;
  /** Set by the evaluation part when validation ran. */
  validation?: EvaluationResult;
  /** Set by the metrics part. */
  metrics: Readonly<Record<string, number>>;
}

/** One concern of the loop, called after every step and/or at the end of every epoch. */
export interface LoopPart {
  readonly name: string;
  /**
   * At an epoch's end the parts see the network as evaluated (with `averaging`, the averaged
   * variables); a part with `trainedValues` sees the trained ones (the checkpoint, which also keeps
   * the averages). Such parts come last.
   */
  readonly trainedValues?: boolean;
  step?(s: TrainSession, e: StepEvent): void | Promise<void>;
  epoch?(s: TrainSession, e: EpochEvent): void | Promise<void>;
}

/** Epoch sums of the objective values and solver weights, and the step line of metrics.jsonl (with `metricsEverySteps` figures). */
export const recordStep: LoopPart = {
  name: 'record',
  step(s, e) {
    const { run, plan } = s;
    for (const [k, v] of Object.entries(e.values)) run.epochSums[k] = (run.epochSums[k] ?? 0) + v;
    for (const [i, w] of e.result.weights.entries()) run.weightSums[i] = (run.weightSums[i] ?? 0) + w;
    run.epochCount += 1;
    const at = run.pos.step;
    const metrics = plan.metricsEvery > 0 && at % plan.metricsEvery === 0 ? s.figures() : undefined;
    if (plan.logEvery <= 0 || at % plan.logEvery !== 0) return;
    s.log({
      type: 'step',
      step: e.step,
      epoch: e.epoch,
      batch: e.batch,
      lr: e.lr,
      objectives: { ...e.values },
      weights: [...e.result.weights],
      ...(e.result.extra === undefined ? {} : { extra: { ...e.result.extra } }),
      ...(metrics === undefined ? {} : { metrics: { ...metrics } }),
      timeMs: performance.now() - e.startedAt,
      elapsedMs: s.elapsed(),
    });
  },
};

/** The user's callbacks, in order; any `'stop'` ends the run once every callback has seen the step or epoch. */
export const userCallbacks: LoopPart = {
  name: 'callbacks',
  async step(s, e) {
    const info: StepInfo = {
      step: e.step,
      epoch: e.epoch,
      batch: e.batch,
      batchesPerEpoch: e.batchesPerEpoch,
      learningRate: e.lr,
      values: e.values,
      weights: e.result.weights,
      extra: e.result.extra ?? {},
      net: s.run.net,
    };
    let stop = false;
    for (const cb of s.plan.callbacks) if (cb.onStepEnd && (await cb.onStepEnd(info)) === 'stop') stop = true;
    if (stop) s.stop();
  },
  async epoch(s, e) {
    const info: EpochInfo = {
      epoch: e.epoch,
      step: s.run.pos.step,
      learningRate: s.run.lastLr,
      train: e.train,
      ...(e.validation === undefined ? {} : { validation: e.validation }),
      metrics: e.metrics,
      net: s.run.net,
      gates: evaluationGates(s.plan.pruners),
    };
    let stop = false;
    for (const cb of s.plan.callbacks)
      if (cb.onEpochEnd && (await cb.onEpochEnd(info)) === 'stop') stop = true;
    if (stop) s.stop();
  },
};

/** Progress (steps/s of this session, ETA) to every callback's `onProgress`. */
export const progress: LoopPart = {
  name: 'progress',
  step(s, e) {
    const { run, plan } = s;
    const rate = s.sessionSteps / Math.max(1e-9, s.sessionMs() / 1000);
    const info: ProgressInfo = {
      step: run.pos.step,
      totalSteps: plan.totalSteps,
      epoch: e.epoch,
      epochs: plan.epochs,
      batch: run.pos.batch,
      batchesPerEpoch: e.batchesPerEpoch,
      elapsedMs: s.elapsed(),
      stepsPerSecond: rate,
      etaMs: ((plan.totalSteps - run.pos.step) / Math.max(1e-9, rate)) * 1000,
    };
    for (const cb of plan.callbacks) cb.onProgress?.(info);
  },
};

/** Validation every `everyEpochs` epochs and after the last. */
export const evaluation: LoopPart = {
  name: 'evaluation',
  epoch(s, e) {
    const { plan } = s;
    const v = plan.validation;
    if (!plan.validationOn || v === undefined) return;
    if ((e.epoch + 1) % v.everyEpochs === 0 || e.epoch === plan.epochs - 1)
      e.validation = s.evaluate(v.split, v.limit);
  },
};

/** The run's `metrics` and the pruners' figures at the end of the epoch. */
export const epochMetrics: LoopPart = {
  name: 'metrics',
  epoch(s, e) {
    e.metrics = s.figures();
  },
};

/** The epoch's record in the history and its epoch line in metrics.jsonl. */
export const recordEpoch: LoopPart = {
  name: 'history',
  epoch(s, e) {
    const record: EpochRecord = {
      epoch: e.epoch,
      step: s.run.pos.step,
      learningRate: s.run.lastLr,
      train: e.train,
      ...(e.weights === undefined ? {} : { weights: e.weights }),
      ...(e.validation === undefined ? {} : { validation: validationRecord(e.validation) }),
      metrics: e.metrics,
      timeMs: performance.now() - e.startedAt,
    };
    s.run.history.push(record);
    s.log({ type: 'epoch', ...(record as unknown as JsonObject), elapsedMs: s.elapsed() });
  },
};

/** Checkpoints every `everySteps` steps (not on a step that stopped the run) and every `everyEpochs` epochs and at the end. */
export const checkpointing: LoopPart = {
  name: 'checkpoint',
  trainedValues: true,
  step(s) {
    const every = s.plan.checkpoint?.everySteps ?? 0;
    if (!s.run.finished && every > 0 && s.run.pos.step % every === 0) s.checkpoint();
  },
  epoch(s) {
    const everyEpochs = s.plan.checkpoint?.everyEpochs ?? 1;
    if (s.run.finished || s.run.pos.epoch % everyEpochs === 0) s.checkpoint();
  },
};

/**
 * The loop's parts in their order. After a step: record (sums, step line) → callbacks → progress →
 * checkpoint. At an epoch's end: evaluation → metrics → history (record, epoch line) → callbacks →
 * checkpoint (the checkpoint last, so it holds what every other part did).
 */
export const LOOP_PARTS: readonly LoopPart[] = [
  recordStep,
  evaluation,
  epochMetrics,
  recordEpoch,
  userCallbacks,
  progress,
  checkpointing,
];

function validationRecord(e: EvaluationResult): NonNullable<EpochRecord['validation']> {
  return {
    split: e.split,
    samples: e.samples,
    accuracy: [...e.accuracy],
    loss: [...e.loss],
    objectives: { ...e.objectives },
  };
}
