import * as tf from '@tensorflow/tfjs-core';
import { CoreError, type Issue } from '../errors.js';
import type {
  Batch,
  BatchOptions,
  ComponentState,
  Dataset,
  Objective,
  ObjectiveContext,
  Pruner,
  PrunerStepContext,
  PrunerStepResult,
  Solver,
  SolverStepResult,
  StepProblem,
} from '../interfaces.js';
import type { JsonObject, JsonValue } from '../json.js';
import type { Network, StateUpdate } from '../network-types.js';
import { Rng, type RngState } from '../rng.js';
import type { NetworkSpec } from '../spec.js';
import type { CallbackSignal, EpochInfo, ProgressInfo, StepInfo, TrainCallback } from './callbacks.js';
import { requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';
import {
  collectGateProbabilities,
  collectGates,
  type EvaluationResult,
  evaluateNetwork,
  evaluationGates,
} from './evaluate.js';
import { type LrScheduleConfig, learningRateAt, validateLrSchedule } from './schedules.js';
import { assignNetworkState, type NetworkStateJson, networkFromState, networkToState } from './snapshot.js';
import { type LoadedCheckpoint, type RunStore, utf8Bytes } from './store.js';
import { checkEnum, checkKnownKeys, checkNumber, isPlainObject, throwIfIssues } from './validate.js';

/** Batch options of the training split that the loop forwards to {@link Dataset.batches}. */
export interface TrainDataOptions {
  readonly layout?: BatchOptions['layout'];
  readonly labels?: BatchOptions['labels'];
  /** Use only the first `limit` training samples. */
  readonly limit?: number;
  /** @default false */
  readonly dropLast?: boolean;
}

/** When and on what to evaluate during training. */
export interface ValidationOptions {
  /** @default 'validation' */
  readonly split?: 'validation' | 'test';
  /** Evaluate every this many epochs (and after the last). @default 1 */
  readonly everyEpochs?: number;
  /** @default 256 */
  readonly batchSize?: number;
  /** Evaluate only the first `limit` samples. */
  readonly limit?: number;
}

/** Checkpoint cadence. */
export interface CheckpointOptions {
  /** Also checkpoint every this many steps (0 = only at epoch ends). @default 0 */
  readonly everySteps?: number;
  /** Checkpoint every this many epochs (the end of training is always checkpointed). @default 1 */
  readonly everyEpochs?: number;
  /** Checkpoint directories kept. @default 2 */
  readonly keep?: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /**
   * The network to train. The loop may replace it (pruner compaction, or a
   * resumed run whose checkpointed spec differs); every network it replaces,
   * this one included, is disposed by the loop. Use {@link TrainResult.net}.
   * When `train` throws, networks the loop built are disposed and this one is
   * left to the caller (`Network.dispose` is idempotent).
   */
  readonly net: Network;
  readonly dataset: Dataset;
  /** The objectives f_1..f_m. The first is the data objective {@link PrepareContext.dataGradients} refers to. */
  readonly objectives: readonly Objective[];
  /** The one solver that turns the objectives into an update. */
  readonly solver: Solver;
  /**
   * Pruners, called in order. Each gets its own persistent random stream, the
   * `rng` of every `afterStep`/`afterEpoch` context; a resumed run hands them a
   * new stream object continuing the checkpointed state, so pruners must draw
   * from the context's `rng`, not keep the one `init` received.
   * @default []
   */
  readonly pruners?: readonly Pruner[];
  /** Epochs to train (≥ 1). */
  readonly epochs: number;
  /**
   * Training batch size (integer ≥ 1), or a function of the epoch giving it — a
   * growing-batch schedule such as `growingBatchSchedule` of @moprune/solvers
   * (Liu & Vicente's SMG). The function must be pure: a resumed run calls it again.
   */
  readonly batchSize: number | ((epoch: number) => number);
  /** The run's one seed; every random stream is forked from it by name (see {@link streamSeeds}). */
  readonly seed: number;
  /**
   * Learning-rate schedule; the loop sets `solver.learningRate` before every
   * step. Without one the loop never touches the solver's rate.
   */
  readonly lrSchedule?: LrScheduleConfig;
  /** Base rate of the schedule. @default the solver's `learningRate` when the run starts */
  readonly baseLearningRate?: number;
  readonly data?: TrainDataOptions;
  /** Periodic evaluation; `false` disables it. @default { split: 'validation', everyEpochs: 1 } when the split is non-empty */
  readonly validation?: ValidationOptions | false;
  /** Evaluate the test split once training completes. @default true */
  readonly evaluateTest?: boolean;
  /**
   * Figures computed per epoch (and every `metricsEverySteps`) and logged:
   * sparsity, nnz, FLOPs … Pruners' own `metrics()` are logged beside them as
   * `<pruner name>.<figure>`.
   */
  readonly metrics?: (net: Network) => Readonly<Record<string, number>>;
  /** Also compute `metrics` every this many steps (0 = per epoch only). @default 0 */
  readonly metricsEverySteps?: number;
  /** Write a step line to metrics.jsonl every this many steps (0 = none). @default 1 */
  readonly logEverySteps?: number;
  /**
   * Where the run's metrics log and checkpoints go. Without it nothing is kept
   * (core does no I/O); in Node, `nodeRunStore(runDir)` from `@moprune/core/node`
   * writes `runDir/metrics.jsonl` and `runDir/checkpoint/`.
   */
  readonly store?: RunStore;
  /** Checkpoint cadence (needs `store`); `false` disables checkpoints. */
  readonly checkpoint?: CheckpointOptions | false;
  /**
   * Continue from the newest valid checkpoint in the store: `true`
   * requires one (CHECKPOINT_NOT_FOUND otherwise), `'auto'` starts fresh when
   * there is none. @default false (a fresh run; an old metrics.jsonl is truncated)
   */
  readonly resume?: boolean | 'auto';
  /** Aborting stops training at the next batch boundary after writing a checkpoint. */
  readonly signal?: AbortSignal;
  /** @default [] */
  readonly callbacks?: readonly TrainCallback[];
  /**
   * Told about every checkpoint refused — while resuming (it does not verify, or does not fit this
   * run) or while applying retention. Each is quarantined (renamed `corrupt-ckpt-…`) and logged to
   * metrics.jsonl as `{"type":"checkpoint","event":"corrupt",…}`; training goes on from the newest valid one.
   */
  readonly onCheckpointCorrupt?: (error: CoreError) => void;
}

/** One epoch's figures as recorded in the history (JSON). */
export interface EpochRecord {
  readonly epoch: number;
  readonly step: number;
  readonly learningRate: number;
  readonly train: Readonly<Record<string, number>>;
  /**
   * The solver's per-step weights (SMGD's c, a weighted sum's λ …) averaged over
   * the epoch's steps — the per-epoch figure Keras's logger reports for a metric.
   * Absent when the solver reports no weights.
   */
  readonly weights?: readonly number[];
  readonly validation?: Omit<EvaluationResult, 'split'> & { readonly split: string };
  readonly metrics: Readonly<Record<string, number>>;
  readonly timeMs: number;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** The final network (possibly a replacement of the one passed in). */
  readonly net: Network;
  /** Epochs fully completed. */
  readonly epochsCompleted: number;
  /** Global steps completed. */
  readonly steps: number;
  /** True when the abort signal stopped the run (a checkpoint was written first). */
  readonly interrupted: boolean;
  /** True when a callback returned `'stop'`. */
  readonly stoppedEarly: boolean;
  /** The checkpoint the run resumed from, if any. */
  readonly resumedFrom?: { readonly path: string; readonly step: number };
  /** Per-epoch figures, previous sessions included. */
  readonly history: readonly EpochRecord[];
  /** Final validation figures (absent when interrupted or disabled). */
  readonly validation?: EvaluationResult;
  /** Final test figures (absent when interrupted, disabled or the split is empty). */
  readonly test?: EvaluationResult;
  /** Wall time of all sessions of the run (ms). */
  readonly wallTimeMs: number;
}

/** Seeds of the named random streams of a run, all derived from its one seed. */
export interface StreamSeeds {
  /** Network initialization (createNetwork's seed). */
  readonly init: number;
  /** Dataset shuffle (the `seed` of {@link Dataset.batches}). */
  readonly shuffle: number;
  /** Root of the per-step dropout streams. */
  readonly dropout: RngState;
  /** Root of the per-step gate-sampling streams. */
  readonly gates: RngState;
}

/**
 * The named streams of a run. Dropout and gate samples of step k come from
 * `fork('step:k')` of their root, so they depend on (seed, k) only and a
 * resumed run needs no state for them; every solver pass of one step sees the
 * same dropout masks and gate samples. Pruners get persistent streams
 * `fork('pruner:<i>:<name>')` whose states are checkpointed.
 */
export function streamSeeds(seed: number): StreamSeeds {
  const root = Rng.fromSeed(seed);
  return {
    init: root.fork('init').nextU32(),
    shuffle: root.fork('shuffle').nextU32(),
    dropout: root.fork('dropout').state(),
    gates: root.fork('gates').state(),
  };
}

/** Unique keys for named components (objectives, pruners): their names, `#i`-suffixed where names repeat. */
export function objectiveKeys(items: readonly { readonly name: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const o of items) counts.set(o.name, (counts.get(o.name) ?? 0) + 1);
  return items.map((o, i) => ((counts.get(o.name) ?? 0) > 1 ? `${o.name}#${i}` : o.name));
}

/** Thrown inside a step's first forward pass when an objective is not finite; never escapes {@link train}. */
class NonFiniteSignal extends Error {
  constructor(
    readonly objective: number,
    readonly value: number,
  ) {
    super('non-finite objective');
  }
}

interface Position {
  epoch: number;
  /** Batches completed in `epoch`. */
  batch: number;
  /** Global steps completed. */
  step: number;
}

/** Problems with {@link TrainOptions.validation} (absent and `false` are fine). */
export function checkValidationOptions(v: unknown, path: string, issues: Issue[]): void {
  if (v === undefined || v === false) return;
  if (!isPlainObject(v)) {
    issues.push({ path, message: 'must be false or an object' });
    return;
  }
  checkKnownKeys(v, ['split', 'everyEpochs', 'batchSize', 'limit'], path, issues);
  checkEnum(v, 'split', path, ['validation', 'test'], issues);
  checkNumber(v, 'everyEpochs', path, { optional: true, min: 1, integer: true }, issues);
  checkNumber(v, 'batchSize', path, { optional: true, min: 1, integer: true }, issues);
  checkNumber(v, 'limit', path, { optional: true, min: 1, integer: true }, issues);
}

/** Problems with {@link TrainOptions.checkpoint} (absent and `false` are fine). */
export function checkCheckpointOptions(c: unknown, path: string, issues: Issue[]): void {
  if (c === undefined || c === false) return;
  if (!isPlainObject(c)) {
    issues.push({ path, message: 'must be false or an object' });
    return;
  }
  checkKnownKeys(c, ['everySteps', 'everyEpochs', 'keep'], path, issues);
  checkNumber(c, 'everySteps', path, { optional: true, min: 0, integer: true }, issues);
  checkNumber(c, 'everyEpochs', path, { optional: true, min: 1, integer: true }, issues);
  checkNumber(c, 'keep', path, { optional: true, min: 1, integer: true }, issues);
}

function validateTrainOptions(o: TrainOptions): void {
  const issues: Issue[] = [];
  const rec = o as unknown as Record<string, unknown>;
  checkNumber(rec, 'epochs', '', { min: 1, integer: true }, issues);
  if (typeof o.batchSize === 'function') {
    for (let e = 0; e < (Number.isInteger(o.epochs) ? o.epochs : 0); e++) {
      const b = o.batchSize(e);
      if (!Number.isInteger(b) || b < 1) {
        issues.push({
          path: 'batchSize',
          message: `the batch size of epoch ${e} must be an integer ≥ 1, got ${b}`,
        });
        break;
      }
    }
  } else {
    checkNumber(rec, 'batchSize', '', { min: 1, integer: true }, issues);
  }
  checkNumber(rec, 'seed', '', { min: 0, integer: true, max: Number.MAX_SAFE_INTEGER }, issues);
  checkNumber(rec, 'baseLearningRate', '', { optional: true, min: 0 }, issues);
  checkNumber(rec, 'logEverySteps', '', { optional: true, min: 0, integer: true }, issues);
  checkNumber(rec, 'metricsEverySteps', '', { optional: true, min: 0, integer: true }, issues);
  checkValidationOptions(o.validation, 'validation', issues);
  checkCheckpointOptions(o.checkpoint, 'checkpoint', issues);
  if (o.lrSchedule !== undefined) issues.push(...validateLrSchedule(o.lrSchedule, 'lrSchedule'));
  if (o.objectives.length === 0)
    issues.push({ path: 'objectives', message: 'at least one objective is needed' });
  if (o.resume && o.store === undefined) issues.push({ path: 'resume', message: 'resuming needs a store' });
  const names = new Set<string>();
  for (const [i, cb] of (o.callbacks ?? []).entries()) {
    if (names.has(cb.name))
      issues.push({ path: `callbacks[${i}].name`, message: `duplicate callback name '${cb.name}'` });
    names.add(cb.name);
  }
  throwIfIssues('training options', issues);
}

const isStop = (s: CallbackSignal | undefined) => s === 'stop';

function meanRecord(sums: Record<string, number>, count: number): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, count)]));
}

