import './register.js';

export { PrunerError, type PrunerErrorCode } from './errors.js';
export type { CheckRecord, KeepConfig, KeepRule } from './internal/checks.js';
export {
  createLobsterPruner,
  createRelevancePruner,
  createSensitivityPruner,
  type LobsterConfig,
  RELEVANCE_DEFAULT_PARAMS,
  type RelevanceConfig,
  type SensitivityConfig,
  validateLobsterConfig,
  validateRelevanceConfig,
  validateSensitivityConfig,
} from './relevance/index.js';
export {
  affinityPropagation,
  type BernoulliGateConfig,
  createBernoulliGatePruner,
  createGrowlPruner,
  type GrowlConfig,
  type OwlWeights,
  owlWeights,
  proxOwl,
  type RowSimilarity,
  rowSimilarity,
  validateBernoulliGateConfig,
  validateGrowlConfig,
} from './structured/index.js';
export {
  type ConstantSparsitySchedule,
  createItpPruner,
  createMagnitudePruner,
  type ItpConfig,
  type MagnitudeConfig,
  type PolynomialDecaySchedule,
  type SparsitySchedule,
  scheduleAt,
  validateItpConfig,
  validateMagnitudeConfig,
  validateSchedule,
} from './unstructured/index.js';
