// The state of one training run and the services the loop's parts share (log, evaluation,
// checkpoints, pruner contexts and network swaps).
import * as tf from '@tensorflow/tfjs-core';
import type { Objective, PrunerStepContext, PrunerStepResult } from '../interfaces.js';
import type { JsonObject } from '../json.js';
import { type AxisTake, compactionTakes } from '../network/compact.js';
import { recalibrateBatchNorm } from '../network/recalibrate.js';
import type { Network } from '../network-types.js';
import { Rng } from '../rng.js';
import { WeightAverage } from './averaging.js';
import { collectGates, type EvaluationResult, evaluateNetwork } from './evaluate.js';
import { dataBatchFields, type EpochRecord, type TrainResult } from './options.js';
import type { TrainPlan } from './plan.js';
import { learningRateAt } from './schedules.js';
import { corruptEvent, snapshotRun } from './state.js';
import { utf8Bytes } from './store.js';

/** Where the run is. */
export interface Position {
  epoch: number;
  /** Batches completed in `epoch`. */
  batch: number;
  /** Global steps completed. */
  step: number;
}

/** Everything of a run that changes as it trains; what a checkpoint keeps of it is in `state.ts`. */
export interface RunState {
  /** The current network (pruners and resumes may replace it). */
  net: Network;
  baseLr: number;
  readonly pos: Position;
  /** Wall time of earlier sessions of the run (ms). */
  elapsedBefore: number;
  /** Length of metrics.jsonl so far. */
  metricsBytes: number;
  history: EpochRecord[];
  /** Running sums of the current epoch's objective values and solver weights, and their count. */
  epochSums: Record<string, number>;
  weightSums: number[];
  epochCount: number;
  finished: boolean;
  stoppedEarly: boolean;
  interrupted: boolean;
  resumedFrom: TrainResult['resumedFrom'];
  /** The pruners' persistent random streams (checkpointed). */
  readonly prunerRngs: Rng[];
  /**
   * The last value each objective's parameters were given through a pruner's
   * `ctx.objectives[i].setParameter` (checkpointed, and set again on resume: an objective has no
   * state of its own, so a decayed γ would otherwise restart at its config's value).
   */
  readonly objectiveParameters: Record<string, number>[];
  /** The rate of the last step run (the epoch record's). */
  lastLr: number;
}

/** One session of a run: its plan, its state, and the services the step engine and the parts use. */
export class TrainSession {
  readonly run: RunState;
  /** Steps run in this session (for the step rate). */
  sessionSteps = 0;
  private sessionStart = performance.now();
  /** The moving average of the trained variables (`averaging`), evaluated in their place. */
  readonly average: WeightAverage | undefined;
  /** The network and step whose BatchNorm statistics were last recalibrated. */
  private calibrated: { readonly net: Network; readonly step: number } | undefined;

  constructor(readonly plan: TrainPlan) {
    const { options, pruners, seed, solver } = plan;
    this.run = {
      net: options.net,
      baseLr: options.baseLearningRate ?? solver.learningRate,
      pos: { epoch: 0, batch: 0, step: 0 },
      elapsedBefore: 0,
      metricsBytes: 0,
      history: [],
      epochSums: {},
      weightSums: [],
      epochCount: 0,
      finished: false,
      stoppedEarly: false,
      interrupted: false,
      resumedFrom: undefined,
      prunerRngs: pruners.map((p, i) => Rng.fromSeed(seed).fork(`pruner:${i}:${p.name}`)),
      objectiveParameters: plan.objectives.map(() => ({})),
      lastLr: 0,
    };
    this.average = options.averaging === undefined ? undefined : new WeightAverage(options.averaging.decay);
    const params = this.run.objectiveParameters;
    this.prunerObjectives = plan.objectives.map((o, i) => recordingParameters(o, params[i]!));
  }

  /** The objectives as pruners see them: `setParameter` also records the value for checkpoints. */
  private readonly prunerObjectives: readonly Objective[];

