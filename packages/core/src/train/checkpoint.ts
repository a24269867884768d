import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '../errors.js';
import type { ComponentState } from '../interfaces.js';
import type { JsonObject } from '../json.js';
import { fsyncDir, tempPathFor, writeFileAtomic, writeFileDurable } from './atomic.js';
import type { StateArray } from './component-state.js';

/** The manifest format tag and version; readers refuse anything else. */
export const CHECKPOINT_FORMAT = 'moprune-checkpoint';
/** Current manifest version. */
export const CHECKPOINT_VERSION = 1;

/** Where one array lives in the blob. */
export interface CheckpointArrayEntry {
  readonly key: string;
  readonly shape: readonly number[];
  /** Byte offset in the blob. */
  readonly offset: number;
  /** Number of float32 values. */
  readonly length: number;
}

/**
 * `manifest.json` of one checkpoint directory. All arrays are float32,
 * little-endian, concatenated in `arrays` order into `data.bin`; the blob's
 * SHA-256 and byte size are recorded here, and the manifest is written after
 * the blob, so a manifest that parses names a blob that was completely written.
 */
export interface CheckpointManifest {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  /** Global step the checkpoint resumes at (steps completed). */
  readonly step: number;
  /** ISO time of writing (informational; not part of the state). */
  readonly createdAt: string;
  readonly blob: { readonly file: string; readonly bytes: number; readonly sha256: string };
  readonly arrays: readonly CheckpointArrayEntry[];
  /** The JSON half of the state. */
  readonly json: JsonObject;
}

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** Global step (names the directory `ckpt-<step>`). */
  readonly step: number;
  /** How many checkpoint directories to keep: this one and the newest `keep − 1` of lower steps. @default 2 */
  readonly keep?: number;
}

/** What {@link readCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The checkpoint directory. */
  readonly path: string;
  readonly step: number;
  readonly state: ComponentState;
}

const BLOB = 'data.bin';
const MANIFEST = 'manifest.json';
const LATEST = 'latest';
const DIR_RE = /^ckpt-(\d+)$/;

/** Directory name of the checkpoint of `step` (zero-padded so names sort by step). */
export function checkpointDirName(step: number): string {
  return `ckpt-${String(step).padStart(10, '0')}`;
}

/**
 * Writes a checkpoint of `state` into `root` (usually `<runDir>/checkpoint`):
 * `root/ckpt-<step>/{data.bin, manifest.json}` is built in a temp directory
 * (each file fsynced), renamed into place, then `root/latest` is replaced
 * atomically with the directory name; older directories beyond `keep`, and
 * any of higher steps (an abandoned timeline), are removed last. A crash at
 * any point leaves the previous checkpoint usable.
 * Rewriting a step that already has a valid checkpoint is a no-op (same
 * position of a deterministic run means the same state).
 * @returns the checkpoint directory.
 */
export function writeCheckpoint(
  root: string,
  state: ComponentState,
  options: WriteCheckpointOptions,
): string {
  const keep = options.keep ?? 2;
  mkdirSync(root, { recursive: true });
  const name = checkpointDirName(options.step);
  const final = join(root, name);
  let valid = false;
  if (existsSync(final)) {
    try {
      readCheckpoint(final);
      valid = true;
    } catch {
      rmSync(final, { recursive: true, force: true });
    }
  }
  if (!valid) {
    const tmp = tempPathFor(final);
    mkdirSync(tmp, { recursive: true });
    try {
      const entries: CheckpointArrayEntry[] = [];
      let bytes = 0;
      const keys = Object.keys(state.arrays);
      for (const key of keys) {
        const a = state.arrays[key]!;
        entries.push({ key, shape: [...a.shape], offset: bytes, length: a.data.length });
        bytes += a.data.length * 4;
      }
      const blob = Buffer.alloc(bytes);
      for (const [i, key] of keys.entries()) {
        const a = state.arrays[key]!;
        const view = new Float32Array(blob.buffer, blob.byteOffset + entries[i]!.offset, a.data.length);
        view.set(a.data);
      }
      const sha256 = createHash('sha256').update(blob).digest('hex');
      writeFileDurable(join(tmp, BLOB), blob);
      const manifest: CheckpointManifest = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        step: options.step,
        createdAt: new Date().toISOString(),
        blob: { file: BLOB, bytes, sha256 },
        arrays: entries,
        json: state.json,
      };
      writeFileDurable(join(tmp, MANIFEST), JSON.stringify(manifest));
      fsyncDir(tmp);
      renameSync(tmp, final);
      fsyncDir(root);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  writeFileAtomic(join(root, LATEST), `${name}\n`);
  // Directories of higher steps belong to an abandoned timeline (refused as corrupt when this run
  // resumed from an older one); of the older ones the newest `keep − 1` stay.
  const others = listCheckpoints(root).filter((c) => c.name !== name);
  const stale = [
    ...others.filter((c) => c.step > options.step),
    ...others.filter((c) => c.step < options.step).slice(keep - 1),
  ];
  for (const old of stale) rmSync(join(root, old.name), { recursive: true, force: true });
  return final;
}

/** Checkpoint directories in `root`, newest (highest step) first. */
export function listCheckpoints(root: string): { name: string; step: number }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => ({ name, m: DIR_RE.exec(name) }))
    .filter((e) => e.m !== null && statSync(join(root, e.name)).isDirectory())
    .map((e) => ({ name: e.name, step: Number(e.m![1]) }))
    .sort((a, b) => b.step - a.step);
}

