/**
 * An example contributor objective, written in one file against public entry points only
 * (`@moprune/core`; `@moprune/objectives/testing` in its test): a soft max-norm constraint,
 * f(w) = Σ_units max(0, ‖w_unit‖₂ − c)², over the incoming weight vector of every unit of the
 * selected kernels (a dense kernel's columns, a conv kernel's output filters). Zero while every
 * unit's norm is at most c; its gradient pulls the longer ones back to c.
 */
import {
  defineObjective,
  type JsonObject,
  type Objective,
  type ParamSelector,
  schema as s,
  selectParams,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';

/** Config of {@link createMaxNorm}. */
export interface MaxNormConfig {
  readonly type: 'max-norm';
  /** The largest norm a unit keeps for free (> 0). @default 3 */
  readonly maxNorm?: number;
  /** Which kernels. @default every dense and conv kernel */
  readonly params?: ParamSelector;
}

/** The soft max-norm penalty of {@link MaxNormConfig}. */
export function createMaxNorm(config: MaxNormConfig | JsonObject): Objective {
  const c = config as MaxNormConfig;
  const maxNorm = c.maxNorm ?? 3;
  const selector: ParamSelector = c.params ?? { ops: ['dense', 'conv2d'], roles: ['kernel'] };
  return {
    name: 'max-norm',
    // Everything needed to rebuild it, defaults filled in.
    config: { type: 'max-norm', maxNorm, params: { ...selector } as JsonObject },
    value: (ctx) =>
      tf.tidy(() => {
        const terms = selectParams(ctx.net, selector).map((name) => {
          const w = ctx.net.params.get(name)!;
          // Units are the last axis: columns of [in, out], filters of [kh, kw, in, out].
          const units = w.shape[w.shape.length - 1]!;
          const norms = tf.norm(tf.reshape(w, [-1, units]), 'euclidean', 0);
          return tf.sum(tf.square(tf.relu(tf.sub(norms, maxNorm))));
        });
        return (terms.length > 0 ? tf.addN(terms) : tf.scalar(0)) as tf.Scalar;
      }),
  };
}

/** The `max-norm` objective, registered: `{ "type": "max-norm", "maxNorm": 3 }` in an objectives list builds it. */
export const maxNormObjective = defineObjective({
  name: 'max-norm',
  description: 'soft max-norm constraint: Σ max(0, ‖w_unit‖ − c)² over the selected kernels',
  configSchema: s.object({
    maxNorm: s.number({ gt: 0 }).optional(),
    params: s.paramSelector().optional(),
  }),
  create: (config) => createMaxNorm(config),
});
