/**
 * `@moprune/core` runs anywhere TensorFlow.js runs: its main entry bundles for
 * the browser with esbuild and reaches for nothing of Node — no built-in
 * module, no `process`, `Buffer`, `require` or `__dirname`. File I/O lives in
 * `@moprune/core/node`.
 */
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const NODE_BUILTIN = new RegExp(
  `^(node:.*|${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`,
);
const NODE_GLOBAL = /\b(process\s*\.|Buffer\s*[.(]|require\s*\(|__dirname\b|__filename\b)/g;

/** Bundles `entry` for the browser; returns every Node built-in it imports and every Node global it uses. */
async function nodeReach(entry: string): Promise<{ imports: string[]; globals: string[]; bytes: number }> {
  const imports: string[] = [];
  const record: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: NODE_BUILTIN }, (args) => {
        imports.push(`${args.path} (from ${args.importer.replace(/^.*\/src\//, 'src/')})`);
        return { path: args.path, external: true };
      });
    },
  };
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    // The TensorFlow.js packages are the app's (peer dependencies); they have their own browser builds.
    external: ['@tensorflow/*'],
    plugins: [record],
  });
  const code = out.outputFiles.map((f) => f.text).join('\n');
  const globals = [...new Set([...code.matchAll(NODE_GLOBAL)].map((m) => m[1]!.replace(/\s+/g, '')))];
  return { imports, globals, bytes: code.length };
}

describe('@moprune/core in the browser', () => {
  it('the main entry bundles for the browser platform without any Node built-in or global', async () => {
    const r = await nodeReach(join(here, '..', 'index.ts'));
    expect(r.imports).toEqual([]);
    expect(r.globals).toEqual([]);
    expect(r.bytes).toBeGreaterThan(100_000); // the whole of core went in, not an empty bundle
  });

  it('the check sees a Node import and a Node global (a module that uses both is rejected)', async () => {
    const r = await nodeReach(join(here, 'fixtures', 'node-leak.ts'));
    expect(r.imports).toEqual(['node:fs (from src/__tests__/fixtures/node-leak.ts)']);
    expect(r.globals).toEqual(['process.']);
  });

  it('@moprune/core/node is where the file I/O went (it imports Node built-ins)', async () => {
    const r = await nodeReach(join(here, '..', 'node', 'index.ts'));
    expect(r.imports.some((i) => i.startsWith('node:fs'))).toBe(true);
  });
});
