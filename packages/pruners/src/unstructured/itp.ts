import {
  type ComponentState,
  definePruner,
  type JsonObject,
  type Network,
  type ParamSelector,
  type Pruner,
  type PrunerInitContext,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { PrunerError, throwIfIssues } from '../errors.js';
import { requireTargets } from '../internal/targets.js';

/** Config of {@link createItpPruner}. */
export interface ItpConfig {
  readonly type: 'itp';
  /** Weights with |w| ≤ threshold are zeroed. @default 0.001 (Reiners et al. 2020) */
  readonly threshold?: number;
  /**
   * `true`: only zero the small weights (the reference behaviour — a zeroed
   * weight can grow back through later gradient steps). `false`: also mask
   * them, so a pruned weight stays pruned. @default true
   */
  readonly regrow?: boolean;
  /** Which parameters to prune. @default dense kernels and biases: `{ ops: ['dense'], roles: ['kernel', 'bias'] }` */
  readonly params?: ParamSelector;
}

const DEFAULT_PARAMS: ParamSelector = { ops: ['dense'], roles: ['kernel', 'bias'] };

/**
 * 1[|w| > threshold] as float32, computed as step(|w| − threshold): for finite float32 values
 * |w| − t > 0 exactly when |w| > t, and step(0) = 0, so |w| = t is pruned as the rule says. Abs, Sub
 * and Step are kernels every backend runs natively, where a comparison and a cast fall back to
 * JavaScript on the native backend (a quarter of an SMGD + ITP step on Reiners' LeNet-5).
 */
function keepAbove(w: tf.Tensor, threshold: number): tf.Tensor {
  return tf.step(tf.sub(tf.abs(w), threshold));
}

/** The schema of an ITP config (besides `type`). */
export const itpConfigSchema = s.object({
  threshold: s.number({ min: 0 }).optional(),
  regrow: s.boolean().optional(),
  params: s.paramSelector().optional(),
});

/**
 * Intra-training pruning (Reiners, Klamroth & Stiglmayr 2020): after
 * initialization and after every batch, w ← w·1[|w| > threshold] on the
 * chosen parameters. With `regrow: false` the zeroed weights are also masked.
 */
export function createItpPruner(config: Omit<ItpConfig, 'type'> & { type?: 'itp' } = {}): Pruner {
  const json: JsonObject = { type: 'itp', ...(config as JsonObject) };
  throwIfIssues('itp pruner', itpPruner.validate(json));
  const threshold = config.threshold ?? 0.001;
  const regrow = config.regrow ?? true;
  const selector = config.params ?? DEFAULT_PARAMS;
  let net: Network | undefined;
  let targets: string[] = [];

  const prune = (): void => {
    if (!net) throw new PrunerError('NOT_INITIALIZED', 'itp pruner: afterStep called before init');
    const n = net;
    for (const name of targets) {
      const w = n.params.get(name)!;
      if (regrow) {
        tf.tidy(() => {
          w.assign(tf.mul(w, keepAbove(w, threshold)));
        });
      } else {
        const next = tf.tidy(() => {
          const keep = keepAbove(w, threshold);
          const old = n.getMask(name);
          return old ? tf.mul(old, keep) : keep;
        });
        n.setMask(name, next);
        next.dispose();
      }
    }
    if (!regrow) n.applyMasks();
  };

  return {
    name: 'itp',
    config: json,
    init(ctx: PrunerInitContext) {
      net = ctx.net;
      targets = requireTargets(ctx.net, selector, 'itp');
      prune();
    },
    afterStep(ctx) {
      net = ctx.net;
      prune();
      return undefined;
    },
    targets: () => targets,
    metrics() {
      if (!net) return {};
      let zeros = 0;
      let total = 0;
      for (const name of targets) {
        const w = net.params.get(name)!;
        const z = tf.tidy(() => tf.sum(tf.cast(tf.equal(w, 0), 'int32')));
        zeros += z.dataSync()[0]!;
        z.dispose();
        total += w.size;
      }
      return { sparsity: total === 0 ? 0 : zeros / total, zeros, total };
    },
    state(): ComponentState {
      return { json: { targets }, arrays: {} };
    },
    load(state: ComponentState) {
      const saved = state.json.targets;
      if (!Array.isArray(saved) || saved.some((s) => typeof s !== 'string')) {
        throw new PrunerError('STATE_MISMATCH', 'itp pruner: state has no target list');
      }
      targets = saved as string[];
    },
  };
}

/** The `itp` pruner, registered: configs `{ "type": "itp", … }` build it. */
export const itpPruner = definePruner({
  name: 'itp',
  description: 'Intra-training pruning: zero |w| ≤ threshold after every batch (Reiners et al. 2020)',
  configSchema: itpConfigSchema,
  create: (c) => createItpPruner(c),
});
