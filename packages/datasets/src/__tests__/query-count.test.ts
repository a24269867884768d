import { registries } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import { queryCount } from '../index.js';
import { expectDatasetError, useCpuBackend } from './helpers.js';

useCpuBackend();

describe('query-count sequences', () => {
  const ds = queryCount({
    length: 10,
    vocab: 5,
    maxCount: 3,
    sizes: { train: 400, validation: 50, test: 60 },
    seed: 3,
  });

  it('labels each sequence with how often its first token recurs; tokens stay in the vocabulary', () => {
    expect(ds.info).toMatchObject({
      inputShape: [10, 1, 1],
      classes: [4],
      sizes: { train: 400, validation: 50, test: 60 },
    });
    const { images, labels } = ds.raw('train');
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const row = Array.from(images.subarray(i * 10, (i + 1) * 10));
      expect(row.every((t) => t >= 0 && t < 5)).toBe(true);
      expect(row.slice(1).filter((t) => t === row[0]).length).toBe(labels[0]![i]);
      counts[labels[0]![i]!]!++;
    }
    // Uniform counts: each class near 100 of 400.
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });

  it('yields token ids unscaled, and the same samples for the same seed', () => {
    const [batch] = [...ds.batches('test', { batchSize: 4, layout: 'flat' })];
    const x = Array.from(batch!.x.dataSync()).slice(0, 10);
    expect(x).toEqual(Array.from(ds.raw('test').images.subarray(0, 10)));
    batch!.dispose();
    const again = queryCount({
      length: 10,
      vocab: 5,
      maxCount: 3,
      sizes: { train: 400, validation: 50, test: 60 },
      seed: 3,
    });
    expect(again.raw('train').images).toEqual(ds.raw('train').images);
    const other = queryCount({
      length: 10,
      vocab: 5,
      maxCount: 3,
      sizes: { train: 400, validation: 50, test: 60 },
      seed: 4,
    });
    expect(other.raw('train').images).not.toEqual(ds.raw('train').images);
  });

  it('rejects impossible options and is registered as query-count', async () => {
    await expectDatasetError(() => queryCount({ length: 4, maxCount: 4 }), 'INVALID_OPTIONS');
    await expectDatasetError(() => queryCount({ vocab: 1 }), 'INVALID_OPTIONS');
    const r = registries().datasets;
    expect(r.validate({ type: 'query-count', maxCount: 40 }, 'dataset').length).toBe(1);
    const made = await r.create(
      { type: 'query-count', length: 8, trainSize: 10, validationSize: 2, testSize: 2 },
      {},
    );
    expect(made.info.sizes).toEqual({ train: 10, validation: 2, test: 2 });
  });
});
