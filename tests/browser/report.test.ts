/**
 * report.html in a real browser: a sweep of two pruned, gated networks
 * (LeNet-300-100 and LeNet-5 with Bernoulli unit gates, a few steps on MNIST),
 * reported with `moprune report --html`, opened from file:// in Debian's
 * headless Chromium with the network cut off. The page must draw its
 * interactive front, select a run on click, run each run's compacted network
 * with stock TensorFlow.js on the bundled test images exactly as the run's own
 * network does in Node, and predict a drawing.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '@moprune/cli';
import { type GateValues, loadNetworkSnapshot, registries } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatedTinyConfig, memoryIo, tinyConfig } from '../../packages/cli/src/__tests__/helpers.js';
// @ts-expect-error a plain .mjs script without declarations
import { launchChromium, openReport } from '../../scripts/report-page.mjs';

/** The CLI's io with its output kept in memory, on the cpu backend. */
const io = (cwd: string) => memoryIo(cwd, { ...process.env, MOPRUNE_BACKEND: 'cpu' }).io;

/** A run with Bernoulli unit gates on every hidden layer, keeping its best validation epoch. */
function gated(model: Record<string, unknown>, layout: 'flat' | 'image') {
  const base = tinyConfig({ epochs: 2, limit: 512, name: String(model.type) });
  return {
    ...base,
    model: { ...model, gates: 'units' },
    // The gated tiny run's objectives and gates, its solver weighting complexity a little more.
    objectives: gatedTinyConfig().objectives,
    solver: { type: 'weighted-sum', weights: [0.8, 0.2], optimizer: { type: 'adam', lr: 0.01 } },
    pruners: gatedTinyConfig().pruners,
    training: { ...base.training, layout, keepBest: { monitor: 'validation.loss' } },
  };
}

const RUNS = {
  'lenet-300-100': gated({ type: 'lenet-300-100' }, 'flat'),
  'lenet-5': gated({ type: 'lenet5' }, 'image'),
};
const IMAGES = 200;
const artifacts = resolve(import.meta.dirname, '..', '..', 'test-artifacts');

let root: string;
let sweep: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-report-html-'));
  sweep = join(root, 'sweep');
  for (const [name, config] of Object.entries(RUNS)) {
    writeFileSync(join(root, `${name}.json`), JSON.stringify(config));
    expect(await main(['train', `${name}.json`, '--out', `sweep/${name}`, '--quiet'], io(root))).toBe(0);
  }
  expect(await main(['report', 'sweep', '--html', '--images', String(IMAGES)], io(root))).toBe(0);
}, 600_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The first IMAGES test images, as Node's dataset gives them. */
async function nodeImages(): Promise<{ x: tf.Tensor; labels: number[] }> {
  const dataset = await registries().datasets.create({ type: 'mnist', validationSize: 1000 }, {});
  const [batch] = dataset.batches('test', { batchSize: IMAGES, limit: IMAGES, shuffle: false });
  const labels = Array.from(batch!.y[0]!.dataSync());
  const x = batch!.x.clone();
  batch!.dispose();
  return { x, labels };
}

/** Softmax outputs of the run's own network (its best/ snapshot, with the evaluation gates saved beside it). */
function nodeSoftmax(runDir: string, x: tf.Tensor, flat: boolean): number[][] {
  const snap = loadNetworkSnapshot(join(runDir, 'best'))!;
  const gates = snap.extra.gates as unknown as Record<string, GateValues>;
  return tf.tidy(() => {
    const g = Object.fromEntries(
      Object.entries(gates).map(([site, v]) => [site, tf.tensor1d([...v.values])]),
    );
    const input = flat ? tf.reshape(x, [x.shape[0]!, -1]) : x;
    const [y] = snap.net.apply(input, { gates: g });
    const out = tf.softmax(y!).arraySync() as number[][];
    snap.net.dispose();
    return out;
  });
}

