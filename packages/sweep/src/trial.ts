import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMopruneError, type JsonObject, writeFileAtomic } from '@moprune/core/node';
import { canonicalJson } from './canonical.js';
import type { TrialSpec } from './definition.js';
import { SweepError } from './errors.js';
import { getTrialRunner, type TrialProgress } from './runner.js';

/** What an executor hands a trial process: everything needed to run the trial anywhere. */
export interface TrialJob {
  /** The sweep's id: the trial's run directory is `<store>/<sweep>/<trial.id>`. */
  readonly sweep: string;
  readonly trial: TrialSpec;
  /** {@link trialConfigSha256} of `trial`, checked against an existing outcome. */
  readonly configSha256: string;
  /** Modules the process imports before running (components, runners). */
  readonly modules: readonly string[];
}

/** A finished trial's `outcome.json`: the same bytes whichever process ran or resumed it. */
export interface TrialOutcome {
  readonly format: 'moprune-trial-outcome';
  readonly version: 1;
  readonly trial: string;
  readonly runner: string;
  readonly configSha256: string;
  readonly status: 'completed' | 'stopped';
  /** The runner's deterministic figures (for the experiment runner: result.json less timings, plus the network hash). */
  readonly result: JsonObject;
}

/** The file name of a trial's outcome inside its run directory. */
export const OUTCOME_FILE = 'outcome.json';

/** `<store>/<sweep>/<trial>`. */
export function trialRunDir(store: string, sweep: string, trial: string): string {
  return join(store, sweep, trial);
}

/** The outcome in a run directory, or undefined when there is none (or it is unreadable: the trial reruns). */
export function readOutcome(runDir: string): TrialOutcome | undefined {
  const file = join(runDir, OUTCOME_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as TrialOutcome;
    return o.format === 'moprune-trial-outcome' && typeof o.configSha256 === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Error codes that fail a trial the same way on every attempt and machine:
 * retrying them only wastes a worker. Everything else (a killed process, a
 * missing data directory on one machine, a locked run directory, I/O) is retried.
 */
export const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'INVALID_CONFIG',
  'INVALID_TRIAL',
  'INVALID_SPEC',
  'UNKNOWN_REGISTRY_NAME',
  'UNKNOWN_RUNNER',
  'NON_FINITE_LOSS',
  'SHAPE_MISMATCH',
  'TRIAL_FAILED',
]);

/** True when retrying `error` cannot help (see {@link PERMANENT_ERROR_CODES}). */
export function isPermanentTrialError(error: unknown): boolean {
  return isMopruneError(error) && PERMANENT_ERROR_CODES.has(error.code);
}

/** What {@link executeTrial} needs besides the job. */
export interface ExecuteTrialContext {
  readonly store: string;
  readonly signal: AbortSignal;
  readonly dataDir?: string;
  readonly cacheDir?: string;
  progress(progress: TrialProgress): void;
}

/**
 * Runs one trial in this process: returns the existing outcome when the run
 * directory already holds one for the same config (a trial finishes once);
 * otherwise runs (or resumes from its checkpoint) the trial's runner and
 * writes `outcome.json` atomically. Resolves to `'interrupted'` when the
 * signal stopped it after a checkpoint.
 * @throws SweepError `SWEEP_CHANGED` when the outcome there belongs to another config; the runner's errors.
 */
export async function executeTrial(
  job: TrialJob,
  ctx: ExecuteTrialContext,
): Promise<TrialOutcome | 'interrupted'> {
  const runDir = trialRunDir(ctx.store, job.sweep, job.trial.id);
  const existing = readOutcome(runDir);
  if (existing !== undefined) {
    if (existing.configSha256 === job.configSha256) return existing;
    throw new SweepError(
      'SWEEP_CHANGED',
      `${runDir} holds the outcome of another config of trial '${job.trial.id}'; use another sweep id or store`,
      { details: { runDir, trial: job.trial.id } },
    );
  }
  const runnerName = job.trial.runner ?? 'experiment';
  const runner = getTrialRunner(runnerName);
  mkdirSync(runDir, { recursive: true });
  const r = await runner.run(job.trial.config, {
    runDir,
    signal: ctx.signal,
    progress: (p) => ctx.progress(p),
    ...(ctx.dataDir === undefined ? {} : { dataDir: ctx.dataDir }),
    ...(ctx.cacheDir === undefined ? {} : { cacheDir: ctx.cacheDir }),
  });
  if (r.status === 'interrupted') return 'interrupted';
  const outcome: TrialOutcome = {
    format: 'moprune-trial-outcome',
    version: 1,
    trial: job.trial.id,
    runner: runnerName,
    configSha256: job.configSha256,
    status: r.status,
    result: r.result,
  };
  writeFileAtomic(
    join(runDir, OUTCOME_FILE),
    `${JSON.stringify(JSON.parse(canonicalJson(outcome)), null, 2)}\n`,
  );
  return outcome;
}
