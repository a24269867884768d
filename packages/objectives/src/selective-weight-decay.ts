import {
  defineObjective,
  type JsonObject,
  type ParamSelector,
  type PrepareContext,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonFields, toSelector } from './define.js';
import { ObjectiveError } from './errors.js';
import { FactorDecay } from './factor-decay.js';
import { requireParams } from './selector.js';

/**
 * The irrelevance factor s(w) from a weight's data-loss gradient g.
 * - `'exponential'`: s = exp(−|g|/α) ∈ (0, 1] (Bonetta & Cancelliere 2023, the paper's form).
 * - `'lobster'`: s = max(0, 1 − |g|/α) ∈ [0, 1], LOBSTER's loss-based
 *   insensitivity (Tartaglione et al. 2022; α = 1 is the paper's form): weights
 *   whose loss gradient reaches α in magnitude get no decay at all.
 * - `'reference'`: s = 1/(1 − α|g|), as written in the authors' companion
 *   code. It is likely a sign slip: it grows with relevance (the opposite of
 *   the paper's intent) and has a pole at |g| = 1/α, where it turns negative.
 *   Offered only to reproduce that code.
 */
export type IrrelevanceFactor = 'exponential' | 'lobster' | 'reference';

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
  /**
   * Apply the decay after the optimizer step, w ← w − γ·s(w)·w, instead of
   * through the loss (see {@link FactorDecay}): LOBSTER's update with λ = γ.
   * @default false
   */
  readonly decoupled?: boolean;
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
export class SelectiveWeightDecay extends FactorDecay {
  readonly name: string;
  readonly config: JsonObject;
  readonly alpha: number;
  readonly factor: IrrelevanceFactor;
  readonly params: ParamSelector;

  constructor(options: SelectiveWeightDecayOptions = {}, config?: JsonObject) {
    super(options.decoupled ?? false);
    this.alpha = options.alpha ?? 1;
    this.factor = options.factor ?? 'exponential';
    this.params = options.params ?? SELECTIVE_DECAY_DEFAULT_PARAMS;
    this.name = options.name ?? 'selectiveWeightDecay';
    if (!(this.alpha > 0) || !Number.isFinite(this.alpha)) {
      throw new ObjectiveError('INVALID_ARGUMENT', `alpha must be a finite number > 0, got ${this.alpha}`);
    }
    this.gamma = options.gamma ?? 1e-3;
    this.config = config ?? {
      type: 'selectiveWeightDecay',
      alpha: this.alpha,
      gamma: this.gamma,
      factor: this.factor,
      ...(this.decoupled ? { decoupled: true } : {}),
    };
  }

  /** The current factors s(w) by parameter name (owned by this objective; do not dispose). */
  irrelevance(): ReadonlyMap<string, tf.Tensor> | undefined {
    return this.factors();
  }

  protected computeFactors(ctx: PrepareContext): Map<string, tf.Tensor> {
    const names = requireParams(ctx.net, this.params, this.name);
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
            switch (this.factor) {
              case 'exponential':
                return tf.exp(tf.div(magnitude, -this.alpha));
              case 'lobster':
                return tf.relu(tf.sub(1, tf.div(magnitude, this.alpha)));
              case 'reference':
                return tf.reciprocal(tf.sub(1, tf.mul(magnitude, this.alpha)));
            }
          }),
        );
      }
    } catch (error) {
      for (const t of next.values()) t.dispose();
      throw error;
    }
    return next;
  }
}

/** `{ type: 'selectiveWeightDecay', alpha?, gamma?, factor?, params?, name?, decoupled? }`. */
export const selectiveWeightDecayDefinition = defineObjective({
  name: 'selectiveWeightDecay',
  description:
    'Bonetta 2023: γ·Σ exp(−|∂L/∂w|/α)·w², relevance from a first backward pass (factor: lobster = LOBSTER 2022)',
  configSchema: s.object({
    alpha: s.number({ gt: 0 }).optional(),
    gamma: s.number({ min: 0 }).optional(),
    factor: s.oneOf(['exponential', 'lobster', 'reference'] as const).optional(),
    params: s.paramSelector().optional(),
    decoupled: s.boolean().optional(),
    ...commonFields,
  }),
  create: (c) =>
    new SelectiveWeightDecay(
      {
        alpha: c.alpha ?? 1,
        gamma: c.gamma ?? 1e-3,
        factor: c.factor ?? 'exponential',
        params: toSelector(c.params, SELECTIVE_DECAY_DEFAULT_PARAMS),
        name: c.name ?? 'selectiveWeightDecay',
        decoupled: c.decoupled ?? false,
      },
      c,
    ),
});
