import {
  type AxisTake,
  type ComponentState,
  cloneState,
  createOptimizer,
  isMopruneError,
  type JsonObject,
  type Optimizer,
  type OptimizerConfig,
} from '@moprune/core';
import type * as tf from '@tensorflow/tfjs-core';
import { SolverError } from '../errors.js';

function sameShapes(a: readonly tf.Variable[], b: readonly tf.Variable[]): boolean {
  return (
    a.length === b.length &&
    a.every((v, i) => v.shape.length === b[i]!.shape.length && v.shape.every((d, k) => d === b[i]!.shape[k]))
  );
}

function asStateMismatch(e: unknown, what: string): never {
  if (isMopruneError(e) && e.code !== 'INVALID_CONFIG') {
    throw new SolverError('STATE_MISMATCH', `${what}: ${(e as Error).message}`, { cause: e });
  }
  throw e;
}

/**
 * Core's optimizer bound to a step problem's variable list in its order, so
 * that a state saved by one solver loads into a fresh one index by index
 * (core's optimizer otherwise orders variables by first gradient seen, which
 * shifts when a variable has no gradient on the first step).
 */
export class BoundOptimizer {
  readonly optimizer: Optimizer;
  private bound: tf.Variable[] | undefined;
  private loadedUnbound = false;
  /** The state loaded before binding, returned verbatim by `state()` until then. */
  private loaded: ComponentState | undefined;

  constructor(config: OptimizerConfig) {
    this.optimizer = createOptimizer(config);
  }

  /**
   * Binds to `variables` on first use; later calls accept the same list, or a
   * list of other variables with the same shapes (state kept by index).
   * @throws SolverError `STATE_MISMATCH` when the shapes changed (call `reset` after physical removal).
   */
  bind(variables: readonly tf.Variable[]): void {
    if (this.bound === undefined) {
      const loaded = this.loadedUnbound ? this.optimizer.state() : undefined;
      this.optimizer.resetVariables(variables);
      if (loaded) {
        try {
          this.optimizer.load(loaded);
        } catch (e) {
          asStateMismatch(e, 'the loaded optimizer state does not fit the variables');
        }
      }
      this.loadedUnbound = false;
      this.loaded = undefined;
      this.bound = [...variables];
      return;
    }
    const bound = this.bound;
    if (bound.length === variables.length && bound.every((v, i) => v === variables[i])) return;
    if (!sameShapes(bound, variables)) {
      throw new SolverError(
        'STATE_MISMATCH',
        `the variable list changed shape (${bound.length} → ${variables.length} variables or different shapes); call resetVariables() after physical removal`,
      );
    }
    this.optimizer.resetVariables(variables, bound);
    this.bound = [...variables];
  }

  /**
   * Rebinds to a new variable list: variable i keeps the state of `previous[i]`
   * (default: itself) when that had the same shape, takes it sliced by `takes[i]`
   * when that slicing gives its shape, else starts fresh (core's rule).
   */
  reset(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    if (this.bound === undefined && this.loadedUnbound) {
      this.bind(variables);
      return;
    }
    this.optimizer.resetVariables(variables, previous, takes);
    this.loadedUnbound = false;
    this.loaded = undefined;
    this.bound = [...variables];
  }

  /** One update with per-variable directions (null = leave the variable alone) at learning rate `lr`. */
  apply(variables: readonly tf.Variable[], directions: readonly (tf.Tensor | null)[], lr: number): void {
    this.optimizer.learningRate = lr;
    const map = new Map<tf.Variable, tf.Tensor>();
    variables.forEach((v, i) => {
      const d = directions[i];
      if (d) map.set(v, d);
    });
    this.optimizer.applyGradients(map);
  }

  /**
   * The optimizer's state without variable names (state binds by index, and
   * names differ between processes), or the loaded state while not yet bound.
   */
  state(): ComponentState {
    if (this.loaded) return cloneState(this.loaded);
    const s = this.optimizer.state();
    const entries = s.json.entries;
    if (!Array.isArray(entries)) return s;
    const json: JsonObject = {
      ...s.json,
      entries: entries.map((e) => {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) return e;
        const { name: _name, ...rest } = e;
        return rest;
      }),
    };
    return { json, arrays: s.arrays };
  }

  /** @throws SolverError `STATE_MISMATCH` when the state is not of this optimizer or does not fit the bound variables. */
  load(state: ComponentState): void {
    try {
      this.optimizer.load(state);
    } catch (e) {
      asStateMismatch(e, 'cannot load the optimizer state');
    }
    if (this.bound === undefined) {
      this.loadedUnbound = true;
      this.loaded = cloneState(state);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
