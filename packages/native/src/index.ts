/**
 * @moprune/native: a TensorFlow.js backend named `'native'` that keeps the
 * cpu backend's storage and runs matmul, convolution (forward and both
 * gradients) and pooling in C++ on OpenBLAS, on all cores.
 *
 * @packageDocumentation
 */
export type { NativeAddon, NativeAddonInfo, NativeAddonLoad } from './addon.js';
export { loadNativeAddon, nativeAddonPath } from './addon.js';
export type { NativeBackendOptions, NativeRegistration } from './backend.js';
export { registerNativeBackend, tryRegisterNativeBackend } from './backend.js';
export type { NativeErrorCode } from './errors.js';
export { NativeError } from './errors.js';
export { NATIVE_BACKEND_NAME, NATIVE_KERNEL_NAMES } from './kernels.js';
