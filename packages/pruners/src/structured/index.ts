export { affinityPropagation, type RowSimilarity, rowSimilarity } from './affinity.js';
export {
  type BernoulliGateConfig,
  bernoulliGateConfigSchema,
  bernoulliGatePruner,
  createBernoulliGatePruner,
} from './bernoulli.js';
export { createGrowlPruner, type GrowlConfig, growlConfigSchema, growlPruner } from './growl.js';
export {
  createHardConcreteGatePruner,
  type HardConcreteGateConfig,
  hardConcreteGateConfigSchema,
  hardConcreteGatePruner,
} from './hard-concrete.js';
export { type OwlWeights, owlWeights, proxOwl } from './owl.js';
