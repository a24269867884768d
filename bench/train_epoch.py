"""PyTorch side of bench/train-epoch.mjs: one epoch of a plain PyTorch training loop doing the work
`moprune train` does for the same configuration — the same network, optimizer, batch size and
objective on the same MNIST images (read from the idx files moprune reads), shuffled every epoch,
with the loss read on the host every step (`loss.item()`, as moprune logs every step's objectives).

Usage: python3 bench/train_epoch.py --run lenet300-adam --images <train-images-idx3-ubyte> --labels <...>
         --limit 20000 --threads 2
Prints one JSON object: {"torch", "threads", "steps", "medianStepMs", "epochMs"}.
"""
import argparse
import json
import statistics
import time

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_step import ResNet20  # noqa: E402  (the step benchmark's ResNet-20, moprune's architecture)


class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.f1, self.f2, self.f3 = nn.Linear(784, 300), nn.Linear(300, 100), nn.Linear(100, 10)

    def dense(self):
        return [self.f1.weight, self.f2.weight, self.f3.weight]

    def forward(self, x):
        return self.f3(F.relu(self.f2(F.relu(self.f1(x.flatten(1))))))


class LeNet5(nn.Module):
    """moprune's lenet5 'classic' (same convs, 5×5, max pool) or 'reiners' (3×3 valid, avg pool)."""

    def __init__(self, variant):
        super().__init__()
        self.variant = variant
        if variant == 'classic':
            self.c1, self.c2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        else:
            self.c1, self.c2 = nn.Conv2d(1, 6, 3), nn.Conv2d(6, 16, 3)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def dense(self):
        return [self.f1.weight, self.f2.weight, self.f3.weight]

    def forward(self, x):
        pool = F.max_pool2d if self.variant == 'classic' else F.avg_pool2d
        h = pool(F.relu(self.c1(x)), 2)
        h = pool(F.relu(self.c2(h)), 2)
        return self.f3(F.relu(self.f2(F.relu(self.f1(h.flatten(1))))))


# What each benchmark run trains; bench/train-epoch.mjs holds the matching moprune configs.
RUNS = {
    'lenet300-adam': dict(net=lambda: LeNet300(), batch=128, l1=0.0),
    'lenet5-adam': dict(net=lambda: LeNet5('classic'), batch=128, l1=0.0),
    'reiners-lenet5-l1': dict(net=lambda: LeNet5('reiners'), batch=32, l1=5e-4),
    'resnet20-sgd': dict(net=lambda: ResNet20(channels=1), batch=128, l1=0.0, sgd=True),
}


def read_idx(path, offset):
    with open(path, 'rb') as f:
        return f.read()[offset:]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--run', required=True, choices=sorted(RUNS))
    p.add_argument('--images', required=True)
    p.add_argument('--labels', required=True)
    p.add_argument('--limit', type=int, default=20000)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    spec = RUNS[a.run]
    pixels = torch.frombuffer(bytearray(read_idx(a.images, 16)), dtype=torch.uint8)
    x = pixels.view(-1, 1, 28, 28)[: a.limit].float() / 255.0
    y = torch.frombuffer(bytearray(read_idx(a.labels, 8)), dtype=torch.uint8)[: a.limit].long()
    net = spec['net']()
    if spec.get('sgd'):
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)  # Keras' ε, as moprune's default
    order = torch.randperm(a.limit)
    steps = a.limit // spec['batch'] + (1 if a.limit % spec['batch'] else 0)
    times = []
    t_epoch = time.perf_counter()
    for s in range(steps):
        t0 = time.perf_counter()
        idx = order[s * spec['batch']:(s + 1) * spec['batch']]
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        if spec['l1'] > 0:
            loss = loss + spec['l1'] * sum(w.abs().sum() for w in net.dense())
        loss.backward()
        opt.step()
        loss.item()
        times.append((time.perf_counter() - t0) * 1000)
    epoch_ms = (time.perf_counter() - t_epoch) * 1000
    print(json.dumps({
        'torch': torch.__version__,
        'threads': a.threads,
        'steps': steps,
        'medianStepMs': statistics.median(times),
        'epochMs': epoch_ms,
    }))


if __name__ == '__main__':
    main()
