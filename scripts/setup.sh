#!/usr/bin/env bash
# Installs everything moprune needs on a fresh clone: pnpm (if missing), the
# optional native-kernel libraries (Debian/Ubuntu, when root and apt exist),
# the workspace's packages, and a build of every package.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 10 with npm (corepack is not used: it fails on some registries)"
  npm install -g pnpm@10 >/dev/null
fi

# The native CPU kernels (@moprune/native) build against OpenBLAS when it is
# present, and use oneDNN's convolutions when libdnnl-dev is there too; without
# OpenBLAS they are skipped and moprune uses wasm instead.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in libopenblas-dev libdnnl-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]} for the native kernels (apt-get)"
    apt-get update -qq || true
    # One at a time: a package this distribution lacks must not keep the other out.
    for pkg in "${missing[@]}"; do
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null \
        || echo "setup: could not install $pkg; the native kernels fall back (no oneDNN: im2col convolutions; no OpenBLAS: wasm)"
    done
  fi
fi

# Sweeps on many machines (@moprune/sweep's BullMQ executor) use Redis; its
# tests start their own redis-server and fail, naming this package, without it.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing redis-server for the sweep executor's tests (apt-get)"
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
    || echo "setup: could not install redis-server; the sweep tests will fail until it is installed"
fi

# The browser tests (an exported network loaded by stock @tensorflow/tfjs in a real page) drive
# Debian's chromium through puppeteer-core; they fail, naming this package, without it.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium for the browser tests (apt-get)"
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || echo "setup: could not install chromium; the browser tests will fail until it is installed"
fi

pnpm install --frozen-lockfile
pnpm run build
# Again, offline and quick: links the `moprune` bin (packages/cli/dist/bin.js exists only after the
# build) so that `pnpm exec moprune …` works at the root, as `pnpm moprune …` does.
pnpm install --frozen-lockfile --offline >/dev/null
