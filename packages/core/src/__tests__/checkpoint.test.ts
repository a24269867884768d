import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ComponentState,
  type CoreError,
  CoreError as CoreErrorClass,
  isMopruneError,
  listCheckpoints,
  loadLatestCheckpoint,
  QUARANTINE_PREFIX,
  readCheckpoint,
  train,
  writeCheckpoint,
  writeJsonAtomic,
} from '../node/index.js';
import { tempDirs } from './fixtures/temp-dirs.js';
import { resumeScenario, weightBytes } from './fixtures/train-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const coreDir = resolve(here, '../..');
const tempDir = tempDirs('moprune-ckpt-');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const state = (k: number): ComponentState => ({
  json: { k, nested: { list: [1, 'a', null] } },
  arrays: {
    'param/w': { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Number.MIN_VALUE, -0, 6 + k]) },
    'solver/0/m': { shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) },
    empty: { shape: [0], data: new Float32Array(0) },
  },
});

describe('checkpoint files', () => {
  it('round-trips JSON and float arrays bit for bit, keeps the last 2, and points latest at the newest', () => {
    const root = join(tempDir(), 'checkpoint');
    for (const step of [3, 7, 12]) writeCheckpoint(root, state(step), { step });
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([12, 7]);
    expect(readFileSync(join(root, 'latest'), 'utf8').trim()).toBe('ckpt-0000000012');
    const loaded = loadLatestCheckpoint(root)!;
    expect(loaded.step).toBe(12);
    expect(loaded.state.json).toEqual(state(12).json);
    for (const [k, a] of Object.entries(state(12).arrays)) {
      expect(loaded.state.arrays[k]!.shape).toEqual(a.shape);
      expect(Buffer.from(loaded.state.arrays[k]!.data.buffer)).toEqual(Buffer.from(a.data.buffer));
    }
    const manifest = JSON.parse(readFileSync(join(root, 'ckpt-0000000012', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'moprune-checkpoint',
      version: 1,
      step: 12,
      blob: { bytes: 36 },
    });
    expect(manifest.blob.sha256).toMatch(/^[0-9a-f]{64}$/);
    // A crash between the rename and the pointer update: the complete newer directory is used.
    writeFileSync(join(root, 'latest'), 'ckpt-0000000007\n');
    expect(loadLatestCheckpoint(root)!.step).toBe(12);
    writeFileSync(join(root, 'latest'), 'ckpt-0000000012\n');
    // No temp files or directories are left behind.
    expect(readdirSync(root).sort()).toEqual(['ckpt-0000000007', 'ckpt-0000000012', 'latest']);
  });

  it('refuses a corrupt blob (checksum), a truncated blob and a garbled manifest, naming the file; quarantines it and falls back to the previous', () => {
    const root = join(tempDir(), 'checkpoint');
    writeCheckpoint(root, state(1), { step: 1 });
    writeCheckpoint(root, state(2), { step: 2 });
    const blob = join(root, 'ckpt-0000000002', 'data.bin');
    const bytes = readFileSync(blob);
    bytes[5] = bytes[5]! ^ 0xff;
    writeFileSync(blob, bytes);
    expect(() => readCheckpoint(join(root, 'ckpt-0000000002'))).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_CORRUPT', message: expect.stringContaining(blob) }),
    );
    const refused: CoreError[] = [];
    const loaded = loadLatestCheckpoint(root, { onCorrupt: (e) => refused.push(e) })!;
    expect(loaded.step).toBe(1);
    expect(refused.map((e) => e.details.file)).toEqual([blob]);
    // Quarantined: renamed where no reader or retention looks, kept for inspection.
    const quarantined = join(root, `${QUARANTINE_PREFIX}ckpt-0000000002`);
    expect(refused[0]!.details.quarantined).toBe(quarantined);
    expect(readdirSync(quarantined).sort()).toEqual(['data.bin', 'manifest.json']);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([1]);

    const older = join(root, 'ckpt-0000000001', 'data.bin');
    truncateSync(older, 10);
    expect(() => readCheckpoint(join(root, 'ckpt-0000000001'))).toThrow(/truncated/);
    try {
      loadLatestCheckpoint(root);
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'CHECKPOINT_CORRUPT')).toBe(true);
      expect((e as CoreError).issues.map((i) => i.path)).toEqual([older]);
    }
    writeCheckpoint(root, state(3), { step: 3 });
    writeFileSync(join(root, 'ckpt-0000000003', 'manifest.json'), '{"format": "moprune-checkpoint", "vers');
    expect(() => readCheckpoint(join(root, 'ckpt-0000000003'))).toThrow(
      expect.objectContaining({
        code: 'CHECKPOINT_CORRUPT',
        message: expect.stringContaining('manifest.json'),
      }),
    );
  });

  it('retention keeps the newest valid checkpoints: a corrupt older one is quarantined and does not count', () => {
    const root = join(tempDir(), 'checkpoint');
    writeCheckpoint(root, state(430), { step: 430 });
    writeCheckpoint(root, state(553), { step: 553 });
    truncateSync(join(root, 'ckpt-0000000553', 'data.bin'), 7);
    const refused: CoreError[] = [];
    writeCheckpoint(root, state(860), { step: 860, onCorrupt: (e) => refused.push(e) });
    // Before: 430 (valid) was deleted and the corrupt 553 kept beside 860.
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([860, 430]);
    expect(refused.map((e) => e.details.file)).toEqual([join(root, 'ckpt-0000000553', 'data.bin')]);
    expect(readdirSync(root)).toContain(`${QUARANTINE_PREFIX}ckpt-0000000553`);
    expect(readCheckpoint(join(root, 'ckpt-0000000430')).step).toBe(430);
    // A manifest that is not JSON counts as corrupt too: the valid 430 stays in its place.
    writeFileSync(join(root, 'ckpt-0000000860', 'manifest.json'), 'garbage');
    writeCheckpoint(root, state(900), { step: 900, onCorrupt: (e) => refused.push(e) });
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([900, 430]);
    expect(refused.at(-1)!.details.file).toBe(join(root, 'ckpt-0000000860', 'manifest.json'));
  });

  it('loadLatestCheckpoint: accept refuses with CHECKPOINT_CORRUPT (next one tried); other errors propagate', () => {
    const root = join(tempDir(), 'checkpoint');
    writeCheckpoint(root, state(1), { step: 1 });
    writeCheckpoint(root, state(2), { step: 2 });
    const loaded = loadLatestCheckpoint(root, {
      quarantine: false,
      accept: (c) => {
        if (c.step === 2) throw new CoreErrorClass('CHECKPOINT_CORRUPT', 'does not fit');
      },
    })!;
    expect(loaded.step).toBe(1);
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2, 1]);
    expect(() =>
      loadLatestCheckpoint(root, {
        accept: () => {
          throw new CoreErrorClass('INVALID_ARGUMENT', 'another run');
        },
      }),
    ).toThrow('another run');
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2, 1]);
  });

  it('writing a lower step (resumed from an older checkpoint) removes the abandoned higher steps', () => {
    const root = join(tempDir(), 'checkpoint');
    for (const step of [4, 8, 12]) writeCheckpoint(root, state(step), { step });
    writeCheckpoint(root, state(9), { step: 9 });
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([9, 8]);
    writeCheckpoint(root, state(9), { step: 9, keep: 1 });
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([9]);
  });

  it('an empty directory has no checkpoint; writeJsonAtomic writes whole files only', () => {
    const dir = tempDir();
    expect(loadLatestCheckpoint(join(dir, 'nothing'))).toBeUndefined();
    writeJsonAtomic(join(dir, 'sub', 'a.json'), { x: 1 });
    writeJsonAtomic(join(dir, 'sub', 'a.json'), { x: 2, y: [1] });
    expect(JSON.parse(readFileSync(join(dir, 'sub', 'a.json'), 'utf8'))).toEqual({ x: 2, y: [1] });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.json']);
  });
});

