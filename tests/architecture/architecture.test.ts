/**
 * The package architecture (shared/design/architecture.md), checked on the code:
 * which package may depend on which, no cycles, imports only through public
 * entry points (a `@moprune/x/sub` import must be in x's `exports`; no relative
 * path into another package), and every package imported by a package's
 * sources declared in its package.json.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const packagesDir = join(root, 'packages');

interface Pkg {
  readonly dir: string;
  readonly name: string;
  readonly deps: readonly string[];
  readonly exports: readonly string[];
}

const pkgs: Pkg[] = readdirSync(packagesDir)
  .filter((d) => statSync(join(packagesDir, d, 'package.json'), { throwIfNoEntry: false }) !== undefined)
  .map((d) => {
    const p = JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8'));
    const deps = Object.keys({ ...p.dependencies, ...p.peerDependencies, ...p.optionalDependencies }).filter(
      (k) => k.startsWith('@moprune/'),
    );
    return { dir: join(packagesDir, d), name: p.name as string, deps, exports: Object.keys(p.exports ?? {}) };
  });
const byName = new Map(pkgs.map((p) => [p.name, p]));

/**
 * What each package may depend on at run time. Components import core and never each other; report
 * imports core's result types only (checked below); sweep runs experiments through core; cli sits on top.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '@moprune/core': [],
  '@moprune/native': ['@moprune/core'],
  '@moprune/backend': ['@moprune/native'],
  '@moprune/datasets': ['@moprune/core'],
  '@moprune/models': ['@moprune/core'],
  '@moprune/objectives': ['@moprune/core'],
  '@moprune/solvers': ['@moprune/core'],
  '@moprune/pruners': ['@moprune/core'],
  '@moprune/report': ['@moprune/core'],
  '@moprune/sweep': ['@moprune/core'],
  '@moprune/cli': [
    '@moprune/backend',
    '@moprune/core',
    '@moprune/datasets',
    '@moprune/models',
    '@moprune/objectives',
    '@moprune/pruners',
    '@moprune/report',
    '@moprune/solvers',
    '@moprune/sweep',
  ],
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== '__tests__' && e.name !== 'node_modules' && e.name !== 'dist')
        out.push(...sourceFiles(p));
    } else if (/\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of `import … from`, `export … from`, `import(…)` (type-only imports included). */
function specifiers(text: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm))
    out.push({ spec: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm))
    out.push({ spec: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g))
    out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

/** `@moprune/core/node` → ['@moprune/core', './node']. */
function splitSpecifier(spec: string): [string, string] {
  const [scope, name, ...rest] = spec.split('/');
  return [`${scope}/${name}`, rest.length === 0 ? '.' : `./${rest.join('/')}`];
}

describe('package architecture', () => {
  it('knows every package', () => {
    expect(pkgs.map((p) => p.name).sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it('each package depends only on the packages the architecture allows', () => {
    for (const p of pkgs) {
      expect(
        p.deps.filter((d) => !ALLOWED[p.name]!.includes(d)),
        `${p.name} depends on`,
      ).toEqual([]);
    }
  });

  it('the dependency graph has no cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'open') throw new Error(`cycle: ${[...path, name].join(' → ')}`);
      state.set(name, 'open');
      for (const d of byName.get(name)?.deps ?? []) visit(d, [...path, name]);
      state.set(name, 'done');
    };
    for (const p of pkgs) visit(p.name, []);
  });

  it('sources import other packages through their public entry points only, and declare them', () => {
    const problems: string[] = [];
    for (const p of pkgs) {
      for (const file of sourceFiles(join(p.dir, 'src'))) {
        const rel = relative(root, file);
        for (const { spec, typeOnly } of specifiers(readFileSync(file, 'utf8'))) {
          if (spec.startsWith('.')) {
            const target = resolve(dirname(file), spec);
            if (!target.startsWith(`${p.dir}/`))
              problems.push(`${rel}: relative import '${spec}' leaves the package`);
            continue;
          }
          if (!spec.startsWith('@moprune/')) continue;
          const [name, sub] = splitSpecifier(spec);
          const target = byName.get(name);
          if (target === undefined) continue; // experiments and the like are discovered, not depended on
          if (!target.exports.includes(sub))
            problems.push(`${rel}: '${spec}' is not a public entry point of ${name}`);
          if (name === p.name) continue;
          if (!p.deps.includes(name))
            problems.push(`${rel}: imports ${name}, which package.json does not declare`);
          if (p.name === '@moprune/report' && !typeOnly)
            problems.push(
              `${rel}: report imports ${spec} at run time (only core's result types are allowed)`,
            );
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
