import { cifarFixtureDataDir, mnistFixtureDir } from '@moprune/test-fixtures';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { type Dataset, isMopruneError, registries } from '@moprune/core';
import { datasetDefinitions } from '../register.js';
import { tempDir } from './helpers.js';

const datasets = registries().datasets;

describe('dataset registrations', () => {
  it('registers every dataset by name', () => {
    for (const type of ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'multi-mnist', 'cifar10-mnist']) {
      expect(datasets.has(type), type).toBe(true);
    }
    for (const r of datasetDefinitions) expect(datasets.get(r.name)).toBe(r);
  });

  it('reports every problem of a config at once', () => {
    const issues = datasets.validate({
      type: 'multi-mnist',
      seed: -1,
      trainSize: 1.5,
      cache: 'yes',
      normalization: 'minmax',
      colour: true,
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'cache',
      'colour',
      'normalization',
      'seed',
      'trainSize',
    ]);
    expect(datasets.validate({ type: 'cifar100', labels: 'medium' })[0]?.message).toContain("'fine'");
    expect(datasets.validate({ type: 'mnist', validationSize: 5000, splitSeed: 2 })).toEqual([]);
  });

  it('creates datasets from JSON configs, taking directories from the context', async () => {
    const mnist = (await datasets.create(
      { type: 'mnist', dir: mnistFixtureDir, validationSize: 10 },
      {},
    )) as Dataset;
    expect(mnist.info.sizes).toEqual({ train: 30, validation: 10, test: 10 });
    const cifar = (await datasets.create(
      { type: 'cifar100', labels: 'both' },
      { dataDir: cifarFixtureDataDir },
    )) as Dataset;
    expect(cifar.info.classes).toEqual([20, 100]);
    const cache = tempDir('register');
    try {
      const c10m = (await datasets.create(
        { type: 'cifar10-mnist', mnistDir: mnistFixtureDir, trainSize: 8, validationSize: 2, testSize: 2 },
        { dataDir: cifarFixtureDataDir, cacheDir: cache.dir },
      )) as Dataset;
      expect(c10m.info.sizes).toEqual({ train: 8, validation: 2, test: 2 });
    } finally {
      cache.cleanup();
    }
  });

  it('rejects an invalid config before loading anything', () => {
    let error: unknown;
    try {
      datasets.create({ type: 'cifar10', dataDir: 3 }, {});
    } catch (e) {
      error = e;
    }
    expect(isMopruneError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('dataDir');
  });
});
