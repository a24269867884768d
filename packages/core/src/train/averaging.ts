// An exponential moving average of the trained variables (TrainOptions.averaging): updated after
// every step, swapped in for every evaluation, sliced along with the network on physical removal,
// checkpointed, and written into the network the run returns.
import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { ComponentState } from '../interfaces.js';
import { type AxisTake, takeAlong } from '../network/compact.js';
import type { Network } from '../network-types.js';
import { requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';

/**
 * Kernel name of one step of a moving average in one pass. A backend that registers it
 * (`@moprune/native` does) runs {@link WeightAverage}'s update as one kernel per variable instead of
 * three elementwise tfjs ops.
 *
 * Contract — inputs `{ average, value }`, float32, of one shape; attribute `decay` (β, a number).
 * Output `average·b + value·c` elementwise, with b = β and c = 1 − b rounded to float32 and every
 * product and the sum rounded to float32 in this order (the composed ops' arithmetic, so both give the
 * same bits).
 */
export const MOVING_AVERAGE_KERNEL = 'MopruneMovingAverage';

/** True when the active backend runs {@link MOVING_AVERAGE_KERNEL}. */
export function hasMovingAverageKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(MOVING_AVERAGE_KERNEL, backendName) !== undefined;
}

/**
 * One step of a moving average, `average·β + value·(1 − β)` (see {@link MOVING_AVERAGE_KERNEL}): the
 * backend's kernel when it has one, else the same arithmetic as composed ops.
 */
export function movingAverageStep(average: tf.Tensor, value: tf.Tensor, decay: number): tf.Tensor {
  if (average.dtype === 'float32' && value.dtype === 'float32' && hasMovingAverageKernel())
    return tf.engine().runKernel(MOVING_AVERAGE_KERNEL, { average, value }, { decay }) as tf.Tensor;
  const b = Math.fround(decay);
  const c = Math.fround(1 - b);
  return tf.tidy(() => tf.add(tf.mul(average, b), tf.mul(value, c)));
}

/**
 * The average a of each variable v: a ← β·a + (1 − β)·v after every step, starting from v's value
 * when the average starts (a fresh run's initial weights, or a variable's value when it first
 * appears) — an average of the values the variable took, so it needs no bias correction.
 */
export class WeightAverage {
  private variables: readonly tf.Variable[] = [];
  private averages: tf.Variable[] = [];
  /** The trained values while the averages are in place. */
  private kept: tf.Tensor[] | undefined;
  /** Set by {@link WeightAverage.restart}: the next update is skipped. */
  private restarted = false;

  constructor(readonly decay: number) {
    if (!(decay > 0 && decay < 1))
      throw new CoreError('INVALID_ARGUMENT', `averaging.decay must be in (0, 1), got ${decay}`, {
        details: { decay },
      });
  }

  /**
   * Binds the average to a new variable list (the run's start, or a network swap). Variable i keeps
   * the average of `previous[i]` (default: itself, when it was averaged before) — sliced by
   * `takes[i]` when given, as the solver's per-entry state is — or starts from its current value.
   */
  reset(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    const old = new Map(this.variables.map((v, i) => [v, this.averages[i]!]));
    const next = variables.map((v, i) => {
      const a = old.get(previous?.[i] ?? v);
      const take = takes?.[i];
      return tf.tidy(() => {
        if (a === undefined) return tf.variable(v, false);
        const x = takeAlong(a, take ?? []);
        // A shape that does not follow (another kind of replacement) starts anew from the value.
        return tf.variable(x.shape.join() === v.shape.join() ? x : v, false);
      });
    });
    for (const a of this.averages) a.dispose();
    this.variables = [...variables];
    this.averages = next;
  }

  /**
   * Restarts every average from its variable's current value (a pruner wrote the values outright);
   * the update that follows in the same step is skipped, so the average is exactly those values.
   */
  restart(): void {
    for (const [i, v] of this.variables.entries()) this.averages[i]!.assign(v);
    this.restarted = true;
  }

  /** One step of the average, after the optimizer's update. */
  update(): void {
    if (this.restarted) {
      this.restarted = false;
      return;
    }
    const b = this.decay;
    tf.tidy(() => {
      for (const [i, v] of this.variables.entries()) {
        const a = this.averages[i]!;
        a.assign(movingAverageStep(a, v, b));
      }
    });
  }

  /**
   * Puts the averages in place of the variables' values (masks applied, so pruned entries stay zero);
   * returns the function that puts the trained values back. While they are in place, a nested call
   * changes nothing and returns a no-op.
   */
  swapIn(net: Network): () => void {
    if (this.kept !== undefined) return () => {};
    const kept = this.variables.map((v) => tf.clone(v));
    this.kept = kept;
    this.write(net);
    return () => {
      for (const [i, v] of this.variables.entries()) v.assign(kept[i]!);
      tf.dispose(kept);
      this.kept = undefined;
    };
  }

  /** Runs `fn` with the averages in place (see {@link WeightAverage.swapIn}). */
  withAverages<T>(net: Network, fn: () => T): T {
    const restore = this.swapIn(net);
    try {
      return fn();
    } finally {
      restore();
    }
  }

  /** Writes the averages into the variables for good (the network the run returns). */
  write(net: Network): void {
    for (const [i, v] of this.variables.entries()) v.assign(this.averages[i]!);
    if (net.maskedParams().length > 0) net.applyMasks();
  }

  /** The averages as arrays `${i}` in variable order. */
  state(): ComponentState {
    const arrays: Record<string, StateArray> = {};
    for (const [i, a] of this.averages.entries()) arrays[String(i)] = tensorToStateArray(a);
    return { json: { decay: this.decay, count: this.averages.length }, arrays };
  }

  /**
   * Restores averages saved by {@link WeightAverage.state} for the bound variables (same order and
   * shapes). A state without them (a checkpoint written before averaging was on) leaves the
   * averages at the variables' current values.
   * @throws CoreError `INVALID_ARGUMENT` (an array missing) / `SHAPE_MISMATCH` when the state does not
   *   fit the variables (a resume then refuses the checkpoint as not fitting the run).
   */
  load(state: ComponentState): void {
    if (Object.keys(state.arrays).length === 0) return;
    for (const [i, v] of this.variables.entries()) {
      const s = requireStateArray(state, String(i), v.shape, 'the weight average');
      tf.tidy(() => this.averages[i]!.assign(tf.tensor(s.data, [...s.shape], 'float32')));
    }
  }

  dispose(): void {
    for (const a of this.averages) a.dispose();
    this.averages = [];
    this.variables = [];
  }
}
