// Importing the package defines (and so registers) every model: `{ "type": "lenet5" | "resnet" | … }` configs build them.
export { ModelError, type ModelErrorCode } from './errors.js';
export { type Lenet5Dropout, type Lenet5Options, type Lenet5Variant, lenet5, lenet5Model } from './lenet5.js';
export {
  type Lenet300100Options,
  lenet300100,
  lenet300100Model,
  type MlpActivation,
  type MlpDropout,
  type MlpGates,
  type MlpOptions,
  mlp,
  mlpModel,
  type PlainGates,
} from './mlp.js';
export {
  type HpsOptions,
  hps,
  hpsModel,
  type MdmtnOptions,
  type MultiTaskVariant,
  mdmtn,
  mdmtnModel,
} from './multitask.js';
export { modelDefinitions } from './registrations.js';
export {
  type ResnetFixedDepthOptions,
  type ResnetGates,
  type ResnetOptions,
  resnet,
  resnet20,
  resnet32,
  resnet56,
  resnetModel,
} from './resnet.js';
export { type TransformerClassifierOptions, transformerClassifier, transformerModel } from './transformer.js';
export { type VggLikeOptions, vggLike, vggLikeModel } from './vgg.js';
