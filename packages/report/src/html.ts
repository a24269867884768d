import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeTextAtomic } from './atomic.js';
import { ReportError } from './errors.js';
import { type PageData, reportPage } from './page.js';
import type { VegaLiteSpec } from './plots.js';
import type { RenderedReport } from './report.js';

/**
 * A compacted network as stock TensorFlow.js loads it from memory
 * (`tf.loadLayersModel(tf.io.fromMemory(...))`): the parts of a LayersModel
 * directory (`model.json` + weight files), e.g. what `moprune export` writes.
 */
export interface HtmlModel {
  /** `model.json`'s `modelTopology`. */
  readonly modelTopology: unknown;
  /** The weight entries of `model.json`'s `weightsManifest`, in file order. */
  readonly weightSpecs: readonly unknown[];
  /** The weight bytes, concatenated in `weightSpecs` order. */
  readonly weightData: Uint8Array;
  /** What the page needs beside the weights: `inputShape` (per sample, required), and the export's `source`, `before`, `after`. */
  readonly info: { readonly inputShape: readonly number[] } & Readonly<Record<string, unknown>>;
}

/** Test images bundled with the page, on which its model panel runs the selected run's model. */
export interface HtmlImages {
  /** Where the images come from, for the page (e.g. "the first 200 images of the MNIST test split"). */
  readonly description: string;
  /** Per-image shape `[H, W, C]`. */
  readonly shape: readonly [number, number, number];
  /** `n·H·W·C` floats, normalized as the network sees them. */
  readonly x: Float32Array;
  /** True labels per task: `labels[task][image]`. */
  readonly labels: readonly (readonly number[])[];
  /** Class names per task, where the classes have names. */
  readonly classNames: readonly (readonly string[] | null)[];
  /**
   * How a pixel byte becomes an input value, per channel: `scale[c]·byte/255 + offset[c]`.
   * With it, single-channel images get a drawing canvas; without, no canvas.
   */
  readonly pixels?: { readonly scale: readonly number[]; readonly offset: readonly number[] };
}

/** What an interactive page gets beyond the report itself. */
export interface HtmlOptions {
  /** Exported models by run key (`.` for a run report, the subdirectory in a sweep), or why a run has none. */
  readonly models?: Readonly<Record<string, HtmlModel | { readonly error: string }>>;
  /** The images the model panel runs the models on, or why there are none. */
  readonly images?: HtmlImages | { readonly error: string };
  /**
   * TensorFlow.js's browser bundle (the path of `@tensorflow/tfjs/dist/tf.min.js`), copied next to
   * the page. Required when `models` has a model.
   */
  readonly tfjsScript?: string;
}

/** Directory next to report.html that holds the scripts and data it loads. */
export const HTML_ASSETS = 'report-assets';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
/** JSON safe inside a <script> element and as a JavaScript expression. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 420px;gap:24px;padding:16px 24px}
main{min-width:0}
aside{position:sticky;top:0;align-self:start;max-height:100vh;overflow:auto;padding:8px 0}
aside section{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin-bottom:12px}
aside h2{font-size:15px;margin:4px 0 8px}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
td[align=right],th[align=right]{text-align:right}
tr.run-row{cursor:pointer}tr.run-row:hover{background:#f3f6fb}tr.selected{background:#dde8f7}
.plot{margin:8px 0}
code{background:#f4f4f4;padding:0 3px;border-radius:3px}
#moprune-tooltip{position:fixed;z-index:10;background:#fff;border:1px solid #888;border-radius:4px;padding:4px 6px;font-size:12px;pointer-events:none;box-shadow:0 2px 6px rgba(0,0,0,.2)}
#moprune-tooltip table{margin:0}#moprune-tooltip th,#moprune-tooltip td{border:none;padding:1px 4px}
#predictions{display:flex;flex-wrap:wrap;gap:4px}
figure.pred{margin:0;text-align:center;font-size:11px;width:46px}
figure.pred canvas{display:block;margin:0 auto;image-rendering:pixelated}
figure.pred.wrong figcaption{color:#c00;font-weight:bold}
#draw{border:1px solid #888;touch-action:none;cursor:crosshair;width:224px;height:224px}
.bars{font-size:11px}.bar{display:flex;align-items:center;gap:4px}.bar span{width:70px;overflow:hidden}
.bar i{display:block;height:8px;background:#4c78a8}
`;

/** The file a module resolves to, for copying a dependency's browser bundle. */
function resolveFrom(specifier: string): string {
  return createRequire(import.meta.url).resolve(specifier);
}

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/**
 * report.html: the report's Markdown as HTML with its plots as interactive
 * Vega views (tooltips with every figure of a point; clicking a point or a
 * candidate row selects that run), a panel that runs the selected run's
 * exported model with stock TensorFlow.js on the bundled images, and a drawing
 * canvas for single-channel images. Scripts load from {@link HTML_ASSETS}, so
 * the page works offline and from `file://`.
 * @param selected - the run selected when the page opens
 */
