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
class LeNet5Caffe(nn.Module):
    """moprune's lenet5 'caffe' (Bonetta & Cancelliere's 20-50-500): conv-ReLU-pool twice, 800 → 500 → 10."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
        self.f1, self.f2 = nn.Linear(800, 500), nn.Linear(500, 10)

    def dense(self):
        return [self.f1.weight, self.f2.weight]

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return self.f2(F.relu(self.f1(h.flatten(1))))


def relevance_step(net, spec, opt, xb, yb):
    """0.5·CE + 0.5·γΣ exp(−|∂CE/∂w|/α)·w² over every weight and bias, the factor constant for the step:
    one forward and backward pass for ∂CE/∂w, then the decay's gradient 2γ·s·w added in place (the
    same step as the paper's second backward pass, without running the network again); both values
    read on the host, as moprune logs every objective every step."""
    gamma, alpha = spec['relevance']
    opt.zero_grad()
    loss = F.cross_entropy(net(xb), yb)
    loss.backward()
    with torch.no_grad():
        reg = 0.0
        for w in net.parameters():
            s = torch.exp(-w.grad.abs() / alpha)
            reg = reg + gamma * (s * w * w).sum()
            w.grad.mul_(0.5).add_(s * w, alpha=0.5 * 2 * gamma)
    opt.step()
    loss.item()
    reg.item()


RUNS = {
    'lenet300-adam': dict(net=lambda: LeNet300(), batch=128, l1=0.0),
    'lenet5-adam': dict(net=lambda: LeNet5('classic'), batch=128, l1=0.0),
    'reiners-lenet5-l1': dict(net=lambda: LeNet5('reiners'), batch=32, l1=5e-4),
    'resnet20-sgd': dict(net=lambda: ResNet20(channels=1), batch=128, l1=0.0, sgd=True),
    # Magnitude pruning per layer on a TF-MOT polynomial schedule (moprune's `magnitude` pruner):
    # sparsity 0 → 0.9 over steps 0–150 (power 3), a cut every 10 steps, the masks applied after
    # every optimizer step.
    'lenet300-adam-magnitude': dict(
        net=lambda: LeNet300(), batch=128, l1=0.0, magnitude=dict(final=0.9, begin=0, end=150, power=3, every=10)
    ),
    # Reiners et al.'s SMGD + ITP: per step the gradients of f1 = cross-entropy and f2 = ℓ1 of the
    # dense kernels, their min-norm convex combination (closed form for two, from the Gram matrix read
    # on the host), Keras-style momentum v ← μv − lr·d, w ← w + v with lr/(1 + decay·k), then
    # w ← w·1[|w| > 0.001] on the dense kernels and biases.
    # Bonetta & Cancelliere's relevance-gated weight decay (γ = 1e-3, α = 1) on their LeNet-5, Adam,
    # batch 100, weights [0.5, 0.5] — the step of every relevance pruning run, without the pruner's checks.
    'bonetta-lenet5-relevance': dict(net=lambda: LeNet5Caffe(), batch=100, l1=0.0, relevance=(1e-3, 1.0)),
    'reiners-lenet5-smgd-itp': dict(
        net=lambda: LeNet5('reiners'), batch=32, l1=0.0, smgd=dict(lr=0.01, momentum=0.9, decay=1e-3), itp=1e-3
    ),
}


def polynomial_sparsity(m, step):
    """The TF-MOT polynomial decay schedule moprune's magnitude pruner follows: (prune?, sparsity)."""
    p = min(1.0, max(0.0, (step - m['begin']) / (m['end'] - m['begin'])))
    sparsity = 0.0 if step < m['begin'] else m['final'] * (1 - (1 - p) ** m['power'])
    turn = (step - m['begin']) % m['every'] == 0 or step == m['end']
    return m['begin'] <= step <= m['end'] and turn, sparsity


