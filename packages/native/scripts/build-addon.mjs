#!/usr/bin/env node
// Best-effort build of the Node-API addon. Installing @moprune/native must
// never fail: when OpenBLAS, a compiler or node-gyp is missing this prints one
// line saying why, records the reason for the run-time loader, and exits 0.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOneDnn } from './onednn.mjs';
import { findOpenBlas } from './openblas.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reasonFile = join(root, 'build', 'unavailable.txt');

function unavailable(reason) {
  mkdirSync(join(root, 'build'), { recursive: true });
  const tmp = `${reasonFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${reason}\n`);
  renameSync(tmp, reasonFile);
  console.log(`@moprune/native: native kernels not built (${reason}); moprune will use wasm instead.`);
  process.exit(0);
}

if (process.env.MOPRUNE_NATIVE_SKIP_BUILD === '1') unavailable('MOPRUNE_NATIVE_SKIP_BUILD=1');

const addonFile = join(root, 'build', 'Release', 'moprune_native.node');
// Which optional libraries the addon was built with: installing oneDNN later
// (or setting MOPRUNE_NATIVE_ONEDNN=0) must rebuild it.
const featuresFile = join(root, 'build', 'features.json');
const onednn = findOneDnn();
const features = JSON.stringify({ onednn: 'reason' in onednn ? null : onednn.lib });
/** The addon is current when it is newer than every source it is built from and has the same libraries. */
function upToDate() {
  if (process.argv.includes('--force') || !existsSync(addonFile)) return false;
  if (!existsSync(featuresFile) || readFileSync(featuresFile, 'utf8') !== features) return false;
  const built = statSync(addonFile).mtimeMs;
  const sources = [
    join(root, 'binding.gyp'),
    ...readdirSync(join(root, 'csrc')).map((f) => join(root, 'csrc', f)),
  ];
  return sources.every((f) => statSync(f).mtimeMs <= built);
}
if (upToDate()) {
  console.log('@moprune/native: addon up to date');
  process.exit(0);
}

// A workspace `pnpm install` and `pnpm build` may both run this script at
// once; two node-gyp runs in one build/ directory break each other.
const lockDir = join(root, '.tmp', 'build-addon.lock');
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function acquireLock() {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // The owner has created the directory but not yet written its pid.
      }
      if (owner > 0 && !alive(owner)) rmSync(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) unavailable('timed out waiting for another build of the addon');
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}
acquireLock();
process.on('exit', () => rmSync(lockDir, { recursive: true, force: true }));
if (upToDate()) {
  console.log('@moprune/native: addon up to date (built by a concurrent run)');
  process.exit(0);
}

const blas = findOpenBlas();
if ('reason' in blas) unavailable(blas.reason);

/** node-gyp: the one the package manager ships, else our dependency, else PATH. */
function nodeGypCommand() {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv && existsSync(fromEnv)) return [process.execPath, fromEnv];
  try {
    const require = createRequire(import.meta.url);
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    const which = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' });
    if (which.status === 0 && which.stdout.trim()) return [which.stdout.trim()];
    return null;
  }
}

const gyp = nodeGypCommand();
if (!gyp) unavailable('node-gyp not found');

// Use the headers of the running Node when they are installed next to it, so
// the build needs no download (these machines reach only npm and apt).
const prefix = dirname(dirname(process.execPath));
const args = ['rebuild', '--release'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const [cmd, ...pre] = gyp;
const result = spawnSync(cmd, [...pre, ...args], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, JOBS: process.env.JOBS ?? '2' },
});
const log = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
if (result.status !== 0 || !existsSync(addonFile)) {
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(join(root, 'build', 'build.log'), log);
  const firstError =
    log.split('\n').find((l) => /error|not found|No such file/i.test(l) && !/^gyp info/.test(l)) ??
    `node-gyp exited with ${result.status ?? result.signal}`;
  unavailable(`build failed: ${firstError.trim().slice(0, 200)}; full log in build/build.log`);
}
writeFileSync(featuresFile, features);
console.log(
  `@moprune/native: built the OpenBLAS kernels (${blas.lib}), convolutions on ${
    'reason' in onednn ? `im2col + sgemm (${onednn.reason})` : `oneDNN (${onednn.lib})`
  }`,
);
