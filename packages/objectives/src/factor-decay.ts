import type { JsonObject, Objective, ObjectiveContext, PrepareContext } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { ObjectiveError } from './errors.js';
import { effectiveParam, type ParamSelector } from './selector.js';

/**
 * What selective weight decay (Bonetta 2023) and sensitivity decay
 * (Tartaglione 2018) share: R = γ·Σ s(w)·w² with per-weight factors s that
 * `prepare` computes once per step and `value` holds constant, so
 * ∂R/∂w = 2γ·s(w)·w. Subclasses only say how the factors are computed.
 * `gamma` is writable (and reachable through `setParameter('gamma', …)`) so a
 * pruner's schedule can drive it between steps.
 */
export abstract class FactorDecay implements Objective {
  abstract readonly name: string;
  abstract readonly config: JsonObject;
  abstract readonly params: ParamSelector;
  private gammaValue = 0;
  private current: Map<string, tf.Tensor> | undefined;

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
      return tf.mul(total, this.gammaValue);
    });
  }

  private disposeFactors(): void {
    if (this.current) for (const t of this.current.values()) t.dispose();
    this.current = undefined;
  }

  dispose(): void {
    this.disposeFactors();
  }
}
