import type { SweepLock } from './lock.js';
import type { TrialProgress } from './runner.js';
import type { TrialJob, TrialOutcome } from './trial.js';

/** What an executor reports to the coordinator. */
export interface ExecutorEvents {
  /** An attempt of the trial started on `worker` (attempt counts from 1). */
  started(trial: string, worker: string, attempt: number): void;
  progress(trial: string, progress: TrialProgress): void;
  finished(trial: string, outcome: TrialOutcome): void;
  /** An attempt failed; `retry` says whether the executor will run it again. */
  failed(trial: string, error: { readonly code: string; readonly message: string }, retry: boolean): void;
  /** A line for the user (a trial process's output, a lost connection …). */
  log(line: string): void;
}

/** What {@link SweepExecutor.start} gets. */
export interface ExecutorContext {
  readonly sweep: string;
  /** The store the trials' run directories are in, as this process sees it. */
  readonly store: string;
  readonly events: ExecutorEvents;
}

/**
 * Runs a sweep's trials: the embedded local pool ({@link localExecutor}) or
 * BullMQ workers on Redis ({@link bullmqExecutor}). The coordinator calls
 * `preflight`, `lock`, `start`, then `submit` per trial, and `close`. An
 * executor runs one sweep at a time; `start` after `close` begins the next
 * (an experiment may run several sweeps, one after another, on one executor).
 */
export interface SweepExecutor {
  /** `local` or `bullmq`, recorded in the state file. */
  readonly kind: string;
  /** Fails fast (a typed error, within seconds) when the executor cannot run: before anything is written or enqueued. */
  preflight(): Promise<void>;
  /**
   * Takes the sweep's one-coordinator lock.
   * @throws SweepError `SWEEP_LOCKED` naming the holder.
   */
  lock(sweep: string, sweepDir: string): Promise<SweepLock>;
  start(context: ExecutorContext): Promise<void>;
  /**
   * Runs a trial (idempotent per trial id: a trial already queued or running
   * is not added twice). `retryFailed`: a trial whose queue entry failed runs
   * again; otherwise it is reported failed at once.
   */
  submit(job: TrialJob, options: { readonly retryFailed: boolean }): Promise<void>;
  /**
   * Stops. `interrupt`: the local pool asks its running trials to checkpoint
   * and stop; queue workers go on with their trials either way.
   */
  close(interrupt: boolean): Promise<void>;
}
