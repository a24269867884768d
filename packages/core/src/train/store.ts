import type { CoreError } from '../errors.js';
import type { ComponentState } from '../interfaces.js';

/** A checkpoint read back from a {@link RunStore}. */
export interface LoadedCheckpoint {
  /** Where the checkpoint lives (in Node: its directory). */
  readonly path: string;
  /** The file to name when the checkpoint verifies but does not fit the run (in Node: its `manifest.json`). */
  readonly manifest: string;
  /** Global step the checkpoint resumes at (steps completed). */
  readonly step: number;
  readonly state: ComponentState;
}

/** Options of {@link RunStore.writeCheckpoint} (and of `writeCheckpoint` in `@moprune/core/node`). */
export interface WriteCheckpointOptions {
  /** Global step (names the checkpoint: `ckpt-<step>` in Node). */
  readonly step: number;
  /**
   * How many checkpoints to keep: this one and the newest `keep − 1` valid ones
   * of lower steps (corrupt ones are quarantined and do not count). @default 2
   */
  readonly keep?: number;
  /** Called for every checkpoint found corrupt (and quarantined) while applying retention. */
  readonly onCorrupt?: (error: CoreError) => void;
}

/** Options of {@link RunStore.loadLatestCheckpoint} (and of `loadLatestCheckpoint` in `@moprune/core/node`). */
export interface LoadLatestOptions {
  /**
   * Called for every checkpoint that was refused before a good one was found;
   * the error names the bad file (`details.file`), the checkpoint
   * (`details.checkpoint`) and, when quarantined, where it went (`details.quarantined`).
   */
  readonly onCorrupt?: (error: CoreError) => void;
  /**
   * Further checks of a checkpoint that verified (say, that its arrays fit the
   * network it is restored into): a CoreError `CHECKPOINT_CORRUPT` refuses it
   * like a corrupt file (the next older one is tried); any other error propagates.
   */
  readonly accept?: (checkpoint: LoadedCheckpoint) => void;
  /** Set refused checkpoints aside (in Node: rename them `corrupt-ckpt-…`) so that nothing reuses them. @default true */
  readonly quarantine?: boolean;
}

/**
 * Where {@link train} keeps a run: its metrics log (JSON lines) and its checkpoints.
 * Core itself does no I/O — `train` without a store keeps nothing; in Node,
 * `nodeRunStore(runDir)` from `@moprune/core/node` keeps `runDir/metrics.jsonl`
 * and `runDir/checkpoint/` with atomic, verified writes. A store for another
 * platform (IndexedDB, memory) implements these methods; every method may throw,
 * and `train` lets the error through.
 */
export interface RunStore {
  /** Where the run lives, for messages (in Node: the run directory). */
  readonly location: string;
  /** Where the checkpoints live, for messages (in Node: `runDir/checkpoint`). */
  readonly checkpointLocation: string;
  /** Makes the storage exist; called once before anything else. */
  open(): void;
  /** Empties the metrics log (a fresh run owns its storage). */
  resetLog(): void;
  /** Cuts the metrics log back to its first `bytes` bytes (UTF-8) when it is longer (a resumed run). */
  truncateLog(bytes: number): void;
  /** Appends `text` — whole JSON lines, each ending in a newline — to the metrics log. */
  appendLog(text: string): void;
  /**
   * Releases what the store holds open between calls (in Node: the metrics log's file
   * descriptor). {@link train} calls it once when it returns or throws; a later call of
   * any other method reopens what it needs. Optional: a store that holds nothing open
   * leaves it out.
   */
  close?(): void;
  /** Removes every checkpoint (a fresh run). */
  clearCheckpoints(): void;
  /** Writes a checkpoint of `state`; a crash at any point must leave the previous one usable. @returns where it went. */
  writeCheckpoint(state: ComponentState, options: WriteCheckpointOptions): string;
  /**
   * The newest checkpoint that verifies and passes `options.accept`.
   * @returns undefined when there is no checkpoint at all.
   * @throws CoreError `CHECKPOINT_CORRUPT` when checkpoints exist but none is usable.
   */
  loadLatestCheckpoint(options?: LoadLatestOptions): LoadedCheckpoint | undefined;
}

/** Bytes of `text` in UTF-8 (what a store's log offsets count). */
export function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}
