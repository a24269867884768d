import '../register.js';

export { createItpPruner, type ItpConfig, validateItpConfig } from './itp.js';
export { createMagnitudePruner, type MagnitudeConfig, validateMagnitudeConfig } from './magnitude.js';
export {
  type ConstantSparsitySchedule,
  type PolynomialDecaySchedule,
  type SparsitySchedule,
  scheduleAt,
  validateSchedule,
} from './schedules.js';
