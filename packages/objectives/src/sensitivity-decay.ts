import {
  defineObjective,
  type JsonObject,
  type Network,
  type ParamSelector,
  type PrepareContext,
  Rng,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import type { OutputKind } from './cross-entropy.js';
import { commonFields, outputKind, toSelector } from './define.js';
import { ObjectiveError } from './errors.js';
import { FactorDecay } from './factor-decay.js';
import { SELECTIVE_DECAY_DEFAULT_PARAMS } from './selective-weight-decay.js';
import { requireParams } from './selector.js';

/**
 * Which output the sensitivity is measured on.
 * - `'probabilities'`: the softmax probabilities (computed from the network's
 *   outputs according to `from`). Tartaglione et al. 2018 measure the network
 *   output after the softmax; bounded outputs also make the fixed threshold
 *   S = 1 of the insensitivity max(0, 1 − S) meaningful on any network.
 * - `'outputs'`: the network outputs as they are (usually logits), as the
 *   authors' later SeReNe code (2021) differentiates the raw model outputs.
 */
export type SensitivityOf = 'probabilities' | 'outputs';

/** Options of {@link outputSensitivity}. */
export interface OutputSensitivityOptions {
  /** @default 'probabilities' */
  readonly of?: SensitivityOf;
  /** What the network outputs hold (as in `crossEntropy`). @default 'logits' */
  readonly from?: OutputKind;
  /**
   * Indices (into the outputs of every spec output, each flattened per sample
   * and concatenated in spec order) to average over.
   * @default all C outputs
   */
  readonly outputs?: readonly number[];
}

/** C: the number of scalar outputs per sample, over every spec output. */
export function outputCount(net: Network): number {
  let total = 0;
  for (const id of net.spec.outputs) {
    const info = net.nodes.find((n) => n.id === id);
    if (!info) {
      throw new ObjectiveError('UNSUPPORTED_NETWORK', `the network has no node info for output '${id}'`);
    }
    total += info.outputShape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/** Spec output and per-sample column of flat output index k. */
function locate(net: Network, k: number): { task: number; column: number } {
  let offset = 0;
  for (const [task, id] of net.spec.outputs.entries()) {
    const size = net.nodes.find((n) => n.id === id)!.outputShape.reduce((a, b) => a * b, 1);
    if (k < offset + size) return { task, column: k - offset };
    offset += size;
  }
  throw new ObjectiveError('INVALID_ARGUMENT', `output index ${k} is not below C = ${offset}`);
}

function transformed(y: tf.Tensor, of: SensitivityOf, from: OutputKind): tf.Tensor {
  if (of === 'outputs' || from === 'probabilities') return y;
  return from === 'logits' ? tf.softmax(y) : tf.exp(y);
}

/**
 * The output sensitivity of each selected parameter (Tartaglione et al.
 * 2018): S(w) = (1/K)·Σ_{k∈outputs} |∂ȳ_k/∂w|, where ȳ_k is output k averaged
 * over the batch `x` (K = C when every output is used: the paper's
 * (1/C)·Σ_k |∂y_k/∂w|).
 *
 * Averaging the outputs over the batch before differentiating costs one
 * forward and one backward pass per output k (C passes in all) instead of one
 * per sample and output; by the triangle inequality it is at most the
 * per-sample average of |∂y_k/∂w|, so weights whose effect cancels across
 * samples count as less sensitive. The forward pass runs in inference mode
 * (no dropout, BatchNorm on moving statistics, gate sites open): the
 * sensitivity is that of the function the network computes, not of a random
 * training draw. Masked weights get S = 0 (their gradient is masked).
 * Parameters with no path to the outputs get S = 0. Returns new tensors: the
 * caller disposes them.
 */
export function outputSensitivity(
  net: Network,
  x: tf.Tensor,
  params: readonly string[],
  options: OutputSensitivityOptions = {},
): Map<string, tf.Tensor> {
  const of = options.of ?? 'probabilities';
  const from = options.from ?? 'logits';
  const c = outputCount(net);
  const outputs = options.outputs ?? Array.from({ length: c }, (_, k) => k);
  if (outputs.length === 0) throw new ObjectiveError('INVALID_ARGUMENT', 'outputSensitivity: no outputs');
  const variables = params.map((name) => {
    const v = net.params.get(name);
    if (!v) throw new ObjectiveError('UNKNOWN_PARAMETER', `the network has no parameter '${name}'`);
    return v;
  });
  const sums = new Map<string, tf.Tensor>(params.map((name, i) => [name, tf.zerosLike(variables[i]!)]));
  try {
    for (const k of outputs) {
      const { task, column } = locate(net, k);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const y = transformed(net.apply(x, { training: false })[task]!, of, from);
            const flat = tf.reshape(y, [y.shape[0]!, -1]);
            return tf.mean(tf.slice(flat, [0, column], [flat.shape[0]!, 1])) as tf.Scalar;
          }),
        variables,
      );
      value.dispose();
      for (const [i, name] of params.entries()) {
        const g = grads[variables[i]!.name];
        if (g === undefined) continue;
        const previous = sums.get(name)!;
        sums.set(
          name,
          tf.tidy(() => tf.add(previous, tf.abs(g))),
        );
        previous.dispose();
      }
      tf.dispose(Object.values(grads));
    }
    for (const name of params) {
      const total = sums.get(name)!;
      sums.set(
        name,
        tf.tidy(() => tf.div(total, outputs.length)),
      );
      total.dispose();
    }
    return sums;
  } catch (error) {
    for (const t of sums.values()) t.dispose();
    throw error;
  }
}

