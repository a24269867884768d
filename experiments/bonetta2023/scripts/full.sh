#!/usr/bin/env bash
# The full-mode runs of the reproduction, one at a time, headline rows first:
# dense pretraining, LeNet-300-100/MNIST relevance × 5 seeds, LeNet-5/MNIST
# relevance × 3 seeds, then the other methods, Fashion-MNIST and the
# Transformer block. Every step resumes (finished runs are reused, an
# interrupted one continues from its checkpoint), so rerunning this script
# after a kill continues where it stopped. Logs: results/logs/.
#
#   cd experiments/bonetta2023 && MOPRUNE_NATIVE_THREADS=1 nohup nice -n 19 bash scripts/full.sh > results/logs/queue.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p results/logs
run() {
  local log="results/logs/$1.log"
  shift
  echo "$(date -u +%FT%TZ) start $*" >> results/logs/queue.log
  node --import tsx ../../packages/cli/dist/bin.js reproduce bonetta2023 --full --quiet --pretrain --resume "$@" >> "$log" 2>&1
  echo "$(date -u +%FT%TZ) exit $? $*" >> results/logs/queue.log
}
for seed in 1 2 3 4 5; do
  run "lenet300-mnist-relevance-seed$seed" --net lenet300 --dataset mnist --method relevance --seed "$seed" --out "results/bonetta2023/full/lenet300-mnist-relevance-seed$seed"
done
for seed in 1 2 3; do
  run "lenet5-mnist-relevance-seed$seed" --net lenet5 --dataset mnist --method relevance --seed "$seed" --out "results/bonetta2023/full/lenet5-mnist-relevance-seed$seed"
done
for net in lenet300 lenet5; do
  run "$net-mnist-others-seed1" --net "$net" --dataset mnist --method magnitude,lobster,tartaglione --seed 1 --out "results/bonetta2023/full/$net-mnist-others-seed1"
done
run "transformer-seed1" --net transformer --seed 1 --out "results/bonetta2023/full/transformer-seed1"
for net in lenet5 lenet300; do
  run "$net-fashion-seed1" --net "$net" --dataset fashion --seed 1 --out "results/bonetta2023/full/$net-fashion-seed1"
done
