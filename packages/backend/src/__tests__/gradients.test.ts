import '@tensorflow/tfjs-layers';
import { GRADIENT_CHECKS, runGradientSuite } from '@moprune/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe.each(['cpu', 'wasm'] as const)('gradient suite on %s', (backend) => {
  it('matches the float64 reference for every check, without leaking tensors', async () => {
    await runGradientSuite({ backend, include: ['Relu'] });
    const before = tf.memory().numTensors;
    const report = await runGradientSuite({ backend, throwOnFailure: false });
    expect(report.backend).toBe(backend);
    expect(report.failures).toEqual([]);
    expect(new Set(report.results.map((r) => r.check))).toEqual(new Set(GRADIENT_CHECKS.map((c) => c.name)));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the suite can fail', () => {
  it('reports a wrong gradient as GRADIENT_MISMATCH', async () => {
    const stock = tf.getGradient(tf.Elu)!;
    // A plausible bug: ELU's gradient taken as 1 everywhere.
    tf.registerGradient({ kernelName: tf.Elu, gradFunc: (dy) => ({ x: () => tf.clone(dy as tf.Tensor) }) });
    try {
      await expect(runGradientSuite({ backend: 'cpu', include: ['Elu'] })).rejects.toMatchObject({
        name: 'BackendError',
        code: 'GRADIENT_MISMATCH',
      });
      const report = await runGradientSuite({
        backend: 'cpu',
        include: ['Elu', 'Relu'],
        throwOnFailure: false,
      });
      expect(report.failures.length).toBeGreaterThan(0);
      expect(report.failures.every((f) => f.check === 'Elu')).toBe(true);
    } finally {
      tf.registerGradient(stock);
    }
  });

  it('rejects unknown check names before running anything', async () => {
    await expect(runGradientSuite({ backend: 'cpu', include: ['Conv3D'] })).rejects.toMatchObject({
      name: 'BackendError',
      code: 'INVALID_ARGUMENT',
    });
  });
});
