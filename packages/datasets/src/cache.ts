import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { JsonObject } from '@moprune/core';

/**
 * Built datasets are cached in one file:
 * `MPDSCACHE\n` (10 bytes) · header length (uint32 little-endian) · header
 * (UTF-8 JSON: format version, kind, seed, build parameters, source digest,
 * section sizes, SHA-256 of the payload) · payload (the sections back to back).
 * A file whose magic, header, sizes or checksum do not match — or that was
 * built with other parameters or from other source data — is never used.
 */
const MAGIC = Buffer.from('MPDSCACHE\n', 'latin1');

/** Version of the cache layout and of the builders' output; bump it when either changes. */
export const CACHE_FORMAT_VERSION = 1;

/** What identifies a build: a cache file is used only when all of it matches. */
export interface CacheKey {
  /** Builder name, e.g. `'multi-mnist'`. */
  readonly kind: string;
  /** Builder version (its output for the same inputs changes only with it). */
  readonly version: number;
  readonly seed: number;
  /** Every other build parameter. */
  readonly params: JsonObject;
  /** Digest of the source data the build read. */
  readonly sourceDigest: string;
}

interface Header extends CacheKey {
  readonly format: number;
  readonly sections: { readonly name: string; readonly bytes: number }[];
  readonly checksum: string;
}

/** Why {@link readCache} did not return data. */
export type CacheMiss = 'missing' | 'corrupt' | 'stale';

/** The default cache directory: `MOPRUNE_CACHE_DIR`, else `~/.cache/moprune`. */
export function defaultCacheDir(): string {
  return process.env.MOPRUNE_CACHE_DIR || join(homedir(), '.cache', 'moprune');
}

function sha256(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** SHA-256 of the given byte arrays, as a source digest. */
export function digestOf(parts: readonly Uint8Array[]): string {
  return sha256(parts);
}

function sameKey(a: CacheKey, b: CacheKey): boolean {
  return (
    a.kind === b.kind &&
    a.version === b.version &&
    a.seed === b.seed &&
    a.sourceDigest === b.sourceDigest &&
    JSON.stringify(a.params) === JSON.stringify(b.params)
  );
}

/**
 * Reads the sections of a cache file built for `key`, checking magic, header,
 * key, sizes and checksum; anything else is a miss (never partial data).
 */
export async function readCache(
  file: string,
  key: CacheKey,
): Promise<{ sections: Record<string, Uint8Array> } | { miss: CacheMiss }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return { miss: 'missing' };
  }
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { miss: 'corrupt' };
  }
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4 + headerLength;
  if (start > bytes.length) return { miss: 'corrupt' };
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, start).toString('utf8')) as Header;
  } catch {
    return { miss: 'corrupt' };
  }
  if (header.format !== CACHE_FORMAT_VERSION || !Array.isArray(header.sections)) return { miss: 'corrupt' };
  const payload = bytes.subarray(start);
  const total = header.sections.reduce((a, s) => a + s.bytes, 0);
  if (total !== payload.length || sha256([payload]) !== header.checksum) return { miss: 'corrupt' };
  if (!sameKey(header, key)) return { miss: 'stale' };
  const sections: Record<string, Uint8Array> = {};
  let offset = 0;
  for (const s of header.sections) {
    sections[s.name] = new Uint8Array(payload.buffer, payload.byteOffset + offset, s.bytes);
    offset += s.bytes;
  }
  return { sections };
}

/**
 * Writes a cache file atomically: the bytes go to a temporary file beside the
 * target, which is then renamed over it, so a reader sees the old file or the
 * complete new one, never a partial write.
 */
export async function writeCache(
  file: string,
  key: CacheKey,
  sections: Record<string, Uint8Array>,
): Promise<void> {
  const parts = Object.values(sections);
  const header: Header = {
    format: CACHE_FORMAT_VERSION,
    kind: key.kind,
    version: key.version,
    seed: key.seed,
    params: key.params,
    sourceDigest: key.sourceDigest,
    sections: Object.entries(sections).map(([name, b]) => ({ name, bytes: b.length })),
    checksum: sha256(parts),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, [MAGIC, length, headerBytes, ...parts]);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
