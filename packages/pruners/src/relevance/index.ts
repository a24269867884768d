import '../register.js';

export { createLobsterPruner, type LobsterConfig, validateLobsterConfig } from './lobster.js';
export {
  createRelevancePruner,
  RELEVANCE_DEFAULT_PARAMS,
  type RelevanceConfig,
  validateRelevanceConfig,
} from './relevance.js';
export {
  createSensitivityPruner,
  type SensitivityConfig,
  validateSensitivityConfig,
} from './sensitivity.js';
