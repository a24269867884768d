import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssues, type Issue, type JsonObject } from '@moprune/core';
import {
  expandTrials,
  type SweepDefinition,
  type TrialSpec,
  trialConfigSha256,
  trialsSha256,
  validateSweepDefinition,
} from './definition.js';
import { SweepError } from './errors.js';
import type { SweepExecutor } from './executor.js';
import { getTrialRunner, type TrialProgress } from './runner.js';
import { readSweepState, type SweepState, statePath, type TrialRecord, writeSweepState } from './state.js';
import { type SweepStrategy, staticStrategy } from './strategy.js';
import { readOutcome, type TrialJob, type TrialOutcome, trialRunDir } from './trial.js';

/**
 * What the coordinator runs: the sweep's id, the modules its trial processes
 * import, and a factory of its strategy. Made by {@link planSweep} from a
 * sweep document or by {@link adaptivePlan} from code.
 */
export interface SweepPlan {
  readonly id: string;
  readonly modules: readonly string[];
  /**
   * The identity of the sweep's trials (static) or strategy and its settings
   * (adaptive): a coordinator restarted on a store whose state has another
   * fingerprint refuses (`SWEEP_CHANGED`) instead of mixing two sweeps.
   */
  readonly fingerprint: string;
  /** A fresh strategy (a restarted coordinator replays the recorded results into it). */
  strategy(): SweepStrategy;
}

/**
 * Every problem with the trials' configs, each checked by its runner's
 * `validate` (paths prefixed by `trials[<id>]`). The runners — and the
 * components the configs name — must be registered in this process.
 */
export function validateTrials(trials: readonly TrialSpec[]): Issue[] {
  const issues: Issue[] = [];
  for (const t of trials) {
    const at = `trials[${t.id}]`;
    let validate: (c: JsonObject) => Issue[];
    try {
      validate = getTrialRunner(t.runner ?? 'experiment').validate;
    } catch (e) {
      issues.push({ path: `${at}.runner`, message: (e as Error).message });
      continue;
    }
    for (const i of validate(t.config))
      issues.push({ path: i.path ? `${at}.${i.path}` : at, message: i.message });
  }
  return issues;
}

/**
 * A static sweep from its JSON document: the document's shape is checked
 * (`INVALID_SWEEP`), its trials expanded and every trial config validated by
 * its runner (`INVALID_TRIAL`) — each error lists every problem with its
 * path, and both come before anything is written or enqueued.
 */
export function planSweep(doc: unknown): SweepPlan & { readonly trials: readonly TrialSpec[] } {
  const shape = validateSweepDefinition(doc);
  if (shape.length > 0) {
    throw new SweepError('INVALID_SWEEP', `invalid sweep:\n${formatIssues(shape)}`, { issues: shape });
  }
  const def = doc as SweepDefinition;
  const { trials, issues } = expandTrials(def);
  if (issues.length > 0) {
    throw new SweepError('INVALID_SWEEP', `invalid sweep:\n${formatIssues(issues)}`, { issues });
  }
  const bad = validateTrials(trials);
  if (bad.length > 0) {
    throw new SweepError(
      'INVALID_TRIAL',
      `invalid trial config${bad.length > 1 ? 's' : ''} in sweep '${def.id}' (nothing was enqueued):\n${formatIssues(bad)}`,
      { issues: bad },
    );
  }
  return {
    id: def.id,
    modules: def.modules ?? [],
    fingerprint: `static:${trialsSha256(trials)}`,
    trials,
    strategy: () => staticStrategy(trials),
  };
}

/** Options of {@link adaptivePlan}. */
export interface AdaptivePlanOptions {
  readonly id: string;
  readonly modules?: readonly string[];
  /** Names the strategy and every setting it depends on (e.g. `bisection:max=20:seed=1`). */
  readonly fingerprint: string;
  readonly strategy: () => SweepStrategy;
}