function corrupt(file: string, why: string, cause?: unknown): CoreError {
  return new CoreError('CHECKPOINT_CORRUPT', `checkpoint file ${file} is corrupt: ${why}`, {
    details: { file },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Reads and verifies one checkpoint directory.
 * @throws CoreError `CHECKPOINT_NOT_FOUND` when it has no manifest,
 *   `CHECKPOINT_CORRUPT` (naming the file) when the manifest does not parse or
 *   is not a moprune checkpoint, the blob is missing or truncated, or its
 *   SHA-256 differs from the manifest's.
 */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new CoreError('CHECKPOINT_NOT_FOUND', `no checkpoint manifest at ${manifestPath}`, {
      details: { file: manifestPath },
    });
  }
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  } catch (e) {
    throw corrupt(manifestPath, 'not valid JSON', e);
  }
  if (
    manifest?.format !== CHECKPOINT_FORMAT ||
    manifest.version !== CHECKPOINT_VERSION ||
    typeof manifest.blob?.sha256 !== 'string' ||
    !Array.isArray(manifest.arrays)
  ) {
    throw corrupt(manifestPath, `not a version-${CHECKPOINT_VERSION} ${CHECKPOINT_FORMAT} manifest`);
  }
  const blobPath = join(dir, manifest.blob.file);
  let blob: Buffer;
  try {
    blob = readFileSync(blobPath);
  } catch (e) {
    throw corrupt(blobPath, 'missing or unreadable', e);
  }
  if (blob.length !== manifest.blob.bytes) {
    throw corrupt(blobPath, `${blob.length} bytes, the manifest says ${manifest.blob.bytes} (truncated?)`);
  }
  const sha = createHash('sha256').update(blob).digest('hex');
  if (sha !== manifest.blob.sha256) {
    throw corrupt(blobPath, `SHA-256 ${sha} differs from the manifest's ${manifest.blob.sha256}`);
  }
  const arrays: Record<string, StateArray> = {};
  for (const e of manifest.arrays) {
    if (e.offset + e.length * 4 > blob.length) throw corrupt(blobPath, `array '${e.key}' runs past the end`);
    // Copy out of the file buffer: Float32Array needs 4-byte alignment and its own memory.
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(blob.subarray(e.offset, e.offset + e.length * 4));
    arrays[e.key] = { shape: [...e.shape], data };
  }
  return { path: dir, step: manifest.step, state: { json: manifest.json, arrays } };
}

/** Options of {@link loadLatestCheckpoint}. */
export interface LoadLatestOptions {
  /** Called for every checkpoint that was refused before a good one was found. */
  readonly onCorrupt?: (error: CoreError) => void;
}

/**
 * The newest valid checkpoint in `root`: the highest step whose directory
 * verifies. (`latest` is a convenience pointer for people and tools; a crash
 * between a checkpoint's rename and the pointer's update leaves a complete,
 * newer directory that the pointer does not name yet, and that one is used.)
 * Corrupt ones are reported through `onCorrupt` and skipped, never deleted.
 * @returns undefined when `root` holds no checkpoint at all.
 * @throws CoreError `CHECKPOINT_CORRUPT` when checkpoints exist but none verifies
 *   (its `issues` name every refused file).
 */
export function loadLatestCheckpoint(
  root: string,
  options: LoadLatestOptions = {},
): LoadedCheckpoint | undefined {
  const names = listCheckpoints(root).map((c) => c.name);
  if (names.length === 0) return undefined;
  const refused: CoreError[] = [];
  for (const name of names) {
    try {
      return readCheckpoint(join(root, name));
    } catch (e) {
      const err =
        e instanceof CoreError && e.code === 'CHECKPOINT_CORRUPT'
          ? e
          : corrupt(join(root, name), e instanceof Error ? e.message : String(e), e);
      refused.push(err);
      options.onCorrupt?.(err);
    }
  }
  throw new CoreError('CHECKPOINT_CORRUPT', `no valid checkpoint in ${root}`, {
    issues: refused.map((e) => ({ path: String(e.details.file ?? ''), message: e.message })),
    details: { file: root },
  });
}
