import { defineObjective, type JsonObject, type Network, type Objective, schema as s } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonFields } from './define.js';
import {
  type GroupPlan,
  type GroupSource,
  groupNorms,
  groupSourceSchema,
  planGroups,
  toGroupSource,
} from './groups.js';
import { type GrowlWeightKind, growlWeights } from './owl.js';
import { PerNetwork } from './selector.js';

/**
 * Same value, zero gradient: for the reference form of Hotegni et al., whose
 * GrOWL term is computed from detached weights and only monitored by the
 * solver (sparsity then comes from the prox step). The value is read back and
 * re-created as a constant plus 0·Σw over the grouped parameters, so the
 * gradient stays defined (zero) for every grouped parameter while the tape
 * never walks back through the norm computation — a zero-gradient
 * `customGrad` around the norms sent zeros back through every gather and
 * segment sum of it: 0.6 s per MDMTN step on the CPU.
 */
function detach(value: tf.Tensor, net: Network, plan: GroupPlan): tf.Tensor {
  const params = [...new Set(plan.parts.map((p) => p.param))].map((p) => net.params.get(p)!);
  return tf.add(tf.scalar(value.dataSync()[0]!), tf.mul(tf.addN(params.map((w) => tf.sum(w))), 0));
}

// ─────────────────────────── group ℓ2,1 ───────────────────────────

/** What a group-norm objective needs besides its norm: resolved from a valid config. */
interface GroupNormOptions {
  readonly name: string;
  readonly groups: GroupSource;
  readonly coefficient: number;
  readonly differentiable: boolean;
}

/**
 * Σ_g c_g·‖w_g‖ over the groups of `plan`, with c_g = 1 (`'none'`) or
 * √(entries of g) (`'sqrtSize'`, the group-lasso convention of Yuan & Lin
 * that keeps large groups from being favoured).
 */
export function groupL21(net: Network, plan: GroupPlan, weighting: 'none' | 'sqrtSize' = 'none'): tf.Scalar {
  return tf.tidy(() => {
    const norms = groupNorms(net, plan);
    if (weighting === 'none') return tf.sum(norms) as tf.Scalar;
    return tf.sum(tf.mul(norms, tf.tensor1d(plan.sizes.map(Math.sqrt)))) as tf.Scalar;
  });
}

/** `{ type: 'groupL21', groups?, coefficient?, weighting?, differentiable?, name? }`. */
export const groupL21Definition = defineObjective({
  name: 'groupL21',
  description: 'group ℓ2,1 norm Σ‖w_g‖ over structure groups or per-axis slices',
  configSchema: s.object({
    groups: groupSourceSchema.optional(),
    coefficient: s.number({ min: 0 }).optional(),
    weighting: s.oneOf(['none', 'sqrtSize'] as const).optional(),
    differentiable: s.boolean().optional(),
    ...commonFields,
  }),
  create(c) {
    const weighting = c.weighting ?? 'none';
    return groupNormObjective(
      {
        groups: toGroupSource(c.groups),
        coefficient: c.coefficient ?? 1,
        differentiable: c.differentiable ?? true,
        name: c.name ?? 'groupL21',
      },
      c,
      (net, plan) => groupL21(net, plan, weighting),
    );
  },
});

/**
 * An objective computing coefficient·norm(net, plan) over the groups of its
 * source, planned once per network; with `differentiable: false` the value
 * is kept and its gradient is zero (see {@link detach}).
 */
function groupNormObjective(
  o: GroupNormOptions,
  config: JsonObject,
  norm: (net: Network, plan: GroupPlan) => tf.Scalar,
): Objective {
  const plans = new PerNetwork((net) => planGroups(net, o.groups, o.name));
  return {
    name: o.name,
    config,
    value: (ctx) =>
      tf.tidy(() => {
        const plan = plans.get(ctx.net);
        const v = tf.mul(norm(ctx.net, plan), o.coefficient);
        return (o.differentiable ? v : detach(v, ctx.net, plan)) as tf.Scalar;
      }),
  };
}