const softmax = (row: readonly number[]) => {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const argmax = (row: readonly number[]) => row.reduce((b, v, i) => (v > row[b]! ? i : b), 0);

describe('report.html in headless Chromium', () => {
  it('opens offline with no errors, its front has tooltips, a click selects a run, and a drawing is predicted', async () => {
    const browser = await launchChromium();
    try {
      const { page, errors, refused, loadMs } = await openReport(browser, join(sweep, 'report.html'));
      expect(errors).toEqual([]);
      expect(refused).toEqual([]);
      expect(loadMs).toBeGreaterThan(0);
      console.log(`report.html of a 2-run sweep: ready ${loadMs.toFixed(0)} ms after navigation start`);
      // The front is a live Vega view (SVG), not the static image.
      const point = await page.waitForSelector(
        '#plot-0 svg .front_points_marks path, #plot-0 svg .candidate_points_marks path',
      );
      expect(await page.$('#plot-0 img')).toBeNull();
      const box = (await point!.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForSelector('#moprune-tooltip:not([hidden])');
      const tip = await page.$eval('#moprune-tooltip', (e) => e.textContent ?? '');
      const pointed = Object.keys(RUNS).find((k) => tip.includes(k));
      expect(pointed).toBeDefined();
      expect(tip).toContain('test accuracy'); // every figure of the candidate, not only x and y
      const other = Object.keys(RUNS).find((k) => k !== pointed)!;
      await page.evaluate((k) => window.moprune.select(k), other);
      expect(await page.evaluate(() => window.moprune.selected())).toBe(other);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction((k) => window.moprune.selected() === k, {}, pointed);
      expect(await page.$eval('#selected-name', (e) => e.textContent)).toContain(pointed);
      expect(await page.$eval('tr.selected td', (e) => e.textContent)).toBe(pointed);
      // A click on a candidate row selects it too.
      await page.click(`tr.run-row[data-run="${other}"]`);
      await page.waitForFunction((k) => window.moprune.selected() === k, {}, other);
      // Draw a stroke: the canvas predicts a class.
      const canvas = (await page.$('#draw'))!;
      await canvas.scrollIntoView();
      const pad = (await canvas.boundingBox())!;
      await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++)
        await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * (0.2 + 0.06 * i));
      await page.mouse.up();
      await page
        .waitForFunction(() => window.moprune.drawnPrediction() !== null, { timeout: 10_000 })
        .catch(async (e) => {
          throw new Error(`no prediction: ${await page.$eval('#draw-prediction', (el) => el.textContent)}`, {
            cause: e,
          });
        });
      const drawn = await page.evaluate(() => window.moprune.drawnPrediction());
      expect('0123456789'.split('')).toContain(drawn);
      expect(await page.$eval('#draw-prediction strong', (e) => e.textContent)).toBe(drawn);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'report-html.png') });
      expect(statSync(join(artifacts, 'report-html.png')).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it('runs each compacted network as the run’s own network does in Node: softmax within 1e-5, the same accuracy, weight bytes = compacted parameters', async () => {
    const { x, labels } = await nodeImages();
    const browser = await launchChromium();
    try {
      const { page, errors } = await openReport(browser, join(sweep, 'report.html'));
      for (const [name, config] of Object.entries(RUNS)) {
        const raw: number[][][] = await page.evaluate((k) => window.moprune.outputs(k), name);
        const info = await page.evaluate((k) => window.moprune.modelInfo(k), name);
        const want = nodeSoftmax(join(sweep, name), x, config.training.layout === 'flat');
        expect(raw).toHaveLength(1);
        expect(raw[0]).toHaveLength(IMAGES);
        let maxDiff = 0;
        raw[0]!.forEach((row, i) => {
          const p = softmax(row);
          p.forEach((v, j) => {
            maxDiff = Math.max(maxDiff, Math.abs(v - want[i]![j]!));
          });
        });
        expect(maxDiff).toBeLessThanOrEqual(1e-5);
        const nodeAcc = want.filter((row, i) => argmax(row) === labels[i]).length / IMAGES;
        const pageAcc = await page.evaluate((k) => window.moprune.accuracy(k), name);
        expect(pageAcc).toEqual([nodeAcc]);
        // The weights the page loaded are the compacted network's, 4 bytes per parameter.
        expect(info.params).toBeLessThan(info.paramsBefore); // closed units were removed
        expect(info.weightBytes).toBe(4 * info.params);
      }
      // The panel shows the selected run's accuracy, as computed above.
      const selected = await page.evaluate(() => window.moprune.selected());
      const shown = JSON.parse(
        await page.$eval('#model-accuracy', (e) => (e as HTMLElement).dataset.accuracy ?? ''),
      );
      expect(shown).toEqual(await page.evaluate((k) => window.moprune.accuracy(k), selected));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      x.dispose();
    }
  }, 180_000);

  it('a run that cannot be exported gets the reason in the page, not a broken page', async () => {
    // A copy of the sweep where one run lost its checkpoints.
    const broken = join(root, 'broken');
    mkdirSync(broken);
    cpSync(sweep, broken, { recursive: true });
    rmSync(join(broken, 'lenet-5', 'best'), { recursive: true });
    rmSync(join(broken, 'lenet-5', 'checkpoint'), { recursive: true });
    expect(await main(['report', 'broken', '--html', '--images', '20'], io(root))).toBe(0);
    const browser = await launchChromium();
    try {
      const { page, errors } = await openReport(browser, join(broken, 'report.html'));
      await page.evaluate(() => window.moprune.select('lenet-5'));
      expect(await page.$eval('#model-status', (e) => e.textContent)).toContain('NOTHING_TO_EXPORT');
      await page.evaluate(() => window.moprune.select('lenet-300-100'));
      expect(await page.evaluate(() => window.moprune.accuracy('lenet-300-100'))).toHaveLength(1);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

declare global {
  interface Window {
    // biome-ignore lint/suspicious/noExplicitAny: the page's API, typed in @moprune/report's page script
    moprune: any;
  }
}
