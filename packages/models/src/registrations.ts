import type { ModelDefinition } from '@moprune/core';
import { lenet5Model } from './lenet5.js';
import { lenet300100Model, mlpModel } from './mlp.js';
import { hpsModel, mdmtnModel } from './multitask.js';
import { resnetModel } from './resnet.js';
import { vggLikeModel } from './vgg.js';

/**
 * Every model of this package, by `type`: `mlp`, `lenet-300-100`, `lenet5`,
 * `vgg-like`, `resnet`, `hps`, `mdmtn` (each registered when its module loads).
 * A config is the builder's options without `inputShape` and `classes`, which
 * come from the `ModelContext` (the dataset).
 */
export const modelDefinitions: readonly ModelDefinition[] = [
  mlpModel,
  lenet300100Model,
  lenet5Model,
  vggLikeModel,
  resnetModel,
  hpsModel,
  mdmtnModel,
];
