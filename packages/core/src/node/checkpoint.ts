import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ComponentState,
  CoreError,
  type JsonObject,
  type LoadedCheckpoint,
  type LoadLatestOptions,
  type StateArray,
  type WriteCheckpointOptions,
} from '@moprune/core';
import { fsyncDir, tempPathFor, writeFileAtomic, writeFileDurable } from './atomic.js';

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
  // resumed from an older one). Of the older ones the newest `keep − 1` that verify stay: a corrupt
  // one is quarantined (renamed, never used again) and does not count, so retention never leaves
  // a corrupt checkpoint in place of a valid one — and nothing older is removed unless the one just
  // written verifies.
  const others = listCheckpoints(root).filter((c) => c.name !== name);
  for (const newer of others.filter((c) => c.step > options.step)) {
    rmSync(join(root, newer.name), { recursive: true, force: true });
  }
  let kept = 0;
  let fresh = valid;
  if (!fresh) {
    try {
      readCheckpoint(final);
      fresh = true;
    } catch (e) {
      options.onCorrupt?.(asCorrupt(final, e, quarantineCheckpoint(root, name)));
    }
  }
  for (const old of others.filter((c) => c.step < options.step)) {
    const dir = join(root, old.name);
    if (fresh && kept >= keep - 1) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    try {
      readCheckpoint(dir);
      kept += 1;
    } catch (e) {
      options.onCorrupt?.(asCorrupt(dir, e, quarantineCheckpoint(root, old.name)));
    }
  }
  return final;
}

/** Prefix of a quarantined checkpoint directory (`corrupt-ckpt-…`): never read, listed or removed by moprune. */
export const QUARANTINE_PREFIX = 'corrupt-';

/**
 * Moves the checkpoint directory `name` in `root` out of the way: renamed to
 * `corrupt-<name>` (`corrupt-<name>-2`, … when taken), where no reader looks
 * and no retention removes it, so it can be inspected.
 * @returns the new path, or undefined when the directory is gone.
 */
export function quarantineCheckpoint(root: string, name: string): string | undefined {
  const from = join(root, name);
  if (!existsSync(from)) return undefined;
  let to = join(root, `${QUARANTINE_PREFIX}${name}`);
  for (let i = 2; existsSync(to); i++) to = join(root, `${QUARANTINE_PREFIX}${name}-${i}`);
  try {
    renameSync(from, to);
    return to;
  } catch {
    return undefined;
  }
}

/** `e` as a `CHECKPOINT_CORRUPT` error naming its file, with where the checkpoint went. */
function asCorrupt(dir: string, e: unknown, quarantined: string | undefined): CoreError {
  const base =
    e instanceof CoreError && e.code === 'CHECKPOINT_CORRUPT'
      ? e
      : corrupt(dir, e instanceof Error ? e.message : String(e), e);
  return new CoreError('CHECKPOINT_CORRUPT', base.message, {
    cause: base.cause ?? e,
    details: { ...base.details, checkpoint: dir, ...(quarantined === undefined ? {} : { quarantined }) },
  });
}

/**
 * Checkpoint directories in `root`, newest (highest step) first. The entry types come with the
 * listing (no stat per entry), so a checkpoint that another process's retention removes meanwhile
 * cannot make the listing throw.
 */
export function listCheckpoints(root: string): { name: string; step: number }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .map((d) => ({ name: d.name, m: DIR_RE.exec(d.name), dir: d.isDirectory() }))
    .filter((e) => e.m !== null && e.dir)
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
  return {
    path: dir,
    manifest: join(dir, MANIFEST),
    step: manifest.step,
    state: { json: manifest.json, arrays },
  };
}

/**
 * The newest valid checkpoint in `root`: the highest step whose directory
 * verifies (and passes `accept`). (`latest` is a convenience pointer for
 * people and tools; a crash between a checkpoint's rename and the pointer's
 * update leaves a complete, newer directory that the pointer does not name
 * yet, and that one is used.) Refused ones are reported through `onCorrupt`
 * and quarantined (renamed `corrupt-ckpt-…`), never deleted.
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
  const refuse = (name: string, e: unknown) => {
    const dir = join(root, name);
    const err = asCorrupt(
      dir,
      e,
      options.quarantine === false ? undefined : quarantineCheckpoint(root, name),
    );
    refused.push(err);
    options.onCorrupt?.(err);
  };
  for (const name of names) {
    let ckpt: LoadedCheckpoint;
    try {
      ckpt = readCheckpoint(join(root, name));
    } catch (e) {
      refuse(name, e);
      continue;
    }
    try {
      options.accept?.(ckpt);
      return ckpt;
    } catch (e) {
      // `accept` refuses with CHECKPOINT_CORRUPT; anything else (a checkpoint of another run) is the caller's error.
      if (!(e instanceof CoreError && e.code === 'CHECKPOINT_CORRUPT')) throw e;
      refuse(name, e);
    }
  }
  throw new CoreError('CHECKPOINT_CORRUPT', `no valid checkpoint in ${root}`, {
    issues: refused.map((e) => ({ path: String(e.details.file ?? ''), message: e.message })),
    details: { file: root },
  });
}
