import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '@moprune/backend';
import { gridSearch } from '@moprune/solvers';
import { localExecutor, runSweep, type SweepHook, type TrialOutcome } from '@moprune/sweep';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_NAME, reproduce, searchStrategy, TINY, weightedSumConfig } from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'reiners2020-sweep-'));
const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, '../../../..');
const require = createRequire(import.meta.url);
// The built CLI's bin serves trials (`moprune __trial-host`); tsx lets its processes load this experiment's sources.
const bin = join(dirname(require.resolve('@moprune/cli')), 'bin.js');
const tsx = pathToFileURL(require.resolve('tsx')).href;

beforeAll(async () => {
  // Trial processes train on one thread (MOPRUNE_NATIVE_THREADS = the trial's threads); so does this one,
  // so that the native kernels reduce in the same order on both sides.
  process.env.MOPRUNE_NATIVE_THREADS = '1';
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A sweep hook as `moprune reproduce --workers 2` gives: the local pool of trial processes. */
function localHook(store: string): SweepHook {
  // One executor for every sweep of the run (candidates, then retrains): it runs one sweep after another.
  const executor = localExecutor({
    host: { module: bin, args: ['__trial-host', '--cwd', workspace], execArgv: ['--import', tsx] },
    workers: 2,
    cores: 2,
  });
  return { store, run: (plan) => runSweep(plan, { store, executor }) };
}

describe('the knee search on the sweep engine', () => {
  it('a weight search as a strategy: one trial per λ with the experiment runner, told (f1, f2) of the outcome', () => {
    const strategy = searchStrategy(
      gridSearch({
        lambdas: [
          [1, 0],
          [0.9, 0.1],
        ],
      }),
      (lambda) => weightedSumConfig({ scale: TINY, seed: 3, lambda: [...lambda] }),
    );
    const a = strategy.next()!;
    const b = strategy.next()!;
    expect(strategy.next()).toBeUndefined();
    expect([a.id, b.id]).toEqual(['candidate-00', 'candidate-01']);
    expect(a.runner).toBe(RUNNER_NAME);
    expect(b.labels).toEqual({ lambda: [0.9, 0.1] });
    expect(b.config).toEqual(weightedSumConfig({ scale: TINY, seed: 3, lambda: [0.9, 0.1] }));
  });

  it('trains the candidates in trial processes (2 workers) to the same figures, bit for bit, as in this process', async () => {
    const base = { mode: 'tiny', part: 'knee', seed: 3 } as const;
    const inProcess = await reproduce({
      mode: base.mode,
      part: base.part,
      seed: base.seed,
      retrainSeeds: [5],
      outDir: join(root, 'here'),
    });
    const out = join(root, 'pool');
    const pooled = await reproduce({
      mode: base.mode,
      part: base.part,
      seed: base.seed,
      retrainSeeds: [5],
      outDir: out,
      sweep: localHook(out),
    });
    const a = inProcess.knee.grid!;
    const b = pooled.knee.grid!;
    expect(b.dir).toBe(join(out, 'knee-grid'));
    expect(b.candidates.map((c) => c.lambda)).toEqual(a.candidates.map((c) => c.lambda));
    expect(b.candidates.map((c) => c.f)).toEqual(a.candidates.map((c) => c.f));
    expect(b.candidates.map((c) => c.figures.denseKernels)).toEqual(
      a.candidates.map((c) => c.figures.denseKernels),
    );
    expect(b.knee).toBe(a.knee);
    expect(b.retrain?.testAccuracy).toBe(a.retrain?.testAccuracy);
    // The knee retrained with a further seed: a trial of its own sweep, beside the knee directory.
    expect(b.retrains.map((r) => r.testAccuracy)).toEqual(a.retrains.map((r) => r.testAccuracy));
    expect(b.retrains[1]!.runDir).toBe(join(out, 'knee-grid-retrains', 'seed-5'));
    expect(existsSync(join(out, 'knee-grid-retrains', 'seed-5', 'outcome.json'))).toBe(true);
    // The candidates are sweep trials: outcome.json per trial, the sweep's state beside them.
    for (const c of b.candidates) {
      const outcome = JSON.parse(
        readFileSync(join(c.figures.runDir, 'outcome.json'), 'utf8'),
      ) as TrialOutcome;
      expect(outcome.runner).toBe(RUNNER_NAME);
      expect(outcome.status).toBe('completed');
    }
    expect(existsSync(join(out, 'knee-grid', 'sweep-state.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'knee-grid', 'sweep.json'), 'utf8')).knee).toBe(a.knee);
  }, 240_000);

  it('puts the knee search into the store under an id naming experiment, mode and seed when the store is elsewhere', async () => {
    const out = join(root, 'out');
    const store = join(root, 'store');
    const summary = await reproduce({
      mode: 'tiny',
      part: 'knee',
      seed: 4,
      outDir: out,
      sweep: localHook(store),
      scale: { maxCandidates: 1 },
    });
    const sweep = summary.knee.grid!;
    expect(sweep.dir).toBe(join(store, 'reiners2020-tiny-seed4-knee-grid'));
    expect(existsSync(join(sweep.dir, 'candidate-00', 'outcome.json'))).toBe(true);
    expect(existsSync(join(sweep.dir, 'retrain', 'result.json'))).toBe(true);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  }, 240_000);
});
