import { CoreError } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { Network } from '../network-types.js';
import type { EvaluationResult, GateValues } from './evaluate.js';

/** What {@link TrainCallback.onStepEnd} sees after every optimizer step. */
export interface StepInfo {
  /** 0-based global step that just finished. */
  readonly step: number;
  readonly epoch: number;
  /** 0-based index of the batch in its epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** The rate the step used. */
  readonly learningRate: number;
  /** Objective values at the start of the step, by objective key (name, `#i`-suffixed when names repeat). */
  readonly values: Readonly<Record<string, number>>;
  /** The solver's combination weights. */
  readonly weights: readonly number[];
  /** Whatever else the solver logged. */
  readonly extra: Readonly<Record<string, number>>;
  /** The network after the step (pruners included). */
  readonly net: Network;
}

/** What {@link TrainCallback.onEpochEnd} sees after every epoch. */
export interface EpochInfo {
  readonly epoch: number;
  /** Steps completed so far (global). */
  readonly step: number;
  /** The rate of the epoch's last step. */
  readonly learningRate: number;
  /** Mean objective values over the epoch's steps. */
  readonly train: Readonly<Record<string, number>>;
  /** Validation figures, when validation ran this epoch. */
  readonly validation?: EvaluationResult;
  /** Figures of the run's `metrics` function (sparsity, nnz …). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly net: Network;
  /** The pruners' deterministic (evaluation) gates at the end of the epoch; empty without gates. */
  readonly gates: Readonly<Record<string, GateValues>>;
}

/** Progress after every step, for progress bars. */
export interface ProgressInfo {
  /** Steps completed (global). */
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly epochs: number;
  /** Batches completed in the current epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** Wall time of the whole run so far, previous sessions included (ms). */
  readonly elapsedMs: number;
  /** Steps per second in this session. */
  readonly stepsPerSecond: number;
  /** Estimated time to the end of training at this session's rate (ms); evaluation time excluded. */
  readonly etaMs: number;
}

/** `'stop'` ends training cleanly (a checkpoint is written and the run is marked finished). */
export type CallbackSignal = undefined | 'stop';

/**
 * A training callback. A callback with state (early stopping's patience
 * counter) implements `state`/`load`, and is checkpointed under its `name`.
 */
export interface TrainCallback {
  /** Unique within a run; the key of its checkpointed state. */
  readonly name: string;
  onStepEnd?(info: StepInfo): CallbackSignal | undefined | Promise<CallbackSignal | undefined>;
  onEpochEnd?(info: EpochInfo): CallbackSignal | undefined | Promise<CallbackSignal | undefined>;
  onProgress?(info: ProgressInfo): void;
  state?(): JsonObject;
  load?(state: JsonObject): void;
}

/** Options of {@link earlyStopping}. */
export interface EarlyStoppingOptions {
  /**
   * The figure to watch after each epoch: `'validation.loss'` (mean over
   * tasks), `'validation.accuracy'` (mean over tasks), one task's
   * `'validation.loss.<t>'` / `'validation.accuracy.<t>'` (t the 0-based output index),
   * `'validation.objectives.<name>'`, `'train.<objective>'` or `'metrics.<name>'`.
   * @default 'validation.loss'
   */
  readonly monitor?: string;
  /** Whether smaller or larger is better. @default 'max' for accuracies, else 'min' */
  readonly mode?: 'min' | 'max';
  /** Epochs without improvement before stopping (≥ 1). */
  readonly patience: number;
  /** Smallest change that counts as improvement. @default 0 */
  readonly minDelta?: number;
}

/** Accuracies (the mean or one task's, `validation.accuracy.<t>`) are maximized, everything else minimized. */
const defaultMode = (monitor: string): 'min' | 'max' => (/accuracy(\.\d+)?$/.test(monitor) ? 'max' : 'min');

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * Reads a monitored figure from an epoch's info.
 * @returns undefined when the figure was not computed this epoch (e.g. no validation).
 */
export function monitoredValue(info: EpochInfo, monitor: string): number | undefined {
  if (monitor === 'validation.loss') return info.validation ? mean(info.validation.loss) : undefined;
  if (monitor === 'validation.accuracy') return info.validation ? mean(info.validation.accuracy) : undefined;
  const task = /^validation\.(loss|accuracy)\.(\d+)$/.exec(monitor);
  if (task) {
    if (!info.validation) return undefined;
    const figures = task[1] === 'loss' ? info.validation.loss : info.validation.accuracy;
    const t = Number(task[2]);
    if (t >= figures.length) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `monitor '${monitor}' names task ${t}, the network has ${figures.length} task(s)`,
        { details: { monitor } },
      );
    }
    return figures[t];
  }
  if (monitor.startsWith('validation.objectives.')) {
    return info.validation?.objectives[monitor.slice('validation.objectives.'.length)];
  }
  if (monitor.startsWith('train.')) return info.train[monitor.slice('train.'.length)];
  if (monitor.startsWith('metrics.')) return info.metrics[monitor.slice('metrics.'.length)];
  throw new CoreError('INVALID_ARGUMENT', `unknown monitor '${monitor}'`, { details: { monitor } });
}

