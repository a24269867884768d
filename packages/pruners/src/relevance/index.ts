export {
  createLobsterPruner,
  type LobsterConfig,
  lobsterConfigSchema,
  lobsterPruner,
} from './lobster.js';
export {
  createRelevancePruner,
  type RelevanceConfig,
  relevanceConfigSchema,
  relevancePruner,
} from './relevance.js';
export {
  createSensitivityPruner,
  type SensitivityConfig,
  sensitivityConfigSchema,
  sensitivityPruner,
} from './sensitivity.js';
