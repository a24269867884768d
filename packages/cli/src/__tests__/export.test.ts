/**
 * `moprune export`: the compacted network of a run as a LayersModel that stock
 * `@tensorflow/tfjs` loads over HTTP — the way a browser loads it, with no
 * moprune code on the loading side — and that predicts what the run's network does.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLatestCheckpoint, networkFromState } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../index.js';
import { gatedTinyConfig, memoryIo, tinyConfig } from './helpers.js';

let root: string;
let server: Server;
let base: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-export-'));
  // A static file server over `root`, as a web page's origin would be.
  server = createServer((req, res) => {
    try {
      const body = readFileSync(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      res.writeHead(200, {
        'content-type': req.url?.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(join(root, 'tiny.json'), JSON.stringify(tinyConfig({ epochs: 2 })));
  expect(await main(['train', 'tiny.json', '--out', 'run', '--quiet'], memoryIo(root).io)).toBe(EXIT.OK);
  const gated = gatedTinyConfig();
  writeFileSync(join(root, 'gated.json'), JSON.stringify(gated));
  const g = memoryIo(root);
  expect(await main(['train', 'gated.json', '--out', 'gated', '--quiet'], g.io), g.stderr()).toBe(EXIT.OK);
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

describe('moprune export', () => {
  it('writes a compacted LayersModel that stock @tensorflow/tfjs loads over HTTP and that predicts as the run’s network', async () => {
    const m = memoryIo(root);
    expect(await main(['export', 'run', '--out', 'web'], m.io)).toBe(EXIT.OK);
    expect(m.stdout()).toContain(`exported `);
    const manifest = JSON.parse(readFileSync(join(root, 'web', 'export.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'moprune-export',
      model: 'model.json',
      source: { checkpoint: 'last', step: 16 },
      inputShape: [28, 28, 1],
      outputs: [{ classes: 10, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }],
    });
    const result = JSON.parse(readFileSync(join(root, 'run', 'result.json'), 'utf8'));
    expect(manifest.accuracy.test).toEqual(result.test.accuracy);
    expect(manifest.after.params).toBe(manifest.before.params); // nothing to compact in a dense MLP
    expect(m.stdout()).toContain(`parameters ${manifest.before.params} → ${manifest.after.params}`);

    const tfjs = await import('@tensorflow/tfjs');
    const model = await tfjs.loadLayersModel(`${base}/web/model.json`);
    const params = model.countParams();
    expect(params).toBe(manifest.after.params);
    const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 3);
    const got = (model.predict(x) as tf.Tensor).dataSync();
    const ckpt = loadLatestCheckpoint(join(root, 'run', 'checkpoint'))!;
    const net = networkFromState(ckpt.state);
    const [want] = net.apply(x);
    const w = want!.dataSync();
    expect(got.length).toBe(w.length);
    for (let i = 0; i < w.length; i++) expect(got[i]).toBeCloseTo(w[i]!, 4);
    tf.dispose([x, want!]);
    net.dispose();
    model.dispose();
  });

  it('a gated network is exported compacted with its evaluation gates (θ > ½), read from the last checkpoint', async () => {
    const m = memoryIo(root);
    expect(await main(['export', 'gated', '--out', 'gated-web'], m.io), m.stderr()).toBe(EXIT.OK);
    const manifest = JSON.parse(readFileSync(join(root, 'gated-web', 'export.json'), 'utf8'));
    const ckpt = loadLatestCheckpoint(join(root, 'gated', 'checkpoint'))!;
    const net = networkFromState(ckpt.state);
    // The gates as the run evaluates them, from the checkpointed θ (the pruner's only variable).
    const theta = ckpt.state.arrays['prunerVar/0/0']!;
    const open = Array.from(theta.data, (t) => (t > 0.5 ? 1 : 0));
    expect(open.filter((g) => g === 0).length).toBeGreaterThan(0); // some units closed …
    expect(open.filter((g) => g === 1).length).toBeGreaterThan(0); // … and some open
    expect(manifest.after.params).toBeLessThan(manifest.before.params);
    const tfjs = await import('@tensorflow/tfjs');
    const model = await tfjs.loadLayersModel(`${base}/gated-web/model.json`);
    expect(model.countParams()).toBe(manifest.after.params);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5);
    const got = (model.predict(x) as tf.Tensor).dataSync();
    const gate = tf.tensor1d(open);
    const [want] = net.apply(x, { gates: { [net.gateSites[0]!.id]: gate } });
    const w = want!.dataSync();
    for (let i = 0; i < w.length; i++) expect(got[i]).toBeCloseTo(w[i]!, 4);
    tf.dispose([x, want!, gate]);
    net.dispose();
    model.dispose();
  });

  it('says what is wrong: no best/ snapshot, a bad --checkpoint, a directory that is no run', async () => {
    let m = memoryIo(root);
    expect(await main(['export', 'run', '--checkpoint', 'best', '--out', 'w2'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('NOTHING_TO_EXPORT');
    expect(m.stderr()).toContain('--checkpoint last');
    m = memoryIo(root);
    expect(await main(['export', 'run', '--checkpoint', 'first'], m.io)).toBe(EXIT.USAGE);
    expect(m.stderr()).toContain('--checkpoint must be best or last');
    m = memoryIo(root);
    expect(await main(['export', 'web'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('is not a run directory');
  });

  it('refuses an output directory that is not empty unless --force, and leaves nothing half-written', async () => {
    mkdirSync(join(root, 'taken'));
    writeFileSync(join(root, 'taken', 'notes.txt'), 'mine');
    let m = memoryIo(root);
    expect(await main(['export', 'run', '--out', 'taken'], m.io)).toBe(EXIT.FAILURE);
    expect(m.stderr()).toContain('OUTPUT_EXISTS');
    expect(m.stderr()).toContain('--force');
    expect(readdirSync(join(root, 'taken'))).toEqual(['notes.txt']);
    // An empty directory is fine.
    mkdirSync(join(root, 'empty'));
    expect(await main(['export', 'run', '--out', 'empty'], memoryIo(root).io)).toBe(EXIT.OK);
    expect(readdirSync(join(root, 'empty')).sort()).toEqual(['export.json', 'model.json', 'weights.bin']);
    // --force replaces the directory as a whole: the old file is gone.
    m = memoryIo(root);
    expect(await main(['export', 'run', '--out', 'taken', '--force'], m.io), m.stderr()).toBe(EXIT.OK);
    expect(readdirSync(join(root, 'taken')).sort()).toEqual(['export.json', 'model.json', 'weights.bin']);
    // A failed export (no best/ snapshot) leaves neither the output nor a temporary directory.
    const before = readdirSync(root).sort();
    expect(await main(['export', 'run', '--checkpoint', 'best', '--out', 'never'], memoryIo(root).io)).toBe(
      EXIT.FAILURE,
    );
    expect(readdirSync(root).sort()).toEqual(before);
  });

  it('report --html checks --images before any work', async () => {
    const m = memoryIo(root);
    expect(await main(['report', 'run', '--html', '--images', '0'], m.io)).toBe(EXIT.USAGE);
    expect(m.stderr()).toContain('--images must be an integer ≥ 1');
    expect(existsSync(join(root, 'run', 'report.html'))).toBe(false);
  });
});
