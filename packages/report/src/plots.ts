import { ReportError } from './errors.js';
import type { StepLine } from './run.js';

/** A Vega-Lite specification (JSON). */
export type VegaLiteSpec = Record<string, unknown>;

/** One candidate of a front plot. */
export interface FrontPlotPoint {
  readonly x: number;
  readonly y: number;
  /** Shown in the tooltip and next to the knee (e.g. the run name or λ). */
  readonly label: string;
  /** The run the point stands for (a sweep's subdirectory): an interactive page selects it on click. @default label */
  readonly run?: string;
  /** More figures shown in the point's tooltip, by title (e.g. `{ 'test accuracy': '97.9%' }`). */
  readonly details?: Readonly<Record<string, string>>;
}

/** Options of {@link frontPlotSpec}. */
export interface FrontPlotOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  /**
   * Indices of the non-dominated points. Those are drawn as filled circles
   * joined by a line; the others as grey crosses.
   * @default every point is drawn as a candidate (hollow circle), no line
   */
  readonly front?: readonly number[];
  /** Index of the knee, drawn as a large red diamond with a "knee" label. */
  readonly knee?: number;
  /** Log scale on x (e.g. non-zero weight counts over decades). @default false */
  readonly xLog?: boolean;
}

const WIDTH = 480;
const HEIGHT = 320;

/** Layer names; Vega renders each layer's marks in an SVG group of class `<name>_marks` (e.g. `mark-symbol role-mark front_points_marks`), which tests and readers can select. */
export const MARK_NAMES = {
  frontLine: 'front_line',
  frontPoints: 'front_points',
  dominatedPoints: 'dominated_points',
  candidatePoints: 'candidate_points',
  knee: 'knee_point',
  kneeLabel: 'knee_label',
} as const;

const base = (title: string): VegaLiteSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title,
  width: WIDTH,
  height: HEIGHT,
  background: 'white',
  config: {
    font: 'sans-serif',
    axis: { labelFontSize: 11, titleFontSize: 12 },
    legend: { orient: 'bottom', labelLimit: 360 },
  },
});

/**
 * A Pareto-front scatter plot: the front (filled circles on a line), the
 * dominated candidates (crosses) and the knee (a red diamond, labelled).
 * Both axes are minimized objectives, or any two figures the caller maps to
 * x and y.
 * @throws ReportError `INVALID_ARGUMENT` for an out-of-range `knee`/`front` index.
 */
