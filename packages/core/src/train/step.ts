// The step engine: one optimizer step on one batch — objectives' prepare → ONE solver.step (which
// evaluates the objectives and applies the update) → BatchNorm state updates → objectives'
// afterUpdate → masks → pruners' afterStep (a returned network is swapped in).
import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type {
  Batch,
  ObjectiveContext,
  PrepareContext,
  SolverStepResult,
  StepProblem,
} from '../interfaces.js';
import type { StateUpdate } from '../network-types.js';
import { Rng } from '../rng.js';
import { collectGateProbabilities, collectGates } from './evaluate.js';
import type { TrainSession } from './session.js';

/** What one step produced; the loop's parts read it (and set `stop`). */
export interface StepEvent {
  /** 0-based global step that just finished. */
  readonly step: number;
  readonly epoch: number;
  /** 0-based index of the batch in its epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** The rate the step used. */
  readonly lr: number;
  readonly result: SolverStepResult;
  /** Objective values at the start of the step, by objective key. */
  readonly values: Readonly<Record<string, number>>;
  /** `performance.now()` when the step began. */
  readonly startedAt: number;
}

/** Thrown inside a step's first forward pass when an objective is not finite; never escapes `train`. */
class NonFiniteSignal extends Error {
  constructor(
    readonly objective: number,
    readonly value: number,
  ) {
    super('non-finite objective');
  }
}

/**
 * Runs one step on `batch` (disposed here) and advances the position.
 * @throws CoreError `NON_FINITE_LOSS` (after checkpointing the last finite state) when an objective is
 *   not finite in the step's first forward pass; nothing is applied then.
 */
export async function trainStep(s: TrainSession, batch: Batch, batchesPerEpoch: number): Promise<StepEvent> {
  const { plan, run } = s;
  const { epoch } = run.pos;
  const startedAt = performance.now();
  const lr = s.lrAt(run.pos.step, epoch);
  let result: SolverStepResult;
  try {
    result = solverStep(s, batch, lr);
  } catch (e) {
    batch.dispose();
    releaseAbandonedTape();
    if (e instanceof NonFiniteSignal) failNonFinite(s, e);
    throw e;
  }
  batch.dispose();
  run.lastLr = lr;
  const step = run.pos.step;
  const batchIndex = run.pos.batch;
  for (const [i, p] of plan.pruners.entries())
    s.swap(await p.afterStep(s.prunerContext(step, epoch, batchIndex, i)));
  // After the update, the mask re-application and any removal: the variables as trained this step.
  s.average?.update();
  run.pos.step += 1;
  run.pos.batch += 1;
  s.sessionSteps += 1;
  const values: Record<string, number> = {};
  for (const [i, k] of plan.keys.entries()) values[k] = result.values[i] ?? Number.NaN;
  return { step, epoch, batch: batchIndex, batchesPerEpoch, lr, result, values, startedAt };
}

/** One optimizer step on `batch`, synchronous up to the solver's update. */
function solverStep(s: TrainSession, batch: Batch, lr: number): SolverStepResult {
  const { plan, run } = s;
  const { solver, objectives } = plan;
  // Without a schedule the solver keeps whatever rate it manages itself (e.g. a per-outer-iteration decay).
  if (plan.lrSchedule !== undefined) solver.learningRate = lr;
  const forward = stepForward(s, batch);
  const updates: StateUpdate[][] = [];
  // BatchNorm updates of the prepare pass: when it runs, it is the step's first pass (the solver's
  // passes see the same batch, weights, dropout masks and gate samples) and its updates are assigned.
  const prepared: StateUpdate[] = [];
  const data = dataGradients(s, forward, prepared);
  try {
    for (const o of objectives) o.prepare?.({ net: run.net, batch, dataGradients: data.get });
    const result = solver.step(stepProblem(s, forward, updates, data.known));
    const [first, ...rest] = data.known() === undefined ? updates : [prepared.splice(0), ...updates];
    if (first !== undefined) run.net.assignStateUpdates(first);
    for (const su of rest) for (const u of su) u.value.dispose();
    updates.length = 0;
    for (const o of objectives) o.afterUpdate?.({ net: run.net, learningRate: solver.learningRate });
    if (run.net.maskedParams().length > 0) run.net.applyMasks();
    return result;
  } finally {
    for (const su of updates) for (const u of su) u.value.dispose();
    for (const u of prepared) u.value.dispose();
    data.dispose();
  }
}

type Forward = (stateUpdates: StateUpdate[]) => ObjectiveContext;

/**
 * The step's training-mode forward pass. Every pass of one step (prepare, each solver pass) sees the
 * same dropout masks and gate samples: both come from `fork('step:k')` of their roots. BatchNorm
 * updates are always collected (an apply without the list would assign them itself).
 */
function stepForward(s: TrainSession, batch: Batch): Forward {
  const { plan, run } = s;
  const stepLabel = `step:${run.pos.step}`;
  const dropoutState = plan.dropoutRoot.fork(stepLabel).state();
  const gateState = plan.gatesRoot.fork(stepLabel).state();
  // The pass runs on the first read of `outputs`: an objective of the parameters alone (a norm
  // penalty) evaluated on its own (StepProblem.evaluateOne) costs no forward pass.
  return (stateUpdates) => {
    let outputs: tf.Tensor[] | undefined;
    return {
      net: run.net,
      get outputs() {
        if (outputs === undefined) {
          const gates = collectGates(plan.pruners, true, Rng.fromState(gateState), batch.x.shape[0]);
          outputs = run.net.apply(batch.x, {
            training: true,
            gates,
            rng: Rng.fromState(dropoutState),
            stateUpdates,
          });
        }
        return outputs;
      },
      batch,
      gateProbabilities: collectGateProbabilities(plan.pruners),
      training: true,
    };
  };
}

