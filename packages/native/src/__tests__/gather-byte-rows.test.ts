import { GATHER_BYTE_ROWS_KERNEL, gatherByteRows, hasGatherByteRowsKernel } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect } from 'vitest';
import { loadNativeAddon } from '../index.js';
import { nativeIt, registration, skipReason } from './helpers.js';

// @moprune/core's gatherByteRows (every image batch: the batch's rows of decoded bytes, normalized
// through a per-channel lookup table): on cpu a JavaScript loop, on native one C++ pass into a
// recycled output.

const loaded = registration.ok ? loadNativeAddon() : undefined;
const addon = loaded?.ok ? loaded.addon : undefined;

/** Bytes that differ per row and pixel, from a seed. */
function bytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.imul(seed + i, 2654435761) >>> 24) & 255;
  return out;
}

/** A lookup table with a different value for every channel and byte. */
function lutFor(channels: number): Float32Array {
  const lut = new Float32Array(256 * channels);
  for (let c = 0; c < channels; c++)
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - 0.13 * (c + 1)) / (0.31 + c);
  return lut;
}

describe(`gather byte rows kernel${skipReason}`, () => {
  nativeIt('is registered under the name @moprune/core calls, for native only', () => {
    expect(hasGatherByteRowsKernel('native')).toBe(true);
    expect(hasGatherByteRowsKernel('cpu')).toBe(false);
  });

  nativeIt(
    "gives the cpu loop's floats bit for bit: 1 and 3 channels, a small batch and one the threads split",
    async () => {
      // 128 × 784 (MNIST's batch) and 300 × 3072 (CIFAR's) pass the 2^16 elements where the rows are split
      // over the pool's threads; 5 × 12 runs on one thread.
      const cases = [
        { channels: 1, rowSize: 784, count: 1000, n: 128 },
        { channels: 3, rowSize: 3072, count: 400, n: 300 },
        { channels: 1, rowSize: 12, count: 7, n: 5 },
        { channels: 3, rowSize: 12, count: 7, n: 5 },
        { channels: 1, rowSize: 784, count: 10, n: 0 },
      ];
      for (const c of cases) {
        const source = bytes(c.count, c.count * c.rowSize);
        const rows = Uint32Array.from({ length: c.n }, (_, k) => (k * 7919 + 3) % c.count);
        const lut = lutFor(c.channels);
        const run = async (backend: string) => {
          await tf.setBackend(backend);
          const before = tf.memory().numTensors;
          const profile = await tf.profile(() => gatherByteRows(source, rows, c.rowSize, lut));
          const x = profile.result as tf.Tensor;
          const out = {
            shape: x.shape,
            values: Array.from(x.dataSync()),
            kernels: profile.kernels.map((k) => k.name),
          };
          x.dispose();
          expect(tf.memory().numTensors).toBe(before);
          return out;
        };
        const cpu = await run('cpu');
        const native = await run('native');
        expect(native.kernels).toEqual([GATHER_BYTE_ROWS_KERNEL]);
        expect(cpu.kernels).not.toContain(GATHER_BYTE_ROWS_KERNEL);
        expect({ ...c, shape: native.shape }).toEqual({ ...c, shape: [c.n, c.rowSize] });
        // Compared as a count and the first difference: a diff of ~10^6 numbers would take minutes to print.
        let mismatches = 0;
        let first = -1;
        for (let i = 0; i < Math.max(cpu.values.length, native.values.length); i++) {
          if (!Object.is(cpu.values[i], native.values[i])) {
            mismatches += 1;
            if (first < 0) first = i;
          }
        }
        expect({ ...c, mismatches, first }).toEqual({ ...c, mismatches: 0, first: -1 });
        if (c.n > 0) expect(new Set(native.values).size).toBeGreaterThan(Math.min(200, c.rowSize));
      }
    },
  );

  nativeIt(
    'writes every element of a recycled output: no value of an earlier tensor shows through',
    async () => {
      await tf.setBackend('native');
      // A disposed tensor of the same size returns its array to the output pool; the gather must
      // overwrite all of it.
      tf.fill([64, 784], Number.NaN).dispose();
      const source = new Uint8Array(784 * 2).fill(255);
      const x = gatherByteRows(source, new Uint32Array(64).fill(1), 784, lutFor(1));
      const v = x.dataSync();
      expect(v.every((y) => y === lutFor(1)[255])).toBe(true);
      x.dispose();
    },
  );

  nativeIt('the addon refuses bad arguments itself, before writing', () => {
    const out = new Float32Array(8).fill(-1);
    const lut = lutFor(1);
    const calls: [() => void, RegExp][] = [
      [
        () => addon!.gatherByteRows(new Uint8Array(8), Uint32Array.of(0, 2), 4, lut, out),
        /row index 2 out of range/,
      ],
      [() => addon!.gatherByteRows(new Uint8Array(9), Uint32Array.of(0, 1), 4, lut, out), /whole rows/],
      [
        () => addon!.gatherByteRows(new Uint8Array(8), Uint32Array.of(0, 1), 4, new Float32Array(255), out),
        /256 entries/,
      ],
      [
        () => addon!.gatherByteRows(new Uint8Array(12), Uint32Array.of(0, 1), 4, lutFor(3), out),
        /multiple of the channel/,
      ],
      [
        () => addon!.gatherByteRows(new Uint8Array(8), Uint32Array.of(0, 1), 4, lut, new Float32Array(7)),
        /out/,
      ],
      [
        () =>
          addon!.gatherByteRows(
            new Float32Array(8) as unknown as Uint8Array,
            Uint32Array.of(0, 1),
            4,
            lut,
            out,
          ),
        /source must be a Uint8Array/,
      ],
      [
        () =>
          addon!.gatherByteRows(
            new Uint8Array(8),
            Int32Array.of(0, 1) as unknown as Uint32Array,
            4,
            lut,
            out,
          ),
        /rows must be a Uint32Array/,
      ],
      [() => addon!.gatherByteRows(new Uint8Array(8), Uint32Array.of(0, 1), 0, lut, out), /rowSize/],
    ];
    for (const [call, message] of calls) expect(call).toThrow(message);
    expect(Array.from(out)).toEqual(new Array(8).fill(-1));
    addon!.gatherByteRows(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), Uint32Array.of(1, 0), 4, lut, out);
    expect(Array.from(out)).toEqual([5, 6, 7, 8, 1, 2, 3, 4].map((b) => lut[b]!));
  });
});
