/**
 * Figures over seeds: each `moprune reproduce bonetta2023 --seed N` writes
 * its own `summary.json`; this reads several and gives, per network,
 * dataset and method, the mean and spread of the kept and target
 * checkpoints' sparsity and test error.
 */
import { readFileSync } from 'node:fs';
import { Bonetta2023Error, type Mode, type PruneFigures, type ReproduceSummary } from './reproduce.js';
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
 * One row: a network, dataset and method, at one validation floor and run
 * size, over the seeds that finished it (runs at another floor or in another
 * mode are another row: their figures are not samples of the same setting).
 * The Transformer block's runs are the row with `net` 'transformer' and
 * `dataset` 'query-count'.
 */
export interface SeedRow {
  readonly net: string;
  readonly dataset: string;
  readonly method: string;
  /** The validation floor of the runs (accuracy a check must be above to prune). */
  readonly floor: number;
  readonly mode: Mode;
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
  /**
   * With retraining (`--retrain-epochs`): what each run hands over — the retrained network where validation
   * chose it, else the kept one — and how many seeds took the retrained one. Null when no run retrained.
   */
  readonly result: {
    readonly remaining: Spread;
    readonly testError: Spread;
    readonly validationError: Spread;
    readonly retrainedChosen: number;
  } | null;
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

/**
 * Rows over the completed runs of the given summaries (interrupted runs are left out), one per network,
 * dataset, method, floor and mode.
 * @throws Bonetta2023Error `DUPLICATE_SEED` when one row would hold two runs of the same seed
 */
export function seedRows(summaries: readonly ReproduceSummary[]): SeedRow[] {
  type Run = {
    seed: number;
    date: string;
    epochs: number;
    dense: number;
    kept: Selection | null;
    target: Selection | null;
    retrained: PruneFigures['retrained'];
  };
  type Row = { net: string; dataset: string; method: string; floor: number; mode: Mode; runs: Run[] };
  const groups = new Map<string, Row>();
  const add = (
    s: ReproduceSummary,
    net: string,
    dataset: string,
    floor: number,
    dense: number,
    f: PruneFigures,
  ) => {
    if (f.status !== 'completed') return;
    const method = f.method === 'transformer' ? 'relevance' : f.method;
    const key = JSON.stringify([net, dataset, method, floor, s.mode]);
    const row = groups.get(key) ?? { net, dataset, method, floor, mode: s.mode, runs: [] };
    const twin = row.runs.find((r) => r.seed === s.seed);
    if (twin !== undefined)
      throw new Bonetta2023Error(
        'DUPLICATE_SEED',
        `two completed runs of seed ${s.seed} for ${net} / ${dataset} / ${method} at floor ${floor} (${s.mode} mode), in the summaries of ${twin.date} and ${s.date}: reruns with other options are not seeds; give one of them`,
        { details: { net, dataset, method, floor, mode: s.mode, seed: s.seed, dates: [twin.date, s.date] } },
      );
    row.runs.push({
      seed: s.seed,
      date: s.date,
      epochs: f.epochsCompleted,
      dense,
      kept: f.kept,
      target: f.target,
      retrained: f.retrained ?? null,
    });
    groups.set(key, row);
  };
  for (const s of summaries) {
    for (const c of s.cases) {
      for (const f of Object.values(c.runs)) add(s, c.net, c.dataset, c.floor, c.dense.testAccuracy, f);
    }
    // The block is pruned by relevance (its run is named 'transformer').
    if (s.transformer)
      add(
        s,
        'transformer',
        'query-count',
        s.transformer.floor,
        s.transformer.dense.testAccuracy,
        s.transformer.run,
      );
  }
  return [...groups.values()].map(({ net, dataset, method, floor, mode, runs }) => {
    const kept = pair(runs.map((r) => r.kept));
    const withKept = runs.filter((r) => r.kept !== null && r.kept.testAccuracy !== null);
    return {
      net,
      dataset,
      method,
      floor,
      mode,
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
      result: resultOf(runs),
    };
  });
}

/** The networks the runs hand over, when any run retrained (see {@link SeedRow.result}). */
function resultOf(
  runs: readonly { kept: Selection | null; retrained: PruneFigures['retrained'] }[],
): SeedRow['result'] {
  if (!runs.some((r) => r.retrained)) return null;
  const picks = runs.flatMap((r) => {
    if (r.retrained?.chosen)
      return [
        {
          remaining: r.retrained.remaining,
          validation: r.retrained.validationAccuracy,
          test: r.retrained.testAccuracy,
          retrained: true,
        },
      ];
    if (r.kept === null || r.kept.testAccuracy === null) return [];
    return [
      {
        remaining: r.kept.remaining,
        validation: r.kept.validationAccuracy,
        test: r.kept.testAccuracy,
        retrained: false,
      },
    ];
  });
  if (picks.length === 0) return null;
  return {
    remaining: spread(picks.map((p) => p.remaining)),
    testError: spread(picks.map((p) => 1 - p.test)),
    validationError: spread(picks.map((p) => 1 - p.validation)),
    retrainedChosen: picks.filter((p) => p.retrained).length,
  };
}

/** Reads `summary.json` files. */
export function readSummaries(files: readonly string[]): ReproduceSummary[] {
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ReproduceSummary);
}