/** Runs the resume scenario to the end in this process; returns its final weights. */
async function uninterrupted(): Promise<Record<string, string>> {
  const o = resumeScenario(tempDir());
  const r = await train(o);
  const w = weightBytes(r.net);
  r.net.dispose();
  o.solver.dispose();
  return w;
}

function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
}

describe('resume', () => {
  let reference: Record<string, string>;
  beforeAll(async () => {
    reference = await uninterrupted();
  });

  it('a run SIGKILLed in another process resumes here to bit-identical final weights', async () => {
    const runDir = tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'fixtures', 'train-child.ts'), runDir, '40'],
      { cwd: coreDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    const exited = waitForExit(child);
    const root = join(runDir, 'checkpoint');
    let killedAt = -1;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const newest = listCheckpoints(root)[0]?.step ?? -1;
      if (newest >= 10) {
        child.kill('SIGKILL');
        killedAt = newest;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const exit = await exited;
    expect(exit.signal, `child did not get killed mid-run; stderr:\n${stderr}`).toBe('SIGKILL');
    expect(stdout).not.toContain('done');
    expect(killedAt).toBeGreaterThanOrEqual(10);
    expect(killedAt).toBeLessThan(36);

    const o = resumeScenario(runDir);
    const r = await train({ ...o, resume: true });
    expect(r.resumedFrom!.step).toBeGreaterThanOrEqual(10);
    expect(r.steps).toBe(36);
    expect(weightBytes(r.net)).toEqual(reference);
    // The log holds every step exactly once: lines the killed child wrote after its checkpoint were dropped.
    const steps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step: number })
      .filter((l) => l.type === 'step')
      .map((l) => l.step);
    expect(steps).toEqual(Array.from({ length: 36 }, (_, i) => i));
    r.net.dispose();
    o.solver.dispose();
  });

  it('a corrupt newest checkpoint is refused and the run resumes from the previous one, to the same weights', async () => {
    const runDir = tempDir();
    const controller = new AbortController();
    const first = resumeScenario(runDir);
    const r1 = await train({
      ...first,
      signal: controller.signal,
      callbacks: [{ name: 'stop', onStepEnd: (s) => void (s.step === 13 && controller.abort()) }],
    });
    expect(r1.interrupted).toBe(true);
    r1.net.dispose();
    first.solver.dispose();
    // Checkpoints at 12 (end of epoch 1) and 14 (interrupt); damage 14.
    expect(listCheckpoints(join(runDir, 'checkpoint')).map((c) => c.step)).toEqual([14, 12]);
    const blob = join(runDir, 'checkpoint', 'ckpt-0000000014', 'data.bin');
    truncateSync(blob, 100);
    const refused: CoreError[] = [];
    const o = resumeScenario(runDir);
    const r = await train({ ...o, resume: true, onCheckpointCorrupt: (e) => refused.push(e) });
    expect(refused.map((e) => [e.code, e.details.file])).toEqual([['CHECKPOINT_CORRUPT', blob]]);
    expect(r.resumedFrom!.step).toBe(12);
    expect(weightBytes(r.net)).toEqual(reference);
    // The refusal is in the log too, with where the checkpoint went.
    const events = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === 'checkpoint');
    expect(events).toEqual([
      expect.objectContaining({
        event: 'corrupt',
        step: 12,
        file: blob,
        quarantined: join(runDir, 'checkpoint', `${QUARANTINE_PREFIX}ckpt-0000000014`),
      }),
    ]);
    r.net.dispose();
    o.solver.dispose();
  });

  it('a newest checkpoint whose manifest gives an array the wrong shape is refused, naming the manifest, and the previous one used', async () => {
    const runDir = tempDir();
    const controller = new AbortController();
    const first = resumeScenario(runDir);
    const r1 = await train({
      ...first,
      signal: controller.signal,
      callbacks: [{ name: 'stop', onStepEnd: (s) => void (s.step === 13 && controller.abort()) }],
    });
    r1.net.dispose();
    first.solver.dispose();
    const manifestPath = join(runDir, 'checkpoint', 'ckpt-0000000014', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      arrays: { key: string; shape: number[] }[];
    };
    const param = manifest.arrays.find((a) => a.key.startsWith('param/') && a.shape.length === 2)!;
    param.shape = [...param.shape].reverse();
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const refused: CoreError[] = [];
    const o = resumeScenario(runDir);
    const r = await train({ ...o, resume: true, onCheckpointCorrupt: (e) => refused.push(e) });
    expect(refused.map((e) => [e.code, e.details.file])).toEqual([['CHECKPOINT_CORRUPT', manifestPath]]);
    expect(refused[0]!.message).toContain('shape');
    expect(r.resumedFrom!.step).toBe(12);
    expect(weightBytes(r.net)).toEqual(reference);
    r.net.dispose();
    o.solver.dispose();
  });
});
