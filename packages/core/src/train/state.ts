// A run's checkpoint: what is kept (snapshotRun), how it is restored (restoreRun), and how a run
// starts — fresh, or from the newest checkpoint that verifies and fits (startRun).
import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { ComponentState } from '../interfaces.js';
import type { JsonObject, JsonValue } from '../json.js';
import { Rng, type RngState } from '../rng.js';
import type { NetworkSpec } from '../spec.js';
import { requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';
import type { EpochRecord } from './options.js';
import type { Position, TrainSession } from './session.js';
import { assignNetworkState, type NetworkStateJson, networkFromState, networkToState } from './snapshot.js';
import { type LoadedCheckpoint, utf8Bytes } from './store.js';

const TRAIN_STATE_KIND = 'moprune-train-state';

/** The JSON half of a training-loop checkpoint. */
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
  /** Objective parameters set by pruners, per objective (absent in checkpoints of older versions). */
  objectiveParameters?: Record<string, number>[];
  callbacks: JsonObject;
}

/** The whole training state of a session: network, solver, pruners (state, variables, streams), callbacks, position. */
export function snapshotRun(s: TrainSession): ComponentState {
  const { run, plan } = s;
  const netState = networkToState(run.net);
  const { params, masks } = netState.json as unknown as NetworkStateJson;
  const arrays: Record<string, StateArray> = { ...netState.arrays };
  const solverState = plan.solver.state();
  for (const [k, a] of Object.entries(solverState.arrays)) arrays[`solver/${k}`] = a;
  const prunerJson = plan.pruners.map((p, i) => {
    const st = p.state();
    for (const [k, a] of Object.entries(st.arrays)) arrays[`pruner/${i}/${k}`] = a;
    const vars = p.variables ? p.variables() : [];
    for (const [k, v] of vars.entries()) arrays[`prunerVar/${i}/${k}`] = tensorToStateArray(v);
    return st.json;
  });
  if (s.average !== undefined)
    for (const [k, a] of Object.entries(s.average.state().arrays)) arrays[`average/${k}`] = a;
  const cbStates: JsonObject = {};
  for (const cb of plan.callbacks) if (cb.state) cbStates[cb.name] = cb.state();
  const json: CheckpointJson = {
    kind: TRAIN_STATE_KIND,
    seed: plan.seed,
    spec: run.net.spec,
    params: [...params],
    masks: [...masks],
    position: { ...run.pos },
    baseLearningRate: run.baseLr,
    elapsedMs: s.elapsed(),
    metricsBytes: run.metricsBytes,
    history: run.history as unknown as JsonValue[],
    epochSums: run.epochSums,
    weightSums: [...run.weightSums],
    epochCount: run.epochCount,
    finished: run.finished,
    stoppedEarly: run.stoppedEarly,
    solver: solverState.json,
    pruners: prunerJson,
    prunerRngs: run.prunerRngs.map((r) => [...r.state()]),
    objectiveParameters: run.objectiveParameters.map((p) => ({ ...p })),
    callbacks: cbStates,
  };
  return { json: json as unknown as JsonObject, arrays };
}

/**
 * Starts the run: from the newest checkpoint that verifies and fits when resuming (refused ones are
 * quarantined by the store, reported to `onCheckpointCorrupt` and logged once the log is settled),
 * else fresh — pruners initialized, the solver's state built, and the store's old log and checkpoints
 * discarded (a fresh run owns its directory).
 * @throws CoreError `CHECKPOINT_NOT_FOUND` (`resume: true` without one), `INVALID_ARGUMENT` (a
 *   checkpoint of another run).
 */
