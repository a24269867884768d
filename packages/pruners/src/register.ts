/**
 * Registers every pruner of this package in `registries().pruners`, so a
 * JSON config `{ "type": "itp", … }` builds it. Imported for its side effect
 * by the package entry.
 */
import { type JsonObject, registries } from '@moprune/core';
import { createLobsterPruner, validateLobsterConfig } from './relevance/lobster.js';
import { createRelevancePruner, validateRelevanceConfig } from './relevance/relevance.js';
import { createSensitivityPruner, validateSensitivityConfig } from './relevance/sensitivity.js';
import { createBernoulliGatePruner, validateBernoulliGateConfig } from './structured/bernoulli.js';
import { createGrowlPruner, validateGrowlConfig } from './structured/growl.js';
import { createItpPruner, validateItpConfig } from './unstructured/itp.js';
import {
  createMagnitudePruner,
  type MagnitudeConfig,
  validateMagnitudeConfig,
} from './unstructured/magnitude.js';

const pruners = registries().pruners;

if (!pruners.has('itp')) {
  pruners.register({
    type: 'itp',
    description: 'Intra-training pruning: zero |w| ≤ threshold after every batch (Reiners et al. 2020)',
    validate: validateItpConfig,
    create: (c: JsonObject) => createItpPruner(c),
  });
}
if (!pruners.has('magnitude')) {
  pruners.register({
    type: 'magnitude',
    description:
      'Magnitude pruning on a TF-MOT-style sparsity schedule (polynomial decay / constant), layer-wise or global',
    validate: validateMagnitudeConfig,
    create: (c: JsonObject) => createMagnitudePruner(c as unknown as MagnitudeConfig),
  });
}
if (!pruners.has('relevance')) {
  pruners.register({
    type: 'relevance',
    description:
      'Relevance-based iterative global magnitude pruning gated by a validation floor, γ reset (Bonetta & Cancelliere 2023)',
    validate: validateRelevanceConfig,
    create: (c: JsonObject) => createRelevancePruner(c),
  });
}
if (!pruners.has('lobster')) {
  pruners.register({
    type: 'lobster',
    description:
      'LOBSTER: on a validation-loss plateau, the largest global magnitude cut within (1 + twt) of the loss',
    validate: validateLobsterConfig,
    create: (c: JsonObject) => createLobsterPruner(c),
  });
}
if (!pruners.has('sensitivity')) {
  pruners.register({
    type: 'sensitivity',
    description:
      'Tartaglione et al. 2018: threshold |w| < T globally, T raised by bisection as far as validation accuracy holds',
    validate: validateSensitivityConfig,
    create: (c: JsonObject) => createSensitivityPruner(c),
  });
}
if (!pruners.has('growl')) {
  pruners.register({
    type: 'growl',
    description:
      'GrOWL proximal step on dense-kernel rows with a per-layer zero-group cap and parameter tying (Hotegni et al. 2023)',
    validate: validateGrowlConfig,
    create: (c: JsonObject) => createGrowlPruner(c),
  });
}
if (!pruners.has('bernoulliGates')) {
  pruners.register({
    type: 'bernoulliGates',
    description:
      'Variational Bernoulli gates on units/filters and blocks, removed physically during training (Guenter & Sideris 2024)',
    validate: validateBernoulliGateConfig,
    create: (c: JsonObject) => createBernoulliGatePruner(c),
  });
}
