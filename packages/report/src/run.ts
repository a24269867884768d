import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CHECKPOINT_FORMAT,
  CheckpointManifest,
  EpochRecord,
  ExperimentSummary,
  JsonObject,
  NetworkSpec,
} from '@moprune/core/node';
import { ReportError } from './errors.js';

/** One `type: 'step'` line of metrics.jsonl (written by core's training loop). */
export interface StepLine {
  readonly step: number;
  readonly epoch: number;
  readonly batch: number;
  readonly lr: number;
  /** Objective values at the start of the step, by objective key. */
  readonly objectives: Readonly<Record<string, number>>;
  /** The solver's combination weights (c1, c2 … or λ). */
  readonly weights: readonly number[];
  readonly extra?: Readonly<Record<string, number>>;
  /** Network figures, on steps where the run computed them (`metricsEverySteps`). */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly timeMs: number;
  readonly elapsedMs: number;
}

/** One `type: 'epoch'` line of metrics.jsonl. */
export type EpochLine = EpochRecord & { readonly elapsedMs: number };

/** Non-zero count of one trainable parameter of the final network, read from the run's last checkpoint. */
export interface ParamCount {
  /** Parameter name, `<node>/<role>` (e.g. `fc1/kernel`). */
  readonly name: string;
  readonly node: string;
  /** The part after the last `/`: `kernel`, `bias`, `gamma` … */
  readonly role: string;
  /** The spec op of the node (`dense`, `conv2d`, `batchNorm` …), or `'?'` when the spec does not name it. */
  readonly op: string;
  readonly shape: readonly number[];
  /** Entries of parameter ⊙ mask that are not 0. */
  readonly nonzero: number;
  readonly total: number;
}

/** Everything a report needs from one run directory (plain data). */
export interface RunData {
  /** The run directory as given. */
  readonly dir: string;
  /** config.json, or null when the directory has none. */
  readonly config: JsonObject | null;
  /** result.json. */
  readonly result: ExperimentSummary;
  /** Step lines of metrics.jsonl, in order. */
  readonly steps: readonly StepLine[];
  /** Epoch lines of metrics.jsonl, in order. */
  readonly epochs: readonly EpochLine[];
  /** Per-parameter counts of the final state, or null when the run kept no checkpoint. */
  readonly params: readonly ParamCount[] | null;
  /** Step of the checkpoint `params` come from. */
  readonly checkpointStep: number | null;
}

/** The manifest tag this reader understands; typed against core's schema so a change there fails to compile here. */
const FORMAT: typeof CHECKPOINT_FORMAT = 'moprune-checkpoint';
const VERSION = 1;

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ReportError('RUN_NOT_FOUND', `cannot read ${file}`, { cause: e, details: { file } });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ReportError('INVALID_RUN', `${file} is not valid JSON`, {
      cause: e,
      issues: [{ path: file, message: 'not valid JSON' }],
      details: { file },
    });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkResult(v: unknown, file: string): ExperimentSummary {
  const issues: { path: string; message: string }[] = [];
  if (!isObject(v)) {
    issues.push({ path: '', message: 'must be an object' });
  } else {
    if (!['completed', 'stopped', 'interrupted', 'failed'].includes(v.status as string))
      issues.push({ path: 'status', message: "must be 'completed', 'stopped', 'interrupted' or 'failed'" });
    if (typeof v.steps !== 'number') issues.push({ path: 'steps', message: 'must be a number' });
    if (typeof v.wallTimeMs !== 'number') issues.push({ path: 'wallTimeMs', message: 'must be a number' });
    if (!isObject(v.metrics)) issues.push({ path: 'metrics', message: 'must be an object' });
    if (!Array.isArray(v.history)) issues.push({ path: 'history', message: 'must be an array' });
  }
  if (issues.length > 0) {
    throw new ReportError(
      'INVALID_RUN',
      `${file} is not a run result: ${issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`,
      { issues, details: { file } },
    );
  }
  return v as unknown as ExperimentSummary;
}

/**
 * Parses metrics.jsonl. A final line without its newline is skipped: it is
 * what a process killed mid-append leaves behind, and the resumed run
 * truncates it anyway. Any other unparsable line is an error naming it.
 */
export function parseMetricsJsonl(
  text: string,
  file = 'metrics.jsonl',
): { steps: StepLine[]; epochs: EpochLine[] } {
  const steps: StepLine[] = [];
  const epochs: EpochLine[] = [];
  const lines = text.split('\n');
  // The element after the last newline is '' for a complete file, or the partial line of a killed writer.
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new ReportError('INVALID_RUN', `${file}:${i + 1} is not valid JSON`, {
        cause: e,
        issues: [{ path: `${file}:${i + 1}`, message: 'not valid JSON' }],
        details: { file, line: i + 1 },
      });
    }
    if (!isObject(v)) continue;
    if (v.type === 'step') steps.push(v as unknown as StepLine);
    else if (v.type === 'epoch') epochs.push(v as unknown as EpochLine);
  }
  return { steps, epochs };
}

