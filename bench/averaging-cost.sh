#!/bin/bash
# Benchmark (not a test): what `training.averaging` costs per step. LeNet-300-100, Adam 1e-3, batch 128,
# 20,000 MNIST images, 4 epochs, no evaluation, native backend with 2 threads; `moprune train` without
# and with `averaging: { decay: 0.999 }`, the order alternating each round. Per run: the median step
# (`timeMs`) and the wall time per step over epochs 2–4, from metrics.jsonl; one JSON line per run.
#
#   bash bench/averaging-cost.sh [rounds=5] > bench/results/averaging-cost.jsonl
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for a in off on; do
  python3 - "$a" "$work" <<'PY'
import json, sys
a, work = sys.argv[1], sys.argv[2]
t = {"epochs": 4, "batchSize": 128, "seed": 1, "layout": "flat", "limit": 20000, "evaluateTest": False, "validation": False}
if a == "on":
    t["averaging"] = {"decay": 0.999}
json.dump({"name": f"averaging-{a}", "dataset": {"type": "mnist"}, "model": {"type": "lenet-300-100"},
           "objectives": [{"type": "crossEntropy"}],
           "solver": {"type": "weighted-sum", "weights": [1], "optimizer": {"type": "adam", "lr": 0.001}},
           "pruners": [], "training": t}, open(f"{work}/{a}.json", "w"))
PY
done
cd "$work"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="off on"; else order="on off"; fi
  for a in $order; do
    MOPRUNE_NATIVE_THREADS=2 node "$root/packages/cli/dist/bin.js" train "$a.json" --out "out-$a" --force --quiet --backend native > /dev/null
    python3 - "$a" "$r" "$work" <<'PY'
import json, statistics, sys
a, r, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = [json.loads(l) for l in open(f"{work}/out-{a}/metrics.jsonl")]
steps = [l for l in lines if l.get("type") == "step" and l["epoch"] >= 1]
wall = (steps[-1]["elapsedMs"] - steps[0]["elapsedMs"]) / (len(steps) - 1)
print(json.dumps({"round": r, "averaging": a, "medianStepMs": round(statistics.median(l["timeMs"] for l in steps), 3),
                  "wallPerStepMs": round(wall, 3)}))
PY
  done
done