function toRecord(e: EvaluationResult): NonNullable<EpochRecord['validation']> {
  return {
    split: e.split,
    samples: e.samples,
    accuracy: [...e.accuracy],
    loss: [...e.loss],
    objectives: { ...e.objectives },
  };
}

/**
 * The metrics.jsonl line of a refused checkpoint: `{"type":"checkpoint","event":"corrupt",…}`
 * with the step training continues from, the bad file, the checkpoint and where it was quarantined.
 */
function corruptEvent(e: CoreError, step: number): JsonObject {
  return {
    type: 'checkpoint',
    event: 'corrupt',
    step,
    file: String(e.details.file ?? ''),
    checkpoint: String(e.details.checkpoint ?? ''),
    quarantined: typeof e.details.quarantined === 'string' ? e.details.quarantined : null,
    message: e.message,
  };
}

/**
 * Trains a network: epochs × batches of the training split; per step the
 * objectives' optional `prepare`, ONE `solver.step` (which applies the update),
 * BatchNorm state updates, the objectives' decoupled `afterUpdate`s, mask re-application, and every pruner's `afterStep`
 * (a returned `replaceNetwork` is swapped in and the solver's state rebuilt
 * through `resetVariables`); per epoch the solver's `endEpoch`, the pruners'
 * `afterEpoch`, validation, metrics and callbacks.
 *
 * Determinism: everything random derives from `seed` (see {@link streamSeeds}).
 * Resuming from a checkpoint reproduces the uninterrupted run bit for bit.
 *
 * Safety: objective values are checked in the step's first forward pass, before
 * the solver applies anything; a non-finite value writes a checkpoint of the
 * last finite state and throws `CoreError('NON_FINITE_LOSS')` naming the step
 * and the objective. An aborted `signal` stops at the next batch boundary after
 * a checkpoint and returns `interrupted: true`.
 *
 * Memory: a step's tensors are disposed within the step (the live tensor count
 * is the same after every epoch).
 *
 * @throws CoreError `INVALID_CONFIG` for bad options (every problem listed, before any work),
 *   `NON_FINITE_LOSS`, `CHECKPOINT_NOT_FOUND` / `CHECKPOINT_CORRUPT` when resuming.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  validateTrainOptions(options);
  const { dataset, objectives, solver, epochs, batchSize, seed, signal } = options;
  const pruners = options.pruners ?? [];
  const callbacks = options.callbacks ?? [];
  const keys = objectiveKeys(objectives);
  const seeds = streamSeeds(seed);
  const dropoutRoot = Rng.fromState(seeds.dropout);
  const gatesRoot = Rng.fromState(seeds.gates);
  const batchSizeOf = (epoch: number) => (typeof batchSize === 'function' ? batchSize(epoch) : batchSize);
  const trainBatchOptions = (epoch: number): BatchOptions => ({
    batchSize: batchSizeOf(epoch),
    seed: seeds.shuffle,
    epoch,
    shuffle: true,
    ...(options.data?.layout === undefined ? {} : { layout: options.data.layout }),
    ...(options.data?.labels === undefined ? {} : { labels: options.data.labels }),
    ...(options.data?.limit === undefined ? {} : { limit: options.data.limit }),
    ...(options.data?.dropLast === undefined ? {} : { dropLast: options.data.dropLast }),
  });
  const batchCounts = Array.from({ length: epochs }, (_, e) =>
    dataset.batchCount('train', trainBatchOptions(e)),
  );
  const emptyEpoch = batchCounts.indexOf(0);
  if (emptyEpoch >= 0) {
    throw new CoreError(
      'INVALID_CONFIG',
      `dataset '${dataset.info.name}' yields no training batch in epoch ${emptyEpoch}`,
      {
        issues: [{ path: 'batchSize', message: 'no training batch with these options' }],
      },
    );
  }
  const totalSteps = batchCounts.reduce((a, b) => a + b, 0);
  const validation: Required<ValidationOptions> | undefined =
    options.validation === false
      ? undefined
      : {
          split: options.validation?.split ?? 'validation',
          everyEpochs: options.validation?.everyEpochs ?? 1,
          batchSize: options.validation?.batchSize ?? 256,
          limit: options.validation?.limit ?? Number.MAX_SAFE_INTEGER,
        };
  const validationOn = validation !== undefined && dataset.info.sizes[validation.split] > 0;
  const ckptOptions =
    options.store !== undefined && options.checkpoint !== false ? (options.checkpoint ?? {}) : undefined;
  const store = options.store;
  const logEvery = options.logEverySteps ?? 1;
  const metricsEvery = options.metricsEverySteps ?? 0;
  const prunerKeys = objectiveKeys(pruners);

  let net = options.net;
  let baseLr = options.baseLearningRate ?? solver.learningRate;
  const pos: Position = { epoch: 0, batch: 0, step: 0 };
  let elapsedBefore = 0;
  let metricsBytes = 0;
  let history: EpochRecord[] = [];
  let epochSums: Record<string, number> = {};
  let weightSums: number[] = [];
  let epochCount = 0;
  let finished = false;
  let stoppedEarly = false;
  let resumedFrom: TrainResult['resumedFrom'];
  const prunerRngs = pruners.map((p, i) => Rng.fromSeed(seed).fork(`pruner:${i}:${p.name}`));

  const collectVariables = (): tf.Variable[] => [
    ...net.trainableVariables(),
    ...pruners.flatMap((p) => (p.variables ? p.variables() : [])),
  ];
  const initPruners = () => {
    for (const [i, p] of pruners.entries()) {
      // With a growing batch the epochs differ; pruners get the first epoch's count.
      p.init({ net, rng: prunerRngs[i]!, totalSteps, stepsPerEpoch: batchCounts[0]! });
    }
  };

  try {
    // ─── Start: fresh or resumed ───
    store?.open();
    // Checkpoints refused on the way to a good one: reported (metrics.jsonl, onCheckpointCorrupt) once the log is settled.
    const refused: CoreError[] = [];
    /**
     * Restores the whole training state from `ckpt`. A checkpoint that verifies on disk but does not
     * fit this run (an array of the wrong shape, a missing entry) is refused as corrupt, naming its
     * manifest, and the next older one is tried; one of another run (seed, pruners) is an error.
     */
    const restore = (ckpt: LoadedCheckpoint): void => {
      try {
        restoreFrom(ckpt);
      } catch (e) {
        if (e instanceof CoreError && e.code === 'INVALID_ARGUMENT' && e.details.belongsToAnotherRun === true)
          throw e;
        const manifest = ckpt.manifest;
        throw new CoreError(
          'CHECKPOINT_CORRUPT',
          `checkpoint file ${manifest} does not fit this run: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e, details: { file: manifest } },
        );
      }
    };
    const restoreFrom = (ckpt: LoadedCheckpoint): void => {
      const s = ckpt.state;
      const j = s.json as unknown as CheckpointJson;
      if (j.kind !== TRAIN_STATE_KIND) {
        throw new CoreError('CHECKPOINT_CORRUPT', `${ckpt.path} is not a training-loop checkpoint`, {
          details: { file: ckpt.path },
        });
      }
      const mismatch = [
        j.seed !== seed ? `seed ${j.seed} (this run: ${seed})` : '',
        j.pruners.length !== pruners.length
          ? `${j.pruners.length} pruners (this run: ${pruners.length})`
          : '',
      ].filter((m) => m !== '');
      if (mismatch.length > 0) {
        throw new CoreError(
          'INVALID_ARGUMENT',
          `checkpoint ${ckpt.path} belongs to another run: ${mismatch.join(', ')}`,
          { details: { file: ckpt.path, belongsToAnotherRun: true } },
        );
      }
      if (JSON.stringify(j.spec) !== JSON.stringify(net.spec)) {
        // The run was compacted before the checkpoint: rebuild the network on the checkpointed spec.
        const rebuilt = networkFromState(s);
        net.dispose();
        net = rebuilt;
      }
      initPruners();
      for (const [i, p] of pruners.entries()) p.load(subState(s, `pruner/${i}/`, j.pruners[i]!));
      // Restore weights, masks and pruner variables after the pruners' init/load, so nothing they did at init survives.
      assignNetworkState(net, s);
      for (const [i, p] of pruners.entries()) {
        const vars = p.variables ? p.variables() : [];
        for (const [k, v] of vars.entries()) {
          const a = requireStateArray(s, `prunerVar/${i}/${k}`, v.shape, `pruner ${i}`);
          tf.tidy(() => v.assign(tf.tensor(a.data, [...a.shape], 'float32')));
        }
        prunerRngs[i] = Rng.fromState(j.prunerRngs[i]! as unknown as RngState);
      }
      solver.resetVariables?.(collectVariables());
      solver.load(subState(s, 'solver/', j.solver));
      for (const cb of callbacks) {
        const st = j.callbacks[cb.name];
        if (st !== undefined && cb.load) cb.load(st as JsonObject);
      }
      Object.assign(pos, j.position);
      baseLr = j.baseLearningRate;
      elapsedBefore = j.elapsedMs;
      metricsBytes = j.metricsBytes;
      history = j.history as unknown as EpochRecord[];
      epochSums = j.epochSums;
      weightSums = [...(j.weightSums ?? [])];
      epochCount = j.epochCount;
      finished = j.finished;
      stoppedEarly = j.stoppedEarly;
      resumedFrom = { path: ckpt.path, step: ckpt.step };
    };
    const ckpt =
      options.resume && store !== undefined
        ? store.loadLatestCheckpoint({
            accept: restore,
            onCorrupt: (e) => {
              refused.push(e);
              options.onCheckpointCorrupt?.(e);
            },
          })
        : undefined;
    if (options.resume === true && ckpt === undefined) {
      throw new CoreError(
        'CHECKPOINT_NOT_FOUND',
        `no checkpoint to resume from in ${store?.checkpointLocation}`,
        {
          details: { file: store?.checkpointLocation ?? null },
        },
      );
    }
    if (ckpt !== undefined) {
      // Lines written after the checkpoint by the killed session are dropped, so the log matches the state.
      if (store !== undefined) {
        store.truncateLog(metricsBytes);
        for (const e of refused) {
          const text = `${JSON.stringify(corruptEvent(e, pos.step))}\n`;
          store.appendLog(text);
          metricsBytes += utf8Bytes(text);
        }
      }
    } else {
      initPruners();
      solver.resetVariables?.(collectVariables());
      // A fresh run owns its directory: checkpoints and log lines of an earlier run there are discarded.
      store?.resetLog();
      store?.clearCheckpoints();
    }

    const sessionStart = performance.now();
    let sessionSteps = 0;
    const elapsed = () => elapsedBefore + (performance.now() - sessionStart);

    const log = (line: JsonObject) => {
      if (store === undefined) return;
      const text = `${JSON.stringify(line)}\n`;
      store.appendLog(text);
      metricsBytes += utf8Bytes(text);
    };

    const snapshot = (): ComponentState => {
      const netState = networkToState(net);
      const { params, masks } = netState.json as unknown as NetworkStateJson;
      const arrays: Record<string, StateArray> = { ...netState.arrays };
      const solverState = solver.state();
      for (const [k, a] of Object.entries(solverState.arrays)) arrays[`solver/${k}`] = a;
      const prunerJson = pruners.map((p, i) => {
        const st = p.state();
        for (const [k, a] of Object.entries(st.arrays)) arrays[`pruner/${i}/${k}`] = a;
        const vars = p.variables ? p.variables() : [];
        for (const [k, v] of vars.entries()) arrays[`prunerVar/${i}/${k}`] = tensorToStateArray(v);
        return st.json;
      });
      const cbStates: JsonObject = {};
      for (const cb of callbacks) if (cb.state) cbStates[cb.name] = cb.state();
      const json: CheckpointJson = {
        kind: TRAIN_STATE_KIND,
        seed,
        spec: net.spec,
        params: [...params],
        masks: [...masks],
        position: { ...pos },
        baseLearningRate: baseLr,
        elapsedMs: elapsed(),
        metricsBytes,
        history: history as unknown as JsonValue[],
        epochSums,
        weightSums: [...weightSums],
        epochCount,
        finished,
        stoppedEarly,
        solver: solverState.json,
        pruners: prunerJson,
        prunerRngs: prunerRngs.map((r) => [...r.state()]),
        callbacks: cbStates,
      };
      return { json: json as unknown as JsonObject, arrays };
    };

    const checkpointNow = (): string | undefined => {
      if (ckptOptions === undefined || store === undefined) return undefined;
      return store.writeCheckpoint(snapshot(), {
        step: pos.step,
        keep: ckptOptions.keep ?? 2,
        onCorrupt: (e) => {
          log(corruptEvent(e, pos.step));
          options.onCheckpointCorrupt?.(e);
        },
      });
    };

    const evaluateSplit = (split: 'validation' | 'test', limit?: number): EvaluationResult =>
      evaluateNetwork(net, dataset, split, {
        batchSize: validation?.batchSize ?? 256,
        objectives,
        pruners,
        ...(options.data?.layout === undefined ? {} : { layout: options.data.layout }),
        ...(options.data?.labels === undefined ? {} : { labels: options.data.labels }),
        ...(limit === undefined || limit === Number.MAX_SAFE_INTEGER ? {} : { limit }),
      });

    const prunerContext = (step: number, epoch: number, batch: number, i: number): PrunerStepContext => ({
      net,
      step,
      epoch,
      batch,
      batchesPerEpoch: batchCounts[epoch] ?? batchCounts[batchCounts.length - 1]!,
      rng: prunerRngs[i]!,
      objectives,
      log: (record) => log({ type: 'pruner', pruner: prunerKeys[i]!, step, epoch, batch, ...record }),
      evaluate: async (split = 'validation') => {
        const r = evaluateSplit(split, validation?.limit);
        const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
        return { accuracy: mean(r.accuracy), loss: mean(r.loss) };
      },
    });

    /** The run's `metrics` figures and every pruner's `metrics()` as `<pruner>.<figure>`. */
    const figures = (): Record<string, number> => {
      const out: Record<string, number> = options.metrics ? { ...options.metrics(net) } : {};
      for (const [i, p] of pruners.entries()) {
        if (!p.metrics) continue;
        for (const [k, v] of Object.entries(p.metrics())) out[`${prunerKeys[i]}.${k}`] = v;
      }
      return out;
    };

    const applyPrunerResult = (r: PrunerStepResult | undefined) => {
      const next = r?.replaceNetwork;
      if (next === undefined || next === net) return;
      const old = net;
      const oldByName = old.params;
      const nameOf = new Map<tf.Variable, string>();
      for (const [name, v] of next.params) nameOf.set(v, name);
      net = next;
      const variables = collectVariables();
      const previous = variables.map((v) => {
        const name = nameOf.get(v);
        return name === undefined ? v : oldByName.get(name);
      });
      solver.resetVariables?.(variables, previous);
      old.dispose();
    };

    const lrAt = (step: number, epoch: number) =>
      options.lrSchedule === undefined
        ? solver.learningRate
        : learningRateAt(options.lrSchedule, baseLr, { step, epoch, totalSteps, epochs });

    /** One optimizer step on `batch`; synchronous up to the solver's update. */
    const runStep = (batch: Batch, lr: number): SolverStepResult => {
      // Without a schedule the solver keeps whatever rate it manages itself (e.g. a per-outer-iteration decay).
      if (options.lrSchedule !== undefined) solver.learningRate = lr;
      const stepLabel = `step:${pos.step}`;
      const dropoutState = dropoutRoot.fork(stepLabel).state();
      const gateState = gatesRoot.fork(stepLabel).state();
      const updates: StateUpdate[][] = [];
      // BatchNorm updates of the prepare pass: the step's own first pass provides the ones assigned.
      const discarded: StateUpdate[] = [];
      let prepared: Map<string, tf.Tensor> | undefined;
      let checked = false;
      // Always collect BatchNorm updates (an apply without the list would assign them itself).
      const forward = (stateUpdates: StateUpdate[]) => {
        const gates = collectGates(pruners, true, Rng.fromState(gateState));
        const outputs = net.apply(batch.x, {
          training: true,
          gates,
          rng: Rng.fromState(dropoutState),
          stateUpdates,
        });
        const ctx: ObjectiveContext = {
          net,
          outputs,
          batch,
          gateProbabilities: collectGateProbabilities(pruners),
          training: true,
        };
        return ctx;
      };
      try {
        const prepareCtx = {
          net,
          batch,
          dataGradients: (): ReadonlyMap<string, tf.Tensor> => {
            if (prepared === undefined) {
              const vars = net.trainableVariables();
              const nameOf = new Map<tf.Variable, string>();
              for (const [name, v] of net.params) nameOf.set(v, name);
              const { value, grads } = tf.variableGrads(
                () => tf.tidy(() => objectives[0]!.value(forward(discarded))),
                vars,
              );
              value.dispose();
              prepared = new Map();
              for (const v of vars) {
                const g = grads[v.name];
                if (g !== undefined) prepared.set(nameOf.get(v)!, g);
              }
            }
            return prepared;
          },
        };
        for (const o of objectives) o.prepare?.(prepareCtx);
        const problem: StepProblem = {
          variables: collectVariables(),
          m: objectives.length,
          step: pos.step,
          epoch: pos.epoch,
          evaluate: () =>
            tf.tidy(() => {
              const su: StateUpdate[] = [];
              updates.push(su);
              const ctx = forward(su);
              const values = objectives.map((o) => o.value(ctx));
              if (!checked) {
                checked = true;
                for (const [i, v] of values.entries()) {
                  const x = v.dataSync()[0]!;
                  if (!Number.isFinite(x)) throw new NonFiniteSignal(i, x);
                }
              }
              return values;
            }),
        };
        const result = solver.step(problem);
        const [first, ...rest] = updates;
        if (first !== undefined) net.assignStateUpdates(first);
        for (const su of rest) for (const u of su) u.value.dispose();
        updates.length = 0;
        for (const o of objectives) o.afterUpdate?.({ net, learningRate: solver.learningRate });
        if (net.maskedParams().length > 0) net.applyMasks();
        return result;
      } finally {
        for (const su of updates) for (const u of su) u.value.dispose();
        for (const u of discarded) u.value.dispose();
        if (prepared !== undefined) tf.dispose([...prepared.values()]);
      }
    };

    const finishNonFinite = (e: NonFiniteSignal): never => {
      const key = keys[e.objective]!;
      log({
        type: 'nonFinite',
        step: pos.step,
        epoch: pos.epoch,
        batch: pos.batch,
        objective: key,
        value: String(e.value),
      });
      const path = checkpointNow();
      throw new CoreError(
        'NON_FINITE_LOSS',
        `objective '${key}' is ${e.value} at step ${pos.step} (epoch ${pos.epoch}, batch ${pos.batch}); no update was applied` +
          (path === undefined ? '' : `; the last finite state is checkpointed at ${path}`),
        {
          details: {
            step: pos.step,
            epoch: pos.epoch,
            batch: pos.batch,
            objective: key,
            value: e.value,
            ...(path === undefined ? {} : { checkpoint: path }),
          },
        },
      );
    };

    let interrupted = false;
    let lastLr = lrAt(pos.step, pos.epoch);

    // ─── The loop ───
    outer: while (!finished && pos.epoch < epochs) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const epoch = pos.epoch;
      const epochStart = performance.now();
      const batchesPerEpoch = batchCounts[epoch]!;
      if (pos.batch < batchesPerEpoch) {
        const iterator = dataset
          .batches('train', { ...trainBatchOptions(epoch), startBatch: pos.batch })
          [Symbol.iterator]();
        try {
          while (pos.batch < batchesPerEpoch) {
            // Give Node a turn between steps so a SIGINT handler can abort the
            // signal mid-epoch (a synchronous step never lets timers or signals run).
            if (signal !== undefined) await new Promise<void>((resolve) => setImmediate(resolve));
            if (signal?.aborted) {
              interrupted = true;
              break outer;
            }
            const next = iterator.next();
            if (next.done) break;
            const batch = next.value;
            const t0 = performance.now();
            const lr = lrAt(pos.step, epoch);
            let result: SolverStepResult;
            try {
              result = runStep(batch, lr);
            } catch (e) {
              batch.dispose();
              releaseAbandonedTape();
              if (e instanceof NonFiniteSignal) finishNonFinite(e);
              throw e;
            }
            batch.dispose();
            lastLr = lr;
            const step = pos.step;
            const batchIndex = pos.batch;
            for (const [i, p] of pruners.entries()) {
              applyPrunerResult(await p.afterStep(prunerContext(step, epoch, batchIndex, i)));
            }
            pos.step += 1;
            pos.batch += 1;
            sessionSteps += 1;
            const values: Record<string, number> = {};
            for (const [i, k] of keys.entries()) {
              const v = result.values[i] ?? Number.NaN;
              values[k] = v;
              epochSums[k] = (epochSums[k] ?? 0) + v;
            }
            for (const [i, w] of result.weights.entries()) weightSums[i] = (weightSums[i] ?? 0) + w;
            epochCount += 1;
            const stepMetrics = metricsEvery > 0 && pos.step % metricsEvery === 0 ? figures() : undefined;
            if (logEvery > 0 && pos.step % logEvery === 0) {
              log({
                type: 'step',
                step,
                epoch,
                batch: batchIndex,
                lr,
                objectives: values,
                weights: [...result.weights],
                ...(result.extra === undefined ? {} : { extra: { ...result.extra } }),
                ...(stepMetrics === undefined ? {} : { metrics: { ...stepMetrics } }),
                timeMs: performance.now() - t0,
                elapsedMs: elapsed(),
              });
            }
            const info: StepInfo = {
              step,
              epoch,
              batch: batchIndex,
              batchesPerEpoch,
              learningRate: lr,
              values,
              weights: result.weights,
              extra: result.extra ?? {},
              net,
            };
            let stop = false;
            for (const cb of callbacks) if (cb.onStepEnd && isStop(await cb.onStepEnd(info))) stop = true;
            const sessionMs = performance.now() - sessionStart;
            const rate = sessionSteps / Math.max(1e-9, sessionMs / 1000);
            const progress: ProgressInfo = {
              step: pos.step,
              totalSteps,
              epoch,
              epochs,
              batch: pos.batch,
              batchesPerEpoch,
              elapsedMs: elapsed(),
              stepsPerSecond: rate,
              etaMs: ((totalSteps - pos.step) / Math.max(1e-9, rate)) * 1000,
            };
            for (const cb of callbacks) cb.onProgress?.(progress);
            if (stop) {
              stoppedEarly = true;
              finished = true;
              break outer;
            }
            const every = ckptOptions?.everySteps ?? 0;
            if (every > 0 && pos.step % every === 0) checkpointNow();
          }
        } finally {
          iterator.return?.();
        }
      }
      // ─── End of epoch ───
      solver.endEpoch?.(epoch);
      for (const [i, p] of pruners.entries()) {
        if (p.afterEpoch)
          applyPrunerResult(await p.afterEpoch(prunerContext(pos.step, epoch, batchCounts[epoch]!, i)));
      }
      const isLast = epoch === epochs - 1;
      const validate =
        validationOn && validation !== undefined && ((epoch + 1) % validation.everyEpochs === 0 || isLast);
      const val = validate ? evaluateSplit(validation!.split, validation!.limit) : undefined;
      const metrics = figures();
      const train = meanRecord(epochSums, epochCount);
      const record: EpochRecord = {
        epoch,
        step: pos.step,
        learningRate: lastLr,
        train,
        ...(weightSums.length === 0 || epochCount === 0
          ? {}
          : { weights: weightSums.map((w) => w / epochCount) }),
        ...(val === undefined ? {} : { validation: toRecord(val) }),
        metrics,
        timeMs: performance.now() - epochStart,
      };
      history.push(record);
      log({ type: 'epoch', ...(record as unknown as JsonObject), elapsedMs: elapsed() });
      const info: EpochInfo = {
        epoch,
        step: pos.step,
        learningRate: lastLr,
        train,
        ...(val === undefined ? {} : { validation: val }),
        metrics,
        net,
        gates: evaluationGates(pruners),
      };
      let stop = false;
      for (const cb of callbacks) if (cb.onEpochEnd && isStop(await cb.onEpochEnd(info))) stop = true;
      pos.epoch += 1;
      pos.batch = 0;
      epochSums = {};
      weightSums = [];
      epochCount = 0;
      if (stop) {
        stoppedEarly = true;
        finished = true;
      }
      if (pos.epoch >= epochs) finished = true;
      const everyEpochs = ckptOptions?.everyEpochs ?? 1;
      if (finished || pos.epoch % everyEpochs === 0) checkpointNow();
    }

    if (interrupted) {
      checkpointNow();
    } else if (!finished) {
      finished = true;
      checkpointNow();
    } else if (stoppedEarly && pos.batch > 0) {
      // Stopped mid-epoch by a callback: record the finished state.
      checkpointNow();
    }
    let finalValidation: EvaluationResult | undefined;
    let finalTest: EvaluationResult | undefined;
    if (!interrupted) {
      if (validationOn && validation !== undefined) {
        // The last epoch's validation already describes the final network unless training stopped mid-epoch.
        const last = history[history.length - 1];
        finalValidation =
          last?.validation !== undefined && last.step === pos.step
            ? { ...last.validation, split: validation.split }
            : evaluateSplit(validation.split, validation.limit);
      }
      if ((options.evaluateTest ?? true) && dataset.info.sizes.test > 0) finalTest = evaluateSplit('test');
    }
    return {
      net,
      epochsCompleted: pos.epoch,
      steps: pos.step,
      interrupted,
      stoppedEarly,
      ...(resumedFrom === undefined ? {} : { resumedFrom }),
      history,
      ...(finalValidation === undefined ? {} : { validation: finalValidation }),
      ...(finalTest === undefined ? {} : { test: finalTest }),
      wallTimeMs: elapsed(),
    };
  } catch (e) {
    // A network the loop built or swapped in is unreachable for the caller; the one passed in stays the caller's.
    if (net !== options.net) net.dispose();
    throw e;
  }
}

const TRAIN_STATE_KIND = 'moprune-train-state';

/** The JSON half of a training-loop checkpoint (see {@link train}). */
interface CheckpointJson {
  kind: typeof TRAIN_STATE_KIND;
  seed: number;
  spec: NetworkSpec;
  /** Parameter names, each stored as array `param/<name>`. */
  params: string[];
  /** Parameters with a mask, each stored as array `mask/<name>`. */
  masks: string[];
  /** Next step to run. */
  position: Position;
  baseLearningRate: number;
  elapsedMs: number;
  /** Length of metrics.jsonl at the checkpoint; a resume truncates the log to it. */
  metricsBytes: number;
  history: JsonValue[];
  /** Running sums of the current epoch's objective values (mid-epoch checkpoints). */
  epochSums: Record<string, number>;
  /** Sums of the solver's weights over the epoch's steps so far (absent in checkpoints of older versions). */
  weightSums?: number[];
  epochCount: number;
  finished: boolean;
  stoppedEarly: boolean;
  solver: JsonObject;
  pruners: JsonObject[];
  prunerRngs: number[][];
  callbacks: JsonObject;
}

/**
 * tfjs keeps (clones of) the tensors a gradient tape saves for the backward
 * pass and frees them only when the backward pass runs. A step aborted inside
 * `tf.variableGrads` (our non-finite check throws there, before any update)
 * would leak them; this frees them the way the engine itself does after a
 * backward pass. Reads engine internals on purpose: there is no public API.
 */
function releaseAbandonedTape(): void {
  const state = (
    tf.engine() as unknown as {
      state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null };
    }
  ).state;
  if (state.gradientDepth !== 0 || state.activeTape === null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

function subState(s: ComponentState, prefix: string, json: JsonObject): ComponentState {
  const arrays: Record<string, StateArray> = {};
  for (const [k, a] of Object.entries(s.arrays)) if (k.startsWith(prefix)) arrays[k.slice(prefix.length)] = a;
  return { json, arrays };
}
