import { registerModels } from './registrations.js';

// Importing the package registers every model. Called here rather than through a
// side-effect import of './register.js', which the bundler drops as side-effect free.
registerModels();

export { ModelError, type ModelErrorCode } from './errors.js';
export { type Lenet5Options, type Lenet5Variant, lenet5 } from './lenet5.js';
export {
  type Lenet300100Options,
  lenet300100,
  type MlpActivation,
  type MlpOptions,
  mlp,
  type PlainGates,
} from './mlp.js';
export { type HpsOptions, hps, type MdmtnOptions, type MultiTaskVariant, mdmtn } from './multitask.js';
export { modelRegistrations, registerModels } from './registrations.js';
export {
  type ResnetFixedDepthOptions,
  type ResnetGates,
  type ResnetOptions,
  resnet,
  resnet20,
  resnet32,
  resnet56,
} from './resnet.js';
export { type TransformerClassifierOptions, transformerClassifier } from './transformer.js';
export { type VggLikeOptions, vggLike } from './vgg.js';
