#!/usr/bin/env bash
# The whole test suite: build, lint, typecheck, unit and property tests,
# package publishability (publint + attw), and the npm consumer test.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s ===\n' "$1"; }
step "build";        pnpm exec turbo run build --output-logs=errors-only
step "lint";         pnpm exec biome check .
step "typecheck";    pnpm exec turbo run typecheck --output-logs=errors-only
step "packages";     pnpm exec turbo run check:package --output-logs=errors-only
step "tests";        pnpm exec vitest run
