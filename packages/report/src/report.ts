import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomic } from './atomic.js';
import { ReportError } from './errors.js';
import { runFacts } from './facts.js';
import { type HtmlOptions, writeHtmlReport } from './html.js';
import {
  complexityTable,
  formatCount,
  formatNumber,
  formatPercent,
  historyTable,
  layerTable,
  markdownTable,
  type PaperComparison,
  paperTable,
  summaryRows,
  summaryTable,
} from './markdown.js';
import {
  type FrontPlotPoint,
  frontPlotSpec,
  linePlotSpec,
  renderSvg,
  type Series,
  type VegaLiteSpec,
  weightsPlotSpec,
} from './plots.js';
import { listRunDirs, type RunData, readRun } from './run.js';

/**
 * Pareto tools the report uses for sweeps. Report does not implement them
 * (they live in @moprune/solvers, which report may not import); the CLI
 * passes `nonDominatedIndices` and `kneeByDistance` from there.
 */
export interface ParetoTools {
  /** Indices of the non-dominated points (all objectives minimized). */
  nonDominatedIndices(points: readonly (readonly number[])[]): number[];
  /** Index of the knee of a biobjective front. */
  knee(points: readonly (readonly number[])[]): number;
  /** How `knee` chooses, for the report text. */
  readonly kneeRule: string;
}

/**
 * `report.json`, optionally written into a run or sweep directory by the
 * experiment that made it: what the report should say beyond the run files.
 */
export interface ReportManifest {
  /** Report title. @default the run's name, or the directory name */
  readonly title?: string;
  /** Paper figures to compare with. */
  readonly paper?: PaperComparison;
  /** Sweep: the subdirectory of the knee candidate, when the experiment chose it itself. */
  readonly knee?: string;
  /** Sweep: how the knee was chosen. */
  readonly kneeRule?: string;
  /**
   * Sweep: the subdirectory of the final run (e.g. the knee retrained for the full epochs); its figures
   * are compared with the paper. It is listed in the candidate table but not placed on the front.
   */
  readonly final?: string;
  /** Free text placed under the title (selection split, deviations from the paper …). */
  readonly notes?: readonly string[];
  /**
   * Sweep: axis titles of the front plot by objective name (`f1`, `f2` …), e.g.
   * `{ "f1": "cross-entropy, validation (f1)" }`. @default the objective's key
   */
  readonly axisTitles?: Readonly<Record<string, string>>;
}

/** The axis title `report.json` gives an objective key (`validation.objectives.f2` → its `f2` entry), else the key. */
function axisTitle(manifest: ReportManifest, key: string): string {
  const name = key.split('.').pop() ?? key;
  return manifest.axisTitles?.[key] ?? manifest.axisTitles?.[name] ?? key;
}

/** Options of the report functions. */
export interface ReportOptions {
  /** Overrides `report.json`'s `paper`. */
  readonly paper?: PaperComparison;
  /** Front and knee computation for sweeps. @default none: candidates plotted without front or knee unless report.json names the knee */
  readonly pareto?: ParetoTools;
  /** Objective keys plotted on the front: `[y, x]`. @default the first two objectives of the runs */
  readonly frontObjectives?: readonly [string, string];
  /** Which split's objective values place a candidate on the front. @default 'validation' when the runs have it, else 'test' */
  readonly split?: 'validation' | 'test';
  /** Largest number of points per series in step plots. @default 500 */
  readonly maxPoints?: number;
  /**
   * Also write report.html, the interactive page (see {@link writeHtmlReport}), with what its model
   * panel shows. @default no page
   */
  readonly html?: HtmlOptions;
}

/** One run of a report as an interactive page lists it: what selecting it shows. */
export interface ReportRun {
  /** The run's directory relative to the report's (`.` for a run report, the subdirectory in a sweep). */
  readonly key: string;
  readonly name: string;
  /** `[figure, value]` rows, values formatted as in the Markdown tables. */
  readonly facts: readonly (readonly [string, string])[];
}

/** A rendered report: Markdown plus SVG files by file name (names relative to the report). */
export interface RenderedReport {
  readonly markdown: string;
  readonly svgs: Readonly<Record<string, string>>;
  /** The Vega-Lite specification of every plot, by the SVG file name the Markdown links. */
  readonly specs: Readonly<Record<string, VegaLiteSpec>>;
  /** The runs the report covers (one for a run report; every candidate of a sweep). */
  readonly runs: readonly ReportRun[];
  /** The report's title. */
  readonly title: string;
  /** The run the report is about (the run; a sweep's final or knee run), by key. */
  readonly selected: string | null;
}

