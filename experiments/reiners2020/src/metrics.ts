import { defaultMetrics, type Network, networkMetrics } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The per-epoch figures of every run: core's default network metrics plus the
 * paper's complexity measure — non-zero entries of the **dense kernels** (the
 * weights f2 and ITP act on; biases excluded, as in the paper's counts
 * 2,107/48,000, 300/10,080, 170/840), in total (`denseKernels.nonzero`,
 * `denseKernels.total`, `denseKernels.removed` = 1 − nonzero/total) and per
 * layer (`denseKernel.<node>.nonzero`); and the data-independent parts of the
 * objectives, `denseL1` = Σ|w| over the dense kernels and `convL2` = Σw² over
 * the conv kernels. (Core's evaluation skips objectives that have a `prepare`
 * hook, which every `sum` objective has, so the run's f1/f2 on a held-out split
 * are assembled from the split's cross-entropy and these two figures.)
 */
export function reinersMetrics(net: Network): Record<string, number> {
  const m = networkMetrics(net);
  const out: Record<string, number> = { ...defaultMetrics(net) };
  let nonzero = 0;
  let total = 0;
  let denseL1 = 0;
  let convL2 = 0;
  for (const [name, info] of net.paramInfo) {
    if (info.role !== 'kernel') continue;
    const w = net.params.get(name);
    if (info.op === 'conv2d' && w) convL2 += tf.tidy(() => tf.sum(tf.square(w)).dataSync()[0]!);
    if (info.op !== 'dense') continue;
    if (w) denseL1 += tf.tidy(() => tf.sum(tf.abs(w)).dataSync()[0]!);
    const c = m.params[name];
    if (!c) continue;
    nonzero += c.nonzero;
    total += c.total;
    out[`denseKernel.${info.node}.nonzero`] = c.nonzero;
    out[`denseKernel.${info.node}.total`] = c.total;
  }
  out['denseKernels.nonzero'] = nonzero;
  out['denseKernels.total'] = total;
  out['denseKernels.removed'] = total === 0 ? 0 : 1 - nonzero / total;
  out.denseL1 = denseL1;
  out.convL2 = convL2;
  return out;
}
