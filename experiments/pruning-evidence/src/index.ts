export {
  denseConfig,
  type EvidenceScale,
  FULL,
  gatesConfig,
  LENET300_TOTALS,
  magnitudeConfig,
  relevanceConfig,
  type ScaleSettings,
  SMOKE,
} from './configs.js';
export {
  EVIDENCE_RUNS,
  type EvidenceOptions,
  type EvidenceRow,
  type EvidenceRun,
  runEvidence,
  timeInference,
} from './evidence.js';
