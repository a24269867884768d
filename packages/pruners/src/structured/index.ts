import '../register.js';

export { affinityPropagation, type RowSimilarity, rowSimilarity } from './affinity.js';
export {
  type BernoulliGateConfig,
  createBernoulliGatePruner,
  validateBernoulliGateConfig,
} from './bernoulli.js';
export { createGrowlPruner, type GrowlConfig, validateGrowlConfig } from './growl.js';
export { type OwlWeights, owlWeights, proxOwl } from './owl.js';
