#!/usr/bin/env bash
# One command from a fresh clone: install everything, then run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm reproduce --quick