export function startRun(s: TrainSession): void {
  const { plan, run } = s;
  const { store, options } = plan;
  store?.open();
  const refused: CoreError[] = [];
  const ckpt =
    options.resume && store !== undefined
      ? store.loadLatestCheckpoint({
          accept: (c) => restoreChecked(s, c),
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
    if (store === undefined) return;
    // Lines written after the checkpoint by the killed session are dropped, so the log matches the state.
    store.truncateLog(run.metricsBytes);
    for (const e of refused) {
      const text = `${JSON.stringify(corruptEvent(e, run.pos.step))}\n`;
      store.appendLog(text);
      run.metricsBytes += utf8Bytes(text);
    }
    return;
  }
  s.initPruners();
  plan.solver.resetVariables?.(s.variables());
  s.average?.reset(s.variables());
  store?.resetLog();
  store?.clearCheckpoints();
}

/**
 * Restores from `ckpt`; a checkpoint that verifies on disk but does not fit this run (an array of the
 * wrong shape, a missing entry) is refused as corrupt, naming its manifest, so the next older one is
 * tried; one of another run (seed, pruners) is an error.
 */
function restoreChecked(s: TrainSession, ckpt: LoadedCheckpoint): void {
  try {
    restoreRun(s, ckpt);
  } catch (e) {
    if (e instanceof CoreError && e.code === 'INVALID_ARGUMENT' && e.details.belongsToAnotherRun === true)
      throw e;
    throw new CoreError(
      'CHECKPOINT_CORRUPT',
      `checkpoint file ${ckpt.manifest} does not fit this run: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e, details: { file: ckpt.manifest } },
    );
  }
}

function checkpointJson(s: TrainSession, ckpt: LoadedCheckpoint): CheckpointJson {
  const j = ckpt.state.json as unknown as CheckpointJson;
  if (j.kind !== TRAIN_STATE_KIND) {
    throw new CoreError('CHECKPOINT_CORRUPT', `${ckpt.path} is not a training-loop checkpoint`, {
      details: { file: ckpt.path },
    });
  }
  const { seed, pruners } = s.plan;
  const mismatch = [
    j.seed !== seed ? `seed ${j.seed} (this run: ${seed})` : '',
    j.pruners.length !== pruners.length ? `${j.pruners.length} pruners (this run: ${pruners.length})` : '',
  ].filter((m) => m !== '');
  if (mismatch.length > 0) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `checkpoint ${ckpt.path} belongs to another run: ${mismatch.join(', ')}`,
      {
        details: { file: ckpt.path, belongsToAnotherRun: true },
      },
    );
  }
  return j;
}

/** Restores the whole training state of a checkpoint into the session. */
function restoreRun(s: TrainSession, ckpt: LoadedCheckpoint): void {
  const { plan, run } = s;
  const st = ckpt.state;
  const j = checkpointJson(s, ckpt);
  if (JSON.stringify(j.spec) !== JSON.stringify(run.net.spec)) {
    // The run was compacted before the checkpoint: rebuild the network on the checkpointed spec.
    const rebuilt = networkFromState(st);
    run.net.dispose();
    run.net = rebuilt;
  }
  s.initPruners();
  for (const [i, p] of plan.pruners.entries()) p.load(subState(st, `pruner/${i}/`, j.pruners[i]!));
  // Restore weights, masks and pruner variables after the pruners' init/load, so nothing they did at init survives.
  assignNetworkState(run.net, st);
  for (const [i, p] of plan.pruners.entries()) {
    const vars = p.variables ? p.variables() : [];
    for (const [k, v] of vars.entries()) {
      const a = requireStateArray(st, `prunerVar/${i}/${k}`, v.shape, `pruner ${i}`);
      tf.tidy(() => v.assign(tf.tensor(a.data, [...a.shape], 'float32')));
    }
    run.prunerRngs[i] = Rng.fromState(j.prunerRngs[i]! as unknown as RngState);
  }
  // The objectives' parameters as the pruners last set them (an objective keeps no state of its own).
  for (const [i, params] of (j.objectiveParameters ?? []).entries()) {
    const o = plan.objectives[i];
    for (const [name, value] of Object.entries(params)) {
      o?.setParameter?.(name, value);
      if (run.objectiveParameters[i] !== undefined) run.objectiveParameters[i][name] = value;
    }
  }
  plan.solver.resetVariables?.(s.variables());
  plan.solver.load(subState(st, 'solver/', j.solver));
  // The averages of the checkpoint's variables; one written without averaging starts them from its values.
  s.average?.reset(s.variables());
  s.average?.load(subState(st, 'average/', {}));
  for (const cb of plan.callbacks) {
    const cs = j.callbacks[cb.name];
    if (cs !== undefined && cb.load) cb.load(cs as JsonObject);
  }
  Object.assign(run.pos, j.position);
  run.baseLr = j.baseLearningRate;
  run.elapsedBefore = j.elapsedMs;
  run.metricsBytes = j.metricsBytes;
  run.history = j.history as unknown as EpochRecord[];
  run.epochSums = j.epochSums;
  run.weightSums = [...(j.weightSums ?? [])];
  run.epochCount = j.epochCount;
  run.finished = j.finished;
  run.stoppedEarly = j.stoppedEarly;
  run.resumedFrom = { path: ckpt.path, step: ckpt.step };
}

function subState(s: ComponentState, prefix: string, json: JsonObject): ComponentState {
  const arrays: Record<string, StateArray> = {};
  for (const [k, a] of Object.entries(s.arrays)) if (k.startsWith(prefix)) arrays[k.slice(prefix.length)] = a;
  return { json, arrays };
}

/**
 * The metrics.jsonl line of a refused checkpoint: `{"type":"checkpoint","event":"corrupt",…}`
 * with the step training continues from, the bad file, the checkpoint and where it was quarantined.
 */
export function corruptEvent(e: CoreError, step: number): JsonObject {
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
