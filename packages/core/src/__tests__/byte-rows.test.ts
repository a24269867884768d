import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fc } from '@fast-check/vitest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type CoreError,
  GATHER_BYTE_ROWS_KERNEL,
  gatherByteRows,
  hasGatherByteRowsKernel,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The contract's formula, element by element, with the modulo written out. */
function reference(source: Uint8Array, rows: Uint32Array, rowSize: number, lut: Float32Array): Float32Array {
  const channels = lut.length / 256;
  const out = new Float32Array(rows.length * rowSize);
  for (let k = 0; k < rows.length; k++) {
    for (let p = 0; p < rowSize; p++)
      out[k * rowSize + p] = lut[(p % channels) * 256 + source[rows[k]! * rowSize + p]!]!;
  }
  return out;
}

/** A lookup table whose entries differ per channel and per byte, so a wrong channel or byte shows. */
function lutFor(channels: number): Float32Array {
  const lut = new Float32Array(256 * channels);
  for (let c = 0; c < channels; c++)
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - 0.1 * (c + 1)) / (0.3 + c);
  return lut;
}

function caught(fn: () => unknown): { name: string; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    const err = e as CoreError;
    return { name: err.name, code: err.code, message: err.message };
  }
  throw new Error('expected a throw');
}

describe('gatherByteRows', () => {
  afterEach(() => {
    if (tf.getKernel(GATHER_BYTE_ROWS_KERNEL, 'cpu') !== undefined)
      tf.unregisterKernel(GATHER_BYTE_ROWS_KERNEL, 'cpu');
  });

  it('is the contract formula for 1 and 3 interleaved channels, any rows, repeats and order (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 3),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (channels, pixels, count, picks, seed) => {
          const rowSize = pixels * channels;
          const source = new Uint8Array(count * rowSize);
          for (let i = 0; i < source.length; i++) source[i] = (seed + i * 2654435761) >>> 24;
          const rows = Uint32Array.from(picks.map((p) => p % count));
          const lut = lutFor(channels);
          const before = tf.memory().numTensors;
          const x = gatherByteRows(source, rows, rowSize, lut);
          expect(x.shape).toEqual([rows.length, rowSize]);
          expect(x.dtype).toBe('float32');
          expect(Array.from(x.dataSync())).toEqual(Array.from(reference(source, rows, rowSize, lut)));
          x.dispose();
          expect(tf.memory().numTensors).toBe(before);
        },
      ),
      { seed: 20261206, numRuns: 200 },
    );
  });

  it('takes the output shape it is given (an image batch [n, h, w, c])', () => {
    const source = Uint8Array.from({ length: 2 * 12 }, (_, i) => i * 10);
    const x = gatherByteRows(source, Uint32Array.of(1, 0), 12, lutFor(3), [2, 2, 2, 3]);
    expect(x.shape).toEqual([2, 2, 2, 3]);
    expect(Array.from(x.dataSync())).toEqual(
      Array.from(reference(source, Uint32Array.of(1, 0), 12, lutFor(3))),
    );
    x.dispose();
  });

  it("runs the backend's kernel when it registers one, with the arguments as attributes", () => {
    expect(hasGatherByteRowsKernel('cpu')).toBe(false);
    const seen: unknown[] = [];
    tf.registerKernel({
      kernelName: GATHER_BYTE_ROWS_KERNEL,
      backendName: 'cpu',
      kernelFunc: ({ attrs, backend }) => {
        seen.push(attrs);
        const a = attrs as unknown as { rows: Uint32Array; rowSize: number; shape: number[] };
        return (
          backend as tf.KernelBackend & {
            makeTensorInfo: (s: number[], d: string, v: Float32Array) => tf.TensorInfo;
          }
        ).makeTensorInfo(a.shape, 'float32', new Float32Array(a.rows.length * a.rowSize).fill(7));
      },
    });
    expect(hasGatherByteRowsKernel('cpu')).toBe(true);
    const source = new Uint8Array(8);
    const rows = Uint32Array.of(1);
    const lut = lutFor(1);
    const x = gatherByteRows(source, rows, 4, lut);
    expect(Array.from(x.dataSync())).toEqual([7, 7, 7, 7]);
    expect(seen).toEqual([{ source, rows, rowSize: 4, lut, shape: [1, 4] }]);
    x.dispose();
  });

  it('refuses bad arguments with a typed error before any work', () => {
    const source = new Uint8Array(12);
    const ok = { rows: Uint32Array.of(0, 2), lut: lutFor(1) };
    const cases: [() => unknown, RegExp][] = [
      [() => gatherByteRows(source, ok.rows, 0, ok.lut), /rowSize must be a positive integer, got 0/],
      [() => gatherByteRows(source, ok.rows, 2.5, ok.lut), /rowSize must be a positive integer/],
      [
        () => gatherByteRows(source, ok.rows, 4, new Float32Array(100)),
        /lut must hold 256 entries per channel, got 100/,
      ],
      [
        () => gatherByteRows(source, ok.rows, 4, new Float32Array(0)),
        /lut must hold 256 entries per channel, got 0/,
      ],
      [() => gatherByteRows(source, ok.rows, 4, lutFor(3)), /rowSize 4 is not a multiple of the 3 channels/],
      [() => gatherByteRows(source, ok.rows, 5, ok.lut), /source holds 12 bytes, not whole rows of 5/],
      [
        () => gatherByteRows(source, Uint32Array.of(0, 3), 4, ok.lut),
        /row index 3 \(at 1\) is past the 3 rows/,
      ],
      [
        () => gatherByteRows(source, ok.rows, 4, ok.lut, [2, 3]),
        /shape \[2, 3\] holds 6 values, not 2 rows of 4/,
      ],
    ];
    for (const [fn, message] of cases) {
      const e = caught(fn);
      expect(e.name).toBe('CoreError');
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
    }
    // The last row index is in range.
    gatherByteRows(source, Uint32Array.of(2), 4, ok.lut).dispose();
  });
});
