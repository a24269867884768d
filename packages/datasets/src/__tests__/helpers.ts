import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect } from 'vitest';

/** Runs the test file on the pure-JS cpu backend. */
export function useCpuBackend(): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `moprune-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts that `promise` rejects with a DatasetError of `code` whose message mentions every `mentions`. */
export async function expectDatasetError(
  promise: Promise<unknown> | (() => unknown),
  code: string,
  ...mentions: string[]
): Promise<void> {
  let error: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error, `expected a DatasetError ${code}`).toBeDefined();
  const e = error as { name?: string; code?: string; message?: string };
  expect(e.name).toBe('DatasetError');
  expect(e.code).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
}
