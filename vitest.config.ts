import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Tests import sibling packages by their public names (`@moprune/core`,
 * `@moprune/pruners/testing`); here those names resolve to the entry files in
 * `src/` that the package's `exports` map builds from, so tests need no build
 * and still see only the public entry points.
 */
function workspaceAliases() {
  const aliases: { find: string; replacement: string }[] = [];
  const root = resolve(import.meta.dirname, 'packages');
  for (const dir of readdirSync(root)) {
    const pkgFile = join(root, dir, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
      name: string;
      moprune?: { sources?: Record<string, string> };
    };
    const sources = pkg.moprune?.sources ?? { '.': './src/index.ts' };
    // Longest subpath first so `@moprune/x/testing` wins over `@moprune/x`.
    for (const [sub, file] of Object.entries(sources).sort((a, b) => b[0].length - a[0].length)) {
      const name = sub === '.' ? pkg.name : `${pkg.name}/${sub.replace(/^\.\//, '')}`;
      aliases.push({ find: name, replacement: join(root, dir, file) });
    }
  }
  return aliases.map((a) => ({
    find: new RegExp(`^${a.find.replace(/[/.]/g, '\\$&')}$`),
    replacement: a.replacement,
  }));
}

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'experiments/*/src/**/*.test.ts',
      'test-fixtures/**/*.test.ts',
      'bench/**/*.test.ts',
      'tests/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
