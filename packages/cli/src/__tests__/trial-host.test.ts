import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { moduleHookArgs, trialHostCommand } from '../sweep.js';

describe('the trial-host command', () => {
  it("keeps this process's module hooks (pnpm reproduce runs the built CLI under node --import tsx)", () => {
    expect(
      moduleHookArgs([
        '--import',
        'tsx',
        '--max-old-space-size=4096',
        '--require=./r.cjs',
        '-r',
        'x',
        '--inspect',
        '--loader',
        'l.mjs',
        '--experimental-loader=e.mjs',
      ]),
    ).toEqual([
      '--import',
      'tsx',
      '--require=./r.cjs',
      '-r',
      'x',
      '--loader',
      'l.mjs',
      '--experimental-loader=e.mjs',
    ]);
    expect(moduleHookArgs(['--import'])).toEqual([]);
  });

  it('starts the CLI bin with __trial-host and passes the executor flags on', () => {
    const c = trialHostCommand({ modules: ['/abs/m.js'], backend: 'cpu', dataDir: '/d' }, '/w');
    expect(c.module).toMatch(/bin\.(ts|js)$/);
    expect(c.args).toEqual([
      '__trial-host',
      '--cwd',
      '/w',
      '--backend',
      'cpu',
      '--data-dir',
      '/d',
      '--module',
      '/abs/m.js',
    ]);
  });
});

describe('the built CLI and TypeScript project modules', () => {
  it('loads a project module that is a TypeScript source without node --import tsx (through tsx, once)', () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
    const dir = mkdtempSync(join(tmpdir(), 'moprune-ts-module-'));
    try {
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ type: 'module', moprune: { modules: ['./exp.ts'] } }),
      );
      writeFileSync(
        join(dir, 'exp.ts'),
        [
          'const modes: Record<string, string> = { quick: "q", full: "f" };',
          'export const experiment = { name: "ts-exp", description: "typed", modes, async run() { return { status: "completed" as const }; } };',
        ].join('\n'),
      );
      const r = spawnSync(process.execPath, [bin, 'list'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(r.stderr).not.toContain('MODULE_LOAD_FAILED');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ts-exp\s+typed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