function readManifest(dir: string): ReportManifest {
  const file = join(dir, 'report.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ReportManifest;
  } catch (e) {
    throw new ReportError('INVALID_RUN', `${file} is not valid JSON`, { cause: e, details: { file } });
  }
}

/** Sparsity over training: all parameters, and dense layers when per-layer totals are known. */
function sparsitySpec(run: RunData): VegaLiteSpec | null {
  const epochs = run.result.history;
  const stepRows = run.steps.filter((s) => s.metrics?.sparsity !== undefined);
  const xs: number[] = [];
  const ys: number[] = [];
  // Step-level metrics (when the run logged them) and epoch ends, merged in step order.
  const points = [
    ...stepRows.map((s) => ({ x: s.step + 1, m: s.metrics! })),
    ...epochs.map((e) => ({ x: e.step, m: e.metrics })),
  ].sort((a, b) => a.x - b.x);
  for (const p of points) {
    if (p.m.sparsity === undefined) continue;
    xs.push(p.x);
    ys.push(p.m.sparsity);
  }
  if (xs.length === 0) return null;
  const series: Series[] = [{ name: 'all parameters', x: xs, y: ys }];
  if (run.params !== null) {
    const dense = new Map<string, number>();
    for (const p of run.params) if (p.op === 'dense') dense.set(p.node, (dense.get(p.node) ?? 0) + p.total);
    const total = [...dense.values()].reduce((a, b) => a + b, 0);
    const dx: number[] = [];
    const dy: number[] = [];
    for (const p of points) {
      const nz = [...dense.keys()].map((n) => p.m[`nonzero.${n}`]);
      if (total === 0 || nz.some((v) => v === undefined)) continue;
      dx.push(p.x);
      dy.push(1 - nz.reduce((a: number, b) => a + b!, 0) / total);
    }
    if (dx.length > 0) series.push({ name: 'dense layers (kernels + biases)', x: dx, y: dy });
  }
  return linePlotSpec(series, {
    title: 'Sparsity over training',
    xTitle: 'step',
    yTitle: 'fraction of zero entries',
    yFormat: '.0%',
    points: xs.length <= 60,
  });
}

function runName(run: RunData, fallback: string): string {
  return run.result.name ?? (typeof run.config?.name === 'string' ? run.config.name : fallback);
}

/**
 * The report of one run: summary, weights kept per layer, parameters/MACs
 * before and after compaction, an optional paper comparison, per-epoch
 * history, and plots of the solver weights and the sparsity over training.
 * Pure apart from rendering: data in, Markdown and SVG strings out.
 * @param prefix - prepended to SVG file names (for runs embedded in a sweep report)
 */
export async function renderRunReport(
  run: RunData,
  options: ReportOptions & {
    readonly title?: string;
    readonly notes?: readonly string[];
    readonly prefix?: string;
    readonly heading?: number;
    /** The run's directory relative to the report's. @default '.' */
    readonly key?: string;
  } = {},
): Promise<RenderedReport> {
  const h = '#'.repeat(options.heading ?? 1);
  const prefix = options.prefix ?? '';
  const title = options.title ?? runName(run, run.dir);
  const out: string[] = [`${h} ${title}`, ''];
  for (const n of options.notes ?? []) out.push(n, '');
  out.push(`Run directory: \`${run.dir}\``, '', `${h}# Summary`, '', summaryTable(run), '');
  const layers = layerTable(run);
  if (layers !== null) {
    out.push(
      `${h}# Weights kept per layer`,
      '',
      `Counted in the last checkpoint (step ${formatCount(run.checkpointStep ?? Number.NaN)}): entries of parameter ⊙ mask that are not 0.`,
      '',
      layers,
      '',
    );
  }
  const complexity = complexityTable(run);
  if (complexity !== null) {
    out.push(
      `${h}# Parameters and MACs`,
      '',
      'Per sample; "compacted" is the network with every all-zero unit, filter and layer physically removed.',
      '',
      complexity,
      '',
    );
  }
  if (options.paper !== undefined) {
    out.push(`${h}# Against ${options.paper.source}`, '', paperTable(options.paper, runFacts(run)), '');
  }
  const history = historyTable(run);
  if (history !== null) out.push(`${h}# Training`, '', history, '');
  const svgs: Record<string, string> = {};
  const specs: Record<string, VegaLiteSpec> = {};
  const weights = weightsPlotSpec(run.steps, options.maxPoints ?? 500);
  const sparsity = sparsitySpec(run);
  if (weights !== null || sparsity !== null) out.push(`${h}# Plots`, '');
  if (weights !== null) {
    specs[`${prefix}weights.svg`] = weights;
    svgs[`${prefix}weights.svg`] = await renderSvg(weights);
    out.push(
      `![objective weights over training](${prefix}weights.svg)`,
      '',
      'The solver weights of every step (bucket means; zero weights are not drawn on the log axis).',
      '',
    );
  }
  if (sparsity !== null) {
    specs[`${prefix}sparsity.svg`] = sparsity;
    svgs[`${prefix}sparsity.svg`] = await renderSvg(sparsity);
    out.push(`![sparsity over training](${prefix}sparsity.svg)`, '');
  }
  const runs: ReportRun[] = [
    {
      key: options.key ?? '.',
      name: runName(run, run.dir),
      facts: summaryRows(run).map(([k, v]) => [k!, v!] as const),
    },
  ];
  return { markdown: `${out.join('\n').trimEnd()}\n`, svgs, specs, runs, title, selected: runs[0]!.key };
}

