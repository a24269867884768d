import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNetwork,
  defineDataset,
  defineModel,
  defineObjective,
  defineSolver,
  type JsonObject,
  nodeRunStore,
  type Objective,
  type Pruner,
  type PrunerStepContext,
  runExperiment,
  saveNetworkSnapshot,
  schema,
  train,
} from '../node/index.js';
import { tempDirs } from './fixtures/temp-dirs.js';
import { blobDataset, crossEntropy, l1Kernels, mlpSpec, weightedSum } from './fixtures/train-fixtures.js';

const tempDir = tempDirs('moprune-hooks-');

beforeAll(async () => {
  await tf.setBackend('cpu');
  defineModel({
    name: 'hookstest-mlp',
    description: 'tiny MLP',
    configSchema: schema.object({}),
    create: () => mlpSpec(8),
  });
  defineDataset({
    name: 'hookstest-blobs',
    description: 'Gaussian blobs',
    configSchema: schema.object({}),
    create: () => blobDataset({ train: 40, validation: 16, test: 16 }),
  });
  defineObjective({
    name: 'hookstest-ce',
    description: 'CE',
    configSchema: schema.object({}),
    create: () => crossEntropy(),
  });
  defineSolver({
    name: 'hookstest-sgd',
    description: 'plain SGD',
    configSchema: schema.object({}),
    create: () => weightedSum([1], { type: 'sgd', lr: 0.1 }),
  });
});

describe('what pruners see after a step', () => {
  it("the batch's index within its epoch, the epoch's batch count, and a log into metrics.jsonl", async () => {
    const seen: [number, number, number, number][] = [];
    const recorder: Pruner = {
      name: 'recorder',
      config: { type: 'recorder' },
      init() {},
      afterStep(ctx: PrunerStepContext) {
        seen.push([ctx.step, ctx.epoch, ctx.batch, ctx.batchesPerEpoch]);
        if (ctx.batch === 1) ctx.log({ event: 'check', value: ctx.step });
        return undefined;
      },
      state: () => ({ json: {}, arrays: {} }),
      load() {},
    };
    const runDir = tempDir();
    const net = createNetwork(mlpSpec(8), { seed: 1 });
    const result = await train({
      net,
      // 40 samples at batch 16: 3 batches per epoch (16, 16, 8).
      dataset: blobDataset({ train: 40, validation: 16, test: 16 }),
      objectives: [crossEntropy()],
      solver: weightedSum([1], { type: 'sgd', lr: 0.1 }),
      pruners: [recorder],
      epochs: 2,
      batchSize: 16,
      seed: 1,
      store: nodeRunStore(runDir),
      checkpoint: false,
    });
    result.net.dispose();
    expect(seen).toEqual([
      [0, 0, 0, 3],
      [1, 0, 1, 3],
      [2, 0, 2, 3],
      [3, 1, 0, 3],
      [4, 1, 1, 3],
      [5, 1, 2, 3],
    ]);
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonObject)
      .filter((l) => l.type === 'pruner');
    expect(lines).toEqual([
      { type: 'pruner', pruner: 'recorder', step: 1, epoch: 0, batch: 1, event: 'check', value: 1 },
      { type: 'pruner', pruner: 'recorder', step: 4, epoch: 1, batch: 1, event: 'check', value: 4 },
    ]);
  });
});

describe('decoupled objective updates', () => {
  it('afterUpdate runs after the optimizer step and before masks are re-applied', async () => {
    const order: string[] = [];
    const decay: Objective = {
      name: 'halve',
      config: { type: 'halve' },
      value: () => tf.scalar(0),
      afterUpdate({ net, learningRate }) {
        order.push(`update lr=${learningRate}`);
        const k = net.params.get('fc2/kernel')!;
        tf.tidy(() => k.assign(tf.mul(k, 0.5)));
      },
    };
    const net = createNetwork(mlpSpec(8), { seed: 2 });
    const mask = tf.onesLike(net.params.get('fc2/kernel')!).bufferSync();
    mask.set(0, 0, 0);
    const m = mask.toTensor();
    net.setMask('fc2/kernel', m);
    m.dispose();
    net.applyMasks();
    const solver = weightedSum([1, 0], { type: 'sgd', lr: 0.05 });
    const inner = solver.step.bind(solver);
    let afterSolver: Float32Array | undefined;
    solver.step = (p) => {
      const r = inner(p);
      order.push('solver');
      afterSolver = net.params.get('fc2/kernel')!.dataSync().slice() as Float32Array;
      return r;
    };
    const result = await train({
      net,
      dataset: blobDataset({ train: 16, validation: 0, test: 0 }),
      objectives: [crossEntropy(), decay],
      solver,
      epochs: 1,
      batchSize: 16,
      seed: 1,
    });
    expect(order).toEqual(['solver', 'update lr=0.05']);
    const after = result.net.params.get('fc2/kernel')!.dataSync();
    // Halved after the optimizer step, and the masked entry is 0 (masks re-applied afterwards).
    after.forEach((v, i) => {
      expect(v).toBeCloseTo(i === 0 ? 0 : afterSolver![i]! * 0.5, 6);
    });
    result.net.dispose();
  });
});

