import {
  defineObjective,
  type JsonObject,
  type Network,
  type Objective,
  type ObjectOf,
  type ParamSelector,
  schema as s,
  sumOfAbs,
  sumOfSquares,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonFields, toSelector } from './define.js';
import { effectiveParam, PerNetwork, requireParams } from './selector.js';

/** Options of {@link l1Penalty} and {@link squaredL2Penalty}. */
export interface NormPenaltyOptions {
  /** Factor in front of the sum. @default 1 */
  readonly coefficient?: number;
  /** `'none'`: plain sum (Reiners' f2); `'mean'`: divided by the number of selected entries. @default 'none' */
  readonly normalize?: 'none' | 'mean';
}

/**
 * |w| whose gradient is sign(w), i.e. 0 at w = 0. tfjs's `abs` has gradient
 * −1 at 0 (it uses step(x, −1)), which would push exactly-zero (pruned)
 * weights negative and make a regrowing pruner revive them; w·sign(w) has the
 * same value and, since sign's gradient is 0, the subgradient 0 at 0 that
 * TensorFlow's Keras regularizers use.
 */
export function absWithZeroSubgradient(w: tf.Tensor): tf.Tensor {
  return tf.mul(w, tf.sign(w));
}

function penalty(
  net: Network,
  names: readonly string[],
  sum: (ws: readonly tf.Tensor[]) => tf.Scalar,
  options: NormPenaltyOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const ws = names.map((name) => effectiveParam(net, name));
    let total = sum(ws);
    if ((options.normalize ?? 'none') === 'mean')
      total = tf.div(
        total,
        ws.reduce((n, w) => n + w.size, 0),
      );
    return tf.mul(total, options.coefficient ?? 1);
  });
}

/** coefficient · Σ|w| over the named parameters (masked entries count as 0). */
export function l1Penalty(
  net: Network,
  names: readonly string[],
  options: NormPenaltyOptions = {},
): tf.Scalar {
  // core's sumOfAbs: one kernel pair on native (gradient sign(w), 0 at 0, as absWithZeroSubgradient).
  return penalty(net, names, sumOfAbs, options);
}

/**
 * coefficient · Σ w² over the named parameters: the squared ℓ2 norm with no ½,
 * the same convention as Keras' `l2(c)` regularizer (Reiners' conv kernel penalty).
 */
export function squaredL2Penalty(
  net: Network,
  names: readonly string[],
  options: NormPenaltyOptions = {},
): tf.Scalar {
  return penalty(net, names, sumOfSquares, options);
}

interface NormConfig extends Required<NormPenaltyOptions> {
  readonly name: string;
  readonly params: ParamSelector;
}

const normFields = {
  params: s.paramSelector().optional(),
  coefficient: s.number({ min: 0 }).optional(),
  normalize: s.oneOf(['none', 'mean'] as const).optional(),
  ...commonFields,
};

function normOptions(c: ObjectOf<typeof normFields>, type: string): NormConfig {
  return {
    params: toSelector(c.params, { trainableOnly: true }),
    coefficient: c.coefficient ?? 1,
    normalize: c.normalize ?? 'none',
    name: c.name ?? type,
  };
}

function normObjective(
  options: NormConfig,
  config: JsonObject,
  f: (net: Network, names: readonly string[], o: NormPenaltyOptions) => tf.Scalar,
): Objective {
  const selected = new PerNetwork((net) => requireParams(net, options.params, options.name));
  return { name: options.name, config, value: (ctx) => f(ctx.net, selected.get(ctx.net), options) };
}

/**
 * `{ type: 'l1', params?, coefficient?, normalize?, name? }`. Reiners' f2 is
 * `{ type: 'l1', params: { ops: ['dense'], roles: ['kernel'] } }`.
 */
export const l1Definition = defineObjective({
  name: 'l1',
  description: 'ℓ1 norm Σ|w| over selected parameters (subgradient 0 at w = 0)',
  configSchema: s.object(normFields),
  create: (c) => normObjective(normOptions(c, 'l1'), c, l1Penalty),
});

/**
 * `{ type: 'l2', params?, coefficient?, normalize?, name? }`: squared ℓ2,
 * Σw². Reiners' conv penalty is `{ type: 'l2', coefficient: 1e-4, params: { ops: ['conv2d'], roles: ['kernel'] } }`.
 */
export const l2Definition = defineObjective({
  name: 'l2',
  description: 'squared ℓ2 norm Σw² over selected parameters (Keras l2 convention, no ½)',
  configSchema: s.object(normFields),
  create: (c) => normObjective(normOptions(c, 'l2'), c, squaredL2Penalty),
});
