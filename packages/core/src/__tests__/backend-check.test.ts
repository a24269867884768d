import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { assertBackend, CoreError, NO_BACKEND_HELP } from '../index.js';

describe('assertBackend', () => {
  it('throws NO_BACKEND naming the caller and what to install when tfjs has no backend', () => {
    let error: unknown;
    try {
      assertBackend('createNetwork', []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CoreError);
    const e = error as CoreError;
    expect([e.name, e.code]).toEqual(['CoreError', 'NO_BACKEND']);
    expect(e.message).toContain('createNetwork needs a TensorFlow.js backend');
    expect(e.message).toContain(NO_BACKEND_HELP);
    expect(NO_BACKEND_HELP).toContain('npm install @tensorflow/tfjs-backend-cpu');
    expect(NO_BACKEND_HELP).toContain('npm install @moprune/backend @tensorflow/tfjs-backend-wasm');
  });

  it('passes when any backend is registered (even one not yet initialized)', () => {
    expect(() => assertBackend('createNetwork', ['wasm'])).not.toThrow();
    expect(() => assertBackend('createNetwork')).not.toThrow(); // this file imports the cpu backend
  });
});
