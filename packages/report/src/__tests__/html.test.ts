// report.html as text: what the page embeds and refuses. Its behaviour in a
// browser is tested in tests/browser/report.test.ts (headless Chromium).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMopruneError } from '@moprune/core';
import { kneeByDistance, nonDominatedIndices } from '@moprune/solvers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTML_ASSETS, type RenderedReport, renderHtml, writeHtmlReport, writeReport } from '../index.js';
import { makeSweep } from './fixtures/runs.js';

let root: string;
let sweep: string;
let names: string[];
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-report-html-'));
  sweep = join(root, 'sweep');
  names = await makeSweep(sweep, [0, 0.01, 0.05]);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The JSON the page's script reads. */
function pageData(html: string) {
  const m = /<script type="application\/json" id="moprune-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

const rendered = (over: Partial<RenderedReport> = {}): RenderedReport => ({
  markdown: '# t\n\n![a plot](p.svg)\n',
  svgs: {},
  specs: {},
  runs: [],
  title: 't',
  selected: null,
  ...over,
});

describe('report.html', () => {
  it('a sweep page: the Markdown as HTML, every plot a live view with the static SVG as fallback, every candidate selectable', async () => {
    const pareto = {
      nonDominatedIndices: (p: readonly (readonly number[])[]) => nonDominatedIndices(p),
      knee: (p: readonly (readonly number[])[]) => kneeByDistance(p),
      kneeRule: 'kneeByDistance',
    };
    const written = await writeReport(sweep, { pareto, html: {} });
    expect(written.files.map((f) => f.slice(sweep.length + 1))).toEqual(
      expect.arrayContaining([HTML_ASSETS, 'report.html', 'report.md']),
    );
    const html = readFileSync(join(sweep, 'report.html'), 'utf8');
    const md = readFileSync(join(sweep, 'report.md'), 'utf8');
    const images = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    const data = pageData(html);
    // One live view per plot of report.md, rendered where its image was.
    expect(data.plots).toHaveLength(images.length);
    for (const [i, src] of images.entries())
      expect(html).toContain(`<div class="plot" id="plot-${i}"><img src="${src}"`);
    expect(data.plots[0].vega.$schema).toContain('vega/v'); // compiled to Vega in Node
    // The candidates table became an HTML table; each run is listed with the figures of its row.
    expect(html).toMatch(/<th>run<\/th>/);
    expect(data.runs.map((r: { key: string }) => r.key).sort()).toEqual([...names].sort());
    expect(data.runs[0].facts.map(([k]: [string]) => k)).toEqual(
      expect.arrayContaining(['run', 'status', 'test accuracy']),
    );
    // Without models: no TensorFlow.js, no model panel, no canvas; Vega is copied next to the page.
    expect(html).toContain(`<script src="${HTML_ASSETS}/vega.min.js"></script>`);
    expect(html).not.toContain('tf.min.js');
    expect(html).not.toContain('id="model-panel"');
    expect(html).not.toContain('id="draw"');
    expect(data.images).toBeNull();
    expect(readdirSync(join(sweep, HTML_ASSETS))).toEqual(['models', 'vega.min.js']);
    // Nothing temporary is left.
    expect(readdirSync(sweep).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('front points carry their run and every figure of its row for the tooltip', async () => {
    const html = readFileSync(join(sweep, 'report.html'), 'utf8');
    const front = pageData(html).plots[0].vega;
    const values = front.data.find((d: { values?: unknown[] }) => Array.isArray(d.values)).values;
    for (const v of values) {
      expect(typeof v.run).toBe('string');
      expect(Object.keys(v)).toEqual(expect.arrayContaining(['d0', 'd1']));
    }
    const tooltips = JSON.stringify(front.marks);
    expect(tooltips).toContain('test accuracy');
    expect(tooltips).toContain('val. accuracy');
  });

  it('run names cannot break out of the embedded JSON', async () => {
    const key = '</script><script>alert(1)</script>';
    const html = await renderHtml(rendered({ runs: [{ key, name: key, facts: [['x', '<b>']] }] }), {
      title: '<t>',
      selected: key,
      modelScripts: {},
    });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('<title>&lt;t&gt;</title>');
    const data = pageData(html);
    expect(data.runs[0].key).toBe(key);
    expect(data.selected).toBe(key);
  });

  it('refuses models without TensorFlow.js, and images that are not whole images with labels — before writing anything', async () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    const model = {
      modelTopology: {},
      weightSpecs: [],
      weightData: new Uint8Array(0),
      info: { inputShape: [4] },
    };
    const refuse = async (options: Parameters<typeof writeHtmlReport>[2], message: RegExp) => {
      const e = await writeHtmlReport(dir, rendered(), options).catch((x: unknown) => x);
      expect(isMopruneError(e) && e.code === 'INVALID_ARGUMENT').toBe(true);
      expect((e as Error).message).toMatch(message);
      expect(readdirSync(dir)).toEqual([]);
    };
    await refuse({ title: 't', selected: null, models: { '.': model } }, /tf\.min\.js/);
    await refuse(
      { title: 't', selected: null, models: { '.': model }, tfjsScript: join(dir, 'absent.js') },
      /does not exist/,
    );
    await refuse(
      {
        title: 't',
        selected: null,
        images: {
          description: 'd',
          shape: [2, 2, 1],
          x: new Float32Array(6),
          labels: [[0]],
          classNames: [null],
        },
      },
      /not whole images/,
    );
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });
});
