import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createNetwork, registries } from '@moprune/core';
import '@moprune/models';
import { complexityTotals } from '@moprune/objectives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LENET300_TOTALS, runEvidence, SMOKE } from '../index.js';

let out: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
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

  it('runs magnitude, gate and relevance pruning on real MNIST and reports their figures', async () => {
    const start = tf.memory().numTensors;
    const rows = await runEvidence({
      scale: { ...SMOKE, epochs: 2, limit: 1024, evalLimit: 512 },
      outDir: out,
    });
    expect(rows.map((r) => r.run)).toEqual(['magnitude', 'gates', 'relevance']);
    for (const r of rows) {
      expect(r.status).toBe('completed');
      expect(r.testAccuracy).toBeGreaterThan(0.5);
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
