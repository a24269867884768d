#!/usr/bin/env node
// tfjs's own kernel test suite — the 4,200-odd specs @tensorflow/tfjs-core ships in dist/ — against
// every backend moprune registers or patches (see README.md here):
//   native  @moprune/native's backend, with moprune's gradients
//   wasm    tfjs-backend-wasm with moprune's kernels and gradients, beside stock wasm as the baseline
//   cpu     tfjs-backend-cpu with moprune's gradients
// Passes when every failing spec is a documented deviation (deviations.cjs) whose evidence holds,
// every deviation still fails (no stale entries), and on wasm nothing fails that stock wasm passes.
//   node tests/tfjs-kernels/run.mjs [--backend native,wasm,cpu]
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const require = createRequire(join(root, 'package.json'));
const cacheDir = join(root, 'node_modules', '.cache', 'moprune-tfjs-specs');
const deviations = require(join(here, 'deviations.cjs'));
const BACKENDS = ['native', 'wasm', 'cpu'];

/**
 * Bundles entry.mjs with esbuild into one CommonJS file, so tfjs-core's ESM spec files, the
 * stock backends and moprune's backends share one copy of every @tensorflow package. Every
 * module keeps its own import.meta.url, so the native addon and the .wasm files are found.
 */
async function bundle() {
  const esbuild = require('esbuild');
  const out = join(cacheDir, 'specs.cjs');
  mkdirSync(cacheDir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(here, 'entry.mjs')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    conditions: ['import'],
    external: ['jasmine-core', 'jasmine', '*.node'],
    // tfjs-core's sideEffects list omits its spec files: keep every import.
    ignoreAnnotations: true,
    logLevel: 'error',
    plugins: [
      {
        name: 'import-meta-url',
        setup(build) {
          build.onLoad({ filter: /\.m?js$/ }, (args) => {
            const text = readFileSync(args.path, 'utf8');
            if (!text.includes('import.meta.url')) return undefined;
            return {
              contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
              loader: 'js',
            };
          });
        },
      },
    ],
  });
  return out;
}

function runChild(bundlePath, backend, mode) {
  const tag = `${backend}-${mode}`;
  const plan = join(cacheDir, `plan-${tag}.json`);
  const out = join(cacheDir, `result-${tag}.json`);
  writeFileSync(plan, JSON.stringify({ include: null, exclude: [] }));
  return new Promise((ok, fail) => {
    let stderr = '';
    const child = spawn(process.execPath, [join(here, 'child.cjs'), bundlePath, backend, plan, out, mode], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOPRUNE_BACKEND: '' },
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => {
      const hint =
        backend === 'native' && /native kernels unavailable/.test(stderr)
          ? "\n(the native addon is not built: install Debian's libopenblas-dev (scripts/setup.sh does), then `pnpm --filter @moprune/native build:addon`)"
          : '';
      if (code !== 0) fail(new Error(`${tag}: the spec run exited ${code}\n${stderr.slice(-4000)}${hint}`));
      else ok(JSON.parse(readFileSync(out, 'utf8')));
    });
  });
}

const failedNames = (r) => new Set(r.results.filter((x) => x.status === 'failed').map((x) => x.name));
const specOf = (name) => name.replace(/^(.*?) (native|wasm|cpu) \{\} /, '$1 $2 {} ');

async function main() {
  const { values } = parseArgs({ options: { backend: { type: 'string', default: BACKENDS.join(',') } } });
  const selected = values.backend.split(',');
  const unknown = selected.filter((b) => !BACKENDS.includes(b));
  if (unknown.length > 0) {
    console.error(`tfjs-kernels: unknown backend ${unknown.join(', ')}; one of ${BACKENDS.join(', ')}`);
    process.exit(2);
  }
  const t0 = performance.now();
  const bundlePath = await bundle();
  console.log(
    `tfjs-kernels: tfjs-core ${require('@tensorflow/tfjs-core/package.json').version} specs bundled in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const jobs = selected.flatMap((b) =>
    b === 'wasm'
      ? [
          [b, 'moprune'],
          [b, 'stock'],
        ]
      : [[b, 'moprune']],
  );
  const results = new Map();
  // Two at a time: the machine has two cores.
  const queue = [...jobs];
  await Promise.all(
    [0, 1].map(async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        results.set(job.join('/'), await runChild(bundlePath, ...job));
      }
    }),
  );
  const problems = [];
  for (const backend of selected) {
    const r = results.get(`${backend}/moprune`);
    const failed = failedNames(r);
    const listed = deviations.filter((d) => d.backends.includes(backend)).map((d) => d.spec(backend));
    const baseline = backend === 'wasm' ? failedNames(results.get('wasm/stock')) : new Set();
    const unexplained = [...failed].filter((n) => !listed.includes(specOf(n)) && !baseline.has(n));
    for (const n of unexplained) {
      const f = r.results.find((x) => x.name === n);
      problems.push(`${backend}: ${n}\n    ${f.failures.join('\n    ')}`);
    }
    for (const spec of listed) {
      if (![...failed].some((n) => specOf(n) === spec))
        problems.push(`${backend}: deviation '${spec}' did not fail: remove it from deviations.cjs`);
    }
    for (const e of r.evidence) {
      if (!e.ok) problems.push(`${backend}: the evidence for '${e.spec}' does not hold: ${e.finding}`);
    }
    const count = (s) => r.results.filter((x) => x.status === s).length;
    const fixed = backend === 'wasm' ? [...baseline].filter((n) => !failed.has(n)).length : 0;
    const stockOnly =
      backend === 'wasm'
        ? `; ${[...failed].filter((n) => baseline.has(n)).length} fail on stock wasm too (kernels tfjs-backend-wasm lacks), ${fixed} that fail on stock wasm pass with moprune's kernels`
        : '';
    console.log(
      `tfjs-kernels ${backend}: ${r.results.length} specs, ${count('passed')} passed, ${failed.size} failed (${listed.length} documented deviation${listed.length === 1 ? '' : 's'}${stockOnly}), ${count('pending')} pending, ${r.seconds.toFixed(0)} s`,
    );
    for (const e of r.evidence.filter((x) => x.ok)) console.log(`  deviation '${e.spec}': ${e.finding}`);
  }
  console.log(`tfjs-kernels: ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
  if (problems.length > 0) {
    console.error(`\ntfjs-kernels: ${problems.length} problem(s):\n${problems.join('\n')}`);
    process.exit(1);
  }
}

await main();
