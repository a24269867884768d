import { type ModelContext, type NetworkSpec, type Registration, registries } from '@moprune/core';
import { registrationOf } from './internal/definition.js';
import { lenet5Definition } from './lenet5.js';
import { lenet300100Definition, mlpDefinition } from './mlp.js';
import { hpsDefinition, mdmtnDefinition } from './multitask.js';
import { resnetDefinition } from './resnet.js';
import { transformerDefinition } from './transformer.js';
import { vggLikeDefinition } from './vgg.js';

/**
 * The registry entries of every model in this package, by `type`: `mlp`,
 * `lenet-300-100`, `lenet5`, `vgg-like`, `resnet`, `hps`, `mdmtn`, `transformer`. A config is
 * the builder's options without `inputShape` and `classes`, which come from the
 * {@link ModelContext} (the dataset).
 */
export const modelRegistrations: readonly Registration<NetworkSpec, ModelContext>[] = [
  mlpDefinition,
  lenet300100Definition,
  lenet5Definition,
  vggLikeDefinition,
  resnetDefinition,
  hpsDefinition,
  mdmtnDefinition,
  transformerDefinition,
].map(registrationOf);

/**
 * Registers {@link modelRegistrations} in `registries().models`. Idempotent: a
 * type that is already registered (e.g. by a second copy of this package) is
 * left as it is.
 */
export function registerModels(): void {
  const models = registries().models;
  for (const registration of modelRegistrations) {
    if (!models.has(registration.type)) models.register(registration);
  }
}