/**
 * Patience-based early stopping: stops when the monitored figure has not
 * improved by more than `minDelta` for `patience` consecutive epochs. Epochs
 * where the figure is missing neither improve nor count. Its counters are
 * checkpointed, so a resumed run stops at the same epoch.
 */
export function earlyStopping(options: EarlyStoppingOptions): TrainCallback & {
  /** Epoch of the best value so far (−1 before the first). */
  readonly bestEpoch: number;
  /** Best value so far. */
  readonly best: number | undefined;
} {
  const monitor = options.monitor ?? 'validation.loss';
  const mode = options.mode ?? defaultMode(monitor);
  const minDelta = options.minDelta ?? 0;
  if (!Number.isInteger(options.patience) || options.patience < 1) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `earlyStopping patience must be an integer ≥ 1, got ${options.patience}`,
    );
  }
  let best: number | undefined;
  let bestEpoch = -1;
  let wait = 0;
  return {
    name: `earlyStopping:${monitor}`,
    get best() {
      return best;
    },
    get bestEpoch() {
      return bestEpoch;
    },
    onEpochEnd(info) {
      const v = monitoredValue(info, monitor);
      if (v === undefined || Number.isNaN(v)) return undefined;
      const improved = best === undefined || (mode === 'min' ? v < best - minDelta : v > best + minDelta);
      if (improved) {
        best = v;
        bestEpoch = info.epoch;
        wait = 0;
        return undefined;
      }
      wait += 1;
      return wait >= options.patience ? 'stop' : undefined;
    },
    state() {
      return { best: best ?? null, bestEpoch, wait };
    },
    load(state) {
      best = typeof state.best === 'number' ? state.best : undefined;
      bestEpoch = typeof state.bestEpoch === 'number' ? state.bestEpoch : -1;
      wait = typeof state.wait === 'number' ? state.wait : 0;
    },
  };
}

/** A condition an epoch must meet to count for {@link keepBest} (e.g. Hotegni's minimum sparsity). */
export interface KeepBestRequirement {
  /** A figure as in {@link EarlyStoppingOptions.monitor}, e.g. `'metrics.sparsity'`. */
  readonly monitor: string;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
}

/** Options of {@link keepBest}. */
export interface KeepBestOptions {
  /**
   * Keeps the snapshot: called with the network at each new best epoch, its
   * step and the epoch's figures (`epoch`, `monitor`, `value`, `gates`). In
   * Node, `(net, step, extra) => saveNetworkSnapshot(dir, net, step, extra)`
   * from `@moprune/core/node` (a run uses `<runDir>/best`).
   */
  readonly save: (net: Network, step: number, extra: JsonObject) => void;
  /** @default 'validation.accuracy' */
  readonly monitor?: string;
  /** @default 'max' for accuracies (also one task's, `validation.accuracy.<t>`), else 'min' */
  readonly mode?: 'min' | 'max';
  /** Only epochs meeting every requirement qualify. @default [] */
  readonly require?: readonly KeepBestRequirement[];
}

/**
 * Keeps a snapshot of the network (spec, weights, masks) at its best epoch by
 * the monitored figure, among epochs meeting `require` — the
 * "best-validation checkpoint" of Bonetta et al. (2023) and, with
 * `require: [{ monitor: 'metrics.sparsity', min }]`, of Hotegni et al. (2023).
 * Ties keep the earlier epoch. The pruners' evaluation gates of that epoch are
 * saved with it (`extra.gates`, for `evaluateNetwork`'s `gates`). In Node, a run
 * saves it with `saveNetworkSnapshot` and loads it with `loadNetworkSnapshot(dir)`
 * (`@moprune/core/node`).
 */
export function keepBest(options: KeepBestOptions): TrainCallback & {
  readonly best: number | undefined;
  readonly bestEpoch: number;
} {
  const monitor = options.monitor ?? 'validation.accuracy';
  const mode = options.mode ?? defaultMode(monitor);
  let best: number | undefined;
  let bestEpoch = -1;
  return {
    name: `keepBest:${monitor}`,
    get best() {
      return best;
    },
    get bestEpoch() {
      return bestEpoch;
    },
    onEpochEnd(info) {
      const v = monitoredValue(info, monitor);
      if (v === undefined || Number.isNaN(v)) return undefined;
      for (const r of options.require ?? []) {
        const x = monitoredValue(info, r.monitor);
        if (x === undefined || (r.min !== undefined && x < r.min) || (r.max !== undefined && x > r.max)) {
          return undefined;
        }
      }
      if (best !== undefined && !(mode === 'min' ? v < best : v > best)) return undefined;
      best = v;
      bestEpoch = info.epoch;
      options.save(info.net, info.step, {
        epoch: info.epoch,
        monitor,
        value: v,
        gates: info.gates as unknown as JsonObject,
      });
      return undefined;
    },
    state() {
      return { best: best ?? null, bestEpoch };
    },
    load(state) {
      best = typeof state.best === 'number' ? state.best : undefined;
      bestEpoch = typeof state.bestEpoch === 'number' ? state.bestEpoch : -1;
    },
  };
}
