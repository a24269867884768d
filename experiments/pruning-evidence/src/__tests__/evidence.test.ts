import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@moprune/backend';
import { createNetwork, registries } from '@moprune/core';
import '@moprune/models';
import { complexityTotals } from '@moprune/objectives';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LENET300_TOTALS, runEvidence, SMOKE } from '../index.js';

let out: string;
beforeAll(async () => {
  // The script's own choice (native where built, else wasm): on tfjs's cpu the three 10,000-image
  // test-split evaluations alone cost ~10 s of the test's CPU time.
  await initBackend({ silent: true });
  out = mkdtempSync(join(tmpdir(), 'moprune-evidence-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('pruning evidence (small-data version of the script CI runs)', () => {
  it("fixes the gates' complexity reference to the dense gated LeNet-300-100's totals", () => {
    const spec = registries().models.create(
      { type: 'lenet-300-100', gates: 'units' },
      { inputShape: [28, 28, 1], classes: [10] },
    );
    const net = createNetwork(spec, { seed: 0 });
    expect(complexityTotals(net)).toEqual(LENET300_TOTALS);
    net.dispose();
  });

  // ~12 s of CPU on a quiet machine; the generous timeout only keeps a loaded machine from failing it.
  it('runs magnitude, gate and relevance pruning on real MNIST and reports their figures', {
    timeout: 600_000,
  }, async () => {
    const start = tf.memory().numTensors;
    // The demo's settings at a tenth of its size: 1,024 digits, 2 epochs, 2 timed forward passes.
    const rows = await runEvidence({
      scale: { ...SMOKE, epochs: 2, limit: 1024, evalLimit: 512, inferenceRuns: 2 },
      outDir: out,
      only: ['magnitude', 'gates', 'relevance'],
    });
    expect(rows.map((r) => r.run)).toEqual(['magnitude', 'gates', 'relevance']);
    for (const r of rows) {
      expect(r.status).toBe('completed');
      // Far above chance (0.1); the gates' θ start undecided at ½ and have not settled in 64 steps.
      expect(r.testAccuracy).toBeGreaterThan(r.run === 'gates' ? 0.3 : 0.6);
      expect(r.params.compacted).toBeLessThanOrEqual(r.params.dense);
    }
    const [magnitude, gates] = rows;
    // The schedule reached its final sparsity on all kernels (global ranking, exact to the weight).
    expect(magnitude!.kernelSparsity).toBeCloseTo(0.95, 3);
    expect(gates!.inference).toBeDefined();
    const written = JSON.parse(readFileSync(join(out, 'evidence.json'), 'utf8'));
    expect(written.rows).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('the evidence script', () => {
  it("reads its options after pnpm's `--` (`pnpm evidence -- --only gates`, as the READMEs say)", () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/run.ts', '--', '--seed', 'x'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.stderr).toContain("--seed must be an integer ≥ 0, got 'x'");
    expect(r.status).toBe(2);
  });
});
