import {
  appendFileSync,
  existsSync,
  mkdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { RunStore } from '@moprune/core';
import { loadLatestCheckpoint, writeCheckpoint } from './checkpoint.js';

/**
 * The {@link RunStore} of a run directory: the metrics log is
 * `runDir/metrics.jsonl` (appended line by line), the checkpoints are
 * `runDir/checkpoint/ckpt-<step>/` written by {@link writeCheckpoint} (atomic,
 * SHA-256-verified, retention that never keeps a corrupt one in place of a
 * valid one) and read back by {@link loadLatestCheckpoint}.
 *
 * ```ts
 * import { train } from '@moprune/core';
 * import { nodeRunStore } from '@moprune/core/node';
 * await train({ ...options, store: nodeRunStore('results/run-1') });
 * ```
 */
export function nodeRunStore(runDir: string): RunStore {
  const log = join(runDir, 'metrics.jsonl');
  const ckpt = join(runDir, 'checkpoint');
  return {
    location: runDir,
    checkpointLocation: ckpt,
    open: () => mkdirSync(runDir, { recursive: true }),
    resetLog: () => writeFileSync(log, ''),
    truncateLog: (bytes) => {
      if (existsSync(log) && statSync(log).size > bytes) truncateSync(log, bytes);
    },
    appendLog: (text) => appendFileSync(log, text),
    clearCheckpoints: () => rmSync(ckpt, { recursive: true, force: true }),
    writeCheckpoint: (state, options) => writeCheckpoint(ckpt, state, options),
    loadLatestCheckpoint: (options) => loadLatestCheckpoint(ckpt, options),
  };
}
