import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defineDataset,
  defineModel,
  defineObjective,
  definePruner,
  defineSolver,
  type EpochInfo,
  type ExperimentSummary,
  earlyStopping,
  experimentConfigSchema,
  type Issue,
  isMopruneError,
  type JsonObject,
  keepBest,
  monitoredValue,
  optimizerSchema,
  resumeExperiment,
  runExperiment,
  schema,
  validateExperimentConfig,
} from '../node/index.js';
import { tempDirs } from './fixtures/temp-dirs.js';
import {
  blobDataset,
  crossEntropy,
  l1Kernels,
  magnitudePruner,
  mlpSpec,
  weightBytes,
  weightedSum,
} from './fixtures/train-fixtures.js';

const tempDir = tempDirs('moprune-cfg-');

beforeAll(async () => {
  await tf.setBackend('cpu');
  const s = schema;
  defineModel({
    name: 'cfgtest-mlp',
    description: 'tiny MLP for config tests',
    configSchema: s.object({ hidden: s.integer({ gt: 0 }).optional() }),
    create: (c) => mlpSpec(c.hidden ?? 8),
  });
  defineDataset({
    name: 'cfgtest-blobs',
    description: 'Gaussian blobs',
    configSchema: s.object({}),
    create: () => blobDataset(),
  });
  defineObjective({
    name: 'cfgtest-ce',
    description: 'CE',
    configSchema: s.object({}),
    create: () => crossEntropy(),
  });
  defineObjective({
    name: 'cfgtest-l1',
    description: 'l1',
    configSchema: s.object({}),
    create: () => l1Kernels(),
  });
  defineObjective({
    name: 'cfgtest-poison',
    description: 'NaN from the third call on',
    configSchema: s.object({}),
    create: () => {
      let calls = 0;
      return {
        name: 'poison',
        config: { type: 'cfgtest-poison' },
        value: () => {
          calls += 1;
          return tf.scalar(calls >= 3 ? Number.NaN : 0);
        },
      };
    },
  });
  defineSolver({
    name: 'cfgtest-weighted-sum',
    description: 'weighted sum',
    configSchema: s.object({
      weights: s
        .array(s.number({ min: 0 }))
        .refine((w) =>
          Math.abs(w.reduce((a, b) => a + b, 0) - 1) > 1e-9
            ? 'must sum to 1 (a point of the simplex)'
            : undefined,
        ),
      optimizer: s.optimizer(),
    }),
    create: (c) => weightedSum(c.weights, c.optimizer as never),
  });
  definePruner({
    name: 'cfgtest-magnitude',
    description: 'magnitude',
    configSchema: s.object({}),
    create: () => magnitudePruner(),
  });
});

const goodConfig = (): JsonObject => ({
  name: 'cfg-test',
  model: { type: 'cfgtest-mlp', hidden: 8 },
  dataset: { type: 'cfgtest-blobs' },
  objectives: [{ type: 'cfgtest-ce' }, { type: 'cfgtest-l1' }],
  solver: { type: 'cfgtest-weighted-sum', weights: [0.99, 0.01], optimizer: { type: 'adam', lr: 0.02 } },
  pruners: [{ type: 'cfgtest-magnitude' }],
  training: {
    epochs: 3,
    batchSize: 16,
    seed: 4,
    lrSchedule: { type: 'step', every: 2, gamma: 0.5 },
    checkpoint: { everySteps: 4 },
    earlyStopping: { monitor: 'validation.loss', patience: 5 },
  },
});