@torch.no_grad()
def magnitude_cut(weights, masks, sparsity):
    """Per layer: mask the smallest-|w| live weights until `sparsity` of the layer is masked."""
    for w, mask in zip(weights, masks):
        want = round(sparsity * w.numel())
        zeros = int((mask == 0).sum().item())
        if want <= zeros:
            continue
        mags = w.abs().flatten().masked_fill(mask.flatten() == 0, float('inf'))
        idx = torch.topk(mags, want - zeros, largest=False).indices
        mask.view(-1)[idx] = 0
        w.mul_(mask)


def dense_params(net):
    """The dense layers' kernels and biases (what ITP prunes by default)."""
    return [p for layer in (net.f1, net.f2, net.f3) for p in (layer.weight, layer.bias)]


@torch.no_grad()
def itp(net, threshold):
    for w in dense_params(net):
        w.mul_(w.abs() > threshold)


def smgd_step(net, spec, xb, yb, velocity, k):
    """One SMGD step on (cross-entropy, ℓ1 of the dense kernels), then ITP."""
    params = list(net.parameters())
    ce = F.cross_entropy(net(xb), yb)
    g1 = torch.autograd.grad(ce, params)
    dense = {id(w) for w in net.dense()}
    with torch.no_grad():
        l1 = sum(w.abs().sum() for w in net.dense())
        g2 = [torch.sign(p) if id(p) in dense else torch.zeros_like(p) for p in params]
        gram = torch.stack([
            sum((a * a).sum() for a in g1),
            sum((a * b).sum() for a, b in zip(g1, g2)),
            sum((b * b).sum() for b in g2),
        ]).tolist()
        g11, g12, g22 = gram
        den = g11 - 2 * g12 + g22
        c2 = min(1.0, max(0.0, (g11 - g12) / den)) if den > 0 else 0.0
        o = spec['smgd']
        lr = o['lr'] / (1 + o['decay'] * k)
        for p, v, a, b in zip(params, velocity, g1, g2):
            v.mul_(o['momentum']).add_((1 - c2) * a + c2 * b, alpha=-lr)
            p.add_(v)
        ce.item(), l1.item()
    itp(net, spec['itp'])


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
    masks = [torch.ones_like(w) for w in net.dense()] if 'magnitude' in spec else None
    velocity = [torch.zeros_like(w) for w in net.parameters()] if 'smgd' in spec else None
    if 'itp' in spec:
        itp(net, spec['itp'])
    order = torch.randperm(a.limit)
    steps = a.limit // spec['batch'] + (1 if a.limit % spec['batch'] else 0)
    times = []
    t_epoch = time.perf_counter()
    for s in range(steps):
        t0 = time.perf_counter()
        idx = order[s * spec['batch']:(s + 1) * spec['batch']]
        xb, yb = x[idx], y[idx]
        if 'smgd' in spec:
            smgd_step(net, spec, xb, yb, velocity, s)
        elif 'relevance' in spec:
            relevance_step(net, spec, opt, xb, yb)
        else:
            opt.zero_grad()
            loss = F.cross_entropy(net(xb), yb)
            if spec['l1'] > 0:
                loss = loss + spec['l1'] * sum(w.abs().sum() for w in net.dense())
            loss.backward()
            opt.step()
            loss.item()
        if 'magnitude' in spec:
            prune, sparsity = polynomial_sparsity(spec['magnitude'], s)
            if prune and sparsity > 0:
                magnitude_cut(net.dense(), masks, sparsity)
            else:
                with torch.no_grad():
                    for w, mask in zip(net.dense(), masks):
                        w.mul_(mask)
        times.append((time.perf_counter() - t0) * 1000)
    epoch_ms = (time.perf_counter() - t_epoch) * 1000
    pruned = (net.dense() if 'magnitude' in spec else dense_params(net)) if ('magnitude' in spec or 'itp' in spec) else []
    extra = {'sparsity': sum(int((w == 0).sum()) for w in pruned) / sum(w.numel() for w in pruned)} if pruned else {}
    print(json.dumps({
        'torch': torch.__version__,
        'threads': a.threads,
        'steps': steps,
        'medianStepMs': statistics.median(times),
        'epochMs': epoch_ms,
        **extra,
    }))


if __name__ == '__main__':
    main()
