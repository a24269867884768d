#!/usr/bin/env node
// Consumer test: do our packages work when installed from their packed
// tarballs with plain npm into a fresh project, from ESM and from CommonJS?
//
// Each scenario is a directory under tests/consumer/scenarios/ holding
//   scenario.json  { "workspacePackages": ["backend", …], "dependencies": { "<npm name>": "<range>" } }
//   *.mjs / *.cjs  scripts that must exit 0 and print a line starting with CONSUMER-OK
// A scenario's workspace packages are built, packed with `pnpm pack` (which
// rewrites workspace:^ ranges to real versions) and installed as tarball paths,
// so a scenario that needs @moprune/core lists "core" too.
//
//   node tests/consumer/run.mjs [scenario …]      (default: all)
//   KEEP_CONSUMER_DIR=1 keeps the temp directory for inspection.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const scenariosDir = join(here, 'scenarios');

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function packageName(dir) {
  return JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).name;
}

function scenario(name) {
  const dir = join(scenariosDir, name);
  const config = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.mjs') || f.endsWith('.cjs'));
  if (scripts.length === 0) throw new Error(`scenario ${name} has no .mjs/.cjs script`);
  return { name, dir, scripts, ...config };
}

function runScenario(s, packDir) {
  const started = Date.now();
  const tarballs = s.workspacePackages.map((p) => {
    const out = run('pnpm', ['pack', '--pack-destination', packDir], join(root, 'packages', p));
    const tgz = out
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('.tgz'))
      .pop();
    if (tgz === undefined) throw new Error(`pnpm pack printed no tarball for ${p}:\n${out}`);
    return resolve(join(root, 'packages', p), tgz);
  });
  const project = mkdtempSync(join(tmpdir(), `moprune-consumer-${s.name}-`));
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: `consumer-${s.name}`, private: true }, null, 2)}\n`,
  );
  const specs = [...tarballs, ...Object.entries(s.dependencies ?? {}).map(([n, v]) => `${n}@${v}`)];
  process.stdout.write(
    `  npm install ${s.workspacePackages.map(packageName).join(' ')} + ${Object.keys(s.dependencies ?? {}).join(' ')} …\n`,
  );
  const install = spawnSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
    {
      cwd: project,
      encoding: 'utf8',
    },
  );
  if (install.status !== 0) throw new Error(`npm install failed in ${project}:\n${install.stderr}`);
  const failures = [];
  for (const script of s.scripts) {
    cpSync(join(s.dir, script), join(project, script));
    // The environment must not pick the backend for the consumer: the scripts choose.
    const env = { ...process.env };
    delete env.MOPRUNE_BACKEND;
    const r = spawnSync(process.execPath, [script], { cwd: project, encoding: 'utf8', env });
    const ok = r.status === 0 && r.stdout.split('\n').some((l) => l.startsWith('CONSUMER-OK'));
    const line = r.stdout.split('\n').find((l) => l.startsWith('CONSUMER-OK')) ?? '';
    process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${script} ${line}\n`);
    if (!ok) failures.push(`${s.name}/${script} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  if (process.env.KEEP_CONSUMER_DIR) process.stdout.write(`  kept ${project}\n`);
  else rmSync(project, { recursive: true, force: true });
  process.stdout.write(`  ${s.name}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return failures;
}

const all = readdirSync(scenariosDir).filter((d) => existsSync(join(scenariosDir, d, 'scenario.json')));
const selected = process.argv.slice(2);
const unknown = selected.filter((s) => !all.includes(s));
if (unknown.length > 0) {
  console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.join(', ')}`);
  process.exit(2);
}
const scenarios = (selected.length > 0 ? selected : all).map(scenario);
const needed = [...new Set(scenarios.flatMap((s) => s.workspacePackages))];
console.log(`consumer: building ${needed.map(packageName).join(', ')}`);
run(
  'pnpm',
  [
    'exec',
    'turbo',
    'run',
    'build',
    '--output-logs=errors-only',
    ...needed.map((p) => `--filter=${packageName(p)}`),
  ],
  root,
);
const packDir = mkdtempSync(join(tmpdir(), 'moprune-packs-'));
const failures = [];
try {
  for (const s of scenarios) {
    console.log(`consumer scenario ${s.name}: ${s.description ?? ''}`);
    failures.push(...runScenario(s, packDir));
  }
} finally {
  rmSync(packDir, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`\n${failures.length} consumer script(s) failed:\n\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.log('consumer: all scenarios passed');
