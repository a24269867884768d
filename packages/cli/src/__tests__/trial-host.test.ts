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
