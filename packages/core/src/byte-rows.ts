import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from './errors.js';

/**
 * Kernel name of a batch assembled from byte rows through a lookup table: the
 * step every image dataset takes per batch (pick the batch's samples from the
 * decoded bytes, normalize every pixel). A backend that registers it builds the
 * batch in one native pass into its own recycled memory instead of a
 * JavaScript loop over every pixel into a fresh array.
 *
 * Contract — no tensor inputs. Attributes: `source` a `Uint8Array` of rows of
 * `rowSize` bytes; `rows` a `Uint32Array` of row indices, each `< source.length
 * / rowSize`; `rowSize` a positive integer; `lut` a `Float32Array` of
 * `256·channels` entries; `shape` the output shape, whose size is
 * `rows.length·rowSize`. Output: float32 of `shape` with
 * `out[k·rowSize + p] = lut[(p mod channels)·256 + source[rows[k]·rowSize + p]]`
 * (channels interleaved, as decoded images are). The arguments are checked by
 * {@link gatherByteRows} before the kernel runs.
 */
export const GATHER_BYTE_ROWS_KERNEL = 'MopruneGatherByteRows';

/** The attributes of {@link GATHER_BYTE_ROWS_KERNEL}. */
export interface GatherByteRowsAttrs {
  readonly source: Uint8Array;
  readonly rows: Uint32Array;
  readonly rowSize: number;
  readonly lut: Float32Array;
  readonly shape: readonly number[];
}

/** True when the active backend registers {@link GATHER_BYTE_ROWS_KERNEL}. */
export function hasGatherByteRowsKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(GATHER_BYTE_ROWS_KERNEL, backendName) !== undefined;
}

/**
 * The float32 rows `rows` of a byte array, each byte mapped through a lookup
 * table (see {@link GATHER_BYTE_ROWS_KERNEL} for the formula): an image batch
 * from decoded 8-bit images, normalized, in one call. `lut` holds 256 floats
 * per channel; channels are interleaved within a row (HWC). `shape` defaults to
 * `[rows.length, rowSize]`.
 *
 * Runs the backend's kernel when it has one (`@moprune/native` does);
 * otherwise a JavaScript loop into a new array — the same floats either way.
 *
 * @throws CoreError `INVALID_ARGUMENT` when `rowSize` is not a positive
 *   integer, `source` is not whole rows, `lut` is not a non-empty multiple of
 *   256 whose channel count divides `rowSize`, a row index is out of range, or
 *   `shape`'s size is not `rows.length·rowSize`.
 */
export function gatherByteRows(
  source: Uint8Array,
  rows: Uint32Array,
  rowSize: number,
  lut: Float32Array,
  shape: readonly number[] = [rows.length, rowSize],
): tf.Tensor {
  const problems: string[] = [];
  if (!Number.isInteger(rowSize) || rowSize <= 0)
    problems.push(`rowSize must be a positive integer, got ${rowSize}`);
  const channels = lut.length / 256;
  if (!Number.isInteger(channels) || channels < 1)
    problems.push(`lut must hold 256 entries per channel, got ${lut.length}`);
  if (problems.length === 0) {
    if (rowSize % channels !== 0)
      problems.push(`rowSize ${rowSize} is not a multiple of the ${channels} channels`);
    if (source.length % rowSize !== 0)
      problems.push(`source holds ${source.length} bytes, not whole rows of ${rowSize}`);
    const count = source.length / rowSize;
    for (let k = 0; k < rows.length; k++) {
      if (rows[k]! >= count) {
        problems.push(`row index ${rows[k]} (at ${k}) is past the ${Math.floor(count)} rows`);
        break;
      }
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== rows.length * rowSize)
      problems.push(
        `shape [${shape.join(', ')}] holds ${size} values, not ${rows.length} rows of ${rowSize}`,
      );
  }
  if (problems.length > 0) throw new CoreError('INVALID_ARGUMENT', `gatherByteRows: ${problems.join('; ')}`);
  if (hasGatherByteRowsKernel()) {
    const attrs: GatherByteRowsAttrs = { source, rows, rowSize, lut, shape };
    return tf
      .engine()
      .runKernel(GATHER_BYTE_ROWS_KERNEL, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.tensor(gatherByteRowsInto(source, rows, rowSize, lut, new Float32Array(rows.length * rowSize)), [
    ...shape,
  ]);
}

/** The fallback's loop: one row at a time, the channel counted rather than taken modulo. */
function gatherByteRowsInto(
  source: Uint8Array,
  rows: Uint32Array,
  rowSize: number,
  lut: Float32Array,
  out: Float32Array,
): Float32Array {
  const channels = lut.length / 256;
  for (let k = 0; k < rows.length; k++) {
    const from = rows[k]! * rowSize;
    const to = k * rowSize;
    if (channels === 1) {
      for (let p = 0; p < rowSize; p++) out[to + p] = lut[source[from + p]!]!;
    } else {
      for (let p = 0; p < rowSize; p += channels) {
        for (let c = 0; c < channels; c++) out[to + p + c] = lut[c * 256 + source[from + p + c]!]!;
      }
    }
  }
  return out;
}
