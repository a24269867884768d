#!/usr/bin/env node
// Consumer test: the npm user's first five minutes. Every publishable package is
// packed as it would be published (`pnpm pack` rewrites workspace:^ ranges) and
// served by a registry on 127.0.0.1 for the @moprune scope only; everything else
// comes from the npm registry, as for a user. Each scenario is a fresh project
// that runs plain `npm install …` and then its scripts.
//
// A scenario is a directory under tests/consumer/scenarios/ holding scenario.json:
//   { "readme": "<package dir>" }  the README's install line, pasted as is, then its
//                                  first ts/js example: type-checked against the installed
//                                  packages (moduleResolution nodenext, and node10 when it
//                                  imports a subpath), and run. Nothing of the README is edited.
//   { "install": ["<name>", …] }   `npm install <names>` instead
//   "maxInstallMiB": N             `du -sk node_modules` must stay under N MiB
// plus any *.mjs / *.cjs scripts, which must exit 0 and print a line starting with CONSUMER-OK.
//
//   node tests/consumer/run.mjs [scenario …]      (default: all)
//   KEEP_CONSUMER_DIR=1 keeps the projects for inspection.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const scenariosDir = join(here, 'scenarios');
const ts = createRequire(join(root, 'package.json'))('typescript');
const tsc = join(
  dirname(createRequire(join(root, 'package.json')).resolve('typescript/package.json')),
  'bin',
  'tsc',
);
const exec = promisify(execFile);
/** Scenarios run two at a time (the machine has two cores; npm mostly waits on I/O). */
const CONCURRENCY = 2;
/** Flags added to every `npm install`: quiet, and reuse the npm cache when it has the package. */
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function manifest(dir) {
  return JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
}

const packageDirs = readdirSync(join(root, 'packages')).filter((d) =>
  existsSync(join(root, 'packages', d, 'package.json')),
);
const dirOfName = new Map(packageDirs.map((d) => [manifest(d).name, d]));

/** The `npm install` line and the first ts/js example of a package's README. */
export function readmeExample(markdown, file) {
  const blocks = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1],
    code: m[2],
    at: m.index,
  }));
  const sh = blocks.find((b) => b.lang === 'sh' && /^npm install /m.test(b.code));
  if (!sh) throw new Error(`${file}: no \`\`\`sh block with an npm install line`);
  const line = sh.code.split('\n').find((l) => l.startsWith('npm install '));
  const words = line.replace(/#.*/, '').trim().split(/\s+/).slice(2);
  if (words.length === 0 || words.some((w) => w.startsWith('-'))) {
    throw new Error(`${file}: the install line '${line}' must name packages only`);
  }
  const example = blocks.find((b) => (b.lang === 'ts' || b.lang === 'js') && b.at > sh.at);
  if (!example) throw new Error(`${file}: no \`\`\`ts example after the install line`);
  return { line, packages: words, example: example.code, lang: example.lang };
}

function scenario(name) {
  const dir = join(scenariosDir, name);
  const config = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8'));
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.mjs') || f.endsWith('.cjs'));
  let readme;
  if (config.readme !== undefined) {
    const file = join(root, 'packages', config.readme, 'README.md');
    readme = readmeExample(readFileSync(file, 'utf8'), file);
  }
  const install = readme?.packages ?? config.install;
  if (!install) throw new Error(`scenario ${name}: scenario.json needs "readme" or "install"`);
  if (!readme && scripts.length === 0) throw new Error(`scenario ${name} runs nothing`);
  return { ...config, name, dir, scripts, readme, readmeDir: config.readme, install };
}

/** Workspace packages the install names, with their @moprune dependencies, transitively. */
function closure(names) {
  const out = new Set();
  const visit = (name) => {
    const dir = dirOfName.get(name);
    if (dir === undefined || out.has(dir)) return;
    out.add(dir);
    const m = manifest(dir);
    for (const dep of Object.keys({ ...m.dependencies, ...m.peerDependencies })) {
      if (!m.peerDependenciesMeta?.[dep]?.optional) visit(dep);
    }
  };
  names.forEach(visit);
  return [...out];
}