/**
 * The data objective's value and gradients from the prepare pass, w.r.t. every variable the step
 * updates (null where it does not depend on one), in {@link TrainSession.variables} order.
 */
interface KnownObjective {
  readonly value: tf.Scalar;
  readonly variables: readonly tf.Variable[];
  readonly grads: readonly (tf.Tensor | null)[];
}

/**
 * The first objective's gradients by parameter name, computed once on first request
 * ({@link PrepareContext.dataGradients}) — w.r.t. every variable of the step, so that the step's own
 * passes can reuse them ({@link knownObjective}) instead of differentiating the data objective again.
 */
function dataGradients(
  s: TrainSession,
  forward: Forward,
  stateUpdates: StateUpdate[],
): { get: PrepareContext['dataGradients']; known: () => KnownObjective | undefined; dispose(): void } {
  let prepared: Map<string, tf.Tensor> | undefined;
  let known: KnownObjective | undefined;
  return {
    get: () => {
      if (prepared === undefined) {
        const net = s.run.net;
        const vars = s.variables();
        const nameOf = new Map<tf.Variable, string>();
        for (const [name, v] of net.params) nameOf.set(v, name);
        const { value, grads } = tf.variableGrads(
          () => tf.tidy(() => s.plan.objectives[0]!.value(forward(stateUpdates))),
          vars,
        );
        prepared = new Map();
        for (const v of vars) {
          const g = grads[v.name];
          const name = nameOf.get(v);
          if (g != null && name !== undefined) prepared.set(name, g);
        }
        known = { value, variables: vars, grads: vars.map((v) => grads[v.name] ?? null) };
      }
      return prepared;
    },
    known: () => known,
    dispose: () => {
      if (known !== undefined) tf.dispose([known.value, ...known.grads.filter((g) => g !== null)]);
    },
  };
}

/**
 * The data objective as a scalar whose value and gradients are the known ones: an op over the
 * variables with a custom gradient (dy·∂f/∂v), so a solver's backward pass gets ∂f/∂v without running
 * the network again. Exact: the prepare pass saw the same batch, weights, dropout masks and gate
 * samples as the solver's pass (see {@link stepForward}); only the float rounding of the sum differs.
 */
function knownObjective(k: KnownObjective): tf.Scalar {
  const inputs: tf.Variable[] = [];
  const grads: tf.Tensor[] = [];
  for (const [i, g] of k.grads.entries()) {
    if (g === null) continue;
    inputs.push(k.variables[i]!);
    grads.push(g);
  }
  const op = tf.customGrad(() => ({
    value: tf.clone(k.value),
    gradFunc: (dy: tf.Tensor) => grads.map((g) => tf.mul(dy, g)),
  }));
  return op(...inputs) as tf.Scalar;
}

/** The problem the solver steps on; its first evaluation checks every objective value is finite. */
function stepProblem(
  s: TrainSession,
  forward: Forward,
  updates: StateUpdate[][],
  known: () => KnownObjective | undefined,
): StepProblem {
  const { plan, run } = s;
  let checked = false;
  // Objective i on one pass's context: the data objective from the prepare pass when it ran.
  const value = (i: number, ctx: ObjectiveContext): tf.Scalar => {
    const k = i === 0 ? known() : undefined;
    return k === undefined ? plan.objectives[i]!.value(ctx) : knownObjective(k);
  };
  return {
    variables: s.variables(),
    m: plan.objectives.length,
    step: run.pos.step,
    epoch: run.pos.epoch,
    evaluate: () =>
      tf.tidy(() => {
        const su: StateUpdate[] = [];
        updates.push(su);
        const ctx = forward(su);
        const values = plan.objectives.map((_, i) => value(i, ctx));
        if (!checked) {
          checked = true;
          for (const [i, v] of values.entries()) {
            const x = v.dataSync()[0]!;
            if (!Number.isFinite(x)) throw new NonFiniteSignal(i, x);
          }
        }
        return values;
      }),
    evaluateOne: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= plan.objectives.length) {
        throw new CoreError(
          'INVALID_ARGUMENT',
          `evaluateOne: objective index ${i} is not in [0, ${plan.objectives.length})`,
        );
      }
      return tf.tidy(() => {
        const su: StateUpdate[] = [];
        updates.push(su);
        return value(i, forward(su));
      });
    },
  };
}

/** Logs the non-finite value, checkpoints the last finite state and throws `NON_FINITE_LOSS`. */
function failNonFinite(s: TrainSession, e: NonFiniteSignal): never {
  const { pos } = s.run;
  const key = s.plan.keys[e.objective]!;
  s.log({
    type: 'nonFinite',
    step: pos.step,
    epoch: pos.epoch,
    batch: pos.batch,
    objective: key,
    value: String(e.value),
  });
  const path = s.checkpoint();
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
