/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The script of report.html. It runs in the browser: `html.ts` inlines its source
// (`reportPage.toString()`), so the function must be self-contained — no imports,
// nothing from the enclosing module. It finds Vega and TensorFlow.js as the
// globals their browser bundles define (copied next to the page) and its data in
// the page's `#moprune-data` JSON. Not exported from the package.

/** The data report.html embeds for its script (see `html.ts`). */
export interface PageData {
  readonly title: string;
  /** Compiled Vega specifications by the id of the element they render into. */
  readonly plots: readonly { readonly id: string; readonly vega: unknown }[];
  readonly runs: readonly {
    readonly key: string;
    readonly name: string;
    readonly facts: readonly (readonly [string, string])[];
  }[];
  /** The run selected when the page opens (the knee or final run of a sweep, else the run). */
  readonly selected: string | null;
  /** By run key: the script (relative URL) that registers its exported model, or why there is none. */
  readonly models: Readonly<Record<string, { readonly script: string } | { readonly error: string }>>;
  /** The script that registers the bundled images, or why there are none; null: no model panel. */
  readonly images: { readonly script: string } | { readonly error: string } | null;
}

/** What the page script exposes as `window.moprune` (for people and for tests). */
export interface PageApi {
  /** Resolves when the plots are drawn and the selected run's model (if any) has run on the images. */
  readonly ready: Promise<void>;
  /** Selects a run by key: highlights it, shows its figures, runs its model. */
  select(key: string): Promise<void>;
  /** The selected run's key. */
  selected(): string | null;
  /** Raw outputs (one array per task, samples × classes) of a run's model on the bundled images. */
  outputs(key: string): Promise<number[][][]>;
  /** Accuracy per task of a run's model on the bundled images. */
  accuracy(key: string): Promise<number[]>;
  /** A run's loaded model: its parameters, the parameters before compaction, the bytes of weights loaded. */
  modelInfo(key: string): Promise<{ params: number; paramsBefore: number; weightBytes: number }>;
  /** The class the drawing canvas shows now, or null. */
  drawnPrediction(): string | null;
  /** Milliseconds from the navigation's start to `ready`. */
  loadMs(): number | null;
  registerModel(key: string, payload: unknown): void;
  registerImages(payload: unknown): void;
}

/**
 * The page's behaviour: interactive Vega views (tooltips, click to select a
 * run), clickable candidate rows, the model panel (the selected run's exported
 * network, run by stock TensorFlow.js on the bundled images) and the drawing
 * canvas.
 */
