#!/usr/bin/env bash
# The full-mode runs of the reproduction in lanes (one per core; every step resumes,
# so rerunning after a kill continues where it stopped). Logs: results/logs/.
#
#   bash scripts/full.sh main      # the main vector (1e-3, 0.2, 0.799), textbook then reference AL (~25 min each on one core)
#   bash scripts/full.sh front-a   # k0 = 1e-3 with k1 = 0.1, 0.4, 0.6, 0.8 of 1 − k0
#   bash scripts/full.sh front-b   # the main split (k1 = 0.2 of 1 − k0) for k0 = 0, 1e-4, 1e-2, 0.1
#   bash scripts/full.sh summary   # all nine vectors: reuses every completed phase, writes the front's summary.md
#   bash scripts/full.sh baselines # MGDA-UB (100 epochs), the single-task pair (100 epochs each), HPS at the main vector
#   bash scripts/full.sh seeds     # the main vector with seeds 1 and 2 (the headline over three seeds)
#   bash scripts/full.sh methods   # results/hotegni2023/methods.md: every method in one table (from the summary.json files)
#
# Two lanes on two cores, one thread each:
#   cd experiments/hotegni2023 && mkdir -p results/logs
#   for lane in main front-a; do MOPRUNE_NATIVE_THREADS=1 nohup nice -n 10 bash scripts/full.sh $lane > results/logs/queue-$lane.out 2>&1 & done
set -uo pipefail
cd "$(dirname "$0")/.."
lane="${1:-}"
out=results/hotegni2023/full
main="0.001,0.2,0.799"
front_a="0.001,0.0999,0.8991;0.001,0.3996,0.5994;0.001,0.5994,0.3996;0.001,0.7992,0.1998"
front_b="0,0.2,0.8;0.0001,0.19998,0.79992;0.01,0.198,0.792;0.1,0.18,0.72"
mkdir -p results/logs
run() {
  local name="$1"
  shift
  echo "$(date -u +%FT%TZ) start $name $*" >> "results/logs/queue-$lane.log"
  node --import tsx ../../packages/cli/dist/bin.js reproduce hotegni2023 --full --resume "$@" >> "results/logs/$name.log" 2>&1
  local rc=$?
  echo "$(date -u +%FT%TZ) exit $rc $name" >> "results/logs/queue-$lane.log"
}
case "$lane" in
  main)
    run main-textbook --vector "$main" --out "$out"
    run main-reference --vector "$main" --al reference --out "$out-reference"
    ;;
  front-a) run front-a --vector "$front_a" --out "$out" ;;
  front-b) run front-b --vector "$front_b" --out "$out" ;;
  summary) run summary --vector "$main;$front_a;$front_b" --out "$out" ;;
  baselines)
    run mgda-ub --method mgda-ub --out "$out-mgda"
    run single-task --method single-task --out "$out-single"
    run hps --model hps --vector "$main" --out "$out-hps"
    ;;
  seeds)
    run seed1 --vector "$main" --seed 1 --out "$out-seed1"
    run seed2 --vector "$main" --seed 2 --out "$out-seed2"
    ;;
  methods)
    node --import tsx scripts/methods.ts "$(dirname "$out")/methods.md" \
      "$out/summary.json" "$out-seed1/summary.json" "$out-seed2/summary.json" \
      "$out-reference/summary.json" "$out-hps/summary.json" \
      "$out-mgda/summary.json" "$out-single/summary.json"
    ;;
  *)
    echo "usage: full.sh main|front-a|front-b|summary|baselines|seeds|methods" >&2
    exit 2
    ;;
esac