  /** Starts the session's clock (after resuming, so restoring is not counted as training time). */
  begin(): void {
    this.sessionStart = performance.now();
    this.sessionSteps = 0;
    this.run.lastLr = this.lrAt(this.run.pos.step, this.run.pos.epoch);
  }

  /** Wall time of the whole run so far, earlier sessions included (ms). */
  elapsed(): number {
    return this.run.elapsedBefore + (performance.now() - this.sessionStart);
  }

  /** Milliseconds since this session began. */
  sessionMs(): number {
    return performance.now() - this.sessionStart;
  }

  /** Appends a line to metrics.jsonl (nothing without a store). */
  log(line: JsonObject): void {
    const store = this.plan.store;
    if (store === undefined) return;
    const text = `${JSON.stringify(line)}\n`;
    store.appendLog(text);
    this.run.metricsBytes += utf8Bytes(text);
  }

  /** What the solver updates: the network's trainable variables, then every pruner's. */
  variables(): tf.Variable[] {
    return [
      ...this.run.net.trainableVariables(),
      ...this.plan.pruners.flatMap((p) => (p.variables ? p.variables() : [])),
    ];
  }

  /** Initializes every pruner on the current network. */
  initPruners(): void {
    const { pruners, totalSteps, batchCounts } = this.plan;
    for (const [i, p] of pruners.entries()) {
      // With a growing batch the epochs differ; pruners get the first epoch's count.
      p.init({ net: this.run.net, rng: this.run.prunerRngs[i]!, totalSteps, stepsPerEpoch: batchCounts[0]! });
    }
  }

  /** The learning rate of `step`: the schedule's, or the solver's own without one. */
  lrAt(step: number, epoch: number): number {
    const { lrSchedule, solver, totalSteps, epochs } = this.plan;
    return lrSchedule === undefined
      ? solver.learningRate
      : learningRateAt(lrSchedule, this.run.baseLr, { step, epoch, totalSteps, epochs });
  }

  /**
   * Evaluates the current network on a split (the evaluation batch size and the data's layout and
   * labels) — with `averaging`, the averaged variables in place of the trained ones.
   */
  evaluate(split: 'validation' | 'test', limit?: number): EvaluationResult {
    const { dataset, objectives, pruners, validation, options } = this.plan;
    const run = () => {
      this.recalibrate();
      return evaluateNetwork(this.run.net, dataset, split, {
        batchSize: validation?.batchSize ?? 256,
        objectives,
        pruners,
        ...dataBatchFields(options.data, ['layout', 'labels']),
        ...(limit === undefined || limit === Number.MAX_SAFE_INTEGER ? {} : { limit }),
      });
    };
    return this.average === undefined ? run() : this.average.withAverages(this.run.net, run);
  }

  /**
   * With `recalibrateBatchNorm: k`, the BatchNorm statistics of the network as evaluated (the pruners'
   * evaluation gates): the first k batches of epoch 0's order, once per network and step.
   */
  private recalibrate(): void {
    const { plan, run } = this;
    const k = plan.recalibrateBatches;
    if (k <= 0 || (this.calibrated?.net === run.net && this.calibrated.step === run.pos.step)) return;
    const order = plan.dataset.batches('train', plan.trainBatchOptions(0));
    function* inputs(): Generator<tf.Tensor> {
      let n = 0;
      for (const b of order) {
        try {
          yield b.x;
        } finally {
          b.dispose();
        }
        if (++n >= k) return;
      }
    }
    // tidy frees whatever a pruner's gates() allocates besides the returned gates.
    const gates = tf.tidy(() => collectGates(plan.pruners, false, Rng.fromSeed(0)));
    try {
      recalibrateBatchNorm(run.net, inputs(), { gates });
    } finally {
      tf.dispose(Object.values(gates));
    }
    this.calibrated = { net: run.net, step: run.pos.step };
  }

