export { type EvidenceScale, FULL, gatesConfig, magnitudeConfig, relevanceConfig, SMOKE } from './configs.js';
export { type EvidenceOptions, type EvidenceRow, runEvidence, timeInference } from './evidence.js';
