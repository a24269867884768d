// Training loop, optimizers, schedules, checkpoints and experiment configs.

export { hasMovingAverageKernel, MOVING_AVERAGE_KERNEL, movingAverageStep } from './averaging.js';
export {
  type CallbackSignal,
  type EarlyStoppingOptions,
  type EpochInfo,
  earlyStopping,
  type KeepBestOptions,
  type KeepBestRequirement,
  keepBest,
  monitoredValue,
  type ProgressInfo,
  type StepInfo,
  type TrainCallback,
} from './callbacks.js';
export { cloneState, requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';
export {
  collectGateProbabilities,
  collectGates,
  type EvaluateOptions,
  type EvaluationResult,
  evaluateNetwork,
  evaluationGates,
  type GateValues,
  type OutputKind,
  outputKinds,
} from './evaluate.js';
export {
  assertExperimentConfig,
  defaultMetrics,
  type ExperimentConfig,
  experimentConfigSchema,
  type TrainingConfig,
  validateExperimentConfig,
} from './experiment.js';
export { train } from './loop.js';
export {
  hasSumOfAbsKernel,
  hasSumOfSquaresKernel,
  SUM_OF_ABS_KERNEL,
  SUM_OF_SQUARES_KERNEL,
  sumOfAbs,
  sumOfSquares,
} from './norm-sums.js';
export {
  ADAM_UPDATE_KERNEL,
  type AdamConfig,
  createOptimizer,
  type GradientMap,
  hasAdamUpdateKernel,
  hasSgdUpdateKernel,
  isOptimizerConfig,
  OPTIMIZER_TYPES,
  type Optimizer,
  type OptimizerConfig,
  optimizerSchema,
  type ResolvedOptimizerConfig,
  type RmsPropConfig,
  resolveOptimizerConfig,
  SGD_UPDATE_KERNEL,
  type SgdConfig,
  validateOptimizerConfig,
} from './optimizers.js';
export {
  type AveragingOptions,
  type CheckpointOptions,
  type EpochRecord,
  objectiveKeys,
  type StreamSeeds,
  streamSeeds,
  type TrainDataOptions,
  type TrainOptions,
  type TrainResult,
  type ValidationOptions,
} from './options.js';
export {
  type ConstantSchedule,
  type CosineSchedule,
  type ExponentialSchedule,
  type InverseTimeSchedule,
  LR_SCHEDULE_TYPES,
  type LrScheduleConfig,
  learningRateAt,
  lrScheduleSchema,
  type SchedulePosition,
  type ScheduleUnit,
  type StepSchedule,
  validateLrSchedule,
} from './schedules.js';
export {
  assignNetworkState,
  type NetworkStateJson,
  networkFromState,
  networkToState,
} from './snapshot.js';
export {
  type LoadedCheckpoint,
  type LoadLatestOptions,
  type RunStore,
  utf8Bytes,
  type WriteCheckpointOptions,
} from './store.js';
