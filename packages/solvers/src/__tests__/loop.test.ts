/**
 * The solvers inside core's training loop: a run interrupted mid-epoch and
 * resumed from its checkpoint ends with exactly the weights of an
 * uninterrupted run (solver state, t, λ and μ go through the checkpoint), and
 * nothing leaks. Tiny in-memory data and an MLP keep it fast.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Batch,
  type BatchOptions,
  createNetwork,
  type Dataset,
  type JsonObject,
  type Network,
  type Objective,
  Rng,
  registries,
  type SplitName,
  type TrainOptions,
  train,
} from '@moprune/core';
import { nodeRunStore } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../index.js';

const FEATURES = 4;
const CLASSES = 2;
const dirs: string[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Two seeded Gaussian classes, flat inputs, sparse labels. */
function twoBlobs(): Dataset {
  const sizes: Record<SplitName, number> = { train: 48, validation: 0, test: 0 };
  const rng = Rng.fromSeed(4);
  const x = new Float32Array(sizes.train * FEATURES);
  const y = new Int32Array(sizes.train);
  for (let i = 0; i < sizes.train; i++) {
    y[i] = i % CLASSES;
    for (let f = 0; f < FEATURES; f++) x[i * FEATURES + f] = (y[i] === 0 ? -1 : 1) + rng.normal();
  }
  const count = (split: SplitName, o: BatchOptions) => Math.ceil(sizes[split] / o.batchSize);
  return {
    info: { name: 'two-blobs', inputShape: [1, 1, FEATURES], classes: [CLASSES], sizes },
    batchCount: count,
    *batches(split: SplitName, o: BatchOptions): Iterable<Batch> {
      const n = sizes[split];
      const order = Rng.fromSeed(o.seed ?? 0)
        .fork(`epoch:${o.epoch ?? 0}`)
        .permutation(n);
      for (let b = o.startBatch ?? 0; b < count(split, o); b++) {
        const idx = order.subarray(b * o.batchSize, Math.min(n, (b + 1) * o.batchSize));
        const xs = new Float32Array(idx.length * FEATURES);
        idx.forEach((k, i) => {
          xs.set(x.subarray(k * FEATURES, (k + 1) * FEATURES), i * FEATURES);
        });
        const bx = tf.tensor2d(xs, [idx.length, FEATURES]);
        const by = tf.tensor1d(
          Int32Array.from(idx, (k) => y[k]!),
          'int32',
        );
        yield { x: bx, y: [by], size: idx.length, dispose: () => tf.dispose([bx, by]) };
      }
    },
  };
}

const objectives: Objective[] = [
  {
    name: 'ce',
    config: { type: 'test-ce' },
    value: ({ outputs, batch }) =>
      tf.tidy(() => {
        const logits = outputs[0]!;
        const labels = tf.oneHot(tf.cast(batch.y[0]!, 'int32'), CLASSES);
        return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      }),
  },
  {
    name: 'l1',
    config: { type: 'test-l1' },
    value: ({ net }) =>
      tf.tidy(
        () =>
          tf.addN(
            [...net.paramInfo.values()]
              .filter((i) => i.role === 'kernel')
              .map((i) => tf.mul(tf.sum(tf.abs(net.params.get(i.name)!)), 0.05)),
          ) as tf.Scalar,
      ),
  },
];

function network(): Network {
  return createNetwork(
    {
      name: 'mlp',
      inputShape: [FEATURES],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 5 },
        { id: 'relu', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'fc2', op: 'dense', inputs: ['relu'], units: CLASSES },
      ],
      outputs: ['fc2'],
    },
    { seed: 2 },
  );
}

const weights = (net: Network) => [...net.params.entries()].map(([k, v]) => [k, Array.from(v.dataSync())]);

const configs: JsonObject[] = [
  { type: 'weighted-sum', weights: [0.8, 0.2], optimizer: { type: 'adam', lr: 0.02 } },
  { type: 'smgd', lr: 0.05, momentum: 0.9 },
  { type: 'madam', lr: 0.01 },
  { type: 'chebyshev-al', preference: [0.5, 0.5], outerEvery: 1, optimizer: { type: 'adam', lr: 0.01 } },
];

describe('solvers in core’s training loop', () => {
  for (const config of configs) {
    it(`${config.type}: an interrupted, resumed run equals an uninterrupted one, without leaks`, async () => {
      const dataset = twoBlobs();
      const before = tf.memory().numTensors;
      const options = (): TrainOptions => ({
        net: network(),
        dataset,
        objectives,
        solver: registries().solvers.create(config, undefined),
        epochs: 3,
        batchSize: 16,
        seed: 9,
        data: { layout: 'flat' },
        validation: false,
        evaluateTest: false,
      });

      const fullOptions = options();
      const stepWeights: number[][][] = [[], [], []];
      const full = await train({
        ...fullOptions,
        callbacks: [{ name: 'weights', onStepEnd: (s) => void stepWeights[s.epoch]!.push([...s.weights]) }],
      });
      const want = weights(full.net);
      expect(full.history.length).toBe(3);
      // Each epoch record carries the mean of its steps' solver weights (Keras's per-epoch figure).
      for (const [e, h] of full.history.entries()) {
        const steps = stepWeights[e]!;
        expect(steps.length).toBeGreaterThan(1);
        const mean = steps[0]!.map((_, i) => steps.reduce((a, w) => a + w[i]!, 0) / steps.length);
        expect(h.weights).toHaveLength(2);
        for (const [i, w] of h.weights!.entries()) expect(w).toBeCloseTo(mean[i]!, 12);
      }
      full.net.dispose();
      fullOptions.solver.dispose();

      const runDir = mkdtempSync(join(tmpdir(), 'moprune-solvers-'));
      dirs.push(runDir);
      const controller = new AbortController();
      const firstOptions = options();
      const first = await train({
        ...firstOptions,
        store: nodeRunStore(runDir),
        signal: controller.signal,
        checkpoint: { everySteps: 2 },
        callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 4 && controller.abort()) }],
      });
      expect(first.interrupted).toBe(true);
      first.net.dispose();
      firstOptions.solver.dispose();

      const secondOptions = options();
      const second = await train({ ...secondOptions, store: nodeRunStore(runDir), resume: true });
      expect(second.resumedFrom?.step).toBe(5);
      expect(weights(second.net)).toEqual(want);
      // The epoch interrupted at step 4 keeps its partial sums through the checkpoint.
      expect(second.history.map((h) => h.weights)).toEqual(full.history.map((h) => h.weights));
      second.net.dispose();
      secondOptions.solver.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
