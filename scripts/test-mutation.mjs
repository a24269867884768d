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
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
// --files a.ts,b.ts: mutate only these files of the target (paths relative to its src/). A run of
// the whole of core/network takes about 3.5 h on two cores; --files splits it into runs that fit a
// working session, each merged into the target's incremental file, so the package score builds up
// over several runs and a later full run re-tests only what changed.
const filesArg = args.find((a) => a.startsWith('--files'));
const filesText =
  filesArg === undefined
    ? undefined
    : filesArg.includes('=')
      ? filesArg.split('=')[1]
      : args[args.indexOf(filesArg) + 1];
if (filesArg !== undefined && (filesText === undefined || filesText.startsWith('--') || filesText === '')) {
  console.error('test:mutation: --files needs a comma-separated list of files under the package src/');
  process.exit(2);
}
const valued = new Set(['--concurrency', '--files']);
const names = args
  .filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1]))
  .map((a) => aliases[a] ?? a.replace(/^@moprune\//, ''));
for (const name of names) {
  if (!(name in targets)) {
    console.error(`test:mutation: unknown package '${name}'; one of ${Object.keys(targets).join(', ')}`);
    process.exit(2);
  }
}

/** The source files a target mutates, relative to the repository root, sorted. */
function targetFiles(name) {
  const { dir, mutate } = targets[name];
  const include = mutate.filter((g) => !g.startsWith('!')).map((g) => dirname(g.replace(/\*\*.*$/, 'x')));
  const exclude = mutate
    .filter((g) => g.startsWith('!'))
    .map((g) => dirname(g.slice(1).replace(/\*\*.*$/, 'x')));
  return readdirSync(join(dir, 'src'), { recursive: true })
    .map((file) => join('src', file))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.includes('__tests__'))
    .filter(
      (file) =>
        include.some((d) => file.startsWith(`${d}/`)) && !exclude.some((d) => file.startsWith(`${d}/`)),
    )
    .map((file) => join(dir, file))
    .sort();
}

/** The files named by --files, checked against the target's own (a typo is an error, not an empty run). */
function selectedFiles(name, text) {
  const all = targetFiles(name);
  const { dir } = targets[name];
  return text.split(',').map((entry) => {
    const wanted = entry.trim();
    const match = all.filter(
      (file) => file === join(dir, 'src', wanted) || file === join(dir, wanted) || file === wanted,
    );
    if (match.length !== 1) {
      console.error(
        `test:mutation: '${wanted}' is not a file that ${name} mutates; one of\n  ${all
          .map((f) => f.slice(dir.length + 5))
          .join('\n  ')}`,
      );
      process.exit(2);
    }
    return match[0];
  });
}

/** Stryker's options for one target (`only`: the --files selection, or undefined for all). */
function strykerOptions(name, only) {
  const { dir, mutate, skipTests = [] } = targets[name];
  const reports = join(dir, 'reports');
  return {
    mutate: only ?? [
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
    // A --files run reads and writes a partial file, merged into the package's afterwards.
    incrementalFile: join(
      reports,
      only === undefined ? 'stryker-incremental.json' : 'stryker-incremental.part.json',
    ),
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

/** Writes JSON atomically (a temporary file renamed over the target). */
function writeJson(file, value) {
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2));
  renameSync(`${file}.tmp`, file);
}

/**
 * Merges a --files run's report into the package's incremental file: the run's files and test
 * files replace their earlier entries, every other file keeps its last result.
 */
function mergeIncremental(name) {
  const reports = join(targets[name].dir, 'reports');
  const part = join(reports, 'stryker-incremental.part.json');
  const whole = join(reports, 'stryker-incremental.json');
  const fresh = JSON.parse(readFileSync(part, 'utf8'));
  const merged = existsSync(whole)
    ? JSON.parse(readFileSync(whole, 'utf8'))
    : { ...fresh, files: {}, testFiles: {} };
  merged.files = { ...merged.files, ...fresh.files };
  merged.testFiles = { ...(merged.testFiles ?? {}), ...(fresh.testFiles ?? {}) };
  writeJson(whole, merged);
  rmSync(part);
  return merged;
}

/** The package score from its incremental file, with the files no run has scored yet. */
function packageScore(name) {
  const whole = join(targets[name].dir, 'reports', 'stryker-incremental.json');
  const report = JSON.parse(readFileSync(whole, 'utf8'));
  const files = targetFiles(name);
  const missing = files.filter((file) => report.files[file] === undefined);
  const results = files.flatMap((file) => report.files[file]?.mutants ?? []);
  return { ...mutationScore(results), missing, total: files.length };
}

process.chdir(root);
const summary = [];
for (const name of names.length === 0 ? Object.keys(targets) : names) {
  const started = Date.now();
  const only = filesText === undefined ? undefined : selectedFiles(name, filesText);
  if (only !== undefined) {
    // Seed the partial file with the package's results so unchanged mutants are not re-tested.
    const reports = join(targets[name].dir, 'reports');
    const whole = join(reports, 'stryker-incremental.json');
    if (existsSync(whole)) writeFileSync(join(reports, 'stryker-incremental.part.json'), readFileSync(whole));
  }
  const results = await new Stryker(strykerOptions(name, only)).runMutationTest();
  const { count, detected, covered, score } = mutationScore(results);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  summary.push(
    `${name}${only === undefined ? '' : ` (${only.length} file(s) mutated; the report also holds the results it kept of earlier runs)`}: score over covered ` +
      `${(100 * score).toFixed(2)}% (${detected}/${covered}; ${JSON.stringify(count)}) in ${minutes} min`,
  );
  if (only !== undefined) {
    mergeIncremental(name);
    const whole = packageScore(name);
    summary.push(
      `${name} so far (incremental file, ${whole.total - whole.missing.length} of ${whole.total} files): ` +
        `score over covered ${(100 * whole.score).toFixed(2)}% (${whole.detected}/${whole.covered}; ` +
        `${JSON.stringify(whole.count)})` +
        (whole.missing.length === 0
          ? ''
          : `; not yet run: ${whole.missing.map((f) => f.split('/src/')[1]).join(', ')}`),
    );
  }
}
console.log(`\n=== mutation scores (${new Date().toISOString()}) ===\n${summary.join('\n')}`);
