import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  barPlotSpec,
  bucketMeans,
  formatCount,
  formatDuration,
  formatPercent,
  frontPlotSpec,
  frontsPlotSpec,
  markdownTable,
  type PaperComparison,
  paperTable,
  parseMetricsJsonl,
  renderSvg,
} from '../index.js';
import { markCount, markFills, parseSvg } from './svg.js';

describe('markdownTable', () => {
  it('aligns the first column left and figures right, and escapes pipes', () => {
    expect(markdownTable(['layer', 'kept'], [['fc|1', '10']])).toBe(
      ['| layer | kept |', '| --- | ---: |', '| fc\\|1 | 10 |'].join('\n'),
    );
  });
  it('refuses a row of the wrong length', () => {
    expect(() => markdownTable(['a', 'b'], [['1']])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('formatting', () => {
  it('prints counts, percentages and durations', () => {
    expect(formatCount(58920)).toBe('58,920');
    expect(formatPercent(2577 / 58920)).toBe('4.37%');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });
});

/** Reiners et al. (2020), figures in /work/shared/papers/reiners2020.md. */
const REINERS: PaperComparison = {
  source: 'Reiners et al. (2020)',
  figures: [
    {
      label: 'dense weights kept',
      paper: 2577,
      fact: 'denseKernels.nonzero',
      format: 'count',
      note: 'marked knee',
    },
    { label: 'dense weights removed', paper: 0.98, fact: 'denseKernels.removedFraction', format: 'percent' },
    { label: 'test accuracy', paper: 0.989, fact: 'test.accuracy', format: 'percent' },
    { label: 'wall time', paper: 1, fact: 'no.such.fact' },
  ],
};

describe('paperTable', () => {
  it('sets measured figures beside the paper with signed differences (hand-computed)', () => {
    const md = paperTable(REINERS, {
      'denseKernels.nonzero': 2600,
      'denseKernels.removedFraction': 1 - 2600 / 58920,
      'test.accuracy': 0.9801,
    });
    const rows = md.split('\n').slice(2);
    expect(rows[0]).toBe('| dense weights kept | 2,577 | 2,600 | +23 | marked knee |');
    // 1 − 2600/58920 = 0.955872… → 95.59% against 98.00%: −2.41 pp
    expect(rows[1]).toBe('| dense weights removed | 98.00% | 95.59% | −2.41 pp |  |');
    expect(rows[2]).toBe('| test accuracy | 98.90% | 98.01% | −0.89 pp |  |');
    expect(rows[3]).toBe('| wall time | 1 | — | — |  |');
  });
});

describe('parseMetricsJsonl', () => {
  const step = (k: number) =>
    JSON.stringify({
      type: 'step',
      step: k,
      epoch: 0,
      batch: k,
      lr: 0.1,
      objectives: { a: 1 },
      weights: [0.5, 0.5],
      timeMs: 1,
      elapsedMs: k,
    });
  it('skips the partial last line a killed writer leaves', () => {
    const text = `${step(0)}\n${step(1)}\n{"type":"step","st`;
    expect(parseMetricsJsonl(text).steps.map((s) => s.step)).toEqual([0, 1]);
  });
  it('names the line of a corrupt entry', () => {
    expect(() => parseMetricsJsonl(`${step(0)}\nnot json\n${step(2)}\n`, 'm.jsonl')).toThrow(/m\.jsonl:2/);
  });
});

describe('bucketMeans', () => {
  it('averages equal buckets (hand-computed)', () => {
    expect(bucketMeans([0, 1, 2, 3, 4, 5], [1, 3, 5, 7, 9, 11], 3)).toEqual({
      x: [0.5, 2.5, 4.5],
      y: [2, 6, 10],
    });
  });
  test.prop(
    [
      fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
    ],
    { seed: 7 },
  )(
    'keeps at most max points and the overall mean of equal buckets stays within the data range',
    (ys, max) => {
      const xs = ys.map((_, i) => i);
      const r = bucketMeans(xs, ys, max);
      expect(r.y.length).toBe(Math.min(max, ys.length));
      const lo = Math.min(...ys);
      const hi = Math.max(...ys);
      for (const y of r.y) {
        expect(y).toBeGreaterThanOrEqual(lo - 1e-6 * Math.max(1, Math.abs(lo)));
        expect(y).toBeLessThanOrEqual(hi + 1e-6 * Math.max(1, Math.abs(hi)));
      }
    },
  );
});

describe('front plot SVG', () => {
  const pts = [
    { x: 0, y: 3, label: 'a' },
    { x: 1, y: 1.5, label: 'b' },
    { x: 2, y: 1.8, label: 'c' },
    { x: 4, y: 0.5, label: 'd' },
    { x: 5, y: 0.4, label: 'e' },
  ];
  it('draws one circle per front point, one cross per dominated point and one red knee diamond', async () => {
    const svg = await renderSvg(
      frontPlotSpec(pts, { title: 'front', xTitle: 'l1', yTitle: 'CE', front: [0, 1, 3, 4], knee: 1 }),
    );
    const root = parseSvg(svg);
    expect(markCount(root, 'front_points')).toBe(4);
    expect(markCount(root, 'dominated_points')).toBe(1);
    expect(markCount(root, 'knee_point')).toBe(1);
    expect(markFills(root, 'knee_point')).toEqual(['#d62728']);
    expect(markFills(root, 'front_points').every((f) => f === '#4c78a8')).toBe(true);
    expect(svg).toContain('knee: b');
  });
  it('without a front draws every point as a candidate and no knee', async () => {
    const root = parseSvg(await renderSvg(frontPlotSpec(pts, { title: 't', xTitle: 'x', yTitle: 'y' })));
    expect(markCount(root, 'candidate_points')).toBe(5);
    expect(markCount(root, 'knee_point')).toBe(0);
    expect(markCount(root, 'front_points')).toBe(0);
  });
  it('refuses a knee index outside the points', () => {
    expect(() => frontPlotSpec(pts, { title: 't', xTitle: 'x', yTitle: 'y', knee: 5 })).toThrow(
      expect.objectContaining({ name: 'ReportError', code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('fronts plot', () => {
  it("draws every method's points, joined per method, and the labelled reference points", async () => {
    const spec = frontsPlotSpec(
      [
        { name: 'relevance', x: [1, 0.5, 0.02], y: [0.01, 0.012, 0.02] },
        { name: 'magnitude', x: [1, 0.5, 0, 0.1], y: [0.01, 0.013, 0.5, Number.NaN] },
      ],
      {
        title: 'error vs weights remaining',
        xTitle: 'weights remaining',
        yTitle: 'test error',
        xLog: true,
        xFormat: '.1%',
        references: [{ x: 0.013, y: 0.016, label: 'LOBSTER 2022' }],
      },
    );
    const svg = await renderSvg(spec);
    const root = parseSvg(svg);
    // x = 0 cannot sit on a log axis and NaN is no point: 3 + 2 drawn.
    expect(markCount(root, 'fronts_points')).toBe(5);
    expect(markCount(root, 'fronts_lines')).toBeGreaterThan(0);
    expect(svg).toContain('relevance');
    expect(svg).toContain('magnitude');
    expect(svg).toContain('LOBSTER 2022');
    expect(() =>
      frontsPlotSpec([{ name: 'a', x: [1], y: [] }], { title: 't', xTitle: 'x', yTitle: 'y' }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('barPlotSpec', () => {
  it('draws one bar per (category, series), categories in the given order, and refuses bad values', async () => {
    const bars = ['stem', 'zeta.conv', 'alpha.conv'].flatMap((category, i) => [
      { category, series: 'built', value: 16 },
      { category, series: 'kept', value: 16 - 5 * i },
    ]);
    const svg = await renderSvg(
      barPlotSpec(bars, { title: 'filters per layer', xTitle: 'layer', yTitle: 'filters' }),
    );
    const root = parseSvg(svg);
    expect(markCount(root, 'bars')).toBe(6);
    // The axis lists the layers in network order, not alphabetically.
    const at = (t: string) => svg.indexOf(`>${t}<`);
    expect(at('stem')).toBeGreaterThan(0);
    expect(at('stem')).toBeLessThan(at('zeta.conv'));
    expect(at('zeta.conv')).toBeLessThan(at('alpha.conv'));
    expect(() =>
      barPlotSpec([{ category: 'a', series: 's', value: Number.NaN }], {
        title: 't',
        xTitle: 'x',
        yTitle: 'y',
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
