// Network interpreter, masks, metrics, compaction and export (see ../network-types.ts).
export {
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  type BatchNormTrainingAttrs,
  type BatchNormTrainingOptions,
  type BatchNormTrainingResult,
  batchNormTraining,
  hasBatchNormTrainingKernels,
} from './batch-norm.js';
export {
  BIAS_ADD_RELU_GRAD_KERNEL,
  BIAS_ADD_RELU_KERNEL,
  biasAddRelu,
  hasBiasAddReluKernels,
} from './bias-relu.js';
export {
  type AxisTake,
  type CompactGates,
  type CompactOptions,
  compact,
  compactionTakes,
  takenShape,
} from './compact.js';
export { type CreateNetworkOptions, createNetwork, networkFromValues } from './create.js';
export { type ExportOptions, toLayersModel } from './export.js';
export { type LsuvLayer, type LsuvOptions, lsuvInit } from './lsuv.js';
export {
  type Complexity,
  countMacs,
  countParams,
  type LiveCount,
  type NetworkMetrics,
  type NetworkMetricsOptions,
  type NonzeroCount,
  networkMetrics,
} from './metrics.js';
export { type RecalibrateOptions, recalibrateBatchNorm } from './recalibrate.js';
export { embed, layerNorm, type SelfAttentionOptions, selfAttention } from './sequence.js';
export {
  hasSoftmaxCrossEntropyKernels,
  SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
  SOFTMAX_CROSS_ENTROPY_KERNEL,
  softmaxCrossEntropy,
} from './softmax-cross-entropy.js';
export { validateSpec } from './validate.js';
