import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../index.js';
import { memoryIo, tinyConfig } from './helpers.js';

const PKG = resolve(import.meta.dirname, '../..');
/** tsx's loader, resolved from this package (the child's cwd is a temp dir). */
const TSX = pathToFileURL(createRequire(join(PKG, 'package.json')).resolve('tsx')).href;

/** Runs the CLI's bin (TypeScript source, through tsx) as a child process. */
function spawnCli(args: readonly string[], cwd: string): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', TSX, join(PKG, 'src/bin.ts'), ...args], {
    cwd,
    env: { ...process.env, MOPRUNE_BACKEND: 'cpu' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => {
    text += String(d);
  });
  child.stderr!.on('data', (d) => {
    text += String(d);
  });
  return Object.assign(child, { output: () => text });
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((done) => {
    child.on('exit', (code) => done(code));
  });

const stepLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"type":"step"'))
    : [];

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'moprune-sigint-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('Ctrl-C', () => {
  it('SIGINT stops the run after a checkpoint with exit 130; --resume finishes it with every step logged once', async () => {
    // 3 epochs × 32 batches = 96 steps: long enough to interrupt mid-run.
    writeFileSync(
      join(root, 'run.json'),
      JSON.stringify(tinyConfig({ epochs: 3, limit: 1024, name: 'sig' })),
    );
    const dir = join(root, 'out');
    const metrics = join(dir, 'metrics.jsonl');
    const child = spawnCli(['train', 'run.json', '--out', 'out'], root);
    const exited = exitOf(child);
    const started = Date.now();
    while (stepLines(metrics).length < 5) {
      if (child.exitCode !== null) throw new Error(`child exited early:\n${child.output()}`);
      if (Date.now() - started > 60_000) throw new Error(`no steps logged:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited, child.output()).toBe(EXIT.INTERRUPTED);
    expect(child.output()).toContain('--resume');
    const interrupted = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.steps).toBeGreaterThanOrEqual(5);
    expect(interrupted.steps).toBeLessThan(96);
    expect(existsSync(join(dir, 'checkpoint', 'latest'))).toBe(true);

    const again = spawnCli(['train', 'run.json', '--out', 'out', '--resume'], root);
    expect(await exitOf(again), again.output()).toBe(EXIT.OK);
    const done = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(done.status).toBe('completed');
    expect(done.steps).toBe(96);
    expect(done.resumedFromStep).toBe(interrupted.steps);
    const steps = stepLines(metrics).map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual(Array.from({ length: 96 }, (_, i) => i));
    expect(existsSync(join(dir, 'report.md'))).toBe(true);

    // The interrupted-and-resumed run ends exactly where an uninterrupted one does.
    const m = memoryIo(root);
    expect(await main(['train', 'run.json', '--out', 'straight'], m.io)).toBe(EXIT.OK);
    const straight = JSON.parse(readFileSync(join(root, 'straight', 'result.json'), 'utf8'));
    expect(done.test).toEqual(straight.test);
    expect(done.metrics).toEqual(straight.metrics);
  });
});
