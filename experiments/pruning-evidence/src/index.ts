export {
  type EvidenceScale,
  FULL,
  gatesConfig,
  LENET300_TOTALS,
  magnitudeConfig,
  relevanceConfig,
  SMOKE,
} from './configs.js';
export { type EvidenceOptions, type EvidenceRow, runEvidence, timeInference } from './evidence.js';