export async function renderHtml(
  rendered: RenderedReport,
  options: HtmlOptions & {
    readonly title: string;
    readonly selected: string | null;
    readonly modelScripts: Readonly<Record<string, string>>;
  },
): Promise<string> {
  const [{ Marked }, vl] = await Promise.all([import('marked'), import('vega-lite')]);
  const plots: { id: string; vega: unknown }[] = [];
  const marked = new Marked({
    renderer: {
      image({ href, text }) {
        const img = `<img src="${escapeHtml(href)}" alt="${escapeHtml(text)}">`;
        const spec: VegaLiteSpec | undefined = rendered.specs[href];
        if (spec === undefined) return img;
        const id = `plot-${plots.length}`;
        plots.push({ id, vega: vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec });
        // The static SVG stays as the fallback until the script replaces it with the live view.
        return `<div class="plot" id="${id}">${img}</div>`;
      },
    },
  });
  const body = await marked.parse(rendered.markdown);
  const models: Record<string, PageData['models'][string]> = {};
  for (const [key, m] of Object.entries(options.models ?? {})) {
    const script = options.modelScripts[key];
    models[key] = 'error' in m ? { error: m.error } : { script: script! };
  }
  const panel = options.models !== undefined && Object.keys(options.models).length > 0;
  const images: PageData['images'] = !panel
    ? null
    : options.images === undefined
      ? { error: 'no images were bundled' }
      : 'error' in options.images
        ? { error: options.images.error }
        : { script: `${HTML_ASSETS}/images.js` };
  const data: PageData = {
    title: options.title,
    plots,
    runs: rendered.runs,
    selected: options.selected,
    models,
    images,
  };
  const canvas =
    panel &&
    options.images !== undefined &&
    !('error' in options.images) &&
    options.images.pixels !== undefined &&
    options.images.shape[2] === 1 &&
    options.images.labels.length === 1;
  const aside = [
    '<section id="selected-panel"><h2>Selected run</h2><div id="selected-name">—</div><table id="selected-facts"></table></section>',
    canvas
      ? '<section id="draw-panel"><h2>Draw an input</h2><canvas id="draw" width="280" height="280"></canvas><div><button id="draw-clear" type="button">clear</button></div><div id="draw-prediction"></div></section>'
      : '',
    panel
      ? '<section id="model-panel"><h2>Its exported model, run in this page</h2><div id="model-status">—</div><div id="model-accuracy"></div><div id="predictions"></div></section>'
      : '',
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
<script src="${HTML_ASSETS}/vega.min.js"></script>
${panel ? `<script src="${HTML_ASSETS}/tf.min.js"></script>` : ''}
</head>
<body>
<div class="layout">
<main>
${body}
</main>
<aside>
${aside}
</aside>
</div>
<script type="application/json" id="moprune-data">${scriptJson(data)}</script>
<script>(${reportPage.toString()})();</script>
</body>
</html>
`;
}

/**
 * Writes report.html and its {@link HTML_ASSETS} directory into `dir`: the
 * assets are written to a temporary directory and renamed into place, then the
 * page is written atomically, so a page never loads a half-written asset.
 * @throws ReportError `INVALID_ARGUMENT` when models are given without `tfjsScript`.
 */
export async function writeHtmlReport(
  dir: string,
  rendered: RenderedReport,
  options: HtmlOptions & { readonly title: string; readonly selected: string | null },
): Promise<string[]> {
  const withModel = Object.values(options.models ?? {}).some((m) => !('error' in m));
  if (withModel && (options.tfjsScript === undefined || !existsSync(options.tfjsScript))) {
    throw new ReportError(
      'INVALID_ARGUMENT',
      `the page runs models, so it needs TensorFlow.js's browser bundle (tfjsScript: @tensorflow/tfjs/dist/tf.min.js)${options.tfjsScript === undefined ? '' : `; ${options.tfjsScript} does not exist`}`,
    );
  }
  const tmp = join(dir, `.${HTML_ASSETS}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'models'), { recursive: true });
  const modelScripts: Record<string, string> = {};
  try {
    copyFileSync(join(dirname(resolveFrom('vega')), 'vega.min.js'), join(tmp, 'vega.min.js'));
    if (withModel) copyFileSync(options.tfjsScript!, join(tmp, 'tf.min.js'));
    for (const [i, [key, m]] of Object.entries(options.models ?? {}).entries()) {
      if ('error' in m) continue;
      const file = `models/model-${i}.js`;
      const payload = {
        modelTopology: m.modelTopology,
        weightSpecs: m.weightSpecs,
        weightData: base64(m.weightData),
        info: m.info,
      };
      writeFileSync(join(tmp, file), `moprune.registerModel(${scriptJson(key)}, ${scriptJson(payload)});\n`);
      modelScripts[key] = `${HTML_ASSETS}/${file}`;
    }
    if (options.images !== undefined && !('error' in options.images)) {
      const im = options.images;
      const n = im.x.length / (im.shape[0] * im.shape[1] * im.shape[2]);
      if (!Number.isInteger(n) || im.labels.some((l) => l.length !== n)) {
        throw new ReportError(
          'INVALID_ARGUMENT',
          `images: ${im.x.length} values are not whole images of shape [${im.shape.join(', ')}] with one label each`,
        );
      }
      const payload = {
        n,
        shape: im.shape,
        x: base64(new Uint8Array(im.x.buffer, im.x.byteOffset, im.x.byteLength)),
        labels: im.labels,
        classNames: im.classNames,
        pixels: im.pixels ?? null,
        description: im.description,
      };
      writeFileSync(join(tmp, 'images.js'), `moprune.registerImages(${scriptJson(payload)});\n`);
    }
    const html = await renderHtml(rendered, { ...options, modelScripts });
    const assets = join(dir, HTML_ASSETS);
    rmSync(assets, { recursive: true, force: true });
    renameSync(tmp, assets);
    const page = join(dir, 'report.html');
    writeTextAtomic(page, html);
    return [assets, page];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
