import type { FigureFormat, PaperComparison } from '@moprune/core';
import { ReportError } from './errors.js';
import { layerCounts, runFacts } from './facts.js';
import type { RunData } from './run.js';

/** The paper-figure types live in core (an experiment's definition carries them). */
export type { FigureFormat, PaperComparison, PaperFigure } from '@moprune/core';

/** Column alignment of {@link markdownTable}. */
export type Align = 'left' | 'right';

/** Escapes a cell so a `|` or newline in a name cannot break the table. */
function cell(v: string): string {
  return v.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A GitHub-flavoured Markdown table. `align` defaults to left for the first
 * column and right for the others (figures).
 * @throws ReportError `INVALID_ARGUMENT` when a row's length differs from the header's.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  rows.forEach((r, i) => {
    if (r.length !== header.length) {
      throw new ReportError(
        'INVALID_ARGUMENT',
        `table row ${i} has ${r.length} cells, the header has ${header.length}`,
      );
    }
  });
  const a = align ?? header.map((_, i) => (i === 0 ? 'left' : 'right'));
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [
    line(header),
    `| ${a.map((x) => (x === 'right' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** `12345` → `12,345` (the papers' notation). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** A fraction as a percentage with `digits` decimals: `0.9563` → `95.63%`. */
export function formatPercent(x: number, digits = 2): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : '—';
}

/** A number with `digits` significant figures, or `—` when missing/non-finite. */
export function formatNumber(x: number | undefined, digits = 4): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(digits))) : x.toExponential(digits - 1);
}

/** Milliseconds as `1 h 02 min`, `3 min 05 s` or `4.2 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m - 60 * h).padStart(2, '0')} min`;
}

const kept = (nonzero: number, total: number) =>
  `${formatCount(nonzero)} / ${formatCount(total)} (${formatPercent(total === 0 ? Number.NaN : nonzero / total)})`;
const removed = (nonzero: number, total: number) =>
  formatPercent(total === 0 ? Number.NaN : 1 - nonzero / total);

/** Status, epochs, steps, wall time, accuracies and final objective values of a run. */
export function summaryTable(run: RunData): string {
  return markdownTable(['figure', 'value'], summaryRows(run));
}

/** The rows of {@link summaryTable}: `[figure, value]`, values formatted. */
export function summaryRows(run: RunData): string[][] {
  const r = run.result;
  const f = runFacts(run);
  const rows: string[][] = [
    ['status', r.status],
    ['epochs completed', String(r.epochsCompleted)],
    ['steps', formatCount(r.steps)],
    ['wall time', formatDuration(r.wallTimeMs)],
  ];
  if (r.resumedFromStep !== null) rows.push(['resumed from step', formatCount(r.resumedFromStep)]);
  for (const split of ['validation', 'test'] as const) {
    const acc = f[`${split}.accuracy`];
    if (acc !== undefined) rows.push([`${split} accuracy`, formatPercent(acc)]);
    for (const [k, v] of Object.entries(f)) {
      if (k.startsWith(`${split}.objectives.`))
        rows.push([`${split} ${k.slice(split.length + 12)}`, formatNumber(v)]);
    }
  }
  if (r.error !== null) rows.push(['error', `${String(r.error.code)}: ${String(r.error.message)}`]);
  return rows;
}

/**
 * Weights kept per prunable layer (kernels; biases in their own column) of
 * the final network, with totals for dense kernels and for all kernels.
 * @returns null when the run has no checkpoint to count from.
 */
export function layerTable(run: RunData): string | null {
  if (run.params === null) return null;
  const layers = layerCounts(run.params);
  if (layers.length === 0) return null;
  const rows = layers.map((l) => [
    l.node,
    l.op,
    kept(l.kernel.nonzero, l.kernel.total),
    removed(l.kernel.nonzero, l.kernel.total),
    l.bias === undefined ? '—' : kept(l.bias.nonzero, l.bias.total),
  ]);
  const total = (ls: typeof layers, label: string) => {
    const nz = ls.reduce((a, l) => a + l.kernel.nonzero, 0);
    const t = ls.reduce((a, l) => a + l.kernel.total, 0);
    rows.push([`**${label}**`, '', kept(nz, t), removed(nz, t), '']);
  };
  const dense = layers.filter((l) => l.op === 'dense');
  if (dense.length > 0) total(dense, 'dense kernels');
  if (dense.length !== layers.length) total(layers, 'all kernels');
  return markdownTable(['layer', 'op', 'weights kept', 'removed', 'biases kept'], rows, [
    'left',
    'left',
    'right',
    'right',
    'right',
  ]);
}

/**
 * Parameters and per-sample MACs of the network as built, of its non-zero
 * entries, and after physical compaction (core's counting rule), from
 * result.json's `metrics`.
 * @returns null when the run logged no such metrics.
 */
export function complexityTable(run: RunData): string | null {
  const m = run.result.metrics;
  if (m.params === undefined || m.macs === undefined) return null;
  const row = (label: string, key: 'params' | 'macs', nz: string, compacted: string) => {
    const dense = m[key]!;
    const ratio = (x: number | undefined) =>
      x === undefined ? '—' : `${formatCount(x)} (${formatPercent(dense === 0 ? Number.NaN : x / dense)})`;
    return [label, formatCount(dense), ratio(m[nz]), ratio(m[compacted])];
  };
  return markdownTable(
    ['', 'as built', 'non-zero', 'compacted'],
    [
      row('parameters', 'params', 'nonzeroParams', 'compactedParams'),
      row('MACs per sample', 'macs', 'nonzeroMacs', 'compactedMacs'),
    ],
  );
}

/** Per-epoch figures: mean training objectives, validation accuracy, sparsity and epoch time. */
export function historyTable(run: RunData): string | null {
  const h = run.result.history;
  if (h.length === 0) return null;
  const keys = Object.keys(h[0]!.train);
  const rows = h.map((e) => [
    String(e.epoch + 1),
    ...keys.map((k) => formatNumber(e.train[k])),
    e.validation === undefined
      ? '—'
      : formatPercent(e.validation.accuracy.reduce((a, b) => a + b, 0) / e.validation.accuracy.length),
    e.metrics.sparsity === undefined ? '—' : formatPercent(e.metrics.sparsity),
    formatDuration(e.timeMs),
  ]);
  return markdownTable(
    ['epoch', ...keys.map((k) => `train ${k}`), 'val. accuracy', 'sparsity', 'time'],
    rows,
  );
}

function formatAs(x: number | undefined, format: FigureFormat): string {
  if (x === undefined) return '—';
  if (format === 'count') return formatCount(x);
  if (format === 'percent') return formatPercent(x);
  return formatNumber(x);
}

/**
 * The paper's figures side by side with the run's (by fact key), with the
 * difference measured − paper (in percentage points for percentages).
 * A fact the run does not have shows as `—`.
 */
export function paperTable(comparison: PaperComparison, facts: Readonly<Record<string, number>>): string {
  const rows = comparison.figures.map((f) => {
    const format = f.format ?? 'number';
    const measured = facts[f.fact];
    let diff = '—';
    if (measured !== undefined && Number.isFinite(measured)) {
      const d = measured - f.paper;
      const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
      const a = Math.abs(d);
      diff =
        format === 'percent'
          ? `${sign}${(100 * a).toFixed(2)} pp`
          : format === 'count'
            ? `${sign}${formatCount(a)}`
            : `${sign}${formatNumber(a)}`;
    }
    return [f.label, formatAs(f.paper, format), formatAs(measured, format), diff, f.note ?? ''];
  });
  return markdownTable(['figure', 'paper', 'this run', 'difference', 'note'], rows, [
    'left',
    'right',
    'right',
    'right',
    'left',
  ]);
}
