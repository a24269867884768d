import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { Network, StateUpdate } from '../network-types.js';
import type { BatchNormNode } from '../spec.js';

/** Options of {@link recalibrateBatchNorm}. */
export interface RecalibrateOptions {
  /**
   * Gate values by site, as the network will be evaluated with (e.g. the deterministic gates of a
   * gate pruner). @default none (every gate open)
   */
  readonly gates?: Readonly<Record<string, tf.Tensor>>;
}

/**
 * Sets every BatchNorm's moving mean and variance to the average of its batch
 * statistics over `batches` — each input run through the network in training
 * mode (batch statistics, as a training step computes them) with the given
 * gates. After training with sampled gates or dropout, the moving statistics
 * describe the randomly thinned network; evaluating the deterministic one with
 * them shifts every later layer's scale (the "variance shift"). Recomputing them
 * for the network as it will be evaluated removes that shift. Parameters are
 * not touched; nothing else changes.
 *
 * A BatchNorm with momentum 1 (its statistics frozen by design) is left as it is.
 * @returns the number of BatchNorm nodes recalibrated
 * @throws CoreError `INVALID_ARGUMENT` when `batches` is empty
 */
export function recalibrateBatchNorm(
  net: Network,
  batches: Iterable<tf.Tensor>,
  options: RecalibrateOptions = {},
): number {
  const nodes = net.spec.nodes.filter(
    (n): n is BatchNormNode => n.op === 'batchNorm' && (n.momentum ?? 0.99) < 1,
  );
  if (nodes.length === 0) return 0;
  const momentum = new Map<string, number>();
  for (const n of nodes) {
    momentum.set(`${n.id}/movingMean`, n.momentum ?? 0.99);
    momentum.set(`${n.id}/movingVariance`, n.momentum ?? 0.99);
  }
  // With the moving statistics at 0, a training-mode pass reports (1 − m)·(batch statistic) exactly:
  // no cancellation against the old values.
  const zero = (name: string) => {
    const v = net.params.get(name)!;
    const z = tf.zerosLike(v);
    v.assign(z);
    z.dispose();
  };
  const saved = [...momentum.keys()].map((name) => [name, tf.clone(net.params.get(name)!)] as const);
  const sums = new Map<string, tf.Tensor>();
  let count = 0;
  let done = false;
  try {
    for (const x of batches) {
      for (const name of momentum.keys()) zero(name);
      const updates: StateUpdate[] = [];
      tf.tidy(() => {
        net.apply(x, {
          training: true,
          ...(options.gates ? { gates: options.gates } : {}),
          stateUpdates: updates,
        });
      });
      for (const u of updates) {
        const m = momentum.get(u.param);
        if (m !== undefined) {
          const stat = tf.tidy(() => tf.div(u.value, 1 - m));
          const prev = sums.get(u.param);
          if (prev === undefined) sums.set(u.param, stat);
          else {
            sums.set(u.param, tf.add(prev, stat));
            prev.dispose();
            stat.dispose();
          }
        }
        u.value.dispose();
      }
      count++;
    }
    if (count === 0) throw new CoreError('INVALID_ARGUMENT', 'recalibrateBatchNorm: no batch given');
    for (const [name, sum] of sums) {
      const mean = tf.div(sum, count);
      net.params.get(name)!.assign(mean);
      mean.dispose();
    }
    done = true;
  } finally {
    // A failed pass (or no batch) leaves the statistics as they were.
    if (!done) for (const [name, old] of saved) net.params.get(name)!.assign(old);
    tf.dispose([...sums.values(), ...saved.map(([, t]) => t)]);
  }
  return nodes.length;
}