/** An adaptive sweep: trials come from a strategy as results arrive; each proposed config is validated before it is enqueued. */
export function adaptivePlan(options: AdaptivePlanOptions): SweepPlan {
  return {
    id: options.id,
    modules: options.modules ?? [],
    fingerprint: `adaptive:${options.fingerprint}`,
    strategy: options.strategy,
  };
}

/** Trial counts of a sweep. */
export interface SweepCounts {
  /** Trials proposed so far (a static sweep proposes all at once). */
  readonly proposed: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  /** Proposed, neither done, running nor failed (queued, or waiting for a retry). */
  readonly pending: number;
}

/** What {@link runSweep} reports while it runs. */
export type SweepEvent =
  | {
      readonly type: 'start';
      readonly sweep: string;
      readonly executor: string;
      /** True when the store held this sweep's state (a restarted coordinator). */
      readonly resumed: boolean;
      readonly counts: SweepCounts;
    }
  | {
      readonly type: 'trial';
      readonly trial: string;
      /** `reused`: finished before (its outcome is in the store); `retry`: failed, will run again. */
      readonly status: 'queued' | 'started' | 'done' | 'reused' | 'failed' | 'retry';
      readonly worker?: string;
      readonly attempt?: number;
      readonly error?: { readonly code: string; readonly message: string };
      readonly counts: SweepCounts;
    }
  | { readonly type: 'progress'; readonly trial: string; readonly progress: TrialProgress }
  | { readonly type: 'log'; readonly line: string };

/** Options of {@link runSweep}. */
export interface RunSweepOptions {
  /** The directory every trial process mounts: `<store>/<sweep id>/` holds the state file and one run directory per trial. */
  readonly store: string;
  readonly executor: SweepExecutor;
  /** Aborting stops the coordinator: local trials checkpoint and stop; queued trials stay queued. */
  readonly signal?: AbortSignal;
  /** Run again the trials that failed in an earlier session (otherwise they stay failed). @default false */
  readonly retryFailed?: boolean;
  readonly onEvent?: (event: SweepEvent) => void;
}

/** What {@link runSweep} resolves to. */
export interface SweepResult {
  readonly sweep: string;
  /** `failed`: some trial failed for good; `interrupted`: the signal stopped the coordinator (run it again to continue). */
  readonly status: 'completed' | 'failed' | 'interrupted';
  /** Every trial, in proposal order. */
  readonly trials: readonly TrialRecord[];
  /** The finished trials' outcomes, by trial id, in proposal order. */
  readonly outcomes: ReadonlyMap<string, TrialOutcome>;
  /** Where the state is. */
  readonly stateFile: string;
}

/**
 * Creates `store` if needed and checks that this process can write in it.
 * @throws SweepError `STORE_NOT_WRITABLE` naming the directory.
 */
export function checkStoreWritable(store: string): void {
  const probe = join(store, `.moprune-write-probe-${process.pid}`);
  try {
    mkdirSync(store, { recursive: true });
    writeFileSync(probe, 'probe');
    rmSync(probe, { force: true });
  } catch (e) {
    throw new SweepError(
      'STORE_NOT_WRITABLE',
      `the store ${store} is not a writable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); every coordinator and worker must be able to write there`,
      { cause: e, details: { store } },
    );
  }
}

/** A trial's figures for the state file: its outcome without the per-epoch history and the echoed component configs. */
const summarize = (o: TrialOutcome): JsonObject => {
  const { history: _h, components: _c, ...rest } = o.result;
  return { status: o.status, ...rest };
};

/**
 * Runs a sweep to its end through an executor and keeps its state file.
 *
 * Before anything is written or enqueued: the store must be writable, the
 * executor reachable (`preflight`), and the sweep's coordinator lock free (a
 * second coordinator gets `SWEEP_LOCKED`). Then the state file
 * (`<store>/<id>/sweep-state.json`, written atomically on every change) is
 * read back if a coordinator ran this sweep before: the strategy is replayed
 * with the recorded results, trials whose outcome is in the store are not run
 * again, and only the missing ones are submitted.
 */