export function frontPlotSpec(points: readonly FrontPlotPoint[], options: FrontPlotOptions): VegaLiteSpec {
  const n = points.length;
  const bad = [...(options.front ?? []), ...(options.knee === undefined ? [] : [options.knee])].find(
    (i) => !Number.isInteger(i) || i < 0 || i >= n,
  );
  if (bad !== undefined) {
    throw new ReportError('INVALID_ARGUMENT', `front/knee index ${bad} is outside the ${n} points`);
  }
  const onFront = new Set(options.front ?? []);
  const role = (i: number) =>
    options.front === undefined ? 'candidate' : onFront.has(i) ? 'front' : 'dominated';
  // Detail titles become fields d0, d1 … (a title may hold characters Vega-Lite reads as field paths).
  const detailTitles = [...new Set(points.flatMap((p) => Object.keys(p.details ?? {})))];
  const values = points.map((p, i) => ({
    x: p.x,
    y: p.y,
    label: p.label,
    run: p.run ?? p.label,
    role: role(i),
    ...Object.fromEntries(detailTitles.map((t, j) => [`d${j}`, p.details?.[t] ?? '—'])),
  }));
  const x = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle,
    scale: options.xLog ? { type: 'log' } : { zero: false },
  };
  const y = { field: 'y', type: 'quantitative', title: options.yTitle, scale: { zero: false } };
  const tooltip = [
    { field: 'label', type: 'nominal' },
    { field: 'x', type: 'quantitative', title: options.xTitle, format: '.4~g' },
    { field: 'y', type: 'quantitative', title: options.yTitle, format: '.4~g' },
    ...detailTitles.map((title, j) => ({ field: `d${j}`, type: 'nominal', title })),
  ];
  const only = (r: string) => ({ filter: `datum.role === '${r}'` });
  const layers: VegaLiteSpec[] = [];
  if (options.front !== undefined) {
    layers.push(
      {
        name: MARK_NAMES.frontLine,
        transform: [only('front')],
        mark: { type: 'line', color: '#4c78a8', strokeWidth: 1.5 },
        encoding: { x, y, order: { field: 'x', type: 'quantitative' } },
      },
      {
        name: MARK_NAMES.dominatedPoints,
        transform: [only('dominated')],
        mark: { type: 'point', shape: 'cross', filled: true, color: '#9e9e9e', size: 90 },
        encoding: { x, y, tooltip },
      },
      {
        name: MARK_NAMES.frontPoints,
        transform: [only('front')],
        mark: { type: 'point', shape: 'circle', filled: true, color: '#4c78a8', size: 60, opacity: 1 },
        encoding: { x, y, tooltip },
      },
    );
  } else {
    layers.push({
      name: MARK_NAMES.candidatePoints,
      transform: [only('candidate')],
      mark: { type: 'point', shape: 'circle', filled: false, color: '#4c78a8', size: 60 },
      encoding: { x, y, tooltip },
    });
  }
  if (options.knee !== undefined) {
    const k = values[options.knee]!;
    const kneeData = { values: [{ ...k, label: `knee: ${k.label}` }] };
    layers.push(
      {
        name: MARK_NAMES.knee,
        data: kneeData,
        mark: { type: 'point', shape: 'diamond', filled: true, color: '#d62728', size: 220, opacity: 1 },
        encoding: { x, y, tooltip },
      },
      {
        name: MARK_NAMES.kneeLabel,
        data: kneeData,
        mark: { type: 'text', align: 'left', dx: 10, dy: -10, fontSize: 11, color: '#d62728' },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
    );
  }
  return { ...base(options.title), data: { values }, layer: layers };
}

/**
 * Reduces a step series to at most `max` points by averaging consecutive
 * buckets of equal length (x = the bucket's mean step). A 30-epoch MNIST run
 * logs ~56,000 steps; plotting every one would make a multi-megabyte SVG
 * whose lines overdraw anyway.
 */
export function bucketMeans(
  xs: readonly number[],
  ys: readonly number[],
  max: number,
): { x: number[]; y: number[] } {
  if (xs.length !== ys.length) throw new ReportError('INVALID_ARGUMENT', 'x and y differ in length');
  if (!Number.isInteger(max) || max < 1)
    throw new ReportError('INVALID_ARGUMENT', `max must be an integer ≥ 1`);
  if (xs.length <= max) return { x: [...xs], y: [...ys] };
  const x: number[] = [];
  const y: number[] = [];
  for (let b = 0; b < max; b++) {
    const lo = Math.floor((b * xs.length) / max);
    const hi = Math.floor(((b + 1) * xs.length) / max);
    let sx = 0;
    let sy = 0;
    for (let i = lo; i < hi; i++) {
      sx += xs[i]!;
      sy += ys[i]!;
    }
    x.push(sx / (hi - lo));
    y.push(sy / (hi - lo));
  }
  return { x, y };
}

/** A named series of a line plot. */
export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** Options of {@link linePlotSpec}. */
export interface LinePlotOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  /** @default false */
  readonly yLog?: boolean;
  /** d3 format of the y axis labels, e.g. `'.0%'`. */
  readonly yFormat?: string;
  /** Draw a point on every value (for short series such as per-epoch figures). @default false */
  readonly points?: boolean;
}

/**
 * A multi-series line plot. On a log axis, values ≤ 0 cannot be drawn and
 * are left out (the caption should say so).
 */