async function pack(dirs, packDir) {
  const packs = new Map();
  for (const dir of dirs) {
    const { stdout } = await exec('pnpm', ['pack', '--pack-destination', packDir], {
      cwd: join(root, 'packages', dir),
    });
    const tgz = stdout
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('.tgz'))
      .pop();
    if (tgz === undefined) throw new Error(`pnpm pack printed no tarball for ${dir}:\n${stdout}`);
    const file = resolve(join(root, 'packages', dir), tgz);
    const bytes = readFileSync(file);
    const files = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n');
    if (!files.includes('package/LICENSE')) throw new Error(`${file} has no LICENSE`);
    const pkg = JSON.parse(
      execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }),
    );
    packs.set(pkg.name, {
      pkg,
      bytes,
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      shasum: createHash('sha1').update(bytes).digest('hex'),
    });
  }
  return packs;
}

/** A registry for the @moprune scope on 127.0.0.1: packuments and tarballs of the packs. */
async function serve(packs) {
  const server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    const base = `http://127.0.0.1:${server.address().port}`;
    const tarball = url.match(/^\/(@moprune\/[^/]+)\/-\/[^/]+\.tgz$/);
    if (tarball && packs.has(tarball[1])) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(packs.get(tarball[1]).bytes);
      return;
    }
    const p = packs.get(url.slice(1));
    if (!p) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
      return;
    }
    const { name, version } = p.pkg;
    const dist = {
      tarball: `${base}/${name}/-/${name.split('/')[1]}-${version}.tgz`,
      integrity: p.integrity,
      shasum: p.shasum,
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        name,
        'dist-tags': { latest: version },
        versions: { [version]: { ...p.pkg, _id: `${name}@${version}`, dist } },
      }),
    );
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

const TSCONFIG = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  target: 'es2022',
  lib: ['es2022', 'dom'],
  types: [],
  skipLibCheck: true,
  noEmit: true,
};

async function typecheck(project, resolution) {
  const module = resolution === 'node10' ? 'esnext' : 'nodenext';
  const file = `tsconfig.${resolution}.json`;
  writeFileSync(
    join(project, file),
    JSON.stringify({
      compilerOptions: { ...TSCONFIG, module, moduleResolution: resolution },
      files: ['readme-example.ts'],
    }),
  );
  try {
    await exec(process.execPath, [tsc, '-p', file], { cwd: project });
  } catch (e) {
    throw new Error(
      `the README example does not type-check (moduleResolution ${resolution}):\n${e.stdout}${e.stderr}`,
    );
  }
}

async function runNode(project, script) {
  // The environment must not pick the backend for the consumer: the scripts choose.
  const env = { ...process.env };
  delete env.MOPRUNE_BACKEND;
  try {
    const { stdout } = await exec(process.execPath, [script], { cwd: project, env, timeout: 180_000 });
    return { ok: true, stdout };
  } catch (e) {
    return {
      ok: false,
      stdout: e.stdout ?? '',
      stderr: `${e.stderr ?? ''}${e.killed ? '\n(timed out)' : ''}`,
      code: e.code,
    };
  }
}

function duMiB(dir) {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024;
}

