#!/usr/bin/env node
// Mutation testing with StrykerJS for the packages whose maths the tests must
// pin down (issue 17): `pnpm test:mutation [package …]`, default all four,
// smallest first. Not part of `pnpm test` — a run takes from tens of minutes
// to hours on two cores.
//
// One table below says what each target mutates and which tests it runs; the
// Stryker options are the same for all. Runs are incremental: a re-run after a
// small change tests only the mutants whose code or covering tests changed
// (`--force` re-tests everything). Reports (HTML + JSON) and the incremental
// file go to the package's `reports/`, which git ignores.
//
// Mutants are written into the source files in place (`inPlace`) because the
// tests resolve sibling packages through the root Vitest config's aliases and
// each package's own node_modules, which a sandbox copy of the monorepo would
// not have. Stryker restores the files when it ends; after a hard kill,
// `git checkout -- packages/<name>/src` restores them.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stryker } from '@stryker-mutator/core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** What each target mutates (globs relative to the repository root) and whose tests run. */
const targets = {
  objectives: { dir: 'packages/objectives', mutate: ['src/**/*.ts'] },
  solvers: { dir: 'packages/solvers', mutate: ['src/**/*.ts', '!src/testing/**'] },
  pruners: { dir: 'packages/pruners', mutate: ['src/**/*.ts', '!src/testing/**'] },
  // compaction, masks, metrics, structure: the network part of core. The browser-bundle test is
  // left out: it bundles the sources and refuses any Node global, and Stryker's instrumentation
  // reads `process.env` (its active-mutant switch) in every mutated file.
  core: {
    dir: 'packages/core',
    mutate: ['src/network/**/*.ts'],
    skipTests: ['__tests__/browser-bundle.test.ts'],
  },
};
const aliases = { 'core-network': 'core', 'core/network': 'core' };

const args = process.argv.slice(2);
const force = args.includes('--force');
// --concurrency N: Stryker test runners in parallel (default 1: the machine is often shared
// with training runs; on idle cores one runner per core is faster).
const concurrencyArg = args.find((a) => a.startsWith('--concurrency'));
const concurrencyText =
  concurrencyArg === undefined
    ? '1'
    : concurrencyArg.includes('=')
      ? concurrencyArg.split('=')[1]
      : args[args.indexOf(concurrencyArg) + 1];
const concurrency = Number(concurrencyText);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`test:mutation: --concurrency must be an integer ≥ 1, got '${concurrencyText}'`);
  process.exit(2);
}
const names = args
  .filter((a, i) => !a.startsWith('--') && !(args[i - 1] === '--concurrency'))
  .map((a) => aliases[a] ?? a.replace(/^@moprune\//, ''));
for (const name of names) {
  if (!(name in targets)) {
    console.error(`test:mutation: unknown package '${name}'; one of ${Object.keys(targets).join(', ')}`);
    process.exit(2);
  }
}

/** Stryker's options for one target. */
function strykerOptions(name) {
  const { dir, mutate, skipTests = [] } = targets[name];
  const reports = join(dir, 'reports');
  return {
    mutate: [
      ...mutate.map((glob) => (glob.startsWith('!') ? `!${dir}/${glob.slice(1)}` : `${dir}/${glob}`)),
      `!${dir}/src/**/__tests__/**`,
      `!${dir}/src/**/*.test.ts`,
    ],
    testRunner: 'vitest',
    // Tests import their package by its public name, which Vitest's related-file
    // search does not follow through the aliases: run the package's own tests.
    vitest: { configFile: 'vitest.config.ts', related: false },
    testFiles: readdirSync(join(dir, 'src'), { recursive: true })
      .filter((file) => file.endsWith('.test.ts') && !skipTests.includes(file))
      .map((file) => join(dir, 'src', file)),
    checkers: ['typescript'],
    tsconfigFile: join(dir, 'tsconfig.json'),
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    plugins: [
      require.resolve('@stryker-mutator/vitest-runner'),
      require.resolve('@stryker-mutator/typescript-checker'),
    ],
    coverageAnalysis: 'perTest',
    // Mutants that only run while a module loads would each need every test
    // re-run in a fresh process; on two cores that is not affordable.
    ignoreStatic: true,
    inPlace: true,
    concurrency,
    // tfjs tests vary with the machine's load; a generous margin keeps slow
    // runs from being counted as mutants killed by a timeout.
    timeoutMS: 30_000,
    dryRunTimeoutMinutes: 30,
    incremental: true,
    incrementalFile: join(reports, 'stryker-incremental.json'),
    force,
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: join(reports, 'mutation', 'mutation.html') },
    jsonReporter: { fileName: join(reports, 'mutation', 'mutation.json') },
    clearTextReporter: { allowEmojis: false, reportScoreTable: true, reportMutants: false },
    tempDirName: '.stryker-tmp',
  };
}

/** Counts by status and the score over covered mutants: (killed + timeout) ÷ (killed + timeout + survived). */
function mutationScore(results) {
  const count = {};
  for (const r of results) count[r.status] = (count[r.status] ?? 0) + 1;
  const detected = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const covered = detected + (count.Survived ?? 0);
  return { count, detected, covered, score: covered === 0 ? Number.NaN : detected / covered };
}

process.chdir(root);
const summary = [];
for (const name of names.length === 0 ? Object.keys(targets) : names) {
  const started = Date.now();
  const results = await new Stryker(strykerOptions(name)).runMutationTest();
  const { count, detected, covered, score } = mutationScore(results);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  summary.push(
    `${name}: score over covered ${(100 * score).toFixed(2)}% (${detected}/${covered}; ` +
      `${JSON.stringify(count)}) in ${minutes} min`,
  );
}
console.log(`\n=== mutation scores (${new Date().toISOString()}) ===\n${summary.join('\n')}`);