interface CheckpointJsonView {
  readonly spec?: NetworkSpec;
  readonly params?: readonly string[];
  readonly masks?: readonly string[];
}

/**
 * Per-parameter non-zero counts of the newest checkpoint in `<runDir>/checkpoint`
 * (the one `latest` names), read straight from its documented on-disk format:
 * manifest.json (format `moprune-checkpoint`, version 1) and data.bin
 * (little-endian float32 arrays). Masked parameters count `param ⊙ mask`.
 * @returns null when the run has no checkpoint.
 * @throws ReportError `INVALID_RUN` on an unknown format or a short blob.
 */
export function readCheckpointCounts(runDir: string): { step: number; params: ParamCount[] } | null {
  const root = join(runDir, 'checkpoint');
  const latest = join(root, 'latest');
  if (!existsSync(latest)) return null;
  const dir = join(root, readFileSync(latest, 'utf8').trim());
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) return null;
  const manifest = readJson(manifestFile) as CheckpointManifest;
  if (!isObject(manifest) || manifest.format !== FORMAT || manifest.version !== VERSION) {
    throw new ReportError(
      'INVALID_RUN',
      `${manifestFile} is not a ${FORMAT} manifest of version ${VERSION}`,
      { details: { file: manifestFile } },
    );
  }
  const blobFile = join(dir, manifest.blob.file);
  const blob = readFileSync(blobFile);
  const json = manifest.json as unknown as CheckpointJsonView;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const arrays = new Map(manifest.arrays.map((a) => [a.key, a]));
  const read = (key: string): Float32Array | undefined => {
    const a = arrays.get(key);
    if (a === undefined) return undefined;
    if (a.offset + a.length * 4 > blob.byteLength) {
      throw new ReportError('INVALID_RUN', `${blobFile} is shorter than ${manifestFile} says`, {
        details: { file: blobFile, key },
      });
    }
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = view.getFloat32(a.offset + 4 * i, true);
    return out;
  };
  const ops = new Map((json.spec?.nodes ?? []).map((n) => [n.id, n.op as string]));
  const masked = new Set(json.masks ?? []);
  const params: ParamCount[] = [];
  for (const name of json.params ?? []) {
    const values = read(`param/${name}`);
    const entry = arrays.get(`param/${name}`);
    if (values === undefined || entry === undefined) continue;
    const mask = masked.has(name) ? read(`mask/${name}`) : undefined;
    let nonzero = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== 0 && (mask === undefined || mask[i] !== 0)) nonzero++;
    }
    const cut = name.lastIndexOf('/');
    const node = cut < 0 ? name : name.slice(0, cut);
    params.push({
      name,
      node,
      role: cut < 0 ? '' : name.slice(cut + 1),
      op: ops.get(node) ?? '?',
      shape: [...entry.shape],
      nonzero,
      total: values.length,
    });
  }
  return { step: manifest.step, params };
}

/**
 * Reads a run directory written by core's `runExperiment`: result.json
 * (required), config.json, metrics.jsonl and the last checkpoint (optional).
 * @throws ReportError `RUN_NOT_FOUND` without result.json, `INVALID_RUN` for malformed files.
 */
export function readRun(dir: string): RunData {
  const resultFile = join(dir, 'result.json');
  if (!existsSync(resultFile)) {
    throw new ReportError('RUN_NOT_FOUND', `${dir} is not a run directory: it has no result.json`, {
      details: { file: resultFile },
    });
  }
  const result = checkResult(readJson(resultFile), resultFile);
  const configFile = join(dir, 'config.json');
  const config = existsSync(configFile) ? (readJson(configFile) as JsonObject) : null;
  const metricsFile = join(dir, 'metrics.jsonl');
  const { steps, epochs } = existsSync(metricsFile)
    ? parseMetricsJsonl(readFileSync(metricsFile, 'utf8'), metricsFile)
    : { steps: [], epochs: [] };
  const counts = readCheckpointCounts(dir);
  return {
    dir,
    config,
    result,
    steps,
    epochs,
    params: counts?.params ?? null,
    checkpointStep: counts?.step ?? null,
  };
}

/** Subdirectories of `dir` (sorted by name) that hold a result.json: the runs of a sweep. */
export function listRunDirs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ReportError('RUN_NOT_FOUND', `${dir} is not a directory`, { details: { file: dir } });
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'result.json')))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}
