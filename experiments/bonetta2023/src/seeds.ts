/**
 * Figures over seeds: each `moprune reproduce bonetta2023 --seed N` writes
 * its own `summary.json`; this reads several and gives, per network,
 * dataset and method, the mean and spread of the kept and target
 * checkpoints' sparsity and test error.
 */
import { readFileSync } from 'node:fs';
import type { PruneFigures, ReproduceSummary } from './reproduce.js';
import type { Selection } from './runs.js';

/** Mean, sample standard deviation, min and max of a list (n ≥ 1). */
export interface Spread {
  readonly n: number;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

export function spread(xs: readonly number[]): Spread {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * One row: a network, dataset and method over the seeds that finished it.
 * The Transformer block's runs are the row with `net` 'transformer' and
 * `dataset` 'query-count'.
 */
export interface SeedRow {
  readonly net: string;
  readonly dataset: string;
  readonly method: string;
  readonly seeds: readonly number[];
  /** Completed epochs per seed (a row only counts finished runs; see `status`). */
  readonly epochs: readonly number[];
  /** Test error of each seed's dense start (the drop is kept − dense, seed by seed). */
  readonly denseTestError: Spread;
  readonly kept: {
    readonly remaining: Spread;
    readonly testError: Spread;
    /** Test error of the kept network minus the dense start's, per seed. */
    readonly drop: Spread;
  } | null;
  readonly target: { readonly remaining: Spread; readonly testError: Spread; readonly seeds: number } | null;
}

function pair(sel: readonly (Selection | null)[]) {
  const ok = sel.filter((s): s is Selection => s !== null && s.testAccuracy !== null);
  if (ok.length === 0) return null;
  return {
    remaining: spread(ok.map((s) => s.remaining)),
    testError: spread(ok.map((s) => 1 - s.testAccuracy!)),
    seeds: ok.length,
  };
}

/** Rows over the completed runs of the given summaries (interrupted runs are left out). */
export function seedRows(summaries: readonly ReproduceSummary[]): SeedRow[] {
  type Run = {
    seed: number;
    epochs: number;
    dense: number;
    kept: Selection | null;
    target: Selection | null;
  };
  const groups = new Map<string, Run[]>();
  const add = (key: string, seed: number, dense: number, f: PruneFigures) => {
    if (f.status !== 'completed') return;
    const list = groups.get(key) ?? [];
    list.push({ seed, epochs: f.epochsCompleted, dense, kept: f.kept, target: f.target });
    groups.set(key, list);
  };
  for (const s of summaries) {
    for (const c of s.cases) {
      for (const f of Object.values(c.runs))
        add(`${c.net}\t${c.dataset}\t${f.method}`, s.seed, c.dense.testAccuracy, f);
    }
    // The block is pruned by relevance (its run is named 'transformer').
    if (s.transformer)
      add('transformer\tquery-count\trelevance', s.seed, s.transformer.dense.testAccuracy, s.transformer.run);
  }
  return [...groups.entries()].map(([key, runs]) => {
    const [net, dataset, method] = key.split('\t') as [string, string, string];
    const kept = pair(runs.map((r) => r.kept));
    const withKept = runs.filter((r) => r.kept !== null && r.kept.testAccuracy !== null);
    return {
      net,
      dataset,
      method,
      seeds: runs.map((r) => r.seed),
      epochs: runs.map((r) => r.epochs),
      denseTestError: spread(runs.map((r) => 1 - r.dense)),
      kept:
        kept === null
          ? null
          : {
              remaining: kept.remaining,
              testError: kept.testError,
              drop: spread(withKept.map((r) => r.dense - r.kept!.testAccuracy!)),
            },
      target: pair(runs.map((r) => r.target)),
    };
  });
}

/** Reads `summary.json` files. */
export function readSummaries(files: readonly string[]): ReproduceSummary[] {
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ReproduceSummary);
}
