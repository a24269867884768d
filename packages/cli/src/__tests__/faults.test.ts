/**
 * Fault injection: runs of the `moprune` command killed with SIGKILL at
 * random steps, their newest checkpoint damaged at random between kills,
 * stopped by SIGTERM, and written by two processes at once. Every run ends
 * bit for bit where an uninterrupted run ends, and no moment after the first
 * checkpoint is without a valid one. Random choices come from a fixed seed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listCheckpoints, Rng, RUN_LOCK_FILE, readCheckpoint } from '@moprune/core/node';
import { mnistFixtureDir } from '@moprune/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PKG = resolve(import.meta.dirname, '../..');
/** The built CLI (`pnpm test` builds first): it starts in about a second, the sources through tsx in three. */
const BIN = join(PKG, 'dist', 'bin.js');

/** 32 training digits at batch 4: 8 steps an epoch, 12 epochs, a checkpoint every 5 steps (and at each epoch's end). */
const CONFIG = {
  name: 'faults',
  dataset: { type: 'mnist', dir: mnistFixtureDir, validationSize: 8 },
  model: { type: 'mlp', hidden: [48] },
  objectives: [{ type: 'crossEntropy' }, { type: 'l1' }],
  solver: { type: 'smgd', lr: 0.05 },
  pruners: [{ type: 'itp', threshold: 0.001 }],
  training: { epochs: 12, batchSize: 4, seed: 5, checkpoint: { everySteps: 5, keep: 2 } },
};
const TOTAL_STEPS = 96;

interface Cli {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function cli(args: readonly string[], cwd: string): Cli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, MOPRUNE_BACKEND: 'cpu', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => {
    text += String(d);
  });
  child.stderr!.on('data', (d) => {
    text += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('exit', (code, signal) => done({ code, signal }));
  });
  return { child, output: () => text, exited };
}

/** The test's only source of randomness: core's seeded generator. */
function rng(seed: number): () => number {
  const r = Rng.fromSeed(seed);
  return () => r.next();
}

const stepsLogged = (runDir: string): number[] => {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  // Polled while the run writes: a last line without its newline is still being written.
  lines.pop();
  return lines
    .filter((l) => l.includes('"type":"step"'))
    .map((l) => (JSON.parse(l) as { step: number }).step);
};

const validCheckpoints = (runDir: string): number[] =>
  listCheckpoints(join(runDir, 'checkpoint')).flatMap((c) => {
    try {
      return [readCheckpoint(join(runDir, 'checkpoint', c.name)).step];
    } catch {
      return [];
    }
  });

