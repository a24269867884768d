/**
 * The exported network in a real browser: `moprune export` writes a compacted
 * LayersModel; a page whose only script is stock @tensorflow/tfjs loads it from
 * its own origin in Debian's headless Chromium (driven by puppeteer-core) and
 * predicts what the run's network predicts in Node.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { main } from '@moprune/cli';
import { loadLatestCheckpoint, networkFromState } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatedTinyConfig, memoryIo } from '../../packages/cli/src/__tests__/helpers.js';
// @ts-expect-error a plain .mjs script without declarations
import { launchChromium } from '../../scripts/report-page.mjs';

/** The CLI's io with its output kept in memory, on the cpu backend. */
const io = (cwd: string) => memoryIo(cwd, { ...process.env, MOPRUNE_BACKEND: 'cpu' }).io;

let root: string;
let server: Server;
let base: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-browser-'));
  // A small network with Bernoulli unit gates: the export is compacted (closed units removed).
  const config = { ...gatedTinyConfig(), name: 'browser' };
  writeFileSync(join(root, 'config.json'), JSON.stringify(config));
  expect(await main(['train', 'config.json', '--out', 'run', '--quiet'], io(root))).toBe(0);
  expect(await main(['export', 'run', '--out', 'site/export'], io(root))).toBe(0);
  await build({
    entryPoints: [resolve(import.meta.dirname, 'page.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    outfile: join(root, 'site', 'page.js'),
    logLevel: 'silent',
  });
  writeFileSync(
    join(root, 'site', 'index.html'),
    '<!doctype html><meta charset="utf-8"><script src="page.js"></script>',
  );
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.json': 'application/json',
  };
  server = createServer((req, res) => {
    const path = join(root, 'site', decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!existsSync(path) || path.endsWith('/')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 300_000);
afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

describe('the exported network in headless Chromium', () => {
  it('loads with stock @tensorflow/tfjs from the page’s origin and predicts as the run’s network', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${base}/index.html`);
      const shape = [3, 28, 28, 1];
      const x = tf.randomUniform(shape, 0, 1, 'float32', 11);
      const inputs = Array.from(x.dataSync());
      const got = await page.evaluate((i, s) => window.predict(i, s), inputs, shape);
      expect(errors).toEqual([]);
      const manifest = JSON.parse(readFileSync(join(root, 'site', 'export', 'export.json'), 'utf8'));
      expect(got.params).toBe(manifest.after.params);
      expect(manifest.after.params).toBeLessThan(manifest.before.params); // closed units removed
      // The run's network with its evaluation gates (θ > ½, from the checkpointed θ).
      const state = loadLatestCheckpoint(join(root, 'run', 'checkpoint'))!.state;
      const net = networkFromState(state);
      const gate = tf.tensor1d(Array.from(state.arrays['prunerVar/0/0']!.data, (t) => (t > 0.5 ? 1 : 0)));
      const [want] = net.apply(x, { gates: { [net.gateSites[0]!.id]: gate } });
      const w = want!.dataSync();
      expect(got.out).toHaveLength(w.length);
      for (let k = 0; k < w.length; k++) expect(got.out[k]).toBeCloseTo(w[k]!, 4);
      tf.dispose([x, want!, gate]);
      net.dispose();
    } finally {
      await browser.close();
    }
  }, 120_000);
});