export async function runSweep(plan: SweepPlan, options: RunSweepOptions): Promise<SweepResult> {
  const { store, executor } = options;
  const emit = options.onEvent ?? (() => {});
  checkStoreWritable(store);
  await executor.preflight();
  const sweepDir = join(store, plan.id);
  mkdirSync(sweepDir, { recursive: true });
  const lock = await executor.lock(plan.id, sweepDir);
  let interrupted = false;
  try {
    const previous = readSweepState(store, plan.id);
    if (previous !== undefined && previous.fingerprint !== plan.fingerprint && previous.trials.length > 0) {
      throw new SweepError(
        'SWEEP_CHANGED',
        `${statePath(store, plan.id)} holds sweep '${plan.id}' with other trials; give the changed sweep another id, or another store`,
        { details: { file: statePath(store, plan.id) } },
      );
    }
    const now = new Date().toISOString();
    const st: SweepState = previous ?? {
      format: 'moprune-sweep-state',
      version: 1,
      sweep: plan.id,
      fingerprint: plan.fingerprint,
      executor: executor.kind,
      status: 'running',
      created: now,
      updated: now,
      trials: [],
    };
    const recorded = st.trials;
    st.trials = [];
    st.executor = executor.kind;
    st.status = 'running';
    for (const r of recorded) if (r.status === 'running') r.status = 'pending';

    const specs = new Map<string, TrialSpec>();
    const outcomes = new Map<string, TrialOutcome>();
    const records = new Map<string, TrialRecord>();
    const strategy = plan.strategy();
    let told = 0;
    let settle: () => void = () => {};
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });

    const counts = (): SweepCounts => {
      let done = 0;
      let running = 0;
      let failed = 0;
      for (const r of st.trials) {
        if (r.status === 'done') done++;
        else if (r.status === 'running') running++;
        else if (r.status === 'failed') failed++;
      }
      return {
        proposed: st.trials.length,
        done,
        running,
        failed,
        pending: st.trials.length - done - running - failed,
      };
    };
    const save = () => writeSweepState(store, st);
    const job = (trial: TrialSpec, configSha256: string): TrialJob => ({
      sweep: plan.id,
      trial,
      configSha256,
      modules: plan.modules,
    });

    const toSubmit: TrialJob[] = [];
    const propose = (trial: TrialSpec) => {
      const index = st.trials.length;
      const configSha256 = trialConfigSha256(trial);
      const old = recorded[index];
      if (old !== undefined && (old.id !== trial.id || old.configSha256 !== configSha256)) {
        throw new SweepError(
          'SWEEP_CHANGED',
          `sweep '${plan.id}': trial ${index} is now '${trial.id}' where the state file has '${old.id}' (another config); the sweep changed — give it another id`,
          { details: { file: statePath(store, plan.id), index } },
        );
      }
      if (records.has(trial.id)) {
        throw new SweepError(
          'INVALID_TRIAL',
          `sweep '${plan.id}': the strategy proposed trial id '${trial.id}' twice`,
        );
      }
      const rec: TrialRecord = old ?? {
        id: trial.id,
        configSha256,
        ...(trial.labels === undefined ? {} : { labels: trial.labels }),
        status: 'pending',
        attempts: 0,
      };
      st.trials.push(rec);
      records.set(trial.id, rec);
      specs.set(trial.id, trial);
      const existing = readOutcome(trialRunDir(store, plan.id, trial.id));
      if (existing !== undefined && existing.configSha256 === configSha256) {
        const before = rec.status;
        rec.status = 'done';
        rec.summary = summarize(existing);
        outcomes.set(trial.id, existing);
        if (before !== 'done' || old === undefined)
          emit({ type: 'trial', trial: trial.id, status: 'reused', counts: counts() });
        return;
      }
      if (rec.status === 'done') rec.status = 'pending';
      if (rec.status === 'failed' && !options.retryFailed) return;
      if (old === undefined) {
        const issues = validateTrials([trial]);
        if (issues.length > 0) {
          rec.status = 'failed';
          rec.error = { code: 'INVALID_TRIAL', message: formatIssues(issues) };
          emit({ type: 'trial', trial: trial.id, status: 'failed', error: rec.error, counts: counts() });
          return;
        }
      }
      rec.status = 'pending';
      toSubmit.push(job(trial, configSha256));
    };

    const advance = () => {
      for (;;) {
        for (let t = strategy.next(); t !== undefined; t = strategy.next()) propose(t);
        const rec = st.trials[told];
        if (rec === undefined || rec.status !== 'done') break;
        strategy.tell({ trial: specs.get(rec.id)!, outcome: outcomes.get(rec.id)! });
        told++;
      }
    };

    const checkSettled = () => {
      const c = counts();
      if (c.running === 0 && c.pending === 0) settle();
    };

    const flush = async () => {
      const jobs = toSubmit.splice(0);
      for (const j of jobs) {
        await executor.submit(j, { retryFailed: options.retryFailed === true });
        emit({ type: 'trial', trial: j.trial.id, status: 'queued', counts: counts() });
      }
    };

    let failure: unknown;
    const guard = (f: () => void) => {
      try {
        f();
      } catch (e) {
        failure ??= e;
        settle();
      }
    };
    advance();
    save();
    emit({
      type: 'start',
      sweep: plan.id,
      executor: executor.kind,
      resumed: previous !== undefined,
      counts: counts(),
    });
    await executor.start({
      sweep: plan.id,
      store,
      events: {
        started: (id, worker, attempt) =>
          guard(() => {
            const rec = records.get(id);
            if (rec === undefined || rec.status === 'done') return;
            rec.status = 'running';
            rec.attempts += 1;
            rec.worker = worker;
            save();
            emit({ type: 'trial', trial: id, status: 'started', worker, attempt, counts: counts() });
          }),
        progress: (id, progress) => emit({ type: 'progress', trial: id, progress }),
        finished: (id, outcome) =>
          guard(() => {
            const rec = records.get(id);
            if (rec === undefined || rec.status === 'done' || outcome.configSha256 !== rec.configSha256)
              return;
            rec.status = 'done';
            rec.summary = summarize(outcome);
            delete rec.error;
            outcomes.set(id, outcome);
            advance();
            save();
            emit({ type: 'trial', trial: id, status: 'done', counts: counts() });
            void flush().then(checkSettled, (e) =>
              guard(() => {
                throw e;
              }),
            );
          }),
        failed: (id, error, retry) =>
          guard(() => {
            const rec = records.get(id);
            if (rec === undefined || rec.status === 'done') return;
            rec.status = retry ? 'pending' : 'failed';
            rec.error = error;
            save();
            emit({ type: 'trial', trial: id, status: retry ? 'retry' : 'failed', error, counts: counts() });
            checkSettled();
          }),
        log: (line) => emit({ type: 'log', line }),
      },
    });
    await flush();
    checkSettled();
    const onAbort = () => {
      interrupted = true;
      settle();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    await settled;
    options.signal?.removeEventListener('abort', onAbort);
    await executor.close(interrupted);
    if (failure !== undefined) throw failure;
    for (const r of st.trials) if (r.status === 'running') r.status = 'pending';
    const c = counts();
    st.status =
      interrupted && c.pending > 0
        ? 'interrupted'
        : c.failed > 0 || told < st.trials.length
          ? 'failed'
          : 'completed';
    save();
    const ordered = new Map<string, TrialOutcome>();
    for (const r of st.trials) {
      const o = outcomes.get(r.id);
      if (o !== undefined) ordered.set(r.id, o);
    }
    return {
      sweep: plan.id,
      status: st.status as SweepResult['status'],
      trials: st.trials,
      outcomes: ordered,
      stateFile: statePath(store, plan.id),
    };
  } catch (e) {
    await executor.close(true).catch(() => {});
    throw e;
  } finally {
    await lock.release();
  }
}