/** Waits until the run has logged at least `step` steps (or exited). */
async function untilStep(runDir: string, c: Cli, step: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && c.child.exitCode === null && c.child.signalCode === null) {
    if (stepsLogged(runDir).length >= step) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** result.json without what differs between sessions (wall times, the resume point). */
function deterministicResult(runDir: string): unknown {
  const r = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as Record<string, unknown>;
  const { wallTimeMs: _w, resumedFromStep: _r, history, ...rest } = r;
  return {
    ...rest,
    history: (history as Record<string, unknown>[]).map(({ timeMs: _t, ...h }) => h),
  };
}

/** The newest checkpoint's state: its blob's SHA-256 and step. */
function finalCheckpoint(runDir: string): { step: number; sha: string } {
  const root = join(runDir, 'checkpoint');
  const newest = listCheckpoints(root)[0]!;
  const blob = readFileSync(join(root, newest.name, 'data.bin'));
  return { step: newest.step, sha: createHash('sha256').update(blob).digest('hex') };
}

/** Damages the newest checkpoint one of four ways. */
function corruptNewest(runDir: string, pick: number): string {
  const root = join(runDir, 'checkpoint');
  const dir = join(root, listCheckpoints(root)[0]!.name);
  const blob = join(dir, 'data.bin');
  const manifest = join(dir, 'manifest.json');
  switch (pick) {
    case 0:
      truncateSync(blob, Math.floor(readFileSync(blob).length / 2));
      return 'truncated data.bin';
    case 1: {
      const b = readFileSync(blob);
      b[Math.floor(b.length / 3)] = b[Math.floor(b.length / 3)]! ^ 0x5a;
      writeFileSync(blob, b);
      return 'flipped a byte of data.bin';
    }
    case 2:
      writeFileSync(manifest, '{"format":"moprune-checkpoint","ver');
      return 'garbage manifest.json';
    default: {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { arrays: { key: string; shape: number[] }[] };
      const p = m.arrays.find((a) => a.key.startsWith('param/') && a.shape.length === 2)!;
      p.shape = [...p.shape].reverse();
      writeFileSync(manifest, JSON.stringify(m));
      return 'manifest with a wrong shape';
    }
  }
}

let root: string;
let reference: { result: unknown; checkpoint: { step: number; sha: string } };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-faults-'));
  writeFileSync(join(root, 'run.json'), JSON.stringify(CONFIG));
  const c = cli(['train', 'run.json', '--out', 'reference', '--quiet'], root);
  const exit = await c.exited;
  expect(exit.code, c.output()).toBe(0);
  reference = {
    result: deterministicResult(join(root, 'reference')),
    checkpoint: finalCheckpoint(join(root, 'reference')),
  };
  expect(stepsLogged(join(root, 'reference'))).toHaveLength(TOTAL_STEPS);
}, 120_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('fault injection', () => {
  it('10 kill -9 at random steps, the newest checkpoint damaged at random between kills: the run ends bit for bit as an uninterrupted one, never without a valid checkpoint', async () => {
    const random = rng(15);
    const runDir = join(root, 'killed');
    const log: string[] = [];
    let everCheckpointed = false;
    let kills = 0;
    let damaged = 0;
    for (let round = 0; kills < 10 && round < 30; round++) {
      const args = ['train', 'run.json', '--out', 'killed', '--quiet', ...(round === 0 ? [] : ['--resume'])];
      const c = cli(args, root);
      const before = stepsLogged(runDir).length;
      await untilStep(runDir, c, before + 1 + Math.floor(random() * 14));
      if (c.child.exitCode !== null) break; // finished before the kill
      c.child.kill('SIGKILL');
      const exit = await c.exited;
      if (exit.signal !== 'SIGKILL') break;
      kills++;
      const valid = validCheckpoints(runDir);
      everCheckpointed ||= valid.length > 0 || listCheckpoints(join(runDir, 'checkpoint')).length > 0;
      if (everCheckpointed) expect(valid.length, `after kill ${kills}: ${log.join('; ')}`).toBeGreaterThan(0);
      // Damage the newest only while an older valid one remains (a run with no valid checkpoint cannot resume).
      if (valid.length >= 2 && random() < 0.7) {
        log.push(
          `kill ${kills} at ${stepsLogged(runDir).length}: ${corruptNewest(runDir, Math.floor(random() * 4))}`,
        );
        damaged++;
        expect(validCheckpoints(runDir).length).toBeGreaterThan(0);
      } else log.push(`kill ${kills} at ${stepsLogged(runDir).length}`);
    }
    expect(kills, log.join('; ')).toBeGreaterThanOrEqual(10);
    expect(damaged, log.join('; ')).toBeGreaterThanOrEqual(3);
    const last = cli(['train', 'run.json', '--out', 'killed', '--quiet', '--resume'], root);
    const exit = await last.exited;
    expect(exit.code, last.output()).toBe(0);
    expect(deterministicResult(runDir)).toEqual(reference.result);
    expect(finalCheckpoint(runDir)).toEqual(reference.checkpoint);
    // Every step logged exactly once; each refused checkpoint logged as an event.
    expect(stepsLogged(runDir)).toEqual(Array.from({ length: TOTAL_STEPS }, (_, i) => i));
    const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"checkpoint"'));
    expect(events.length).toBeGreaterThan(0);
  }, 300_000);

  it('SIGTERM at random steps: a checkpoint at the stop, exit 143, and --resume ends bit for bit as an uninterrupted run', async () => {
    const random = rng(16);
    const runDir = join(root, 'terminated');
    for (let round = 0; round < 3; round++) {
      const args = ['train', 'run.json', '--out', 'terminated', ...(round === 0 ? [] : ['--resume'])];
      const c = cli(args, root);
      const before = stepsLogged(runDir).length;
      await untilStep(runDir, c, before + 2 + Math.floor(random() * 20));
      c.child.kill('SIGTERM');
      const exit = await c.exited;
      expect(exit.code, c.output()).toBe(143);
      expect(c.output()).toContain('SIGTERM');
      expect(c.output()).toContain('--resume');
      // The checkpoint is at the step it stopped at: nothing trained is lost.
      expect(validCheckpoints(runDir)[0]).toBe(stepsLogged(runDir).length);
      const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as { status: string };
      expect(result.status).toBe('interrupted');
    }
    const last = cli(['train', 'run.json', '--out', 'terminated', '--quiet', '--resume'], root);
    expect((await last.exited).code, last.output()).toBe(0);
    expect(deterministicResult(runDir)).toEqual(reference.result);
    expect(finalCheckpoint(runDir)).toEqual(reference.checkpoint);
  }, 300_000);

  it('SIGHUP stops like SIGINT with exit 129; a second signal quits at once with a message and leaves a valid checkpoint; --resume ends bit for bit', async () => {
    const runDir = join(root, 'hungup');
    const hup = cli(['train', 'run.json', '--out', 'hungup'], root);
    await untilStep(runDir, hup, 9);
    hup.child.kill('SIGHUP');
    expect((await hup.exited).code, hup.output()).toBe(129);
    expect(hup.output()).toContain('SIGHUP');
    expect(validCheckpoints(runDir)[0]).toBe(stepsLogged(runDir).length);

    // Signals sent together merge into one, so keep sending until it exits: the first stops the
    // run gracefully, a later one lands while the step or checkpoint is still under way. On a loaded
    // machine the graceful stop can finish between two signals and a late one then meets the exiting
    // process (killed by SIGTERM, no exit code); that attempt still leaves a valid checkpoint, and the
    // next attempt resumes from it. At most three attempts, each ≥ 7 steps further on.
    let quitAtOnce = false;
    for (let attempt = 0; attempt < 3 && !quitAtOnce; attempt++) {
      const twice = cli(['train', 'run.json', '--out', 'hungup', '--resume'], root);
      await untilStep(runDir, twice, stepsLogged(runDir).length + 7);
      const repeat = setInterval(() => twice.child.kill('SIGTERM'), 2);
      const twiceExit = await twice.exited;
      clearInterval(repeat);
      expect(validCheckpoints(runDir).length, twice.output()).toBeGreaterThan(0);
      if (twiceExit.code === 143) {
        expect(twice.output()).toContain('SIGTERM again; quitting now');
        quitAtOnce = true;
      } else {
        // The only other way out: the first signal's graceful stop completed, a later one killed it.
        expect(twiceExit.signal, twice.output()).toBe('SIGTERM');
        expect(twice.output()).toContain('checkpoint written');
      }
    }
    expect(quitAtOnce).toBe(true);

    const last = cli(['train', 'run.json', '--out', 'hungup', '--quiet', '--resume'], root);
    expect((await last.exited).code, last.output()).toBe(0);
    expect(stepsLogged(runDir)).toEqual(Array.from({ length: TOTAL_STEPS }, (_, i) => i));
    expect(deterministicResult(runDir)).toEqual(reference.result);
    expect(finalCheckpoint(runDir)).toEqual(reference.checkpoint);
  }, 300_000);

  it('two writers on one run directory: the second refuses with RUN_LOCKED and the first finishes untouched; a dead holder’s lock is taken over', async () => {
    const runDir = join(root, 'concurrent');
    const first = cli(['train', 'run.json', '--out', 'concurrent', '--quiet'], root);
    await untilStep(runDir, first, 3);
    const second = cli(['train', 'run.json', '--out', 'concurrent', '--quiet', '--resume'], root);
    const secondExit = await second.exited;
    expect(secondExit.code).toBe(1);
    expect(second.output()).toContain('RUN_LOCKED');
    expect(second.output()).toContain(String(first.child.pid));
    expect(second.output()).not.toContain('starting from the beginning');
    expect((await first.exited).code, first.output()).toBe(0);
    expect(stepsLogged(runDir)).toEqual(Array.from({ length: TOTAL_STEPS }, (_, i) => i));
    expect(deterministicResult(runDir)).toEqual(reference.result);
    expect(existsSync(join(runDir, RUN_LOCK_FILE))).toBe(false);

    // A lock left by a process that is gone (killed -9) is reported and taken over.
    const stale = join(root, 'stale');
    mkdirSync(stale);
    const dead = cli(['train', 'run.json', '--out', 'stale', '--quiet'], root);
    await untilStep(stale, dead, 7);
    dead.child.kill('SIGKILL');
    await dead.exited;
    expect(existsSync(join(stale, RUN_LOCK_FILE))).toBe(true);
    const again = cli(['train', 'run.json', '--out', 'stale', '--resume'], root);
    expect((await again.exited).code, again.output()).toBe(0);
    expect(again.output()).toContain(`taking over the lock of process ${dead.child.pid}`);
    expect(deterministicResult(stale)).toEqual(reference.result);
  }, 300_000);
});
