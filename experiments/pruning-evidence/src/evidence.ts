/**
 * Runs the pruning evidence: each config through core's `runExperiment`, then
 * the figures the issue asks for — test accuracy, weight sparsity, live hidden
 * units, and for the gated run the inference time of the compacted network
 * against the dense architecture (same batch, same process, interleaved).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compact,
  countParams,
  createNetwork,
  type JsonObject,
  type Network,
  networkMetrics,
  registries,
  runExperiment,
  writeJsonAtomic,
} from '@moprune/core/node';
import '@moprune/datasets/register';
import '@moprune/models';
import '@moprune/objectives/register';
import '@moprune/pruners';
import '@moprune/solvers';
import * as tf from '@tensorflow/tfjs-core';
import { denseConfig, type EvidenceScale, gatesConfig, magnitudeConfig, relevanceConfig } from './configs.js';

/** The runs of the evidence, in the order they run. */
export const EVIDENCE_RUNS = ['dense', 'magnitude', 'gates', 'relevance'] as const;
/** One of {@link EVIDENCE_RUNS}. */
export type EvidenceRun = (typeof EVIDENCE_RUNS)[number];

/** The figures of one pruning run. */
export interface EvidenceRow {
  readonly run: string;
  readonly status: string;
  readonly testAccuracy: number | null;
  /** Fraction of all kernel weights that are zero. */
  readonly kernelSparsity: number;
  /** Live hidden units / all hidden units (300 + 100). */
  readonly hiddenUnitsKept: number;
  readonly hiddenUnitsTotal: number;
  readonly params: { readonly dense: number; readonly nonzero: number; readonly compacted: number };
  readonly wallTimeMs: number;
  /** Per-epoch wall time (s): falls as structures are removed physically. */
  readonly epochSeconds: readonly number[];
  /** Only for runs whose structures were removed: ms per batch of 128, dense vs compacted. */
  readonly inference?: { readonly denseMs: number; readonly compactedMs: number; readonly speedup: number };
}

/** Options of {@link runEvidence}. */
export interface EvidenceOptions {
  readonly scale: EvidenceScale;
  readonly outDir: string;
  /** Which runs. @default all of {@link EVIDENCE_RUNS} */
  readonly only?: readonly EvidenceRun[];
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ms per forward pass of each net at batch 128, interleaved so machine load hits both alike. */
export function timeInference(nets: readonly Network[], runs = 30): number[] {
  const x = tf.randomUniform([128, 784], 0, 1, 'float32', 7);
  const times: number[][] = nets.map(() => []);
  for (let r = 0; r < runs + 5; r++) {
    nets.forEach((net, i) => {
      const t0 = performance.now();
      const [y] = net.apply(x);
      y!.dataSync();
      y!.dispose();
      if (r >= 5) times[i]!.push(performance.now() - t0);
    });
  }
  x.dispose();
  return times.map(median);
}

function epochSeconds(metricsFile: string): number[] {
  return readFileSync(metricsFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"epoch"'))
    .map((l) => Math.round((JSON.parse(l) as { timeMs: number }).timeMs / 100) / 10);
}

function hiddenUnits(net: Network): { kept: number; total: number } {
  const m = networkMetrics(net);
  let kept = 0;
  for (const [node, u] of Object.entries(m.units)) {
    if (node === 'fc1' || node === 'fc2') kept += u.live;
  }
  return { kept, total: 400 };
}

/** Runs the selected evidence runs and writes `evidence.json` into `outDir`. */
export async function runEvidence(options: EvidenceOptions): Promise<EvidenceRow[]> {
  const log = options.log ?? (() => {});
  const configs: Record<EvidenceRun, (s: EvidenceScale) => JsonObject> = {
    dense: denseConfig,
    magnitude: magnitudeConfig,
    gates: gatesConfig,
    relevance: relevanceConfig,
  };
  const runs = EVIDENCE_RUNS.map((key) => [key, configs[key](options.scale)] as const);
  const rows: EvidenceRow[] = [];
  for (const [key, config] of runs) {
    if (options.only && !options.only.includes(key)) continue;
    log(`${key}: training (${config.name})`);
    const { summary, net } = await runExperiment(config, {
      runDir: join(options.outDir, key),
      keepNetwork: true,
      ...(options.resume ? { resume: 'auto' as const } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!net) throw new Error(`${key}: runExperiment returned no network`);
    const metrics = networkMetrics(net);
    let zeros = 0;
    let total = 0;
    for (const [name, p] of Object.entries(metrics.params)) {
      if (!name.endsWith('/kernel')) continue;
      zeros += p.total - p.nonzero;
      total += p.total;
    }
    const units = hiddenUnits(net);
    const denseSpec = registries().models.create(
      { type: 'lenet-300-100' },
      { inputShape: [28, 28, 1], classes: [10] },
    );
    let inference: EvidenceRow['inference'];
    if (key === 'gates') {
      const dense = createNetwork(denseSpec, { seed: 0 });
      const small = compact(net);
      const [denseMs, compactedMs] = timeInference([dense, small], options.scale.inferenceRuns);
      inference = { denseMs: denseMs!, compactedMs: compactedMs!, speedup: denseMs! / compactedMs! };
      dense.dispose();
      small.dispose();
    }
    const test = summary.test;
    rows.push({
      run: key,
      status: summary.status,
      testAccuracy: Array.isArray(test?.accuracy) ? (test.accuracy[0] as number) : null,
      kernelSparsity: total ? zeros / total : 0,
      hiddenUnitsKept: units.kept,
      hiddenUnitsTotal: units.total,
      params: {
        dense: countParams(denseSpec),
        nonzero: metrics.nonzero.params,
        compacted: metrics.compacted.params,
      },
      wallTimeMs: summary.wallTimeMs,
      epochSeconds: epochSeconds(join(options.outDir, key, 'metrics.jsonl')),
      ...(inference ? { inference } : {}),
    });
    net.dispose();
    log(`${key}: ${JSON.stringify(rows.at(-1))}`);
  }
  writeJsonAtomic(join(options.outDir, 'evidence.json'), {
    date: new Date().toISOString(),
    scale: options.scale as unknown as JsonObject,
    backend: tf.getBackend(),
    rows: rows as unknown as JsonObject[],
  });
  return rows;
}
