import { join } from 'node:path';
import type { JsonObject } from '@moprune/core';
import { type CacheKey, type CacheMiss, defaultCacheDir, readCache, writeCache } from './cache.js';
import { DatasetError } from './errors.js';

/** A built split: images (HWC bytes) and one label array per task. */
export interface BuiltSplit {
  readonly images: Uint8Array;
  readonly labels: readonly Uint8Array[];
}

/** The three built splits. */
export interface BuiltSplits {
  readonly train: BuiltSplit;
  readonly validation: BuiltSplit;
  readonly test: BuiltSplit;
}

/** What happened with the cache when a built dataset was loaded. */
export type CacheOutcome =
  /** Read from a valid cache file. */
  | 'hit'
  /** No cache file: built and written. */
  | 'built'
  /** The cache file was corrupt (bad magic, header, size or checksum): ignored, rebuilt and overwritten. */
  | 'rebuilt-corrupt'
  /** The cache file was built with other parameters or source data: rebuilt and overwritten. */
  | 'rebuilt-stale'
  /** Caching switched off. */
  | 'disabled';

/** Cache options shared by the builders. */
export interface CacheOptions {
  /** Directory of the cache file. @default the registry context's cacheDir, else MOPRUNE_CACHE_DIR, else ~/.cache/moprune */
  readonly cacheDir?: string;
  /** Read and write the cache. @default true */
  readonly cache?: boolean;
}

/** Split sizes shared by the builders. */
export interface BuildSizes {
  readonly trainSize: number;
  readonly validationSize: number;
  readonly testSize: number;
}

/** Checks seed and sizes before any work, against the sizes the sources can give. */
export function checkBuildOptions(
  what: string,
  seed: number,
  sizes: BuildSizes,
  limits: { trainAndValidation: number; test: number },
): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(seed) || seed < 0)
    problems.push(`seed must be a non-negative integer, got ${seed}`);
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(v) || v < 0) problems.push(`${k} must be a non-negative integer, got ${v}`);
  }
  if (sizes.trainSize + sizes.validationSize > limits.trainAndValidation) {
    problems.push(
      `trainSize + validationSize = ${sizes.trainSize + sizes.validationSize} exceeds the ${limits.trainAndValidation} source training samples`,
    );
  }
  if (sizes.testSize > limits.test) {
    problems.push(`testSize ${sizes.testSize} exceeds the ${limits.test} source test samples`);
  }
  if (problems.length > 0) {
    throw new DatasetError('INVALID_OPTIONS', `${what}: ${problems.join('; ')}`);
  }
}

const SECTIONS = ['train', 'validation', 'test'] as const;

/**
 * Loads built splits from the cache when a valid file for `key` exists,
 * otherwise builds them with `build` and writes the cache atomically.
 */
export async function loadOrBuild(
  key: CacheKey,
  tasks: number,
  options: CacheOptions,
  build: () => BuiltSplits,
): Promise<{ splits: BuiltSplits; cache: CacheOutcome; cacheFile?: string }> {
  if (options.cache === false) return { splits: build(), cache: 'disabled' };
  const name = `${key.kind}-v${key.version}-seed${key.seed}-${Object.values(key.params).join('-')}.bin`;
  const file = join(options.cacheDir ?? defaultCacheDir(), name);
  const cached = await readCache(file, key);
  if ('sections' in cached) {
    const s = cached.sections;
    const part = (split: (typeof SECTIONS)[number]): BuiltSplit => ({
      images: s[`${split}.images`]!,
      labels: Array.from({ length: tasks }, (_, t) => s[`${split}.labels${t}`]!),
    });
    const complete = SECTIONS.every(
      (sp) =>
        s[`${sp}.images`] && Array.from({ length: tasks }, (_, t) => s[`${sp}.labels${t}`]).every(Boolean),
    );
    if (complete) {
      return {
        splits: { train: part('train'), validation: part('validation'), test: part('test') },
        cache: 'hit',
        cacheFile: file,
      };
    }
  }
  const miss: CacheMiss = 'miss' in cached ? cached.miss : 'corrupt';
  const splits = build();
  const sections: Record<string, Uint8Array> = {};
  for (const sp of SECTIONS) {
    sections[`${sp}.images`] = splits[sp].images;
    splits[sp].labels.forEach((l, t) => {
      sections[`${sp}.labels${t}`] = l;
    });
  }
  await writeCache(file, key, sections);
  const cache: CacheOutcome =
    miss === 'missing' ? 'built' : miss === 'stale' ? 'rebuilt-stale' : 'rebuilt-corrupt';
  return { splits, cache, cacheFile: file };
}

/** Convenience: the params of a cache key from sizes and extra values. */
export function buildParams(sizes: BuildSizes, extra: JsonObject = {}): JsonObject {
  return { train: sizes.trainSize, validation: sizes.validationSize, test: sizes.testSize, ...extra };
}