/** One run of a sweep, by its subdirectory name. */
export interface SweepRun {
  readonly name: string;
  readonly run: RunData;
}

function objectiveKeysOf(runs: readonly SweepRun[], split: string): string[] {
  for (const { run } of runs) {
    const e = split === 'validation' ? run.result.validation : run.result.test;
    const o = e?.objectives;
    if (o && typeof o === 'object' && !Array.isArray(o)) return Object.keys(o);
  }
  return [];
}

function lambdaOf(run: RunData): string {
  const w = (run.result.components as { solver?: { weights?: unknown } }).solver?.weights;
  return Array.isArray(w) ? `(${w.map((v) => formatNumber(v as number, 3)).join(', ')})` : '—';
}

/**
 * The report of a sweep (one run per subdirectory): a table of every
 * candidate, the front in objective space (`front.svg`) and as accuracy
 * against non-zero dense weights (`front-accuracy.svg`) with the knee marked,
 * and the final (or knee) run's own report with the paper comparison.
 * @throws ReportError `INVALID_ARGUMENT` when fewer than two objectives are logged, or the knee/final run is unknown.
 */
export async function renderSweepReport(
  runs: readonly SweepRun[],
  manifest: ReportManifest = {},
  options: ReportOptions = {},
): Promise<RenderedReport> {
  const split =
    options.split ?? (runs.some(({ run }) => run.result.validation !== null) ? 'validation' : 'test');
  const keys = options.frontObjectives ?? (objectiveKeysOf(runs, split).slice(0, 2) as [string, string]);
  if (keys.length < 2) {
    throw new ReportError('INVALID_ARGUMENT', `the sweep's runs log fewer than two ${split} objectives`);
  }
  const [yKey, xKey] = keys;
  const facts = runs.map(({ run }) => runFacts(run));
  // The final run (e.g. the knee retrained for the full epochs) is not a candidate of the search:
  // trained longer, it would sit off the front it was chosen from.
  const usable = runs
    .map((r, i) => ({ ...r, f: facts[i]! }))
    .filter(
      (r) =>
        r.name !== manifest.final &&
        Number.isFinite(r.f[`${split}.objectives.${yKey}`]) &&
        Number.isFinite(r.f[`${split}.objectives.${xKey}`]),
    );
  const points = usable.map((r) => [
    r.f[`${split}.objectives.${yKey}`]!,
    r.f[`${split}.objectives.${xKey}`]!,
  ]);
  const front = options.pareto && points.length > 0 ? options.pareto.nonDominatedIndices(points) : undefined;
  let knee: number | undefined;
  let kneeRule = manifest.kneeRule;
  if (manifest.knee !== undefined) {
    knee = usable.findIndex((r) => r.name === manifest.knee);
    if (knee < 0)
      throw new ReportError(
        'INVALID_ARGUMENT',
        `report.json names knee run '${manifest.knee}', which the sweep does not have (or it has no ${split} objectives)`,
      );
  } else if (options.pareto && points.length > 0) {
    knee = options.pareto.knee(points);
    kneeRule ??= options.pareto.kneeRule;
  }
  const frontSet = new Set(front ?? []);
  const out: string[] = [`# ${manifest.title ?? 'Sweep report'}`, ''];
  for (const n of manifest.notes ?? []) out.push(n, '');
  out.push(
    `${runs.length} runs; ${usable.length} with ${split} objectives placed on the front (y = ${yKey}, x = ${xKey}, ${split} split).` +
      (knee === undefined
        ? ' No knee rule was given.'
        : ` Knee: \`${usable[knee]!.name}\` (${kneeRule ?? 'chosen by the experiment'}).`),
    '',
  );
  // Rows in front order (by the x objective); runs without values last, by name.
  const xOf = (i: number) => facts[i]![`${split}.objectives.${xKey}`] ?? Number.POSITIVE_INFINITY;
  const order = runs.map((_, i) => i).sort((a, b) => xOf(a) - xOf(b) || (a < b ? -1 : 1));
  const rows = order.map((i) => {
    const { name, run } = runs[i]!;
    const f = facts[i]!;
    const u = usable.findIndex((r) => r.name === name);
    const dense =
      f['denseKernels.nonzero'] === undefined
        ? '—'
        : `${formatCount(f['denseKernels.nonzero'])} / ${formatCount(f['denseKernels.total']!)}`;
    return [
      name,
      run.result.status,
      lambdaOf(run),
      formatNumber(f[`${split}.objectives.${yKey}`]),
      formatNumber(f[`${split}.objectives.${xKey}`]),
      f['validation.accuracy'] === undefined ? '—' : formatPercent(f['validation.accuracy']),
      f['test.accuracy'] === undefined ? '—' : formatPercent(f['test.accuracy']),
      dense,
      u >= 0 && frontSet.has(u) ? 'yes' : front === undefined ? '—' : '',
      name === manifest.final ? 'final run' : u >= 0 && u === knee ? '**knee**' : '',
    ];
  });
  const headers = [
    'run',
    'status',
    'weights',
    yKey,
    xKey,
    'val. accuracy',
    'test accuracy',
    'dense weights kept',
    'on front',
    'knee',
  ];
  out.push('## Candidates', '', markdownTable(headers, rows), '');
  // What a page shows for a selected run, and a front point's tooltip: the candidate's row.
  const factsOf = new Map(
    rows.map((row) => [
      row[0]!,
      headers.map((h, j) => [h, row[j]!.replaceAll('**', '')] as const).filter(([, v]) => v !== ''),
    ]),
  );
  const details = (name: string) =>
    Object.fromEntries((factsOf.get(name) ?? []).filter(([h]) => h !== yKey && h !== xKey && h !== 'run'));
  const reportRuns: ReportRun[] = runs.map(({ name }) => ({
    key: name,
    name,
    facts: factsOf.get(name) ?? [],
  }));
  const svgs: Record<string, string> = {};
  const specs: Record<string, VegaLiteSpec> = {};
  if (usable.length > 0) {
    const plotPoints: FrontPlotPoint[] = usable.map((r, i) => ({
      x: points[i]![1]!,
      y: points[i]![0]!,
      label: r.name,
      details: details(r.name),
    }));
    specs['front.svg'] = frontPlotSpec(plotPoints, {
      title: `Pareto front (${split} split)`,
      xTitle: axisTitle(manifest, xKey),
      yTitle: axisTitle(manifest, yKey),
      ...(front === undefined ? {} : { front }),
      ...(knee === undefined ? {} : { knee }),
    });
    svgs['front.svg'] = await renderSvg(specs['front.svg']);
    out.push(
      '## Front',
      '',
      '![Pareto front](front.svg)',
      '',
      front === undefined
        ? 'Circles: candidates (no non-dominated filter was given).'
        : 'Filled circles joined by the line: non-dominated candidates; grey crosses: dominated ones' +
            (knee === undefined ? '.' : '; red diamond: the knee.'),
      '',
    );
    const accKey = usable.some((r) => r.f['test.accuracy'] !== undefined)
      ? 'test.accuracy'
      : 'validation.accuracy';
    const nnzKey = usable.every((r) => r.f['denseKernels.nonzero'] !== undefined)
      ? 'denseKernels.nonzero'
      : 'metrics.nonzeroParams';
    const acc = usable.filter((r) => r.f[accKey] !== undefined && r.f[nnzKey] !== undefined);
    if (acc.length > 0) {
      const accPoints = acc.map((r) => [r.f[nnzKey]!, -r.f[accKey]!]);
      const kneeName = knee === undefined ? undefined : usable[knee]!.name;
      const accKnee = acc.findIndex((r) => r.name === kneeName);
      specs['front-accuracy.svg'] = frontPlotSpec(
        acc.map((r) => ({ x: r.f[nnzKey]!, y: r.f[accKey]!, label: r.name, details: details(r.name) })),
        {
          title: `${accKey === 'test.accuracy' ? 'Test' : 'Validation'} accuracy against non-zero weights`,
          xTitle: nnzKey === 'denseKernels.nonzero' ? 'non-zero dense weights' : 'non-zero parameters',
          yTitle: accKey === 'test.accuracy' ? 'test accuracy' : 'validation accuracy',
          ...(options.pareto ? { front: options.pareto.nonDominatedIndices(accPoints) } : {}),
          ...(accKnee >= 0 ? { knee: accKnee } : {}),
        },
      );
      svgs['front-accuracy.svg'] = await renderSvg(specs['front-accuracy.svg']);
      out.push('![accuracy against non-zero weights](front-accuracy.svg)', '');
    }
  }
  const finalName = manifest.final ?? (knee === undefined ? undefined : usable[knee]!.name);
  if (finalName !== undefined) {
    const final = runs.find((r) => r.name === finalName);
    if (final === undefined)
      throw new ReportError(
        'INVALID_ARGUMENT',
        `report.json names final run '${finalName}', which the sweep does not have`,
      );
    const paper = options.paper ?? manifest.paper;
    const sub = await renderRunReport(final.run, {
      ...options,
      ...(paper === undefined ? {} : { paper }),
      title: `${manifest.final === undefined ? 'Knee run' : 'Final run'}: ${final.name}`,
      prefix: `${final.name}-`,
      heading: 2,
      key: final.name,
    });
    out.push(sub.markdown);
    Object.assign(svgs, sub.svgs);
    Object.assign(specs, sub.specs);
  }
  return {
    markdown: `${out.join('\n').trimEnd()}\n`,
    svgs,
    specs,
    runs: reportRuns,
    title: manifest.title ?? 'Sweep report',
    selected: finalName ?? null,
  };
}