export function linePlotSpec(series: readonly Series[], options: LinePlotOptions): VegaLiteSpec {
  const values: { x: number; y: number; series: string }[] = [];
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new ReportError(
        'INVALID_ARGUMENT',
        `series '${s.name}' has ${s.x.length} x and ${s.y.length} y values`,
      );
    }
    s.x.forEach((x, i) => {
      const y = s.y[i]!;
      if (Number.isFinite(y) && (!options.yLog || y > 0)) values.push({ x, y, series: s.name });
    });
  }
  return {
    ...base(options.title),
    data: { values },
    mark: { type: 'line', point: options.points === true, strokeWidth: 1.5 },
    encoding: {
      // Steps are integers: no fractional tick labels, and SI suffixes (56k) for long runs.
      x: { field: 'x', type: 'quantitative', title: options.xTitle, axis: { format: '~s', tickMinStep: 1 } },
      y: {
        field: 'y',
        type: 'quantitative',
        title: options.yTitle,
        scale: options.yLog ? { type: 'log' } : { zero: false },
        ...(options.yFormat === undefined ? {} : { axis: { format: options.yFormat } }),
      },
      color: { field: 'series', type: 'nominal', title: null },
      // Dashes keep a series readable where it lies on top of another.
      strokeDash: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Options of {@link frontsPlotSpec}. */
export interface FrontsPlotOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  /** Log scale on x (e.g. % of weights remaining over decades). @default false */
  readonly xLog?: boolean;
  /** d3 formats of the axis labels, e.g. `'.1%'`. */
  readonly xFormat?: string;
  readonly yFormat?: string;
  /** Reference points drawn as labelled black triangles (e.g. published results). @default none */
  readonly references?: readonly FrontPlotPoint[];
}

/** Layer names of {@link frontsPlotSpec} (SVG groups `<name>_marks`). */
export const FRONTS_MARK_NAMES = {
  lines: 'fronts_lines',
  points: 'fronts_points',
  references: 'fronts_references',
} as const;

/**
 * Several fronts on one plot — one per method, each a series of (x, y)
 * points joined in the order given (e.g. error against % of weights
 * remaining along a pruning run), plus optional labelled reference points.
 * Points that cannot be drawn (non-finite, or ≤ 0 on a log axis) are left out.
 */
export function frontsPlotSpec(series: readonly Series[], options: FrontsPlotOptions): VegaLiteSpec {
  const values: { x: number; y: number; series: string; order: number }[] = [];
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new ReportError(
        'INVALID_ARGUMENT',
        `series '${s.name}' has ${s.x.length} x and ${s.y.length} y values`,
      );
    }
    s.x.forEach((x, i) => {
      const y = s.y[i]!;
      if (Number.isFinite(x) && Number.isFinite(y) && (!options.xLog || x > 0)) {
        values.push({ x, y, series: s.name, order: i });
      }
    });
  }
  const refs = (options.references ?? []).filter(
    (p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!options.xLog || p.x > 0),
  );
  const x = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle,
    scale: options.xLog ? { type: 'log' } : { zero: false },
    ...(options.xFormat === undefined ? {} : { axis: { format: options.xFormat } }),
  };
  const y = {
    field: 'y',
    type: 'quantitative',
    title: options.yTitle,
    scale: { zero: false },
    ...(options.yFormat === undefined ? {} : { axis: { format: options.yFormat } }),
  };
  const color = { field: 'series', type: 'nominal', title: null };
  return {
    ...base(options.title),
    layer: [
      {
        name: FRONTS_MARK_NAMES.lines,
        data: { values },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x, y, color, order: { field: 'order', type: 'quantitative' } },
      },
      {
        name: FRONTS_MARK_NAMES.points,
        data: { values },
        mark: { type: 'point', filled: true, size: 30 },
        encoding: { x, y, color, shape: { field: 'series', type: 'nominal', title: null } },
      },
      ...(refs.length === 0
        ? []
        : [
            {
              name: FRONTS_MARK_NAMES.references,
              data: { values: refs.map((p) => ({ x: p.x, y: p.y, label: p.label })) },
              layer: [
                {
                  mark: { type: 'point', shape: 'triangle-up', filled: true, color: 'black', size: 70 },
                  encoding: { x, y },
                },
                {
                  mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10 },
                  encoding: { x, y, text: { field: 'label', type: 'nominal' } },
                },
              ],
            },
          ]),
    ],
  };
}

