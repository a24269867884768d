import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, type NetworkSpec, Rng, recalibrateBatchNorm } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// input(3) → fc1(4) → bn1 → gate g1 → relu → fc2(2) → bn2 → out(2)
const spec: NetworkSpec = {
  name: 'recal',
  inputShape: [3],
  nodes: [
    { id: 'fc1', op: 'dense', inputs: ['input'], units: 4, init: 'torchDefault' },
    { id: 'bn1', op: 'batchNorm', inputs: ['fc1'], momentum: 0.9 },
    { id: 'g1', op: 'gate', inputs: ['bn1'] },
    { id: 'a1', op: 'activation', inputs: ['g1'], fn: 'relu' },
    { id: 'fc2', op: 'dense', inputs: ['a1'], units: 2, init: 'torchDefault' },
    { id: 'bn2', op: 'batchNorm', inputs: ['fc2'] },
    { id: 'out', op: 'dense', inputs: ['bn2'], units: 2, init: 'torchDefault' },
  ],
  outputs: ['out'],
};

/** Per-channel mean and biased variance of the rows of `m`, computed in plain JS. */
function moments(m: number[][]): { mean: number[]; variance: number[] } {
  const n = m.length;
  const c = m[0]!.length;
  const mean = Array.from({ length: c }, (_, j) => m.reduce((a, r) => a + r[j]!, 0) / n);
  const variance = Array.from(
    { length: c },
    (_, j) => m.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / n,
  );
  return { mean, variance };
}

const mat = (t: tf.Tensor) => t.arraySync() as number[][];
const param = (net: ReturnType<typeof createNetwork>, name: string) =>
  Array.from(net.params.get(name)!.dataSync());

describe('recalibrateBatchNorm', () => {
  it('sets each moving statistic to the mean of its batch statistics, under the given gates', () => {
    const net = createNetwork(spec, { seed: 3 });
    const rng = Rng.fromSeed(7);
    const batches = [0, 1, 2].map(() =>
      tf.tensor2d(
        Array.from({ length: 5 * 3 }, () => 4 * rng.next() - 1),
        [5, 3],
      ),
    );
    const gate = tf.tensor1d([1, 0, 1, 0]);
    const before = tf.memory().numTensors;
    expect(recalibrateBatchNorm(net, batches, { gates: { g1: gate } })).toBe(2);
    expect(tf.memory().numTensors).toBe(before);

    // The expected statistics from the layers' own parameters, batch by batch, in plain JS.
    const w1 = param(net, 'fc1/kernel');
    const b1 = param(net, 'fc1/bias');
    const [gamma1, beta1] = [param(net, 'bn1/gamma'), param(net, 'bn1/beta')];
    const w2 = param(net, 'fc2/kernel');
    const b2 = param(net, 'fc2/bias');
    const dense = (x: number[][], w: number[], b: number[], out: number) =>
      x.map((r) =>
        Array.from({ length: out }, (_, j) => r.reduce((a, v, i) => a + v * w[i * out + j]!, b[j]!)),
      );
    const want1 = { mean: [0, 0, 0, 0], variance: [0, 0, 0, 0] };
    const want2 = { mean: [0, 0], variance: [0, 0] };
    for (const x of batches) {
      const h1 = dense(mat(x), w1, b1, 4);
      const m1 = moments(h1);
      const g = [1, 0, 1, 0];
      const a1 = h1.map((r) =>
        r.map((v, j) =>
          Math.max(
            0,
            g[j]! * (gamma1[j]! * ((v - m1.mean[j]!) / Math.sqrt(m1.variance[j]! + 1e-3)) + beta1[j]!),
          ),
        ),
      );
      const m2 = moments(dense(a1, w2, b2, 2));
      for (let j = 0; j < 4; j++) {
        want1.mean[j]! += m1.mean[j]! / 3;
        want1.variance[j]! += m1.variance[j]! / 3;
      }
      for (let j = 0; j < 2; j++) {
        want2.mean[j]! += m2.mean[j]! / 3;
        want2.variance[j]! += m2.variance[j]! / 3;
      }
    }
    const close = (got: number[], want: number[]) => {
      for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i]!, 4);
    };
    close(param(net, 'bn1/movingMean'), want1.mean);
    close(param(net, 'bn1/movingVariance'), want1.variance);
    close(param(net, 'bn2/movingMean'), want2.mean);
    close(param(net, 'bn2/movingVariance'), want2.variance);

    // Open gates give other second-layer statistics: the gates are used.
    recalibrateBatchNorm(net, batches);
    expect(param(net, 'bn2/movingMean')[0]).not.toBeCloseTo(want2.mean[0]!, 3);
    tf.dispose([...batches, gate]);
    net.dispose();
  });

  it('leaves the statistics as they were when there is no batch, and refuses it', () => {
    const net = createNetwork(spec, { seed: 1 });
    const before = param(net, 'bn2/movingVariance');
    expect(() => recalibrateBatchNorm(net, [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(param(net, 'bn2/movingVariance')).toEqual(before);
    net.dispose();
  });
});
