import '../register.js';

export { affinityPropagation } from './affinity.js';
export { createGrowlPruner, type GrowlConfig, validateGrowlConfig } from './growl.js';
export { type OwlWeights, owlWeights, proxOwl } from './owl.js';