/** One bar of {@link barPlotSpec}: a value of one series in one category. */
export interface Bar {
  /** The category on the x axis (e.g. a layer name); categories keep their first-seen order. */
  readonly category: string;
  /** The series (bars of one series share a colour; several series stand side by side). */
  readonly series: string;
  readonly value: number;
}

/** Options of {@link barPlotSpec}. */
export interface BarPlotOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  /** d3 format of the y axis labels, e.g. `'.0%'`. */
  readonly yFormat?: string;
}

/** Layer name of {@link barPlotSpec}'s bars (SVG group `bars_marks`). */
export const BAR_MARK_NAME = 'bars';

/**
 * A grouped bar chart: per category (x, in first-seen order, labels turned
 * for long layer names) one bar per series side by side — e.g. the filters
 * of each layer as built and as kept by a pruning run.
 * @throws ReportError `INVALID_ARGUMENT` for a non-finite value or an empty category or series name.
 */
export function barPlotSpec(bars: readonly Bar[], options: BarPlotOptions): VegaLiteSpec {
  const bad = bars.find((b) => !Number.isFinite(b.value) || b.category === '' || b.series === '');
  if (bad !== undefined) {
    throw new ReportError(
      'INVALID_ARGUMENT',
      `bar ${JSON.stringify(bad)} needs a finite value and non-empty category and series`,
    );
  }
  const categories = [...new Set(bars.map((b) => b.category))];
  const series = [...new Set(bars.map((b) => b.series))];
  return {
    ...base(options.title),
    width: Math.max(WIDTH, 14 * categories.length * Math.max(1, series.length)),
    data: { values: bars.map((b) => ({ category: b.category, series: b.series, value: b.value })) },
    layer: [
      {
        name: BAR_MARK_NAME,
        mark: { type: 'bar' },
        encoding: {
          x: {
            field: 'category',
            type: 'nominal',
            title: options.xTitle,
            sort: categories,
            axis: { labelAngle: -60 },
          },
          xOffset: { field: 'series', type: 'nominal', sort: series },
          y: {
            field: 'value',
            type: 'quantitative',
            title: options.yTitle,
            ...(options.yFormat === undefined ? {} : { axis: { format: options.yFormat } }),
          },
          color: { field: 'series', type: 'nominal', title: null, sort: series },
          tooltip: [
            { field: 'category', type: 'nominal', title: options.xTitle },
            { field: 'series', type: 'nominal' },
            { field: 'value', type: 'quantitative', title: options.yTitle, format: '.4~g' },
          ],
        },
      },
    ],
  };
}

/**
 * The solver's objective weights over training (c1, c2 of SMGD/MAdam, or the
 * fixed λ of a weighted sum), one series per weight, bucket-averaged to at
 * most `maxPoints` per series, on a log axis because c2 sits around 1e-4
 * next to c1 ≈ 1 (Reiners et al.). Zero weights are not drawn.
 * @returns null when no step logged weights.
 */
export function weightsPlotSpec(steps: readonly StepLine[], maxPoints = 500): VegaLiteSpec | null {
  const m = Math.max(0, ...steps.map((s) => s.weights.length));
  if (m === 0) return null;
  const series: Series[] = [];
  for (let j = 0; j < m; j++) {
    const rows = steps.filter((s) => s.weights[j] !== undefined);
    const { x, y } = bucketMeans(
      rows.map((s) => s.step),
      rows.map((s) => s.weights[j]!),
      maxPoints,
    );
    series.push({ name: `c${j + 1}`, x, y });
  }
  return linePlotSpec(series, {
    title: 'Objective weights over training',
    xTitle: 'step',
    yTitle: 'weight (log scale)',
    yLog: true,
  });
}

/**
 * Renders a Vega-Lite spec to an SVG string headlessly (Vega's `none`
 * renderer; no canvas, no browser). Vega and Vega-Lite are ESM-only and
 * loaded on first use, so the CommonJS build of this package works too.
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
