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
