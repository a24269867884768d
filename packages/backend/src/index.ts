export { conv2dFilterGrad, conv2dInputGrad, conv2dWithPads, type SpatialPads } from './conv_geometry.js';
export {
  BackendError,
  type BackendErrorCode,
  type BackendErrorOptions,
  type BackendIssue,
} from './errors.js';
export { avgPoolGradConfig } from './gradients/AvgPool_grad.js';
export { conv2DGradConfig } from './gradients/Conv2D_grad.js';
export { fusedBatchNormGradConfig } from './gradients/FusedBatchNorm_grad.js';
export { RELU_GRAD_KERNEL, reluGradConfig } from './gradients/Relu_grad.js';
export { gradientConfigs, registerGradients } from './gradients/register_all.js';
export { stridedSliceGradConfig } from './gradients/StridedSlice_grad.js';
export {
  BACKEND_ENV_VAR,
  BACKEND_NAMES,
  type BackendName,
  type BackendSelection,
  type InitBackendOptions,
  initBackend,
  type SkippedBackend,
  TENSORFLOW_PACKAGES,
} from './init.js';
export { registerKernels } from './kernels/register_all.js';
export { isNativeBackendModule, NATIVE_PACKAGE, type NativeBackendModule } from './native.js';
export { wasmBinaryDirectory } from './wasm_paths.js';
