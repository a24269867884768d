"""Where PyTorch's training step goes, by operator: the counterpart of bench/profile-train.mjs for the plain
runs of bench/train_epoch.py (cross-entropy, Adam or SGD with momentum; no pruner, no multi-gradient solver).
Not a benchmark: torch.profiler adds its own cost; ratios come from bench/train-epoch.mjs.

Usage: python3 bench/profile_torch.py --run resnet20-sgd [--threads 2] [--steps 10] [--top 12]
Prints the median of 20 unprofiled steps on one fixed random batch, then the operators by self CPU time per
step over `steps` profiled steps.
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_epoch import RUNS  # noqa: E402

SPECIAL = {'smgd', 'magnitude', 'itp', 'relevance'}


def main():
    plain = sorted(k for k, v in RUNS.items() if not (SPECIAL & set(v)) and v['l1'] == 0)
    p = argparse.ArgumentParser()
    p.add_argument('--run', required=True, choices=plain)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--top', type=int, default=12)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    spec = RUNS[a.run]
    net = spec['net']()
    if spec.get('sgd'):
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    x = torch.randn(spec['batch'], 1, 28, 28)
    y = torch.randint(0, 10, (spec['batch'],))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(5):
        step()
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    print(f'{a.run}: median step {statistics.median(times):.1f} ms (20 steps, {a.threads} threads, torch {torch.__version__})')
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(a.steps):
            step()
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in rows) / 1000 / a.steps
    print(f'self CPU per profiled step: {total:.1f} ms')
    print(f"{'operator':44} {'ms/step':>8} {'calls/step':>10}")
    for e in rows[: a.top]:
        print(f'{e.key[:44]:44} {e.self_cpu_time_total / 1000 / a.steps:8.2f} {e.count / a.steps:10.1f}')


if __name__ == '__main__':
    main()
