"""PyTorch CPU baseline for bench/train-step.mjs: the same networks as bench/nets.mjs,
one SGD training step (forward, backward, update) at a given batch size.

Usage: python3 bench/train_step.py --batch 128 --runs 20 --warmup-seconds 1 --max-warmup 200 --threads 2
         --networks lenet5,lenet300,resnet20
Warm-up as bench/train-step.mjs does it: untimed steps until --warmup-seconds have
passed (at least one, at most --max-warmup).
Prints one JSON object {"torch", "threads", "rows": [...]} on stdout.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        h = h.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(h)))))


class LeNet300(nn.Module):
    def __init__(self):
        super().__init__()
        self.f1 = nn.Linear(784, 300)
        self.f2 = nn.Linear(300, 100)
        self.f3 = nn.Linear(100, 10)

    def forward(self, x):
        return self.f3(F.relu(self.f2(F.relu(self.f1(x.flatten(1))))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, (cout - cin) // 2

    def forward(self, x):
        r = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        s = x
        if self.stride != 1 or self.extra:
            # Option A: subsample and zero-pad channels, as in bench/nets.mjs.
            s = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra, self.extra))
        return F.relu(r + s)


class ResNet20(nn.Module):
    def __init__(self, channels=3):
        super().__init__()
        self.stem = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for stage, cout in enumerate([16, 32, 64]):
            for b in range(3):
                blocks.append(Block(cin, cout, 2 if stage > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.stem(x))))
        return self.fc(h.mean((2, 3)))


NETWORKS = {
    "lenet5": (LeNet5, (1, 28, 28)),
    "lenet300": (LeNet300, (784,)),
    "resnet20": (ResNet20, (3, 32, 32)),
}


def measure(name, batch, runs, warmup_seconds, max_warmup):
    torch.manual_seed(1)
    make, shape = NETWORKS[name]
    net = make()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.rand(batch, *shape) * 2 - 1
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    start = time.perf_counter()
    step()
    warmup_steps = 1
    while warmup_steps < max_warmup and time.perf_counter() - start < warmup_seconds:
        step()
        warmup_steps += 1
    times, cpu_times = [], []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        # Process CPU time, all threads: comparable with the Node side's process.cpuUsage().
        cpu_times.append((time.process_time() - c0) * 1000)
    median = statistics.median(times)
    return {
        "network": name,
        "backend": "pytorch",
        "batch": batch,
        "msPerStep": {"median": median, "min": min(times), "max": max(times)},
        "cpuMsPerStep": {"median": statistics.median(cpu_times), "min": min(cpu_times), "max": max(cpu_times)},
        "samplesPerSec": batch / (median / 1000),
        "runs": runs,
        "warmupSteps": warmup_steps,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup-seconds", type=float, default=1.0)
    p.add_argument("--max-warmup", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--networks", default="lenet5,lenet300,resnet20")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for name in a.networks.split(","):
        row = measure(name, a.batch, a.runs, a.warmup_seconds, a.max_warmup)
        row["threads"] = torch.get_num_threads()
        row["note"] = f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads"
        rows.append(row)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
