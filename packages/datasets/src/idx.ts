import { open, readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from './errors.js';

/** The contents of an IDX file of unsigned bytes. */
export interface IdxArray {
  /** Dimensions from the header, e.g. `[60000, 28, 28]` or `[60000]`. */
  readonly shape: readonly number[];
  /** The values, row-major, one byte each. */
  readonly data: Uint8Array;
}

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /** Required number of dimensions (3 for images, 1 for labels). @default any */
  readonly rank?: number;
}

/** IDX type code of unsigned bytes, the only element type MNIST-style files use. */
const UBYTE = 0x08;
/** Bytes read per system call: large enough to be fast, small enough to avoid a second full-size buffer. */
const CHUNK = 1 << 22;

function describeMagic(rank: number | undefined): string {
  const r = rank === undefined ? 'n' : String(rank);
  const magic = rank === undefined ? '0x000008nn' : `0x${(0x800 + rank).toString(16).padStart(8, '0')}`;
  return `${magic} (an IDX file of unsigned bytes with ${r} dimension${rank === 1 ? '' : 's'})`;
}

/**
 * Checks an IDX header and returns its dimensions and header length.
 * `fileLength` is the byte length of the whole (uncompressed) file.
 */
function parseHeader(head: Uint8Array, fileLength: number, file: string, rank: number | undefined) {
  if (fileLength < 4) {
    throw new DatasetError('TRUNCATED', `${file}: ${fileLength} bytes, too short for an IDX header`, {
      details: { file },
    });
  }
  const magic = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  const dims = head[3]!;
  if (
    head[0] !== 0 ||
    head[1] !== 0 ||
    head[2] !== UBYTE ||
    dims === 0 ||
    (rank !== undefined && dims !== rank)
  ) {
    throw new DatasetError(
      'BAD_MAGIC',
      `${file}: wrong magic number 0x${magic.toString(16).padStart(8, '0')}, expected ${describeMagic(rank)}`,
      { details: { file, magic } },
    );
  }
  const headerLength = 4 + 4 * dims;
  if (fileLength < headerLength) {
    throw new DatasetError(
      'TRUNCATED',
      `${file}: ${fileLength} bytes, too short for an IDX header with ${dims} dimensions (${headerLength} bytes)`,
      { details: { file } },
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, headerLength);
  const shape: number[] = [];
  let size = 1;
  for (let d = 0; d < dims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    if (n === 0) {
      throw new DatasetError('BAD_DIMENSIONS', `${file}: dimension ${d} is 0`, { details: { file, shape } });
    }
    shape.push(n);
    size *= n;
  }
  const expected = headerLength + size;
  if (fileLength < expected) {
    throw new DatasetError(
      'TRUNCATED',
      `${file}: truncated: the header declares shape [${shape.join(', ')}] (${expected} bytes) but the file has ${fileLength} bytes`,
      { details: { file, shape, expected, actual: fileLength } },
    );
  }
  if (fileLength > expected) {
    throw new DatasetError(
      'TRAILING_BYTES',
      `${file}: ${fileLength - expected} bytes after the data the header declares (shape [${shape.join(', ')}], ${expected} bytes)`,
      { details: { file, shape, expected, actual: fileLength } },
    );
  }
  return { shape, headerLength, size };
}

/**
 * Reads an IDX file of unsigned bytes (the MNIST file format). Checks the
 * magic number, the rank, each dimension and that the file length is exactly
 * header + product of dimensions, all before reading the data; then streams the
 * data from disk straight into one `Uint8Array` of the exact size (no second
 * full-size copy). A path ending in `.gz` is decompressed in memory first.
 * @throws DatasetError `MISSING_FILES`, `BAD_MAGIC`, `BAD_DIMENSIONS`, `TRUNCATED`, `TRAILING_BYTES`
 */
export async function readIdx(file: string, options: ReadIdxOptions = {}): Promise<IdxArray> {
  const { rank } = options;
  if (file.endsWith('.gz')) {
    const bytes = gunzipSync(await readFileOrThrow(file));
    const { shape, headerLength } = parseHeader(bytes.subarray(0, 64), bytes.length, file, rank);
    return { shape, data: new Uint8Array(bytes.subarray(headerLength)) };
  }
  const length = (await statOrThrow(file)).size;
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(Math.min(length, 4 + 4 * 255));
    await readFully(handle, head, 0);
    const { shape, headerLength, size } = parseHeader(head, length, file, rank);
    const data = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const n = Math.min(CHUNK, size - offset);
      const { bytesRead } = await handle.read(data, offset, n, headerLength + offset);
      if (bytesRead === 0) {
        throw new DatasetError(
          'TRUNCATED',
          `${file}: file ended after ${headerLength + offset} bytes while reading`,
          {
            details: { file },
          },
        );
      }
      offset += bytesRead;
    }
    return { shape, data };
  } finally {
    await handle.close();
  }
}

async function readFully(handle: Awaited<ReturnType<typeof open>>, into: Uint8Array, position: number) {
  let offset = 0;
  while (offset < into.length) {
    const { bytesRead } = await handle.read(into, offset, into.length - offset, position + offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
}

/** `stat` that turns a missing file into a {@link DatasetError} naming it. */
export async function statOrThrow(file: string) {
  try {
    return await stat(file);
  } catch (cause) {
    throw new DatasetError('MISSING_FILES', `${file}: file not found`, { cause, details: { file } });
  }
}

async function readFileOrThrow(file: string) {
  try {
    return await readFile(file);
  } catch (cause) {
    throw new DatasetError('MISSING_FILES', `${file}: file not found`, { cause, details: { file } });
  }
}

/**
 * Encodes an array of unsigned bytes as an IDX file (the inverse of
 * {@link readIdx}), e.g. to export a built dataset to the MNIST format.
 * @throws DatasetError `BAD_DIMENSIONS` when `data.length` is not the product of `shape`
 */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 0 || shape.length > 255 || size !== data.length || shape.some((d) => !(d > 0))) {
    throw new DatasetError(
      'BAD_DIMENSIONS',
      `encodeIdx: shape [${shape.join(', ')}] does not match ${data.length} bytes`,
    );
  }
  const out = new Uint8Array(4 + 4 * shape.length + size);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = shape.length;
  shape.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, 4 + 4 * shape.length);
  return out;
}
