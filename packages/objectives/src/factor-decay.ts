import type {
  JsonObject,
  Objective,
  ObjectiveContext,
  ParamSelector,
  PrepareContext,
  UpdateContext,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { ObjectiveError } from './errors.js';
import { effectiveParam } from './selector.js';

/**
 * What selective weight decay (Bonetta 2023) and sensitivity decay
 * (Tartaglione 2018) share: R = γ·Σ s(w)·w² with per-weight factors s that
 * `prepare` computes once per step and `value` holds constant, so
 * ∂R/∂w = 2γ·s(w)·w. Subclasses only say how the factors are computed.
 * `gamma` is writable (and reachable through `setParameter('gamma', …)`) so a
 * pruner's schedule can drive it between steps.
 *
 * Decoupled (`decoupled: true`): the decay does not go through the loss and
 * the optimizer; after the optimizer step (core's `afterUpdate`) every
 * selected weight becomes w ← w − γ·s(w)·w_t, with w_t and s(w) from before
 * the step — LOBSTER's and Tartaglione et al.'s update
 * w_{t+1} = w_t − η∂L/∂w − λ·s·w_t with λ = γ, exactly, whatever the
 * optimizer. (Through the loss, plain SGD at rate η gives the same step with
 * γ = λ/(2η); momentum and Adam precondition the decay, so the two differ.)
 * `value` then reports R for the logs as a constant without gradient.
 */
export abstract class FactorDecay implements Objective {
  abstract readonly name: string;
  abstract readonly config: JsonObject;
  abstract readonly params: ParamSelector;
  /** Apply the decay after the optimizer step instead of through the loss. */
  readonly decoupled: boolean;
  private gammaValue = 0;
  private current: Map<string, tf.Tensor> | undefined;
  /** s(w)·w_t of this step (decoupled only), by parameter name. */
  private decay: Map<string, tf.Tensor> | undefined;

  constructor(decoupled = false) {
    this.decoupled = decoupled;
  }

  /** The factors s(w) for this step, by parameter name; the caller disposes them on error. */
  protected abstract computeFactors(ctx: PrepareContext): Map<string, tf.Tensor>;

  /** Current strength γ. */
  get gamma(): number {
    return this.gammaValue;
  }

  /** Sets γ (finite, ≥ 0); takes effect at the next `value` call. */
  set gamma(value: number) {
    if (!Number.isFinite(value) || value < 0) {
      throw new ObjectiveError('INVALID_ARGUMENT', `gamma must be a finite number ≥ 0, got ${value}`);
    }
    this.gammaValue = value;
  }

  /**
   * Sets a hyperparameter at run time (core's `Objective.setParameter`): only
   * `'gamma'`, which a relevance pruner decays and resets during training.
   */
  setParameter(name: string, value: number): void {
    if (name !== 'gamma') {
      throw new ObjectiveError(
        'INVALID_ARGUMENT',
        `${this.name} has no run-time parameter '${name}'; only 'gamma'`,
      );
    }
    this.gamma = value;
  }

  /** The factors of the last `prepare`, or undefined before it (owned by this objective). */
  protected factors(): ReadonlyMap<string, tf.Tensor> | undefined {
    return this.current;
  }

  /** Computes this step's factors; the previous ones are disposed only once the new ones exist. */
  prepare(ctx: PrepareContext): void {
    const next = this.computeFactors(ctx);
    this.disposeFactors();
    this.current = next;
    if (this.decoupled) {
      this.decay = new Map();
      for (const [name, s] of next) {
        this.decay.set(
          name,
          tf.tidy(() => tf.mul(s, effectiveParam(ctx.net, name))),
        );
      }
    }
  }

  /** Decoupled: w ← w − γ·s(w)·w_t after the optimizer step (a no-op otherwise). */
  afterUpdate(ctx: UpdateContext): void {
    if (!this.decoupled || this.decay === undefined || this.gammaValue === 0) return;
    for (const [name, d] of this.decay) {
      const w = ctx.net.params.get(name);
      if (w === undefined || w.size !== d.size) continue;
      tf.tidy(() => w.assign(tf.sub(w, tf.mul(d, this.gammaValue))));
    }
  }

  value(ctx: ObjectiveContext): tf.Scalar {
    const factors = this.current;
    if (!factors) {
      throw new ObjectiveError(
        'NOT_PREPARED',
        `${this.name}: value() before prepare(); the loop must call prepare first`,
      );
    }
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const [name, s] of factors) {
        const w = effectiveParam(ctx.net, name);
        if (w.shape.length !== s.shape.length || w.shape.some((d, i) => d !== s.shape[i])) {
          throw new ObjectiveError(
            'NOT_PREPARED',
            `${this.name}: '${name}' changed shape since prepare() (compaction?); call prepare again`,
          );
        }
        total = tf.add(total, tf.sum(tf.mul(s, tf.square(w))));
      }
      const r: tf.Scalar = tf.mul(total, this.gammaValue);
      // Decoupled: the same figure for the logs, as a constant the optimizer's gradient never sees.
      return this.decoupled ? tf.scalar(r.dataSync()[0]!) : r;
    });
  }

  private disposeFactors(): void {
    if (this.current) for (const t of this.current.values()) t.dispose();
    this.current = undefined;
    if (this.decay) for (const t of this.decay.values()) t.dispose();
    this.decay = undefined;
  }

  dispose(): void {
    this.disposeFactors();
  }
}