describe('training.initFrom', () => {
  const config = (initFrom?: string): JsonObject => ({
    model: { type: 'hookstest-mlp' },
    dataset: { type: 'hookstest-blobs' },
    objectives: [{ type: 'hookstest-ce' }],
    solver: { type: 'hookstest-sgd' },
    training: { epochs: 1, batchSize: 40, seed: 3, ...(initFrom === undefined ? {} : { initFrom }) },
  });

  it('starts from the snapshot’s weights and masks', async () => {
    const pre = createNetwork(mlpSpec(8), { seed: 99 });
    const mask = tf.zerosLike(pre.params.get('fc1/kernel')!);
    pre.setMask('fc1/kernel', mask);
    mask.dispose();
    pre.applyMasks();
    const snapDir = join(tempDir(), 'pretrained');
    saveNetworkSnapshot(snapDir, pre, 0);
    pre.dispose();
    const { net } = await runExperiment(config(snapDir), { runDir: tempDir(), keepNetwork: true });
    // One SGD step later the fully masked kernel is still all zero: the masks came along.
    expect(net!.maskedParams()).toEqual(['fc1/kernel']);
    expect(Array.from(net!.params.get('fc1/kernel')!.dataSync()).every((v) => v === 0)).toBe(true);
    net!.dispose();
  });

  it('a missing snapshot is CHECKPOINT_NOT_FOUND before anything is written', async () => {
    const runDir = tempDir();
    await expect(runExperiment(config(join(runDir, 'nothing-here')), { runDir })).rejects.toMatchObject({
      name: 'CoreError',
      code: 'CHECKPOINT_NOT_FOUND',
    });
    expect(() => readFileSync(join(runDir, 'config.json'))).toThrow();
  });

  it('a snapshot of another network is INVALID_CONFIG', async () => {
    const other = createNetwork(mlpSpec(5), { seed: 1 });
    const snapDir = join(tempDir(), 'other');
    saveNetworkSnapshot(snapDir, other, 0);
    other.dispose();
    await expect(runExperiment(config(snapDir), { runDir: tempDir() })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});

describe('a step problem evaluated one objective at a time', () => {
  it('evaluateOne(i) is evaluate()[i]; an objective of the parameters alone runs no forward pass; a bad index is a typed error', async () => {
    const seen: { all: number[]; one: number[]; passes: number[]; bad: string[] }[] = [];
    const net = createNetwork(mlpSpec(8), { seed: 3 });
    const apply = net.apply.bind(net);
    let passes = 0;
    net.apply = ((...args: Parameters<typeof net.apply>) => {
      passes += 1;
      return apply(...args);
    }) as typeof net.apply;
    const inner = weightedSum([1, 0.01, 0], { type: 'sgd', lr: 0.1 });
    // Reads the outputs twice: the pass still runs once.
    const twice: Objective = {
      name: 'twice',
      config: { type: 'twice' },
      value: (ctx) => tf.add(tf.mean(ctx.outputs[0]!), tf.mean(ctx.outputs[0]!)) as tf.Scalar,
    };
    const probe = {
      ...inner,
      name: 'probe',
      step(problem: import('../index.js').StepProblem) {
        const read = (ts: tf.Scalar[]) => {
          const v = ts.map((t) => t.dataSync()[0]!);
          tf.dispose(ts);
          return v;
        };
        const counted = (fn: () => tf.Scalar[]) => {
          const before = passes;
          const v = read(fn());
          return { v, n: passes - before };
        };
        const all = counted(() => problem.evaluate());
        const one0 = counted(() => [problem.evaluateOne!(0)]);
        const one1 = counted(() => [problem.evaluateOne!(1)]);
        const bad: string[] = [];
        const one2 = counted(() => [problem.evaluateOne!(2)]);
        for (const i of [3, -1, 0.5]) {
          try {
            problem.evaluateOne!(i);
          } catch (e) {
            bad.push(`${(e as Error).name}/${(e as { code?: string }).code}`);
          }
        }
        seen.push({
          all: all.v,
          one: [...one0.v, ...one1.v, ...one2.v],
          passes: [all.n, one0.n, one1.n, one2.n],
          bad,
        });
        return inner.step(problem);
      },
    };
    const result = await train({
      net,
      dataset: blobDataset({ train: 32, validation: 16, test: 16 }),
      objectives: [crossEntropy(), l1Kernels(), twice],
      solver: probe,
      epochs: 1,
      batchSize: 16,
      seed: 1,
      checkpoint: false,
    });
    result.net.dispose();
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.one).toEqual(s.all);
      // evaluate(), the cross-entropy alone and the objective reading the outputs twice run the
      // network once each; the ℓ1 penalty alone does not.
      expect(s.passes).toEqual([1, 1, 0, 1]);
      expect(s.bad).toEqual([
        'CoreError/INVALID_ARGUMENT',
        'CoreError/INVALID_ARGUMENT',
        'CoreError/INVALID_ARGUMENT',
      ]);
    }
  });
});
