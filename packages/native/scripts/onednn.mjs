#!/usr/bin/env node
// Finds oneDNN (dnnl.hpp + libdnnl) for binding.gyp. oneDNN is optional: the
// addon then runs its convolutions on im2col + OpenBLAS sgemm. Prints
// gyp-ready flags for `defines`, `include`, `libs`, `rpath` (empty output when
// oneDNN is absent or MOPRUNE_NATIVE_ONEDNN=0); `check` prints what was found.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CANDIDATES = [
  { include: '/usr/include', lib: '/usr/lib/x86_64-linux-gnu' },
  { include: '/usr/include', lib: '/usr/lib/aarch64-linux-gnu' },
  { include: '/usr/local/include', lib: '/usr/local/lib' },
  { include: '/opt/homebrew/include', lib: '/opt/homebrew/lib' },
];

function hasLib(dir) {
  return ['libdnnl.so', 'libdnnl.dylib'].some((f) => existsSync(join(dir, f)));
}

/** @returns {{ include: string, lib: string } | { reason: string }} */
export function findOneDnn() {
  if (process.env.MOPRUNE_NATIVE_ONEDNN === '0') return { reason: 'MOPRUNE_NATIVE_ONEDNN=0' };
  const env = process.env.MOPRUNE_ONEDNN_DIR;
  const candidates = env ? [{ include: join(env, 'include'), lib: join(env, 'lib') }] : CANDIDATES;
  for (const c of candidates) {
    if (existsSync(join(c.include, 'dnnl.hpp')) && hasLib(c.lib)) return c;
  }
  return {
    reason: env
      ? `MOPRUNE_ONEDNN_DIR=${env} has no include/dnnl.hpp and lib/libdnnl`
      : 'oneDNN not found (no dnnl.hpp + libdnnl; on Debian/Ubuntu: apt-get install libdnnl-dev)',
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = findOneDnn();
  const what = process.argv[2];
  if ('reason' in found) {
    if (what === 'check') console.log(found.reason);
    process.exit(0);
  }
  if (what === 'defines') console.log('MOPRUNE_WITH_ONEDNN');
  else if (what === 'include') console.log(found.include);
  // The addon sets OpenMP's thread count itself (conv_onednn.cc), so it links libgomp, the runtime Debian's oneDNN uses.
  else if (what === 'libs') console.log(`-L${found.lib} -ldnnl -lgomp`);
  else if (what === 'rpath') console.log(`-Wl,-rpath,${found.lib}`);
  else console.log(JSON.stringify(found));
}