// ─────────────────────────── GrOWL ───────────────────────────

/** θ generator of a GrOWL objective (see {@link growlWeights}). */
export interface GrowlTheta {
  readonly kind: GrowlWeightKind;
  readonly beta1: number;
  readonly beta2: number;
}

/**
 * GrOWL: Σ_i θ_i·‖w‖_[i], group norms sorted decreasingly. With scope
 * `'perNode'` the sort and θ are per layer (the groups of one node), summed
 * over layers — as the reference applies GrOWL weight matrix by weight
 * matrix; `'global'` sorts all groups together. The gradient flows through
 * the norms in sorted order (the sort permutation is piecewise constant;
 * tfjs has no TopK gradient, so the permutation from `topk` is read back and
 * applied with a differentiable `gather`; this reads `[groups]` values from
 * the backend once per call).
 */
export function growl(
  net: Network,
  plan: GroupPlan,
  theta: GrowlTheta,
  scope: 'perNode' | 'global',
): tf.Scalar {
  return tf.tidy(() => {
    const norms = groupNorms(net, plan);
    const partitions = new Map<string, number[]>();
    plan.nodes.forEach((node, i) => {
      const key = scope === 'global' ? '' : node;
      let list = partitions.get(key);
      if (!list) {
        list = [];
        partitions.set(key, list);
      }
      list.push(i);
    });
    let total: tf.Scalar = tf.scalar(0);
    for (const members of partitions.values()) {
      // Per-node members are usually one contiguous range: a slice (a gather's gradient is a slow segment sum).
      const start = members[0]!;
      const part = members.every((m, k) => m === start + k)
        ? tf.slice(norms, [start], [members.length])
        : tf.gather(norms, tf.tensor1d(members, 'int32'));
      // The order is read back and re-created as a constant: the indices of an
      // op on the tape would make the gather's gradient ask for an int32 gradient.
      const order = tf.topk(part, members.length, true).indices.dataSync();
      const sorted = tf.gather(part, tf.tensor1d(order, 'int32'));
      const weights = tf.tensor1d(growlWeights(theta.kind, members.length, theta.beta1, theta.beta2));
      total = tf.add(total, tf.sum(tf.mul(sorted, weights)));
    }
    return total;
  });
}

/**
 * `{ type: 'growl', groups?, theta?, scope?, coefficient?, differentiable?, name? }`
 * with `theta: { kind: 'spike' | 'linear', beta1, beta2 }`
 * (default spike 0.8/0.2, the reference's MultiMNIST setting).
 */
export const growlDefinition = defineObjective({
  name: 'growl',
  description: 'GrOWL: ordered weighted ℓ1 of group ℓ2 norms, θ spike or linear',
  configSchema: s.object({
    groups: groupSourceSchema.optional(),
    theta: s
      .object({
        kind: s.oneOf(['spike', 'linear'] as const).optional(),
        beta1: s.number({ min: 0 }),
        beta2: s.number({ min: 0 }),
      })
      .optional(),
    scope: s.oneOf(['perNode', 'global'] as const).optional(),
    coefficient: s.number({ min: 0 }).optional(),
    differentiable: s.boolean().optional(),
    ...commonFields,
  }),
  create(c) {
    const theta: GrowlTheta = c.theta
      ? { kind: c.theta.kind ?? 'spike', beta1: c.theta.beta1, beta2: c.theta.beta2 }
      : { kind: 'spike', beta1: 0.8, beta2: 0.2 };
    const scope = c.scope ?? 'perNode';
    return groupNormObjective(
      {
        groups: toGroupSource(c.groups),
        coefficient: c.coefficient ?? 1,
        differentiable: c.differentiable ?? true,
        name: c.name ?? 'growl',
      },
      c,
      (net, plan) => growl(net, plan, theta, scope),
    );
  },
});