export function reportPage(): void {
  // biome-ignore lint/suspicious/noExplicitAny: the browser bundles' globals have no types here
  const w = window as any;
  const vega = w.vega;
  const tf = w.tf;
  const data = JSON.parse(document.getElementById('moprune-data')!.textContent ?? '{}') as PageData;
  const $ = (id: string) => document.getElementById(id);
  const el = (tag: string, attrs: Record<string, string> = {}, text?: string) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmtPct = (v: number) => `${(100 * v).toFixed(2)}%`;

  // ── scripts that register data (classic <script src>, which works from file://) ──
  const registered: { models: Record<string, unknown>; images: unknown } = { models: {}, images: null };
  const loading = new Map<string, Promise<void>>();
  const loadScript = (src: string) => {
    let p = loading.get(src);
    if (p === undefined) {
      p = new Promise<void>((resolve, reject) => {
        const s = el('script', { src }) as HTMLScriptElement;
        s.onload = () => resolve();
        s.onerror = () => reject(new Error(`could not load ${src}`));
        document.head.appendChild(s);
      });
      loading.set(src, p);
    }
    return p;
  };
  const fromBase64 = (b64: string) => {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  };

  interface Images {
    n: number;
    shape: [number, number, number];
    x: Float32Array;
    labels: number[][];
    classNames: (string[] | null)[];
    pixels: { scale: number[]; offset: number[] } | null;
    description: string;
  }
  let imagesPromise: Promise<Images> | null = null;
  const images = (): Promise<Images> => {
    imagesPromise ??= (async () => {
      const spec = data.images;
      if (spec === null || 'error' in spec) throw new Error(spec === null ? 'no images' : spec.error);
      await loadScript(spec.script);
      // biome-ignore lint/suspicious/noExplicitAny: registered JSON
      const p = registered.images as any;
      const x = new Float32Array(fromBase64(p.x).buffer);
      return { ...p, x } as Images;
    })();
    return imagesPromise;
  };
  // biome-ignore lint/suspicious/noExplicitAny: tf.LayersModel
  const models = new Map<string, Promise<{ model: any; info: any; ms: number; bytes: number }>>();
  const model = (key: string) => {
    let p = models.get(key);
    if (p === undefined) {
      p = (async () => {
        const m = data.models[key];
        if (m === undefined) throw new Error('this run has no exported model');
        if ('error' in m) throw new Error(m.error);
        const start = performance.now();
        await loadScript(m.script);
        // biome-ignore lint/suspicious/noExplicitAny: registered JSON
        const r = registered.models[key] as any;
        const bytes = fromBase64(r.weightData);
        const loaded = await tf.loadLayersModel(
          tf.io.fromMemory({
            modelTopology: r.modelTopology,
            weightSpecs: r.weightSpecs,
            weightData: bytes.buffer,
          }),
        );
        return { model: loaded, info: r.info, ms: performance.now() - start, bytes: bytes.length };
      })();
      models.set(key, p);
    }
    return p;
  };
  const outputsCache = new Map<string, Promise<number[][][]>>();
  const outputs = (key: string) => {
    let p = outputsCache.get(key);
    if (p === undefined) {
      p = (async () => {
        const [{ model: m, info }, imgs] = await Promise.all([model(key), images()]);
        const x = tf.tensor(imgs.x, [imgs.n, ...info.inputShape]);
        const ys = m.predict(x);
        const list = Array.isArray(ys) ? ys : [ys];
        const out: number[][][] = [];
        for (const y of list) out.push((await y.array()) as number[][]);
        tf.dispose([x, ...list]);
        return out;
      })();
      outputsCache.set(key, p);
    }
    return p;
  };
  const argmax = (row: readonly number[]) => row.reduce((b, v, i) => (v > row[b]! ? i : b), 0);
  const softmax = (row: readonly number[]) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const accuracy = async (key: string) => {
    const [outs, imgs] = await Promise.all([outputs(key), images()]);
    return outs.map((rows, t) => rows.filter((r, i) => argmax(r) === imgs.labels[t]![i]).length / imgs.n);
  };

  // ── tooltip ──
  const tip = el('div', { id: 'moprune-tooltip', role: 'tooltip' });
  tip.hidden = true;
  document.body.appendChild(tip);
  const tooltip = (_handler: unknown, event: MouseEvent, _item: unknown, value: unknown) => {
    if (value === null || value === undefined || value === '') {
      tip.hidden = true;
      return;
    }
    tip.replaceChildren();
    if (typeof value === 'object') {
      const table = el('table');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const tr = el('tr');
        tr.append(
          el('th', {}, k),
          el('td', {}, typeof v === 'number' ? String(+v.toPrecision(6)) : String(v)),
        );
        table.append(tr);
      }
      tip.append(table);
    } else {
      tip.textContent = String(value);
    }
    tip.hidden = false;
    tip.style.left = `${event.clientX + 14}px`;
    tip.style.top = `${event.clientY + 14}px`;
  };

  // ── selection ──
  let selected: string | null = null;
  const runByKey = new Map(data.runs.map((r) => [r.key, r]));
  const rows = new Map<string, HTMLTableRowElement[]>();
  for (const table of document.querySelectorAll('main table')) {
    const head = table.querySelector('thead th');
    if (head?.textContent?.trim() !== 'run') continue;
    for (const tr of table.querySelectorAll('tbody tr')) {
      const key = tr.querySelector('td')?.textContent?.trim() ?? '';
      if (!runByKey.has(key)) continue;
      const row = tr as HTMLTableRowElement;
      row.classList.add('run-row');
      row.dataset.run = key;
      row.addEventListener('click', () => void select(key));
      rows.set(key, [...(rows.get(key) ?? []), row]);
    }
  }
  const showFacts = (key: string) => {
    const run = runByKey.get(key);
    $('selected-name')!.textContent =
      run === undefined ? key : run.name === key ? key : `${run.name} (${key})`;
    const table = $('selected-facts')!;
    table.replaceChildren();
    for (const [k, v] of run?.facts ?? []) {
      const tr = el('tr');
      tr.append(el('th', {}, k), el('td', {}, v));
      table.append(tr);
    }
    for (const [k, list] of rows) for (const r of list) r.classList.toggle('selected', k === key);
  };
  const drawThumb = (imgs: Images, i: number, size: number) => {
    const [h, wd, c] = imgs.shape;
    const canvas = el('canvas', { width: String(wd), height: String(h) }) as HTMLCanvasElement;
    canvas.style.width = `${size}px`;
    canvas.style.height = `${Math.round((size * h) / wd)}px`;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(wd, h);
    const base = i * h * wd * c;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < h * wd * c; k++) {
      const v = imgs.x[base + k]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    for (let p = 0; p < h * wd; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const v = imgs.x[base + p * c + Math.min(ch, c - 1)]!;
        const byte = imgs.pixels
          ? (255 * (v - imgs.pixels.offset[Math.min(ch, c - 1)]!)) / imgs.pixels.scale[Math.min(ch, c - 1)]!
          : hi > lo
            ? (255 * (v - lo)) / (hi - lo)
            : 0;
        img.data[4 * p + ch] = byte;
      }
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return canvas;
  };
  const className = (imgs: Images, task: number, k: number) => imgs.classNames[task]?.[k] ?? String(k);
  const showModel = async (key: string) => {
    const status = $('model-status');
    if (status === null) return;
    const acc = $('model-accuracy')!;
    const grid = $('predictions')!;
    acc.replaceChildren();
    grid.replaceChildren();
    status.textContent = 'loading the model…';
    try {
      const [{ info, ms, model: m }, imgs] = await Promise.all([model(key), images()]);
      const outs = await outputs(key);
      if (selected !== key) return;
      const a = await accuracy(key);
      status.textContent = `${info.source?.name ?? key}: ${m.countParams().toLocaleString('en')} parameters after compaction (${Number(info.before?.params ?? 0).toLocaleString('en')} before), loaded in ${ms.toFixed(0)} ms; ${imgs.description}.`;
      acc.append(
        el(
          'p',
          {},
          `Accuracy in this page: ${a.map((v, t) => `${a.length > 1 ? `task ${t + 1}: ` : ''}${fmtPct(v)}`).join(', ')} on ${imgs.n} images.`,
        ),
      );
      acc.dataset.accuracy = JSON.stringify(a);
      for (let i = 0; i < imgs.n; i++) {
        const preds = outs.map((rows) => argmax(rows[i]!));
        const wrong = preds.some((p, t) => p !== imgs.labels[t]![i]);
        const cell = el('figure', { class: wrong ? 'pred wrong' : 'pred' });
        cell.append(drawThumb(imgs, i, 42));
        cell.append(
          el(
            'figcaption',
            {},
            preds
              .map(
                (p, t) =>
                  `${className(imgs, t, p)}${wrong ? ` (${className(imgs, t, imgs.labels[t]![i]!)})` : ''}`,
              )
              .join(' / '),
          ),
        );
        cell.title = outs
          .map((rows) => {
            const pr = softmax(rows[i]!);
            return `p = ${(100 * pr[argmax(pr)]!).toFixed(1)}%`;
          })
          .join(', ');
        grid.append(cell);
      }
    } catch (e) {
      if (selected === key) status.textContent = `No model for this run: ${(e as Error).message}`;
    }
  };
  const select = async (key: string) => {
    selected = key;
    showFacts(key);
    await showModel(key);
    await predictDrawing();
  };

  // ── drawing canvas ──
  let drawn: string | null = null;
  const pad = $('draw') as HTMLCanvasElement | null;
  const predictDrawing = async () => {
    const out = $('draw-prediction');
    if (pad === null || out === null || selected === null || !inked) return;
    try {
      const [{ model: m, info }, imgs] = await Promise.all([model(selected), images()]);
      if (imgs.pixels === null) return;
      const [h, wd] = imgs.shape;
      // MNIST's preparation: the strokes' bounding box scaled into 20×20, centred in 28×28.
      const ctx = pad.getContext('2d')!;
      const full = ctx.getImageData(0, 0, pad.width, pad.height).data;
      let x0 = pad.width;
      let y0 = pad.height;
      let x1 = -1;
      let y1 = -1;
      for (let y = 0; y < pad.height; y++)
        for (let x = 0; x < pad.width; x++)
          if (full[4 * (y * pad.width + x)]! > 0) {
            x0 = Math.min(x0, x);
            y0 = Math.min(y0, y);
            x1 = Math.max(x1, x);
            y1 = Math.max(y1, y);
          }
      if (x1 < 0) return;
      const small = el('canvas', { width: String(wd), height: String(h) }) as HTMLCanvasElement;
      const sctx = small.getContext('2d')!;
      sctx.fillStyle = 'black';
      sctx.fillRect(0, 0, wd, h);
      const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
      const scale = (0.7 * Math.min(wd, h)) / box;
      const dw = (x1 - x0 + 1) * scale;
      const dh = (y1 - y0 + 1) * scale;
      sctx.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (wd - dw) / 2, (h - dh) / 2, dw, dh);
      const px = sctx.getImageData(0, 0, wd, h).data;
      const input = new Float32Array(h * wd);
      for (let p = 0; p < h * wd; p++)
        input[p] = (imgs.pixels.scale[0]! * px[4 * p]!) / 255 + imgs.pixels.offset[0]!;
      const x = tf.tensor(input, [1, ...info.inputShape]);
      const y = m.predict(x);
      const first = Array.isArray(y) ? y[0] : y;
      const row = softmax(((await first.array()) as number[][])[0]!);
      tf.dispose([x, ...(Array.isArray(y) ? y : [y])]);
      const k = argmax(row);
      drawn = className(imgs, 0, k);
      out.replaceChildren(el('strong', {}, drawn), el('span', {}, ` (p = ${(100 * row[k]!).toFixed(1)}%)`));
      const bars = el('div', { class: 'bars' });
      row.forEach((p, j) => {
        const bar = el('div', { class: 'bar' });
        bar.append(
          el('span', {}, className(imgs, 0, j)),
          el('i', { style: `width:${(100 * p).toFixed(1)}%` }),
        );
        bars.append(bar);
      });
      out.append(bars);
    } catch (e) {
      out.textContent = `No prediction: ${(e as Error).message}`;
    }
  };
  let inked = false;
  if (pad !== null) {
    const ctx = pad.getContext('2d')!;
    const clear = () => {
      ctx.fillStyle = 'black';
      ctx.fillRect(0, 0, pad.width, pad.height);
      inked = false;
      drawn = null;
      const out = $('draw-prediction');
      if (out) out.textContent = 'Draw with the mouse (or a finger).';
    };
    clear();
    let last: [number, number] | null = null;
    const at = (e: PointerEvent): [number, number] => {
      const r = pad.getBoundingClientRect();
      return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
    };
    pad.addEventListener('pointerdown', (e) => {
      pad.setPointerCapture(e.pointerId);
      last = at(e);
    });
    pad.addEventListener('pointermove', (e) => {
      if (last === null) return;
      const p = at(e);
      ctx.strokeStyle = 'white';
      ctx.lineWidth = pad.width / 14;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      last = p;
      inked = true;
    });
    pad.addEventListener('pointerup', () => {
      last = null;
      void predictDrawing();
    });
    $('draw-clear')?.addEventListener('click', clear);
  }

  // ── plots ──
  const views = data.plots.map(async (plot) => {
    const container = $(plot.id);
    if (container === null) return;
    container.replaceChildren();
    const view = new vega.View(vega.parse(plot.vega), { renderer: 'svg', container, hover: true });
    view.tooltip(tooltip);
    // biome-ignore lint/suspicious/noExplicitAny: Vega scenegraph item
    view.addEventListener('click', (_e: unknown, item: any) => {
      const key = item?.datum?.run;
      if (typeof key === 'string' && runByKey.has(key)) void select(key);
    });
    await view.runAsync();
  });

  let loadMs: number | null = null;
  const ready = (async () => {
    if (tf !== undefined) {
      await tf.setBackend('cpu');
      await tf.ready();
    }
    await Promise.all(views);
    if (data.selected !== null) await select(data.selected);
    loadMs = performance.now(); // since navigation start
    document.body.dataset.ready = 'true';
  })();
  const api: PageApi = {
    ready,
    select,
    selected: () => selected,
    outputs,
    accuracy,
    modelInfo: async (key) => {
      const m = await model(key);
      return {
        params: m.model.countParams(),
        paramsBefore: Number(m.info.before?.params),
        weightBytes: m.bytes,
      };
    },
    drawnPrediction: () => drawn,
    loadMs: () => loadMs,
    registerModel: (key, payload) => {
      registered.models[key] = payload;
    },
    registerImages: (payload) => {
      registered.images = payload;
    },
  };
  w.moprune = api;
}
