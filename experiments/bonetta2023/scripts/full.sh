#!/usr/bin/env bash
# The full-mode runs of the reproduction, one at a time per lane, headline rows
# first. Every step resumes (finished runs are reused, an interrupted one
# continues from its checkpoint), so rerunning this script after a kill
# continues where it stopped. Logs: results/logs/.
#
#   bash scripts/full.sh            # everything, one run after another
#   bash scripts/full.sh lenet5     # lane 1: LeNet-5/MNIST relevance × 3 seeds (about 1 h each on one core)
#   bash scripts/full.sh rest       # lane 2: everything else, LeNet-300-100/MNIST relevance × 5 seeds first
#
# Two lanes on two cores, one thread each (each lane pretrains what it needs first):
#   cd experiments/bonetta2023 && mkdir -p results/logs
#   for lane in lenet5 rest; do MOPRUNE_NATIVE_THREADS=1 nohup nice -n 19 bash scripts/full.sh $lane > results/logs/queue-$lane.out 2>&1 & done
set -uo pipefail
cd "$(dirname "$0")/.."
lane="${1:-all}"
case "$lane" in all | lenet5 | rest) ;; *)
  echo "usage: full.sh [all|lenet5|rest]" >&2
  exit 2
  ;;
esac
mkdir -p results/logs
run() {
  local log="results/logs/$1.log"
  shift
  echo "$(date -u +%FT%TZ) start $*" >> "results/logs/queue-$lane.log"
  node --import tsx ../../packages/cli/dist/bin.js reproduce bonetta2023 --full --quiet --pretrain --resume "$@" >> "$log" 2>&1
  local rc=$? # before $(date) below, which would reset it
  echo "$(date -u +%FT%TZ) exit $rc $*" >> "results/logs/queue-$lane.log"
}
lenet5_relevance() {
  for seed in 1 2 3; do
    run "lenet5-mnist-relevance-seed$seed" --net lenet5 --dataset mnist --method relevance --seed "$seed" --out "results/bonetta2023/full/lenet5-mnist-relevance-seed$seed"
  done
}
rest() {
  for seed in 1 2 3 4 5; do
    run "lenet300-mnist-relevance-seed$seed" --net lenet300 --dataset mnist --method relevance --seed "$seed" --out "results/bonetta2023/full/lenet300-mnist-relevance-seed$seed"
  done
  for net in lenet300 lenet5; do
    run "$net-mnist-others-seed1" --net "$net" --dataset mnist --method magnitude,lobster,tartaglione --seed 1 --out "results/bonetta2023/full/$net-mnist-others-seed1"
  done
  run "transformer-seed1" --net transformer --seed 1 --out "results/bonetta2023/full/transformer-seed1"
  for net in lenet5 lenet300; do
    run "$net-fashion-seed1" --net "$net" --dataset fashion --seed 1 --out "results/bonetta2023/full/$net-fashion-seed1"
  done
}
case "$lane" in
  lenet5) lenet5_relevance ;;
  rest) rest ;;
  all)
    # Headline rows first: LeNet-300-100 × 5 seeds is the shortest way to the first acceptance figure.
    for seed in 1 2 3 4 5; do
      run "lenet300-mnist-relevance-seed$seed" --net lenet300 --dataset mnist --method relevance --seed "$seed" --out "results/bonetta2023/full/lenet300-mnist-relevance-seed$seed"
    done
    lenet5_relevance
    rest
    ;;
esac
