import { defineConfig, type Options } from 'tsup';

/**
 * The one tsup configuration every publishable @moprune package builds with:
 * ESM + CommonJS, type declarations for both, no bundling of dependencies
 * (peers such as @tensorflow/tfjs-core must stay external so an app has one copy).
 */
export function packageConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    outDir: 'dist',
    ...overrides,
  });
}