/** Options of {@link SensitivityDecay}. */
export interface SensitivityDecayOptions {
  /**
   * Strength γ of R = γ·Σ max(0, 1 − S(w))·w². The paper's update subtracts
   * λ·w·max(0, 1 − S) directly (not scaled by the learning rate); with plain
   * SGD at learning rate η this objective subtracts η·2γ·max(0, 1 − S)·w, so
   * γ = λ/(2η) reproduces the paper's λ. Under momentum or Adam the decay goes
   * through the optimizer's preconditioning and there is no exact mapping.
   * Writable at run time through `setParameter('gamma', …)`.
   * @default 1e-3
   */
  readonly gamma?: number;
  /**
   * Scale α of the insensitivity max(0, 1 − S/α); α = 1 is the paper's form.
   * On softmax probabilities S is small (on LeNet-300-100 under MNIST every
   * weight had S < 0.02, at initialization and after training), so with α = 1
   * the factor stays in [0.98, 1] and the decay is nearly uniform; α of the
   * order of the largest S makes it selective (same role as
   * `selectiveWeightDecay`'s α).
   * @default 1
   */
  readonly alpha?: number;
  /** @default 'probabilities' (see {@link SensitivityOf}) */
  readonly of?: SensitivityOf;
  /** What the network outputs hold (as in `crossEntropy`). @default 'logits' */
  readonly from?: OutputKind;
  /**
   * Outputs used per step. Fewer than C makes each step cheaper (one forward
   * and backward pass per output used): a uniformly random subset of this
   * size, drawn with the objective's own seeded generator, gives
   * (1/K)·Σ_{k∈subset} |∂ȳ_k/∂w|, an unbiased estimate of the full
   * (1/C)·Σ_k |∂ȳ_k/∂w|. Must not exceed C (checked at the first `prepare`).
   * @default C (every output, the paper's definition)
   */
  readonly outputsPerStep?: number;
  /**
   * Seed of the subset draws (used only when `outputsPerStep` < C). The draws
   * follow the sequence of `prepare` calls; a resumed run starts it again.
   * @default 0
   */
  readonly seed?: number;
  /** Parameters to regularize. @default every trainable kernel, bias, gamma and beta (as `selectiveWeightDecay`) */
  readonly params?: ParamSelector;
  /** @default 'sensitivityDecay' */
  readonly name?: string;
  /**
   * Apply the decay after the optimizer step, w ← w − γ·max(0, 1 − S/α)·w
   * (the paper's update with λ = γ, not scaled by the learning rate), instead
   * of through the loss (see {@link FactorDecay}). @default false
   */
  readonly decoupled?: boolean;
}

/**
 * Tartaglione et al. 2018 ("Learning Sparse Neural Networks via
 * Sensitivity-Driven Regularization", NeurIPS 2018): weights to which the
 * network output is insensitive decay towards zero. R = γ·Σ max(0, 1 − S(w)/α)·w²
 * with the output sensitivity S of {@link outputSensitivity} held constant for
 * the step, so ∂R/∂w = 2γ·max(0, 1 − S/α)·w: with α = 1 (the default) the
 * paper's update w ← w − η∂L/∂w − λ·w·max(0, 1 − S) with λ = 2ηγ under plain
 * SGD. Weights with S ≥ α get no decay at all.
 *
 * `prepare(ctx)` runs the network on `ctx.batch.x` once per output used (the
 * C extra passes per step are the method's cost; `outputsPerStep` trades
 * them for noise). Pair it with the `sensitivity` pruner of
 * @moprune/pruners, which removes the weights this decay drives to zero.
 */
export class SensitivityDecay extends FactorDecay {
  readonly name: string;
  readonly config: JsonObject;
  readonly alpha: number;
  readonly of: SensitivityOf;
  readonly from: OutputKind;
  readonly outputsPerStep: number | undefined;
  readonly seed: number;
  readonly params: ParamSelector;
  private readonly rng: Rng;

