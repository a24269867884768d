// Importing the package defines (and so registers) every objective type.
export {
  createObjective,
  objectiveDefinitions,
  objectiveTypes,
  registerObjectives,
  SumObjective,
  type SumTerm,
  sumDefinition,
  validateObjectiveConfig,
} from './catalog.js';
export {
  type CrossEntropyOptions,
  crossEntropy,
  crossEntropyDefinition,
  nllDefinition,
  type OutputKind,
} from './cross-entropy.js';
export { ObjectiveError, type ObjectiveErrorCode } from './errors.js';
export {
  type ComplexityReference,
  complexityTotals,
  type ExpectedComplexityOptions,
  expectedComplexity,
  expectedComplexityDefinition,
  expectedCounts,
  expectedUnits,
  type RandomGates,
} from './expected-complexity.js';
export {
  type GrowlTheta,
  groupL21,
  groupL21Definition,
  growl,
  growlDefinition,
} from './group-norms.js';
export {
  type GroupPlan,
  type GroupSource,
  type GroupSourceConfig,
  groupNorms,
  groupSourceSchema,
  planGroups,
  safeSqrt,
  toGroupSource,
} from './groups.js';
export {
  absWithZeroSubgradient,
  l1Definition,
  l1Penalty,
  l2Definition,
  type NormPenaltyOptions,
  squaredL2Penalty,
} from './norms.js';
export { type GrowlWeightKind, growlProxScales, growlWeights, owlProx } from './owl.js';
export {
  type IrrelevanceFactor,
  SELECTIVE_DECAY_DEFAULT_PARAMS,
  SelectiveWeightDecay,
  type SelectiveWeightDecayOptions,
  selectiveWeightDecayDefinition,
} from './selective-weight-decay.js';
export { effectiveParam } from './selector.js';
export {
  type OutputSensitivityOptions,
  outputCount,
  outputSensitivity,
  SensitivityDecay,
  type SensitivityDecayOptions,
  type SensitivityOf,
  sensitivityDecayDefinition,
} from './sensitivity-decay.js';
