import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '@moprune/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adaptivePlan,
  defineTrialRunner,
  executeTrial,
  fitsLocalPool,
  planSweep,
  runSweep,
  type SweepExecutor,
  type SweepStrategy,
  type TrialJob,
  type TrialSpec,
} from '../index.js';
import { lockSweepDir } from '../lock.js';

/** A runner with no training: its result is a pure function of the config; `fail` fails it for good. */
const runs: string[] = [];
defineTrialRunner({
  name: 'square',
  description: 'x → x² (tests)',
  validate: (c) => (typeof c.x === 'number' ? [] : [{ path: 'x', message: 'must be a number' }]),
  async run(config, ctx) {
    runs.push(ctx.runDir);
    if (config.fail === true) {
      const e = Object.assign(new Error('boom'), { code: 'NON_FINITE_LOSS', issues: [] });
      throw e;
    }
    const x = config.x as number;
    return { status: 'completed', result: { value: x * x } };
  },
});

/**
 * An executor in this process: runs trials with executeTrial, finishing them
 * in reverse order of submission (so results arrive out of proposal order).
 */
function inProcessExecutor(options: { stopAfter?: number; controller?: AbortController } = {}) {
  const submitted: string[] = [];
  let finished = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let pending: TrialJob[] = [];
  let ctx: Parameters<SweepExecutor['start']>[0] | undefined;
  const flush = async () => {
    const batch = pending.reverse();
    pending = [];
    for (const job of batch) {
      if (options.stopAfter !== undefined && finished >= options.stopAfter) {
        options.controller?.abort();
        return;
      }
      ctx!.events.started(job.trial.id, 'test', 1);
      try {
        const r = await executeTrial(job, {
          store: ctx!.store,
          signal: new AbortController().signal,
          progress: () => {},
        });
        if (r !== 'interrupted') {
          finished++;
          ctx!.events.finished(job.trial.id, r);
        }
      } catch (e) {
        ctx!.events.failed(job.trial.id, { code: (e as { code: string }).code, message: String(e) }, false);
      }
    }
  };
  const executor: SweepExecutor = {
    kind: 'test',
    async preflight() {},
    async lock(sweep, dir) {
      return lockSweepDir(dir, sweep);
    },
    async start(c) {
      ctx = c;
    },
    async submit(job) {
      submitted.push(job.trial.id);
      pending.push(job);
      clearTimeout(flushTimer);
      flushTimer = setTimeout(() => void flush(), 5);
    },
    async close() {
      clearTimeout(flushTimer);
    },
  };
  return { executor, submitted };
}

/** Proposes x = 1, then 2·(last told x) while below 16: told results drive the next trial. */
function doubling(): SweepStrategy {
  let next: number | undefined = 1;
  let outstanding = 0;
  return {
    next() {
      if (next === undefined || outstanding > 0) return undefined;
      const x = next;
      next = undefined;
      outstanding++;
      return { id: `x${x}`, config: { x }, runner: 'square' };
    },
    tell({ trial, outcome }) {
      outstanding--;
      expect(outcome.result.value).toBe((trial.config.x as number) ** 2);
      const x = (trial.config.x as number) * 2;
      if (x < 16) next = x;
    },
  };
}

let store: string;
beforeAll(() => {
  store = mkdtempSync(join(tmpdir(), 'moprune-coordinator-'));
});
afterAll(() => rmSync(store, { recursive: true, force: true }));

const stateOf = (sweep: string) =>
  JSON.parse(readFileSync(join(store, sweep, 'sweep-state.json'), 'utf8')) as {
    status: string;
    trials: { id: string; status: string; summary?: JsonObject }[];
  };

