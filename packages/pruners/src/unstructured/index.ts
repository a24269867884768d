export {
  createItpPruner,
  type ItpConfig,
  itpConfigSchema,
  itpPruner,
} from './itp.js';
export {
  createMagnitudePruner,
  type MagnitudeConfig,
  magnitudeConfigSchema,
  magnitudePruner,
} from './magnitude.js';
export {
  type ConstantSparsitySchedule,
  type PolynomialDecaySchedule,
  type SparsitySchedule,
  scheduleAt,
  sparsityScheduleSchema,
} from './schedules.js';
