import { describe, expect, it } from 'vitest';
import { registration, skipReason } from './helpers.js';

/**
 * The gradient-correctness suite every moprune backend must pass, from
 * @moprune/backend/testing, run on 'native'. @moprune/backend is not a
 * dependency of this package (it loads us, optionally), so the suite is found
 * at run time; when it is absent the test says so instead of passing silently.
 */
interface SuiteReport {
  readonly backend: string;
  readonly results: readonly { readonly check: string; readonly passed: boolean }[];
  readonly failures: readonly {
    readonly check: string;
    readonly case: string;
    readonly maxError: number;
    readonly worst: string;
  }[];
}
interface SuiteModule {
  runGradientSuite(options: {
    backend: 'native';
    throwOnFailure?: boolean;
    init?: { loadNative?: () => Promise<unknown> };
  }): Promise<SuiteReport>;
}

const SUITE = '@moprune/backend/testing';

async function loadSuite(): Promise<SuiteModule | string> {
  try {
    const mod = (await import(/* @vite-ignore */ SUITE)) as Partial<SuiteModule>;
    return typeof mod.runGradientSuite === 'function'
      ? (mod as SuiteModule)
      : `${SUITE} has no runGradientSuite`;
  } catch (error) {
    return `${SUITE} cannot be loaded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

const suite = registration.ok ? await loadSuite() : 'native addon unavailable';
const run = typeof suite === 'string' ? it.skip : it;

describe(`gradient-correctness suite on 'native'${skipReason}${typeof suite === 'string' ? ` [skipped: ${suite}]` : ''}`, () => {
  run('every check passes', async () => {
    if (typeof suite === 'string') return;
    const report = await suite.runGradientSuite({
      backend: 'native',
      throwOnFailure: false,
      init: { loadNative: () => import('../index.js') },
    });
    expect(report.backend).toBe('native');
    expect(report.results.length).toBeGreaterThan(0);
    expect(report.failures).toEqual([]);
  });
});