describe('runSweep', () => {
  it('a static sweep runs every trial once; run again, it reuses every outcome and submits nothing', async () => {
    const plan = planSweep({ id: 'static', runner: 'square', base: { x: 0 }, grid: { x: [1, 2, 3] } });
    const first = inProcessExecutor();
    const r = await runSweep(plan, { store, executor: first.executor });
    expect(r.status).toBe('completed');
    expect(first.submitted).toEqual(['0-x=1', '1-x=2', '2-x=3']);
    expect([...r.outcomes.values()].map((o) => o.result.value)).toEqual([1, 4, 9]);
    expect(stateOf('static').trials.map((t) => [t.status, t.summary?.value])).toEqual([
      ['done', 1],
      ['done', 4],
      ['done', 9],
    ]);
    const again = inProcessExecutor();
    const events: string[] = [];
    const r2 = await runSweep(plan, {
      store,
      executor: again.executor,
      onEvent: (e) => events.push(e.type === 'start' ? `start ${e.resumed} ${e.counts.done}` : e.type),
    });
    expect(r2.status).toBe('completed');
    expect(again.submitted).toEqual([]);
    expect(events).toEqual(['start true 3']);
    // A trial that finished while no coordinator watched (its outcome is in the store, the state says pending) is taken as done.
    const file = join(store, 'static', 'sweep-state.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"status": "done"', '"status": "pending"'));
    events.length = 0;
    await runSweep(plan, {
      store,
      executor: again.executor,
      onEvent: (e) => e.type === 'trial' && events.push(e.status),
    });
    expect(events).toEqual(['reused']);
    expect(again.submitted).toEqual([]);
  });

  it('an adaptive sweep tells results in proposal order; interrupted and restarted, it replays and runs only the missing trials', async () => {
    const plan = adaptivePlan({ id: 'adaptive', fingerprint: 'doubling', strategy: doubling });
    const controller = new AbortController();
    const first = inProcessExecutor({ stopAfter: 2, controller });
    const r = await runSweep(plan, { store, executor: first.executor, signal: controller.signal });
    expect(r.status).toBe('interrupted');
    expect(first.submitted).toEqual(['x1', 'x2', 'x4']);
    expect(stateOf('adaptive').trials.map((t) => [t.id, t.status])).toEqual([
      ['x1', 'done'],
      ['x2', 'done'],
      ['x4', 'pending'],
    ]);
    const before = runs.length;
    const second = inProcessExecutor();
    const r2 = await runSweep(plan, { store, executor: second.executor });
    expect(r2.status).toBe('completed');
    expect(second.submitted).toEqual(['x4', 'x8']);
    expect(runs.length - before).toBe(2);
    expect(r2.trials.map((t) => t.id)).toEqual(['x1', 'x2', 'x4', 'x8']);
  });

  it('refuses a store whose state belongs to other trials (SWEEP_CHANGED), and a strategy that now proposes otherwise', async () => {
    const changed = planSweep({ id: 'static', runner: 'square', base: { x: 0 }, grid: { x: [1, 2, 5] } });
    await expect(runSweep(changed, { store, executor: inProcessExecutor().executor })).rejects.toMatchObject({
      code: 'SWEEP_CHANGED',
    });
    const other: SweepStrategy = {
      next: (() => {
        let done = false;
        return () => {
          if (done) return undefined;
          done = true;
          return { id: 'y1', config: { x: 1 }, runner: 'square' } satisfies TrialSpec;
        };
      })(),
      tell() {},
    };
    const same = adaptivePlan({ id: 'adaptive', fingerprint: 'doubling', strategy: () => other });
    await expect(runSweep(same, { store, executor: inProcessExecutor().executor })).rejects.toMatchObject({
      code: 'SWEEP_CHANGED',
      message: expect.stringContaining("trial 0 is now 'y1' where the state file has 'x1'"),
    });
  });

  it('invalid trial configs: one INVALID_TRIAL listing every problem, nothing submitted or written', async () => {
    const doc = {
      id: 'invalid',
      runner: 'square',
      trials: [
        { id: 'a', config: { x: 'one' } },
        { id: 'b', config: { x: 2 } },
        { id: 'c', config: {}, runner: 'nope' },
      ],
    };
    let error: unknown;
    try {
      planSweep(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      name: 'SweepError',
      code: 'INVALID_TRIAL',
      issues: [
        { path: 'trials[a].x', message: 'must be a number' },
        { path: 'trials[c].runner', message: expect.stringContaining("unknown trial runner 'nope'") },
      ],
    });
  });

  it('a trial that fails for good fails the sweep; --retry-failed runs it again', async () => {
    const plan = planSweep({
      id: 'failing',
      runner: 'square',
      trials: [
        { id: 'ok', config: { x: 3 } },
        { id: 'bad', config: { x: 1, fail: true } },
      ],
    });
    const r = await runSweep(plan, { store, executor: inProcessExecutor().executor });
    expect(r.status).toBe('failed');
    expect(r.trials.map((t) => [t.id, t.status, t.error?.code])).toEqual([
      ['ok', 'done', undefined],
      ['bad', 'failed', 'NON_FINITE_LOSS'],
    ]);
    const kept = inProcessExecutor();
    expect((await runSweep(plan, { store, executor: kept.executor })).status).toBe('failed');
    expect(kept.submitted).toEqual([]);
    const retried = inProcessExecutor();
    await runSweep(plan, { store, executor: retried.executor, retryFailed: true });
    expect(retried.submitted).toEqual(['bad']);
  });

  it('a coordinator lock left by a dead process of this host is taken over; a live holder is refused', async () => {
    const plan = planSweep({ id: 'locked', runner: 'square', trials: [{ id: 'a', config: { x: 2 } }] });
    const dir = join(store, 'locked');
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'coordinator.lock'),
      JSON.stringify({ host: hostname(), pid: 2 ** 22 + 1, since: 'then' }),
    );
    expect((await runSweep(plan, { store, executor: inProcessExecutor().executor })).status).toBe(
      'completed',
    );
    const held = lockSweepDir(dir, 'locked');
    await expect(runSweep(plan, { store, executor: inProcessExecutor().executor })).rejects.toMatchObject({
      code: 'SWEEP_LOCKED',
      message: expect.stringContaining(`pid ${process.pid} on ${hostname()}`),
    });
    await held.release();
  });

  it('a store that is not a writable directory fails before the executor is asked anything', async () => {
    const file = join(store, 'plain-file');
    writeFileSync(file, '');
    const plan = planSweep({ id: 's', runner: 'square', trials: [{ config: { x: 1 } }] });
    const ex = inProcessExecutor();
    await expect(runSweep(plan, { store: join(file, 'store'), executor: ex.executor })).rejects.toMatchObject(
      {
        code: 'STORE_NOT_WRITABLE',
      },
    );
    expect(ex.submitted).toEqual([]);
  });
});

describe('fitsLocalPool', () => {
  it('fills the cores with the trials’ threads, at most `workers` trials, a wide trial alone', () => {
    const o = { workers: 2, cores: 2 };
    expect(fitsLocalPool([], 4, o)).toBe(true);
    expect(fitsLocalPool([1], 1, o)).toBe(true);
    expect(fitsLocalPool([1, 1], 1, { workers: 3, cores: 2 })).toBe(false);
    expect(fitsLocalPool([1], 2, o)).toBe(false);
    expect(fitsLocalPool([1, 1], 1, { workers: 2, cores: 8 })).toBe(false);
  });
});
