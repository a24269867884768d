import type { JsonObject, Objective, ObjectiveContext, PrepareContext } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import type { ObjectiveDefinition } from './define.js';
import { readName } from './define.js';
import { ObjectiveError } from './errors.js';
import { effectiveParam, type ParamSelector, readSelector, selectParams } from './selector.js';

/**
 * The irrelevance factor s(w) from a weight's data-loss gradient g.
 * - `'exponential'`: s = exp(−|g|/α) ∈ (0, 1] (Bonetta & Cancelliere 2023, the paper's form).
 * - `'reference'`: s = 1/(1 − α|g|), as written in the authors' companion
 *   code. It is likely a sign slip: it grows with relevance (the opposite of
 *   the paper's intent) and has a pole at |g| = 1/α, where it turns negative.
 *   Offered only to reproduce that code.
 */
export type IrrelevanceFactor = 'exponential' | 'reference';

/** Options of {@link SelectiveWeightDecay}. */
export interface SelectiveWeightDecayOptions {
  /** Temperature α of the irrelevance factor. @default 1 */
  readonly alpha?: number;
  /** Initial strength γ (the pruner's schedule changes it through the `gamma` setter). @default 1e-3 */
  readonly gamma?: number;
  /** @default 'exponential' */
  readonly factor?: IrrelevanceFactor;
  /**
   * Parameters to regularize.
   * @default every trainable kernel, bias, gamma and beta — all layer types
   *   (conv, dense, normalization, and attention/embedding kernels of custom
   *   ops); the MDMTN mix coefficients α are not weights and stay out.
   */
  readonly params?: ParamSelector;
  /** @default 'selectiveWeightDecay' */
  readonly name?: string;
}

/** The default parameter selector of {@link SelectiveWeightDecay}. */
export const SELECTIVE_DECAY_DEFAULT_PARAMS: ParamSelector = {
  roles: ['kernel', 'bias', 'gamma', 'beta'],
  trainableOnly: true,
};

/**
 * Bonetta & Cancelliere's selective weight decay R = γ·Σ s(w)·w², where
 * s(w) = exp(−|∂L/∂w|/α) comes from the data gradient of a first backward
 * pass and is a constant for the step: ∂R/∂w = 2γ·s(w)·w, so weights the
 * loss does not care about decay and relevant ones barely do.
 *
 * `prepare(ctx)` computes s from `ctx.dataGradients()` and keeps it until
 * the next `prepare` (the previous factors are disposed then, or by
 * `dispose()`). `gamma` is writable so a pruner's decay/reset schedule can
 * drive it between steps.
 */
export class SelectiveWeightDecay implements Objective {
  readonly name: string;
  readonly config: JsonObject;
  readonly alpha: number;
  readonly factor: IrrelevanceFactor;
  readonly params: ParamSelector;
  private gammaValue: number;
  private factors: Map<string, tf.Tensor> | undefined;

  constructor(options: SelectiveWeightDecayOptions = {}, config?: JsonObject) {
    this.alpha = options.alpha ?? 1;
    this.factor = options.factor ?? 'exponential';
    this.params = options.params ?? SELECTIVE_DECAY_DEFAULT_PARAMS;
    this.name = options.name ?? 'selectiveWeightDecay';
    if (!(this.alpha > 0) || !Number.isFinite(this.alpha)) {
      throw new ObjectiveError('INVALID_ARGUMENT', `alpha must be a finite number > 0, got ${this.alpha}`);
    }
    this.gammaValue = 0;
    this.gamma = options.gamma ?? 1e-3;
    this.config = config ?? {
      type: 'selectiveWeightDecay',
      alpha: this.alpha,
      gamma: this.gammaValue,
      factor: this.factor,
    };
  }

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

  /** The current factors s(w) by parameter name (owned by this objective; do not dispose). */
  irrelevance(): ReadonlyMap<string, tf.Tensor> | undefined {
    return this.factors;
  }

  prepare(ctx: PrepareContext): void {
    const names = selectParams(ctx.net, this.params, this.name);
    const grads = ctx.dataGradients();
    const next = new Map<string, tf.Tensor>();
    try {
      for (const name of names) {
        const g = grads.get(name);
        if (!g) {
          throw new ObjectiveError('MISSING_GRADIENT', `${this.name}: no data gradient for '${name}'`);
        }
        const shape = ctx.net.paramInfo.get(name)!.shape;
        if (g.shape.length !== shape.length || g.shape.some((d, i) => d !== shape[i])) {
          throw new ObjectiveError(
            'SHAPE_MISMATCH',
            `${this.name}: gradient of '${name}' has shape [${g.shape}], the parameter [${shape}]`,
          );
        }
        next.set(
          name,
          tf.tidy(() => {
            const magnitude = tf.abs(g);
            return this.factor === 'exponential'
              ? tf.exp(tf.div(magnitude, -this.alpha))
              : tf.reciprocal(tf.sub(1, tf.mul(magnitude, this.alpha)));
          }),
        );
      }
    } catch (error) {
      for (const t of next.values()) t.dispose();
      throw error;
    }
    this.disposeFactors();
    this.factors = next;
  }

  value(ctx: ObjectiveContext): tf.Scalar {
    const factors = this.factors;
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
    if (this.factors) for (const t of this.factors.values()) t.dispose();
    this.factors = undefined;
  }

  dispose(): void {
    this.disposeFactors();
  }
}

interface SwdConfig {
  readonly alpha: number;
  readonly gamma: number;
  readonly factor: IrrelevanceFactor;
  readonly params: ParamSelector;
  readonly name: string;
}

/** `{ type: 'selectiveWeightDecay', alpha?, gamma?, factor?, params?, name? }`. */
export const selectiveWeightDecayDefinition: ObjectiveDefinition<SwdConfig> = {
  type: 'selectiveWeightDecay',
  description: 'Bonetta 2023: γ·Σ exp(−|∂L/∂w|/α)·w², relevance from a first backward pass',
  parse: (r) => ({
    alpha: r.number('alpha', 1, { minExclusive: 0 }),
    gamma: r.number('gamma', 1e-3, { min: 0 }),
    factor: r.oneOf('factor', ['exponential', 'reference'] as const, 'exponential'),
    params: readSelector(r, 'params', SELECTIVE_DECAY_DEFAULT_PARAMS),
    name: readName(r, 'selectiveWeightDecay'),
  }),
  build: (o, config) => new SelectiveWeightDecay(o, config),
};
