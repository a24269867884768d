import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '@moprune/backend';
import { localExecutor, runSweep, type SweepHook, type TrialOutcome } from '@moprune/sweep';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReproduceSummary, RUNNER_NAME, reproduce } from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'bonetta2023-sweep-'));
const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, '../../../..');
const require = createRequire(import.meta.url);
// The built CLI's bin serves trials (`moprune __trial-host`); tsx lets its processes load this experiment's sources.
const bin = join(dirname(require.resolve('@moprune/cli')), 'bin.js');
const tsx = pathToFileURL(require.resolve('tsx')).href;

beforeAll(async () => {
  // Trial processes train on one thread; so does this one, so that the native kernels reduce in the same order.
  process.env.MOPRUNE_NATIVE_THREADS = '1';
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A sweep hook as `moprune reproduce --workers 2` gives: the local pool of trial processes. */
function localHook(store: string): SweepHook {
  // A fresh executor per sweep, as the CLI makes one for each sweep an experiment runs.
  const executor = () =>
    localExecutor({
      host: { module: bin, args: ['__trial-host', '--cwd', workspace], execArgv: ['--import', tsx] },
      workers: 2,
      cores: 2,
    });
  return { store, run: (plan) => runSweep(plan, { store, executor: executor() }) };
}

/** What of a case's run does not depend on the machine's speed. */
const figures = (s: ReproduceSummary) =>
  Object.fromEntries(
    Object.entries(s.cases[0]!.runs).map(([m, f]) => [
      m,
      { status: f.status, checks: f.checks, kept: f.kept, target: f.target, testAccuracy: f.testAccuracy },
    ]),
  );

describe('the pruning runs on the sweep engine', () => {
  it('the four methods train in trial processes (2 workers) to the figures they reach in this process, bit for bit', async () => {
    const pretrainedDir = join(root, 'pretrained');
    const base = { mode: 'tiny', seed: 2, transformer: false, pretrainedDir } as const;
    const inProcess = await reproduce({ ...base, outDir: join(root, 'here') });
    const out = join(root, 'pool');
    const pooled = await reproduce({ ...base, outDir: out, sweep: localHook(out) });
    expect(Object.keys(pooled.cases[0]!.runs)).toEqual(['relevance', 'lobster', 'tartaglione', 'magnitude']);
    expect(figures(pooled)).toEqual(figures(inProcess));
    for (const f of Object.values(pooled.cases[0]!.runs)) {
      expect(f.runDir).toBe(join(out, 'lenet300-mnist', f.method));
      const outcome = JSON.parse(readFileSync(join(f.runDir, 'outcome.json'), 'utf8')) as TrialOutcome;
      expect(outcome.runner).toBe(RUNNER_NAME);
      expect(existsSync(join(f.runDir, 'final'))).toBe(true);
    }
    expect(existsSync(join(out, 'lenet300-mnist', 'sweep-state.json'))).toBe(true);
  }, 300_000);
});