  constructor(options: SensitivityDecayOptions = {}, config?: JsonObject) {
    super(options.decoupled ?? false);
    this.alpha = options.alpha ?? 1;
    this.of = options.of ?? 'probabilities';
    this.from = options.from ?? 'logits';
    this.outputsPerStep = options.outputsPerStep;
    this.seed = options.seed ?? 0;
    this.params = options.params ?? SELECTIVE_DECAY_DEFAULT_PARAMS;
    this.name = options.name ?? 'sensitivityDecay';
    if (!(this.alpha > 0) || !Number.isFinite(this.alpha)) {
      throw new ObjectiveError('INVALID_ARGUMENT', `alpha must be a finite number > 0, got ${this.alpha}`);
    }
    if (
      this.outputsPerStep !== undefined &&
      (!Number.isInteger(this.outputsPerStep) || this.outputsPerStep < 1)
    ) {
      throw new ObjectiveError(
        'INVALID_ARGUMENT',
        `outputsPerStep must be an integer ≥ 1, got ${this.outputsPerStep}`,
      );
    }
    if (!Number.isInteger(this.seed)) {
      throw new ObjectiveError('INVALID_ARGUMENT', `seed must be an integer, got ${this.seed}`);
    }
    this.rng = Rng.fromSeed(this.seed);
    this.gamma = options.gamma ?? 1e-3;
    this.config = config ?? {
      type: 'sensitivityDecay',
      gamma: this.gamma,
      alpha: this.alpha,
      of: this.of,
      from: this.from,
      ...(this.outputsPerStep === undefined ? {} : { outputsPerStep: this.outputsPerStep, seed: this.seed }),
      ...(this.decoupled ? { decoupled: true } : {}),
    };
  }

  /** The current insensitivity factors max(0, 1 − S(w)/α) by parameter name (owned by this objective; do not dispose). */
  insensitivity(): ReadonlyMap<string, tf.Tensor> | undefined {
    return this.factors();
  }

  /** The output indices this step uses: all of them, or a seeded random subset. */
  private drawOutputs(c: number): number[] | undefined {
    const k = this.outputsPerStep;
    if (k === undefined || k === c) return undefined;
    if (k > c) {
      throw new ObjectiveError(
        'INVALID_ARGUMENT',
        `${this.name}: outputsPerStep = ${k} exceeds the network's C = ${c} outputs`,
      );
    }
    return Array.from(this.rng.permutation(c).subarray(0, k)).sort((a, b) => a - b);
  }

  protected computeFactors(ctx: PrepareContext): Map<string, tf.Tensor> {
    const names = requireParams(ctx.net, this.params, this.name);
    const outputs = this.drawOutputs(outputCount(ctx.net));
    const sensitivity = outputSensitivity(ctx.net, ctx.batch.x, names, {
      of: this.of,
      from: this.from,
      ...(outputs ? { outputs } : {}),
    });
    const factors = new Map<string, tf.Tensor>();
    for (const [name, s] of sensitivity) {
      factors.set(
        name,
        tf.tidy(() => tf.relu(tf.sub(1, tf.div(s, this.alpha)))),
      );
      s.dispose();
    }
    return factors;
  }
}

/** `{ type: 'sensitivityDecay', gamma?, alpha?, of?, from?, outputsPerStep?, seed?, params?, name?, decoupled? }`. */
export const sensitivityDecayDefinition = defineObjective({
  name: 'sensitivityDecay',
  description: 'Tartaglione 2018: γ·Σ max(0, 1 − S/α)·w², S = (1/C)·Σ_k |∂y_k/∂w| output sensitivity',
  configSchema: s.object({
    gamma: s.number({ min: 0 }).optional(),
    alpha: s.number({ gt: 0 }).optional(),
    of: s.oneOf(['probabilities', 'outputs'] as const).optional(),
    from: outputKind().optional(),
    outputsPerStep: s.integer({ min: 1 }).optional(),
    seed: s.integer().optional(),
    params: s.paramSelector().optional(),
    decoupled: s.boolean().optional(),
    ...commonFields,
  }),
  create: (c) =>
    new SensitivityDecay(
      {
        gamma: c.gamma ?? 1e-3,
        alpha: c.alpha ?? 1,
        of: c.of ?? 'probabilities',
        from: c.from ?? 'logits',
        seed: c.seed ?? 0,
        params: toSelector(c.params, SELECTIVE_DECAY_DEFAULT_PARAMS),
        name: c.name ?? 'sensitivityDecay',
        decoupled: c.decoupled ?? false,
        ...(c.outputsPerStep === undefined ? {} : { outputsPerStep: c.outputsPerStep }),
      },
      c,
    ),
});