  /** Writes a checkpoint of the whole training state now; its path, or undefined without checkpoints. */
  checkpoint(): string | undefined {
    const { checkpoint, store, options } = this.plan;
    if (checkpoint === undefined || store === undefined) return undefined;
    return store.writeCheckpoint(snapshotRun(this), {
      step: this.run.pos.step,
      keep: checkpoint.keep,
      onCorrupt: (e) => {
        this.log(corruptEvent(e, this.run.pos.step));
        options.onCheckpointCorrupt?.(e);
      },
    });
  }

  /**
   * Swaps in the network a pruner returned (`replaceNetwork`): the solver's state is rebuilt for the new
   * variables — each paired with the old one of its name, sliced by the compaction's takes when core's
   * `compact` made the network; the pruner's replaced variables (`replacedVariables`) with theirs —
   * and the old network disposed.
   */
  swap(r: PrunerStepResult | undefined): void {
    const next = r?.replaceNetwork;
    if (next === undefined || next === this.run.net) return;
    const old = this.run.net;
    const nameOf = new Map<tf.Variable, string>();
    for (const [name, v] of next.params) nameOf.set(v, name);
    const compaction = compactionTakes(next);
    const replaced = new Map((r?.replacedVariables ?? []).map((x) => [x.variable, x]));
    this.run.net = next;
    const variables = this.variables();
    const previous: (tf.Variable | undefined)[] = [];
    const takes: (readonly AxisTake[] | undefined)[] = [];
    for (const v of variables) {
      const name = nameOf.get(v);
      const own = replaced.get(v);
      previous.push(name !== undefined ? old.params.get(name) : (own?.previous ?? v));
      takes.push(name !== undefined ? compaction?.get(name) : own?.takes);
    }
    this.plan.solver.resetVariables?.(variables, previous, takes);
    this.average?.reset(variables, previous, takes);
    old.dispose();
  }

  /** The context of pruner `i`'s `afterStep`/`afterEpoch`. */
  prunerContext(step: number, epoch: number, batch: number, i: number): PrunerStepContext {
    const { batchCounts, prunerKeys, validation } = this.plan;
    return {
      net: this.run.net,
      step,
      epoch,
      batch,
      batchesPerEpoch: batchCounts[epoch] ?? batchCounts[batchCounts.length - 1]!,
      rng: this.run.prunerRngs[i]!,
      objectives: this.prunerObjectives,
      log: (record) => this.log({ type: 'pruner', pruner: prunerKeys[i]!, step, epoch, batch, ...record }),
      evaluate: async (split = 'validation') => {
        const r = this.evaluate(split, validation?.limit);
        const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
        return { accuracy: mean(r.accuracy), loss: mean(r.loss) };
      },
      withEvaluatedValues: async (fn) => {
        const restore = this.average?.swapIn(this.run.net);
        try {
          return await fn();
        } finally {
          restore?.();
        }
      },
      valuesWritten: () => this.average?.restart(),
    };
  }

  /** The run's `metrics` figures and every pruner's `metrics()` as `<pruner>.<figure>`. */
  figures(): Record<string, number> {
    const { options, pruners, prunerKeys } = this.plan;
    const out: Record<string, number> = options.metrics ? { ...options.metrics(this.run.net) } : {};
    for (const [i, p] of pruners.entries()) {
      if (!p.metrics) continue;
      for (const [k, v] of Object.entries(p.metrics())) out[`${prunerKeys[i]}.${k}`] = v;
    }
    return out;
  }

  /** Marks the run finished because a callback asked to stop. */
  stop(): void {
    this.run.stoppedEarly = true;
    this.run.finished = true;
  }
}

/**
 * A view of `o` whose `setParameter` records each value it accepted into `into` (by name); every
 * other member is `o`'s own, bound to `o`. Without `setParameter`, `o` itself.
 */
function recordingParameters(o: Objective, into: Record<string, number>): Objective {
  const set = o.setParameter;
  if (set === undefined) return o;
  return new Proxy(o, {
    get(target, key) {
      if (key === 'setParameter') {
        return (name: string, value: number) => {
          set.call(target, name, value);
          into[name] = value;
        };
      }
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
