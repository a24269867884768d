#!/usr/bin/env bash
# The whole test suite: build, lint, typecheck, package publishability
# (publint + attw), the npm consumer test, tfjs-core's own kernel specs against
# moprune's backends, and every unit/property test.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s ===\n' "$1"; }
step "build";        pnpm exec turbo run build --output-logs=errors-only
step "lint";         pnpm exec biome check .
step "typecheck";    pnpm exec turbo run typecheck --output-logs=errors-only
                     pnpm exec tsc -p examples/tsconfig.json
step "packages";     pnpm exec turbo run check:package --output-logs=errors-only
step "consumer";     node tests/consumer/run.mjs
step "tfjs kernels"; node tests/tfjs-kernels/run.mjs
step "tests";        pnpm exec vitest run
