import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@moprune/backend';
import { type JsonObject, registries, runExperiment, validateExperimentConfig } from '@moprune/core/node';
import '@moprune/datasets';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import '@moprune/solvers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigOptions, FULL, Guenter2024Error, guenterConfig, QUICK } from '../index.js';

const base: ConfigOptions = {
  net: 'resnet20',
  data: 'fashion-mnist',
  sites: 'all',
  params: { gamma: 0.5, alpha: 0.7, beta: 0.3 },
  seed: 1,
  scale: FULL,
};

let out: string;
beforeAll(async () => {
  await initBackend({ silent: true });
  out = mkdtempSync(join(tmpdir(), 'moprune-guenter-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('guenter2024 configs', () => {
  it('every run of the plan is a valid experiment config', () => {
    for (const net of ['resnet20', 'resnet56'] as const) {
      for (const data of ['fashion-mnist', 'cifar10'] as const) {
        for (const sites of ['all', 'units', 'layers', 'none'] as const) {
          const config = guenterConfig({ ...base, net, data, sites });
          expect(validateExperimentConfig(config), `${net} ${data} ${sites}`).toEqual([]);
        }
      }
    }
    for (const sites of ['units', 'none'] as const) {
      expect(
        validateExperimentConfig(guenterConfig({ ...base, net: 'lenet300', data: 'mnist', sites })),
      ).toEqual([]);
    }
    expect(registries().pruners.has('bernoulliGates')).toBe(true);
  });

  it('maps the three user parameters: γ to the cost weight, α and β into the cost as they are', () => {
    const c = guenterConfig(base) as {
      solver: { weights: number[] };
      objectives: JsonObject[];
      model: JsonObject;
      dataset: JsonObject;
      pruners: JsonObject[];
    };
    const [wCe, wC] = c.solver.weights as [number, number];
    expect(wC / wCe).toBeCloseTo(0.5, 12); // J ∝ CE + γ·C
    expect(wCe + wC).toBeCloseTo(1, 12);
    expect(c.objectives[1]).toEqual({ type: 'expectedComplexity', alpha: 0.7, beta: 0.3, mode: 'mixture' });
    expect(c.model).toEqual({ type: 'resnet', depth: 20, gates: 'units+layers' });
    expect(c.dataset).toEqual({ type: 'fashion-mnist', pad: 2, validationSize: 5000 });
    expect(c.pruners[0]).toMatchObject({ type: 'bernoulliGates', sites: 'all' });
    // The comparisons change only the gates; the dense baseline only drops them and the cost.
    const units = guenterConfig({ ...base, sites: 'units' }) as typeof c;
    expect(units.model.gates).toBe('units');
    expect(units.pruners[0]).toMatchObject({ sites: 'units' });
    expect(units.solver).toEqual(c.solver);
    const dense = guenterConfig({ ...base, sites: 'none' }) as typeof c & { training: JsonObject };
    expect(dense.objectives).toEqual([{ type: 'crossEntropy' }]);
    expect(dense.solver.weights).toEqual([1]);
    expect(dense.pruners).toEqual([]);
    expect(dense.training).toEqual((guenterConfig(base) as { training: JsonObject }).training);
  });

  it('refuses bad parameters and impossible gates before anything is built, naming each', () => {
    const bad = (o: Partial<ConfigOptions>) => {
      try {
        guenterConfig({ ...base, ...o });
      } catch (e) {
        expect(e).toBeInstanceOf(Guenter2024Error);
        expect((e as Guenter2024Error).code).toBe('INVALID_OPTIONS');
        return (e as Guenter2024Error).issues.map((i) => i.path);
      }
      throw new Error('expected a Guenter2024Error');
    };
    expect(bad({ params: { gamma: -0.1, alpha: 1.5, beta: Number.NaN } })).toEqual([
      'gamma',
      'alpha',
      'beta',
    ]);
    expect(bad({ net: 'lenet300', data: 'mnist', sites: 'layers' })).toEqual(['sites']);
    expect(bad({ net: 'lenet300', data: 'cifar10', sites: 'all' })).toEqual(['sites', 'data']);
    expect(bad({ seed: -1 })).toEqual(['seed']);
  });

  it('quick mode trains ResNet-20 with unit and block gates on 32×32 Fashion-MNIST, leak-free', async () => {
    const scale = { ...QUICK, epochs: 1, limit: 128, validationSize: 128 };
    const full = guenterConfig({ ...base, scale }) as { training: JsonObject };
    // The 10,000 test images through ResNet-20 would be most of the test's time: validation only here.
    const config = { ...full, training: { ...full.training, evaluateTest: false } };
    const before = tf.memory().numTensors;
    const { summary } = await runExperiment(config, { runDir: join(out, 'quick') });
    expect(summary.status).toBe('completed');
    expect(summary.steps).toBe(2);
    expect(summary.metrics.macs).toBe(40_256_128); // ResNet-20 on 32×32×1, as built
    expect(summary.history[0]!.train.expectedComplexity).toBeGreaterThan(0);
    // Two unit-gate sites per block (after each normalization), three blocks per stage, and one gate per block.
    expect(summary.history[0]!.metrics['bernoulliGates.gates']).toBe(2 * 3 * (16 + 32 + 64) + 9);
    expect(tf.memory().numTensors).toBe(before);
  });
});
