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
# present; without it they are skipped and moprune uses wasm instead.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    echo "setup: installing libopenblas-dev for the native kernels (apt-get)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null) \
      || echo "setup: could not install libopenblas-dev; native kernels will be unavailable (wasm is used)"
  fi
fi

pnpm install --frozen-lockfile
pnpm run build
