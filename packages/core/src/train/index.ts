// Training loop, optimizers, schedules, checkpoints and experiment configs.
export { cloneState, requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';
export {
  type AdamConfig,
  createOptimizer,
  type GradientMap,
  isOptimizerConfig,
  OPTIMIZER_TYPES,
  type Optimizer,
  type OptimizerConfig,
  type ResolvedOptimizerConfig,
  type RmsPropConfig,
  resolveOptimizerConfig,
  type SgdConfig,
  validateOptimizerConfig,
} from './optimizers.js';
export {
  type ConstantSchedule,
  type CosineSchedule,
  type ExponentialSchedule,
  type InverseTimeSchedule,
  LR_SCHEDULE_TYPES,
  type LrScheduleConfig,
  learningRateAt,
  type SchedulePosition,
  type ScheduleUnit,
  type StepSchedule,
  validateLrSchedule,
} from './schedules.js';