async function runScenario(s, registry) {
  const started = Date.now();
  const log = [];
  const failures = [];
  const project = mkdtempSync(join(tmpdir(), `moprune-consumer-${s.name}-`));
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: `consumer-${s.name}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  writeFileSync(join(project, '.npmrc'), `@moprune:registry=${registry}\n`);
  const shown = s.readme ? s.readme.line : `npm install ${s.install.join(' ')}`;
  log.push(`  $ ${shown}`);
  const t0 = Date.now();
  const seconds = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  try {
    await exec('npm', ['install', ...NPM_FLAGS, ...s.install], { cwd: project });
    log.push(`  ok   installed in ${seconds(t0)}`);
  } catch (e) {
    failures.push(`${s.name}: '${shown}' failed in ${project}:\n${e.stderr}`);
  }
  if (failures.length === 0) {
    if (s.maxInstallMiB !== undefined) {
      const mib = duMiB(join(project, 'node_modules'));
      const ok = mib < s.maxInstallMiB;
      log.push(
        `  ${ok ? 'ok  ' : 'FAIL'} du -sk node_modules: ${mib.toFixed(1)} MiB (limit ${s.maxInstallMiB})`,
      );
      if (!ok) failures.push(`${s.name}: node_modules is ${mib.toFixed(1)} MiB, over ${s.maxInstallMiB} MiB`);
    }
    if (s.readme) {
      const source = s.readme.example;
      writeFileSync(join(project, 'readme-example.ts'), source);
      try {
        const t1 = Date.now();
        await typecheck(project, 'nodenext');
        // node10 resolves a package's subpaths only through typesVersions: check it where the example uses one.
        const subpath = /from '@moprune\/[^/']+\/|import '@moprune\/[^/']+\//.test(source);
        if (subpath) await typecheck(project, 'node10');
        const checked = `${subpath ? 'nodenext + node10' : 'nodenext'} ${seconds(t1)}`;
        const t2 = Date.now();
        const js = ts.transpileModule(source, {
          compilerOptions: {
            module: ts.ModuleKind.ESNext,
            target: ts.ScriptTarget.ES2022,
            verbatimModuleSyntax: false,
          },
        }).outputText;
        writeFileSync(join(project, 'readme-example.mjs'), js);
        const r = await runNode(project, 'readme-example.mjs');
        const last = r.stdout.trim().split('\n').pop() ?? '';
        log.push(
          `  ${r.ok ? 'ok  ' : 'FAIL'} packages/${s.readmeDir}/README.md example (type-checked ${checked}, ran ${seconds(t2)}): ${last.slice(0, 80)}`,
        );
        if (!r.ok)
          failures.push(`${s.name}: the README example failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      } catch (e) {
        log.push('  FAIL README example');
        failures.push(`${s.name}: ${e.message}`);
      }
    }
    for (const script of s.scripts) {
      cpSync(join(s.dir, script), join(project, script));
      const t3 = Date.now();
      const r = await runNode(project, script);
      const line = r.stdout.split('\n').find((l) => l.startsWith('CONSUMER-OK')) ?? '';
      const ok = r.ok && line !== '';
      log.push(`  ${ok ? 'ok  ' : 'FAIL'} ${script} (${seconds(t3)}) ${line}`);
      if (!ok) failures.push(`${s.name}/${script} (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
  }
  if (process.env.KEEP_CONSUMER_DIR) log.push(`  kept ${project}`);
  else rmSync(project, { recursive: true, force: true });
  log.push(`  ${s.name}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`consumer scenario ${s.name}: ${s.description ?? ''}\n${log.join('\n')}`);
  return failures;
}

async function main() {
  const all = readdirSync(scenariosDir).filter((d) => existsSync(join(scenariosDir, d, 'scenario.json')));
  const selected = process.argv.slice(2);
  const unknown = selected.filter((s) => !all.includes(s));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.join(', ')}`);
    process.exit(2);
  }
  const scenarios = (selected.length > 0 ? selected : all).map(scenario);
  const needed = closure(scenarios.flatMap((s) => s.install));
  const started = Date.now();
  console.log(`consumer: building and packing ${needed.map((d) => manifest(d).name).join(', ')}`);
  execFileSync(
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'build',
      '--output-logs=errors-only',
      ...needed.map((d) => `--filter=${manifest(d).name}`),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const packDir = mkdtempSync(join(tmpdir(), 'moprune-packs-'));
  const failures = [];
  let server;
  try {
    const packs = await pack(needed, packDir);
    server = await serve(packs);
    const registry = `http://127.0.0.1:${server.address().port}/`;
    const queue = [...scenarios];
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift())
        failures.push(...(await runScenario(s, registry)));
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    server?.close();
    rmSync(packDir, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.error(`\n${failures.length} consumer check(s) failed:\n\n${failures.join('\n\n')}`);
    process.exit(1);
  }
  console.log(
    `consumer: ${scenarios.length} scenarios passed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

await main();
