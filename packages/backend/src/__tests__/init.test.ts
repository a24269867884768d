import '@tensorflow/tfjs-layers';
import { BACKEND_NAMES, BackendError, initBackend } from '@moprune/backend';
import { runGradientSuite } from '@moprune/backend/testing';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

const silent = { silent: true } as const;

describe('initBackend: explicit requests', () => {
  it('selects wasm and cpu on request and logs one line saying why', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      const lines: string[] = [];
      const sel = await initBackend({ backend, logger: (l) => lines.push(l) });
      expect(sel).toMatchObject({ backend, tfBackend: backend, requested: backend, stockGradients: true });
      expect(tf.getBackend()).toBe(backend);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`backend: ${backend} (requested by options.backend`);
    }
  });

  it('reads MOPRUNE_BACKEND, and the option wins over it', async () => {
    expect((await initBackend({ ...silent, env: { MOPRUNE_BACKEND: 'cpu' } })).backend).toBe('cpu');
    expect((await initBackend({ ...silent, env: { MOPRUNE_BACKEND: 'cpu' }, backend: 'wasm' })).backend).toBe(
      'wasm',
    );
  });

  it('logs nothing when silent', async () => {
    const lines: string[] = [];
    await initBackend({ backend: 'cpu', silent: true, logger: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });
});

describe('initBackend: bad input', () => {
  it('rejects an unknown MOPRUNE_BACKEND with a typed error naming the valid ones', async () => {
    const err = await initBackend({ ...silent, env: { MOPRUNE_BACKEND: 'gpu' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ name: 'BackendError', code: 'UNKNOWN_BACKEND' });
    expect((err as BackendError).issues).toEqual([
      { path: 'env.MOPRUNE_BACKEND', message: expect.any(String) },
    ]);
    for (const name of BACKEND_NAMES) expect((err as Error).message).toContain(name);
  });

  it('rejects an unknown options.backend', async () => {
    await expect(initBackend({ ...silent, backend: 'webgl' as 'cpu' })).rejects.toMatchObject({
      code: 'UNKNOWN_BACKEND',
      issues: [{ path: 'options.backend' }],
    });
  });

  it('names the package to add when tensorflow is requested but not installed', async () => {
    const err = (await initBackend({ ...silent, backend: 'tensorflow' }).catch(
      (e: unknown) => e,
    )) as BackendError;
    expect(err).toMatchObject({ name: 'BackendError', code: 'BACKEND_NOT_INSTALLED' });
    expect(err.message).toContain('add @tensorflow/tfjs-node');
  });

  it('says so clearly when native is requested but cannot load, and does not fall back', async () => {
    const before = tf.getBackend();
    const err = (await initBackend({
      ...silent,
      backend: 'native',
      loadNative: () => Promise.reject(new Error('libopenblas.so.0: cannot open shared object file')),
    }).catch((e: unknown) => e)) as BackendError;
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(err.message).toContain('libopenblas.so.0');
    expect(tf.getBackend()).toBe(before);
    await expect(
      initBackend({ ...silent, backend: 'native', loadNative: async () => ({}) }),
    ).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('registerNativeBackend'),
    });
  });
});

describe('initBackend: auto-selection', () => {
  it('skips a native module that fails to load, logs why, and takes wasm', async () => {
    const lines: string[] = [];
    const sel = await initBackend({
      env: {},
      logger: (l) => lines.push(l),
      loadNative: () => Promise.reject(new Error('no such symbol: cblas_sgemm')),
    });
    expect(sel.backend).toBe('wasm');
    expect(sel.skipped.map((s) => s.backend)).toEqual(['tensorflow', 'native']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('cblas_sgemm');
    expect(lines[0]).toContain('@tensorflow/tfjs-node');
  });

  it('prefers a native backend registered through the hook', async () => {
    const sel = await initBackend({
      ...silent,
      env: {},
      loadNative: async () => ({
        registerNativeBackend: () => {
          // Stands in for @moprune/native: a backend with its own name and the cpu kernels.
          tf.registerBackend('fake-native', () => new MathBackendCPU());
          for (const k of tf.getKernelsForBackend('cpu'))
            tf.registerKernel({ ...k, backendName: 'fake-native' });
          return 'fake-native';
        },
      }),
    });
    expect(sel).toMatchObject({ backend: 'native', tfBackend: 'fake-native' });
    expect(tf.getBackend()).toBe('fake-native');
    // A backend with its own Conv2DBackprop* kernels keeps them (dilation 1); the suite checks both paths.
    const report = await runGradientSuite({
      backend: 'native',
      include: ['Conv2D'],
      init: { loadNative: async () => ({}) },
    });
    expect(report.backend).toBe('fake-native');
    await initBackend({ ...silent, backend: 'cpu' });
  });
});
