/**
 * The hook through which a native kernel backend joins {@link initBackend}.
 * `@moprune/native` (an optional peer) must export this shape; the package is
 * resolved at run time only, so nothing breaks when it is absent.
 */
export interface NativeBackendModule {
  /**
   * Registers the native backend with tfjs (`tf.registerBackend(name, …)`
   * plus its kernels) and returns the tfjs backend name it registered.
   * Called at most once per process by `initBackend`; must throw with a
   * useful message when the native library cannot be loaded.
   */
  registerNativeBackend(): string | Promise<string>;
}

/** The package name `initBackend` resolves for the `native` backend. */
export const NATIVE_PACKAGE = '@moprune/native';

/** True when `value` has the {@link NativeBackendModule} shape. */
export function isNativeBackendModule(value: unknown): value is NativeBackendModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { registerNativeBackend?: unknown }).registerNativeBackend === 'function'
  );
}
