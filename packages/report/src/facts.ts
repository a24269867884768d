import type { JsonObject } from '@moprune/core';
import type { ParamCount, RunData } from './run.js';

const mean = (xs: readonly number[]) =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;

/** Kernel counts of one prunable layer (dense or conv) of the final network. */
export interface LayerCount {
  readonly node: string;
  readonly op: string;
  readonly kernel: { readonly nonzero: number; readonly total: number };
  /** Absent when the layer has no bias. */
  readonly bias?: { readonly nonzero: number; readonly total: number };
}

/** Dense and conv layers with their kernel (and bias) counts, in parameter order. */
export function layerCounts(params: readonly ParamCount[]): LayerCount[] {
  const out: LayerCount[] = [];
  for (const p of params) {
    if (p.role !== 'kernel') continue;
    const bias = params.find((q) => q.node === p.node && q.role === 'bias');
    out.push({
      node: p.node,
      op: p.op,
      kernel: { nonzero: p.nonzero, total: p.total },
      ...(bias === undefined ? {} : { bias: { nonzero: bias.nonzero, total: bias.total } }),
    });
  }
  return out;
}

function evalFacts(prefix: string, e: JsonObject | null, out: Record<string, number>): void {
  if (e === null) return;
  const acc = e.accuracy;
  const loss = e.loss;
  if (Array.isArray(acc)) out[`${prefix}.accuracy`] = mean(acc as number[]);
  if (Array.isArray(loss)) out[`${prefix}.loss`] = mean(loss as number[]);
  const objectives = e.objectives;
  if (typeof objectives === 'object' && objectives !== null && !Array.isArray(objectives)) {
    for (const [k, v] of Object.entries(objectives))
      if (typeof v === 'number') out[`${prefix}.objectives.${k}`] = v;
  }
}

/**
 * The figures of a run by stable key — what paper comparisons and sweep
 * tables refer to:
 * - `test.accuracy`, `test.loss`, `test.objectives.<name>` (and the same under `validation.`),
 *   accuracies and losses averaged over tasks;
 * - `metrics.<name>`: every figure of result.json's `metrics` (`params`, `nonzeroParams`,
 *   `compactedMacs`, `sparsity` …);
 * - `wallTimeMs`, `steps`, `epochs`;
 * - from the last checkpoint: `denseKernels.nonzero`, `denseKernels.total`,
 *   `denseKernels.keptFraction`, `denseKernels.removedFraction` (kernels of dense
 *   layers only: the ℓ1 and pruning scope of Reiners et al.), the same under
 *   `kernels.` for dense and conv kernels together, and `kernel.<node>.nonzero` /
 *   `kernel.<node>.total` per layer.
 */
export function runFacts(run: RunData): Record<string, number> {
  const r = run.result;
  const out: Record<string, number> = {
    wallTimeMs: r.wallTimeMs,
    steps: r.steps,
    epochs: r.epochsCompleted,
  };
  evalFacts('validation', r.validation, out);
  evalFacts('test', r.test, out);
  for (const [k, v] of Object.entries(r.metrics)) out[`metrics.${k}`] = v;
  if (run.params !== null) {
    const layers = layerCounts(run.params);
    const sum = (ls: LayerCount[], prefix: string) => {
      const nonzero = ls.reduce((a, l) => a + l.kernel.nonzero, 0);
      const total = ls.reduce((a, l) => a + l.kernel.total, 0);
      out[`${prefix}.nonzero`] = nonzero;
      out[`${prefix}.total`] = total;
      if (total > 0) {
        out[`${prefix}.keptFraction`] = nonzero / total;
        out[`${prefix}.removedFraction`] = 1 - nonzero / total;
      }
    };
    sum(
      layers.filter((l) => l.op === 'dense'),
      'denseKernels',
    );
    sum(layers, 'kernels');
    for (const l of layers) {
      out[`kernel.${l.node}.nonzero`] = l.kernel.nonzero;
      out[`kernel.${l.node}.total`] = l.kernel.total;
    }
  }
  return out;
}