describe('experiment configs', () => {
  it('a valid config has no issues', () => {
    expect(validateExperimentConfig(goodConfig())).toEqual([]);
  });

  it('lists every problem at once, with paths, and runExperiment refuses before writing anything', async () => {
    const bad = {
      ...goodConfig(),
      model: { type: 'no-such-model' },
      objectives: [{ type: 'cfgtest-ce' }, { type: 'cfgtest-nope' }],
      solver: { type: 'cfgtest-weighted-sum', weights: [0.7, 0.7], optimizer: { type: 'adam', lr: -0.1 } },
      pruners: [{}],
      training: { epochs: 0, batchSize: 16, seed: 1.5, lrSchedule: { type: 'step', every: 2 }, extra: true },
      typo: 1,
    };
    const paths = validateExperimentConfig(bad).map((i) => i.path);
    expect(paths.sort()).toEqual(
      [
        'typo',
        'model.type',
        'solver.weights',
        'solver.optimizer.lr',
        'objectives[1].type',
        'pruners[0].type',
        'training.extra',
        'training.epochs',
        'training.seed',
        'training.lrSchedule.gamma',
      ].sort(),
    );
    const runDir = join(tempDir(), 'run');
    try {
      await runExperiment(bad, { runDir });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect((e as { issues: Issue[] }).issues).toHaveLength(paths.length);
      expect((e as Error).message).toContain('solver.optimizer.lr');
    }
    expect(existsSync(runDir)).toBe(false);
    expect(validateExperimentConfig([])).toEqual([{ path: '', message: expect.any(String) }]);
    expect(validateExperimentConfig({}).map((i) => i.path)).toEqual([
      'model',
      'dataset',
      'solver',
      'objectives',
      'training',
    ]);
  });

  it('is one schema: every section and field declared, nested problems at their paths', () => {
    const fields = experimentConfigSchema.fields;
    expect(Object.keys(fields).sort()).toEqual(
      ['dataset', 'description', 'model', 'name', 'objectives', 'pruners', 'solver', 'training'].sort(),
    );
    expect(Object.keys(fields.training.fields).sort()).toEqual(
      [
        'averaging',
        'batchSize',
        'checkpoint',
        'dropLast',
        'earlyStopping',
        'epochs',
        'evaluateTest',
        'initFrom',
        'keepBest',
        'labels',
        'layout',
        'limit',
        'logEverySteps',
        'lrSchedule',
        'metricsEverySteps',
        'recalibrateBatchNorm',
        'seed',
        'validation',
      ].sort(),
    );
    const training = {
      ...(goodConfig().training as JsonObject),
      initFrom: '',
      validation: { split: 'train' },
      checkpoint: true,
      earlyStopping: { monitor: 'loss', patience: 0 },
      keepBest: { require: [{ min: 0.9 }, { monitor: 'validation.accuracy', max: 'x' }] },
      lrSchedule: { type: 'inverseTime' },
      averaging: { decay: 1 },
    };
    expect(
      experimentConfigSchema
        .issues({ ...goodConfig(), training })
        .map((i) => i.path)
        .sort(),
    ).toEqual([
      'training.averaging.decay',
      'training.checkpoint',
      'training.earlyStopping.monitor',
      'training.earlyStopping.patience',
      'training.initFrom',
      'training.keepBest.require[0].monitor',
      'training.keepBest.require[1].max',
      'training.lrSchedule.decay',
      'training.validation.split',
    ]);
    expect(optimizerSchema.issues({ type: 'sgd', lr: 0.1, nesterov: true }, 'solver.optimizer')).toEqual([
      { path: 'solver.optimizer.nesterov', message: 'Nesterov momentum needs momentum > 0' },
    ]);
    expect(optimizerSchema.issues({ type: 'adam', lr: 0.1, beta1: 1 }).map((i) => i.path)).toEqual(['beta1']);
  });

  it('runs end to end: config.json, metrics.jsonl, result.json, checkpoint/ — and nothing else', async () => {
    const runDir = tempDir();
    const before = tf.memory().numTensors;
    const { summary, net } = await runExperiment(goodConfig(), { runDir });
    expect(net).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    expect(readdirSync(runDir).sort()).toEqual(['checkpoint', 'config.json', 'metrics.jsonl', 'result.json']);
    expect(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'))).toEqual(goodConfig());
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as ExperimentSummary;
    expect(result).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(result.status).toBe('completed');
    expect(result.environment).toEqual({ backend: 'cpu', tfjsCore: tf.version_core, node: process.version });
    expect(result.steps).toBe(18);
    expect(result.test!.samples).toBe(48);
    expect(result.metrics.params).toBe(6 * 8 + 8 + 8 * 2 + 8 * 3 + 3);
    expect(result.metrics.sparsity).toBeGreaterThan(0);
    expect(result.metrics['nonzero.fc1']).toBeLessThan(48);
    expect((result.components.solver as JsonObject).type).toBe('test-weighted-sum');
    const epochs = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'epoch');
    expect(epochs.map((e) => e.learningRate)).toEqual([0.02, 0.02, 0.01]);
    expect(epochs[0].metrics.sparsity).toBeGreaterThan(0);
  });

  it("passes the training section's averaging to train: same steps, the average evaluated and kept", async () => {
    const plain = await runExperiment(goodConfig(), { runDir: tempDir(), keepNetwork: true });
    const config = goodConfig();
    const averaged = await runExperiment(
      { ...config, training: { ...(config.training as JsonObject), averaging: { decay: 0.9 } } },
      { runDir: tempDir(), keepNetwork: true },
    );
    expect(averaged.summary.status).toBe('completed');
    expect(weightBytes(averaged.net!)).not.toEqual(weightBytes(plain.net!));
    expect(averaged.summary.test).not.toEqual(plain.summary.test);
    plain.net!.dispose();
    averaged.net!.dispose();
  });

  it('a worker resumes an interrupted run from its directory alone, to the same weights', async () => {
    const full = await runExperiment(goodConfig(), { runDir: tempDir(), keepNetwork: true });
    const want = weightBytes(full.net!);
    full.net!.dispose();

    const runDir = tempDir();
    const controller = new AbortController();
    const first = await runExperiment(goodConfig(), {
      runDir,
      signal: controller.signal,
      callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 9 && controller.abort()) }],
    });
    expect(first.summary.status).toBe('interrupted');
    expect(JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')).status).toBe('interrupted');
    const resumed = await resumeExperiment(runDir, { keepNetwork: true });
    expect(resumed.summary.status).toBe('completed');
    expect(resumed.summary.resumedFromStep).toBe(10);
    expect(weightBytes(resumed.net!)).toEqual(want);
    resumed.net!.dispose();
    await expect(
      runExperiment(
        { ...goodConfig(), training: { epochs: 4, batchSize: 16, seed: 4 } },
        { runDir, resume: true },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(resumeExperiment(tempDir())).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' });
  });

  it('a non-finite objective fails the run with result.json saying why', async () => {
    const runDir = tempDir();
    const before = tf.memory().numTensors;
    const config = { ...goodConfig(), objectives: [{ type: 'cfgtest-ce' }, { type: 'cfgtest-poison' }] };
    await expect(runExperiment(config, { runDir })).rejects.toMatchObject({ code: 'NON_FINITE_LOSS' });
    expect(tf.memory().numTensors).toBe(before);
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as ExperimentSummary;
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      code: 'NON_FINITE_LOSS',
      details: { step: 2, objective: 'poison' },
    });
  });

  it("per-task monitors 'validation.accuracy.<t>' / 'validation.loss.<t>' read one task's figure", () => {
    const info = {
      validation: { split: 'validation', samples: 4, accuracy: [0.9, 0.5], loss: [0.3, 0.7], objectives: {} },
    } as unknown as EpochInfo;
    expect(monitoredValue(info, 'validation.accuracy.1')).toBe(0.5);
    expect(monitoredValue(info, 'validation.accuracy.0')).toBe(0.9);
    expect(monitoredValue(info, 'validation.loss.1')).toBe(0.7);
    expect(monitoredValue(info, 'validation.accuracy')).toBeCloseTo(0.7, 12);
    expect(monitoredValue({} as EpochInfo, 'validation.loss.0')).toBeUndefined();
    expect(() => monitoredValue(info, 'validation.accuracy.2')).toThrow(/task 2, the network has 2/);
    const keep = (monitor: string) =>
      validateExperimentConfig({
        ...goodConfig(),
        training: { ...(goodConfig().training as JsonObject), keepBest: { monitor } },
      }).map((i) => i.path);
    expect(keep('validation.accuracy.1')).toEqual([]);
    expect(keep('validation.loss.0')).toEqual([]);
    expect(keep('validation.accuracy.x')).toEqual(['training.keepBest.monitor']);
    expect(keep('validation.accuracy.')).toEqual(['training.keepBest.monitor']);
  });

  it("a task's accuracy is maximized by default, its loss minimized (keepBest and earlyStopping)", () => {
    const epochs = [
      [0.5, 0.9],
      [0.4, 0.95],
      [0.6, 0.7],
    ].map((accuracy, epoch) => ({
      epoch,
      step: epoch,
      gates: {},
      validation: { accuracy, loss: accuracy.map((a) => 1 - a) },
    })) as unknown as EpochInfo[];
    const kept = (monitor: string) => {
      const k = keepBest({ save: () => {}, monitor });
      for (const e of epochs) k.onEpochEnd!(e);
      return k.bestEpoch;
    };
    expect(kept('validation.accuracy.1')).toBe(1);
    expect(kept('validation.accuracy.0')).toBe(2);
    expect(kept('validation.loss.1')).toBe(1);
    expect(kept('validation.accuracy')).toBe(0); // means 0.7, 0.675, 0.65
    const stop = earlyStopping({ monitor: 'validation.accuracy.1', patience: 1 });
    for (const e of epochs.slice(0, 2)) stop.onEpochEnd!(e);
    expect(stop.bestEpoch).toBe(1);
  });

  it('keepBest keeps the best qualifying epoch in best/ and result.json reports its figures', async () => {
    const runDir = tempDir();
    const config = {
      ...goodConfig(),
      training: {
        ...(goodConfig().training as JsonObject),
        keepBest: { monitor: 'validation.loss', require: [{ monitor: 'metrics.sparsity', min: 0.05 }] },
      },
    };
    const { summary } = await runExperiment(config, { runDir });
    expect(readdirSync(runDir)).toContain('best');
    const best = summary.best!;
    const epoch = best.epoch as number;
    const record = summary.history[epoch]!;
    expect(record.metrics.sparsity).toBeGreaterThanOrEqual(0.05);
    // The kept epoch has the lowest validation loss among qualifying epochs, and re-evaluating its snapshot reproduces it.
    const qualifying = summary.history
      .filter((h) => h.metrics.sparsity! >= 0.05)
      .map((h) => h.validation!.loss[0]!);
    expect(best.value).toBe(Math.min(...qualifying));
    expect((best.validation as { loss: number[] }).loss[0]).toBeCloseTo(record.validation!.loss[0]!, 6);
    expect((best.test as { samples: number }).samples).toBe(48);
    expect(
      validateExperimentConfig({
        ...config,
        training: { ...config.training, keepBest: { require: [{ min: 1 }] } },
      }).map((i) => i.path),
    ).toEqual(['training.keepBest.require[0].monitor']);
  });
});
