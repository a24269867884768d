#!/usr/bin/env node
// Writes the small data files of @moprune/test-fixtures in the real formats:
//   mnist/                 IDX (MNIST format): 40 training and 10 test images, 28×28, with labels
//   cifar-10-batches-bin/  CIFAR-10 binary: data_batch_1..5.bin (3 records each), test_batch.bin (4)
//   cifar-100-binary/      CIFAR-100 binary: train.bin (8 records), test.bin (4)
//   manifest.json          what was written (labels, per-image pixel sums, SHA-256 of every file)
// Deterministic: one seeded generator (mulberry32, seed below), no clock, no Math.random.
// Usage: node test-fixtures/scripts/make-fixtures.mjs [outDir]   (default: test-fixtures/data)
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 20261122;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);
const int = (n) => Math.floor(random() * n);

/** A digit-like 28×28 image: black background, two or three bright rectangles. */
function digitImage() {
  const img = new Uint8Array(784);
  const rects = 2 + int(2);
  for (let r = 0; r < rects; r++) {
    const y0 = 4 + int(16);
    const x0 = 4 + int(16);
    const h = 2 + int(8);
    const w = 2 + int(8);
    const v = 64 + int(192);
    for (let y = y0; y < Math.min(28, y0 + h); y++) {
      for (let x = x0; x < Math.min(28, x0 + w); x++) img[y * 28 + x] = Math.max(img[y * 28 + x], v);
    }
  }
  return img;
}

function idx(shape, data) {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  for (const [i, d] of shape.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/** Labels 0…k−1 repeated and shuffled, so every class occurs when n ≥ k. */
function labels(n, k) {
  const out = Array.from({ length: n }, (_, i) => i % k);
  for (let i = n - 1; i > 0; i--) {
    const j = int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const sum = (a) => a.reduce((s, v) => s + v, 0);

function mnistSet(n) {
  const images = Array.from({ length: n }, digitImage);
  const data = new Uint8Array(n * 784);
  for (const [i, img] of images.entries()) data.set(img, i * 784);
  const ls = labels(n, 10);
  return { data, labels: ls, sums: images.map(sum) };
}

/** CIFAR records: label byte(s), then 1024 red, 1024 green, 1024 blue bytes. */
function cifarFile(n, labelClasses) {
  const record = labelClasses.length + 3072;
  const out = new Uint8Array(n * record);
  const taskLabels = labelClasses.map(() => []);
  const sums = [];
  for (let r = 0; r < n; r++) {
    labelClasses.forEach((k, t) => {
      const l = int(k);
      out[r * record + t] = l;
      taskLabels[t].push(l);
    });
    let s = 0;
    for (let p = 0; p < 3072; p++) {
      const v = int(256);
      out[r * record + labelClasses.length + p] = v;
      s += v;
    }
    sums.push(s);
  }
  return { bytes: out, labels: taskLabels, sums };
}

export function makeFixtures(outDir) {
  const files = {};
  const write = (rel, bytes) => {
    const path = join(outDir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    files[rel] = createHash('sha256').update(bytes).digest('hex');
  };
  const manifest = { seed: SEED, mnist: {}, cifar10: { train: [], test: [] }, cifar100: {} };

  for (const [split, prefix, n] of [
    ['train', 'train', 40],
    ['test', 't10k', 10],
  ]) {
    const set = mnistSet(n);
    write(`mnist/${prefix}-images-idx3-ubyte`, idx([n, 28, 28], set.data));
    write(`mnist/${prefix}-labels-idx1-ubyte`, idx([n], Uint8Array.from(set.labels)));
    manifest.mnist[split] = { count: n, labels: set.labels, sums: set.sums };
  }

  for (let b = 1; b <= 5; b++) {
    const f = cifarFile(3, [10]);
    write(`cifar-10-batches-bin/data_batch_${b}.bin`, f.bytes);
    manifest.cifar10.train.push({ file: `data_batch_${b}.bin`, labels: f.labels[0], sums: f.sums });
  }
  const t10 = cifarFile(4, [10]);
  write('cifar-10-batches-bin/test_batch.bin', t10.bytes);
  manifest.cifar10.test.push({ file: 'test_batch.bin', labels: t10.labels[0], sums: t10.sums });
  write(
    'cifar-10-batches-bin/batches.meta.txt',
    new TextEncoder().encode('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n'),
  );

  for (const [split, n] of [
    ['train', 8],
    ['test', 4],
  ]) {
    const f = cifarFile(n, [20, 100]);
    write(`cifar-100-binary/${split}.bin`, f.bytes);
    manifest.cifar100[split] = { count: n, coarse: f.labels[0], fine: f.labels[1], sums: f.sums };
  }

  manifest.files = files;
  const json = `${JSON.stringify(manifest)}\n`;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'manifest.json'), json);
  return manifest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'data');
  makeFixtures(outDir);
  console.log(`fixtures written to ${outDir}`);
}
