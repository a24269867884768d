import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JsonObject, writeJsonAtomic } from '@moprune/core/node';
import { SweepError } from './errors.js';

/** Where a trial stands in its sweep. */
export type TrialStatus = 'pending' | 'running' | 'done' | 'failed';

/** One trial in the state file (in the order the trials were proposed). */
export interface TrialRecord {
  readonly id: string;
  readonly configSha256: string;
  /** The grid values (or a strategy's labels) of the trial. */
  readonly labels?: JsonObject;
  status: TrialStatus;
  /** Attempts started (by this coordinator's executors; retries included). */
  attempts: number;
  /** The worker that ran (or runs) the last attempt. */
  worker?: string;
  /** The outcome's figures without the per-epoch history (the whole outcome is `<trial>/outcome.json`). */
  summary?: JsonObject;
  /** The last failure. */
  error?: { readonly code: string; readonly message: string };
}

/** A sweep's state file, `<store>/<sweep>/sweep-state.json`, rewritten atomically on every change. */
export interface SweepState {
  readonly format: 'moprune-sweep-state';
  readonly version: 1;
  readonly sweep: string;
  /** Identity of the sweep's trials (static) or strategy (adaptive): a restart must match it. */
  readonly fingerprint: string;
  executor: string;
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  readonly created: string;
  updated: string;
  trials: TrialRecord[];
}

/** The state file's name inside the sweep directory. */
export const STATE_FILE = 'sweep-state.json';

/** `<store>/<sweep>/sweep-state.json`. */
export function statePath(store: string, sweep: string): string {
  return join(store, sweep, STATE_FILE);
}

/**
 * The sweep's state, or undefined when the store has none.
 * @throws SweepError `STATE_CORRUPT` naming the file when it is not a sweep state of this sweep.
 */
export function readSweepState(store: string, sweep: string): SweepState | undefined {
  const file = statePath(store, sweep);
  if (!existsSync(file)) return undefined;
  let s: SweepState;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as SweepState;
  } catch (e) {
    throw new SweepError('STATE_CORRUPT', `${file} is not valid JSON (${(e as Error).message})`, {
      cause: e,
      details: { file },
    });
  }
  if (s?.format !== 'moprune-sweep-state' || s.sweep !== sweep || !Array.isArray(s.trials)) {
    throw new SweepError('STATE_CORRUPT', `${file} is not the state file of sweep '${sweep}'`, {
      details: { file },
    });
  }
  return s;
}

/** Writes the state atomically (temp file + rename), stamping `updated`. */
export function writeSweepState(store: string, state: SweepState): void {
  state.updated = new Date().toISOString();
  writeJsonAtomic(statePath(store, state.sweep), state);
}