/** What {@link writeReport} wrote. */
export interface WrittenReport {
  readonly kind: 'run' | 'sweep';
  /** Absolute or `dir`-relative paths of every file written, report.md last. */
  readonly files: readonly string[];
}

/**
 * Writes `report.md` and its SVG plots into `dir`, each atomically (SVGs
 * first, report.md last, so a report never links a missing plot). `dir` is a
 * run directory (has result.json) or a sweep (subdirectories with
 * result.json); an optional `report.json` there adds a title, notes, paper
 * figures and the knee/final run (see {@link ReportManifest}).
 * @throws ReportError `RUN_NOT_FOUND` when `dir` is neither.
 */
export async function writeReport(dir: string, options: ReportOptions = {}): Promise<WrittenReport> {
  const manifest = readManifest(dir);
  let kind: WrittenReport['kind'];
  let rendered: RenderedReport;
  if (existsSync(join(dir, 'result.json'))) {
    kind = 'run';
    const paper = options.paper ?? manifest.paper;
    rendered = await renderRunReport(readRun(dir), {
      ...options,
      ...(paper === undefined ? {} : { paper }),
      ...(manifest.title === undefined ? {} : { title: manifest.title }),
      ...(manifest.notes === undefined ? {} : { notes: manifest.notes }),
    });
  } else {
    const names = listRunDirs(dir);
    if (names.length === 0) {
      throw new ReportError(
        'RUN_NOT_FOUND',
        `${dir} is neither a run directory (no result.json) nor a sweep (no subdirectory with result.json)`,
        { details: { file: dir } },
      );
    }
    kind = 'sweep';
    rendered = await renderSweepReport(
      names.map((name) => ({ name, run: readRun(join(dir, name)) })),
      manifest,
      options,
    );
  }
  const files: string[] = [];
  for (const [name, svg] of Object.entries(rendered.svgs)) {
    const file = join(dir, name);
    writeTextAtomic(file, svg);
    files.push(file);
  }
  if (options.html !== undefined) {
    files.push(
      ...(await writeHtmlReport(dir, rendered, {
        ...options.html,
        title: rendered.title,
        selected: rendered.selected,
      })),
    );
  }
  const md = join(dir, 'report.md');
  writeTextAtomic(md, rendered.markdown);
  files.push(md);
  return { kind, files };
}
