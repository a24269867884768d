#!/usr/bin/env node
// Finds OpenBLAS (headers + library) for binding.gyp and for the install
// script's availability check. Prints gyp-ready flags for `include`, `libs`,
// `rpath`; `check` exits 1 with a one-line reason when OpenBLAS is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian/Ubuntu (pthread and openmp variants) and other distributions put OpenBLAS. */
const CANDIDATES = [
  {
    include: '/usr/include/x86_64-linux-gnu/openblas-pthread',
    lib: '/usr/lib/x86_64-linux-gnu/openblas-pthread',
  },
  {
    include: '/usr/include/aarch64-linux-gnu/openblas-pthread',
    lib: '/usr/lib/aarch64-linux-gnu/openblas-pthread',
  },
  {
    include: '/usr/include/x86_64-linux-gnu/openblas-openmp',
    lib: '/usr/lib/x86_64-linux-gnu/openblas-openmp',
  },
  { include: '/usr/include/openblas', lib: '/usr/lib64' },
  { include: '/usr/local/include', lib: '/usr/local/lib' },
  { include: '/opt/homebrew/opt/openblas/include', lib: '/opt/homebrew/opt/openblas/lib' },
  { include: '/usr/local/opt/openblas/include', lib: '/usr/local/opt/openblas/lib' },
];

function hasLib(dir) {
  return ['libopenblas.so', 'libopenblas.dylib', 'libopenblas.a'].some((f) => existsSync(join(dir, f)));
}

/** @returns {{ include: string, lib: string } | { reason: string }} */
export function findOpenBlas() {
  const env = process.env.MOPRUNE_OPENBLAS_DIR;
  if (env) {
    const found = { include: join(env, 'include'), lib: join(env, 'lib') };
    if (existsSync(join(found.include, 'cblas.h')) && hasLib(found.lib)) return found;
    return { reason: `MOPRUNE_OPENBLAS_DIR=${env} has no include/cblas.h and lib/libopenblas` };
  }
  try {
    const cflags = execFileSync('pkg-config', ['--cflags-only-I', 'openblas'], { encoding: 'utf8' }).trim();
    const libs = execFileSync('pkg-config', ['--libs-only-L', 'openblas'], { encoding: 'utf8' }).trim();
    const include = cflags.replace(/^-I/, '').split(/\s+-I/)[0]?.trim() ?? '';
    const lib = libs.replace(/^-L/, '').split(/\s+-L/)[0]?.trim() ?? '';
    if (include && existsSync(join(include, 'cblas.h')) && hasLib(lib)) return { include, lib };
  } catch {
    // pkg-config missing or no openblas.pc: fall through to the known paths.
  }
  for (const c of CANDIDATES) {
    if (existsSync(join(c.include, 'cblas.h')) && hasLib(c.lib)) return c;
  }
  return {
    reason:
      'OpenBLAS not found (no cblas.h + libopenblas; on Debian/Ubuntu: apt-get install libopenblas-dev)',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = findOpenBlas();
  const what = process.argv[2];
  if ('reason' in found) {
    if (what === 'check') {
      console.log(found.reason);
      process.exit(1);
    }
    process.exit(1);
  }
  if (what === 'include') console.log(found.include);
  else if (what === 'libs') console.log(`-L${found.lib} -lopenblas`);
  else if (what === 'rpath') console.log(`-Wl,-rpath,${found.lib}`);
  else console.log(JSON.stringify(found));
}
