import { type Network, type NetworkSpec, type PrunerStepContext, Rng } from '@moprune/core';

/** A 10-10-5 ReLU MLP: small enough for the cpu backend, two kernels to prune across. */
export const mlp: NetworkSpec = {
  name: 'mlp',
  inputShape: [10],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 10 },
    { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'out', op: 'dense', inputs: ['relu'], units: 5 },
  ],
  outputs: ['out'],
};

/** A 4-3-2 ReLU MLP: two kernels small enough to set entry by entry. */
export const tinyMlp: NetworkSpec = {
  name: 'mlp',
  inputShape: [4],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 3 },
    { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'out', op: 'dense', inputs: ['relu'], units: 2 },
  ],
  outputs: ['out'],
};

/** 3 → 4 (gate g1) → 3 (gate g2) → 2. Unit i of fc1 is fc1/kernel[:, i], fc1/bias[i], fc2/kernel[i, :]. */
export const tinyGated: NetworkSpec = {
  name: 'tiny-gated',
  inputShape: [3],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 4 },
    { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
    { id: 'g1', op: 'gate', inputs: ['relu1'] },
    { id: 'fc2', op: 'dense', inputs: ['g1'], units: 3 },
    { id: 'relu2', op: 'activation', inputs: ['fc2'], fn: 'relu' },
    { id: 'g2', op: 'gate', inputs: ['relu2'] },
    { id: 'out', op: 'dense', inputs: ['g2'], units: 2 },
  ],
  outputs: ['out'],
};

/** Six rows of 4 in two tight clusters (rows 0–2 near 1, rows 3–5 near (−3, 2, 0, 1)). */
export const TWO_CLUSTERS: readonly (readonly number[])[] = [
  [1, 1, 1, 1],
  [1.01, 0.99, 1, 1],
  [1.02, 1, 1, 1],
  [-3, 2, 0, 1],
  [-3.02, 2.01, 0, 1],
  [-3.01, 2, 0, 1],
];

/** Exact zeros over the named parameters. */
export function zerosOf(net: Network, names: readonly string[]): number {
  let z = 0;
  for (const n of names) z += Array.from(net.params.get(n)!.dataSync()).filter((v) => v === 0).length;
  return z;
}

/** A step context at global step `step` of epochs of `perEpoch` batches. */
export function stepContext(
  net: Network,
  step: number,
  perEpoch: number,
  evaluate: PrunerStepContext['evaluate'],
  extra: Partial<PrunerStepContext> = {},
): PrunerStepContext {
  return {
    net,
    step,
    epoch: Math.floor(step / perEpoch),
    batch: step % perEpoch,
    batchesPerEpoch: perEpoch,
    rng: Rng.fromSeed(step),
    evaluate,
    log: () => {},
    ...extra,
  };
}

/** A step context at `step` of one endless epoch whose evaluation always reports accuracy 1, loss 0. */
export function quietContext(net: Network, step = 0): PrunerStepContext {
  return stepContext(net, step, Number.MAX_SAFE_INTEGER, async () => ({ accuracy: 1, loss: 0 }));
}

/** A residual block with a unit gate after its first conv's BatchNorm + ReLU and a layer gate on its add. */
export const gatedResidual: NetworkSpec = {
  name: 'gated-residual',
  inputShape: [4, 4, 3],
  nodes: [
    { id: 'stem', op: 'conv2d', inputs: ['input'], filters: 4, kernelSize: [3, 3], padding: 'same' },
    { id: 'stem.relu', op: 'activation', inputs: ['stem'], fn: 'relu' },
    { id: 'b1.conv1', op: 'conv2d', inputs: ['stem.relu'], filters: 3, kernelSize: [3, 3], padding: 'same' },
    { id: 'b1.bn1', op: 'batchNorm', inputs: ['b1.conv1'] },
    { id: 'b1.relu', op: 'activation', inputs: ['b1.bn1'], fn: 'relu' },
    { id: 'b1.g1', op: 'gate', inputs: ['b1.relu'] },
    { id: 'b1.conv2', op: 'conv2d', inputs: ['b1.g1'], filters: 4, kernelSize: [3, 3], padding: 'same' },
    { id: 'b1', op: 'add', inputs: ['stem.relu', 'b1.conv2'], gated: true },
    { id: 'pool', op: 'globalAvgPool', inputs: ['b1'] },
    { id: 'out', op: 'dense', inputs: ['pool'], units: 2 },
  ],
  outputs: ['out'],
};
