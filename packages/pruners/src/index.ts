// Importing the package defines (and so registers) every pruner: `{ "type": "itp" | "magnitude" | … }` configs build them.
export { PrunerError, type PrunerErrorCode } from './errors.js';
export type { CheckRecord, KeepConfig, KeepRule } from './internal/checks.js';
export {
  createLobsterPruner,
  createRelevancePruner,
  createSensitivityPruner,
  type LobsterConfig,
  lobsterConfigSchema,
  lobsterPruner,
  RELEVANCE_DEFAULT_PARAMS,
  type RelevanceConfig,
  relevanceConfigSchema,
  relevancePruner,
  type SensitivityConfig,
  sensitivityConfigSchema,
  sensitivityPruner,
} from './relevance/index.js';
export {
  affinityPropagation,
  type BernoulliGateConfig,
  bernoulliGateConfigSchema,
  bernoulliGatePruner,
  createBernoulliGatePruner,
  createGrowlPruner,
  type GrowlConfig,
  growlConfigSchema,
  growlPruner,
  type OwlWeights,
  owlWeights,
  proxOwl,
  type RowSimilarity,
  rowSimilarity,
} from './structured/index.js';
export {
  type ConstantSparsitySchedule,
  createItpPruner,
  createMagnitudePruner,
  type ItpConfig,
  itpConfigSchema,
  itpPruner,
  type MagnitudeConfig,
  magnitudeConfigSchema,
  magnitudePruner,
  type PolynomialDecaySchedule,
  type SparsitySchedule,
  scheduleAt,
  sparsityScheduleSchema,
} from './unstructured/index.js';
