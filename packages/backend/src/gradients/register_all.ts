import type { GradConfig } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { avgPoolGradConfig } from './AvgPool_grad.js';
import { conv2DGradConfig } from './Conv2D_grad.js';
import { fusedBatchNormGradConfig } from './FusedBatchNorm_grad.js';
import { meanGradConfig, sumGradConfig } from './Reduce_grad.js';
import { reluGradConfig } from './Relu_grad.js';
import { stridedSliceGradConfig } from './StridedSlice_grad.js';

/** Every gradient moprune registers, replacing tfjs's for all backends. */
export const gradientConfigs: readonly GradConfig[] = [
  conv2DGradConfig,
  stridedSliceGradConfig,
  avgPoolGradConfig,
  fusedBatchNormGradConfig,
  meanGradConfig,
  sumGradConfig,
  reluGradConfig,
];

/**
 * Registers moprune's gradients in tfjs's global gradient registry. Idempotent.
 * `@tensorflow/tfjs` and `@tensorflow/tfjs-layers` register tfjs's stock
 * gradients when they load, which would replace these: {@link initBackend}
 * calls this again, so call `initBackend` after importing them.
 */
export function registerGradients(): void {
  for (const config of gradientConfigs) tf.registerGradient(config);
}
