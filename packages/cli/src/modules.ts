import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  defineExperiment,
  type ExperimentDefinition,
  type ExperimentSpec,
  isDefinition,
  registries,
} from '@moprune/core';
import { CliError } from './errors.js';

/** The environment variable with more modules to load (comma-separated package names or paths). */
export const MODULES_ENV_VAR = 'MOPRUNE_MODULES';

/**
 * Where a project lists the modules the CLI loads on every command: a
 * `"moprune": { "modules": [...] }` field in the nearest package.json at or
 * above the working directory (package names, or paths relative to that
 * package.json). The CLI itself names no experiment or component package.
 */
export const PROJECT_MODULES_FIELD = 'moprune.modules';

/** A module to load and whether a missing one is an error. */
export interface ModuleRequest {
  /** A package name or a path (relative to `from`). */
  readonly specifier: string;
  /** Directory `specifier` is resolved from. */
  readonly from: string;
  /** When false, a module that cannot be found is skipped. @default true */
  readonly required?: boolean;
}

/** What {@link loadModules} did. */
export interface LoadedModules {
  /** The modules imported, as resolved file URLs. */
  readonly urls: readonly string[];
  /** `kind:name` of every definition the modules defined or exported. */
  readonly definitions: readonly string[];
}

function resolveFrom(dir: string, specifier: string): string | undefined {
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const file = resolve(dir, specifier);
    return existsSync(file) ? pathToFileURL(file).href : undefined;
  }
  for (const base of [join(dir, 'package.json'), import.meta.url]) {
    try {
      return pathToFileURL(createRequire(base).resolve(specifier)).href;
    } catch {
      // Not resolvable from here; try the next base.
    }
  }
  return undefined;
}

let tsxLoader: Promise<boolean> | undefined;

/**
 * Registers tsx's module hooks in this process (once), so that TypeScript
 * sources — a workspace's experiments, a contributor's `.ts` component — load
 * when the built CLI runs without `node --import tsx`. tsx is looked up from
 * the project, then from the CLI. False when it is not installed.
 */
function registerTsx(from: string): Promise<boolean> {
  tsxLoader ??= (async () => {
    for (const base of [join(from, 'package.json'), import.meta.url]) {
      let url: string;
      try {
        // The ESM entry of `tsx/esm/api` (require.resolve would give its CommonJS one).
        const manifest = createRequire(base).resolve('tsx/package.json');
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
          exports?: Record<string, { import?: { default?: string } } | string>;
        };
        const entry = pkg.exports?.['./esm/api'];
        const file = typeof entry === 'object' ? entry.import?.default : undefined;
        if (file === undefined) continue;
        url = pathToFileURL(join(dirname(manifest), file)).href;
      } catch {
        continue;
      }
      const api = (await import(url)) as { register?: () => unknown; default?: { register?: () => unknown } };
      const register = api.register ?? api.default?.register;
      if (typeof register !== 'function') continue;
      register();
      return true;
    }
    return false;
  })();
  return tsxLoader;
}

const TS_SOURCE = /\.[cm]?ts$/;

/**
 * Imports `url`; a TypeScript source this Node cannot load is loaded again
 * through tsx when tsx is installed — under another URL (`?tsx`), because
 * Node keeps the failed load of the first one. Every load of a module by the
 * CLI comes through here, so it is loaded once either way.
 */
async function importModule(url: string, from: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const unknownExtension = (e as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION';
    if (!unknownExtension || !TS_SOURCE.test(url) || !(await registerTsx(from))) throw e;
    return (await import(`${url}?tsx`)) as Record<string, unknown>;
  }
}

function isExperimentSpec(value: unknown): value is ExperimentSpec {
  const v = value as Partial<ExperimentSpec> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.description === 'string' &&
    typeof v.run === 'function' &&
    typeof v.modes === 'object' &&
    v.modes !== null
  );
}

/** Registers an exported value when it is a definition (or a plain experiment object); returns its `kind:name`. */
function registerExport(value: unknown): string | undefined {
  if (isDefinition(value)) {
    const r = registries();
    const tables = {
      objective: r.objectives,
      solver: r.solvers,
      pruner: r.pruners,
      dataset: r.datasets,
      model: r.models,
      experiment: r.experiments,
    } as const;
    (tables[value.kind as keyof typeof tables] as { register(d: unknown): void }).register(value);
    return `${value.kind}:${value.name}`;
  }
  if (isExperimentSpec(value)) {
    const existing = registries().experiments.get(value.name);
    if (existing === undefined || existing.run !== value.run) defineExperiment(value);
    return `experiment:${value.name}`;
  }
  return undefined;
}

/**
 * Imports modules that define components or experiments, so configs and
 * `moprune reproduce` can name them. A module registers what it defines with
 * `defineX` when it is imported; anything it exports that is a definition
 * (or, for modules that do not import core, a plain experiment object
 * `{ name, description, modes, run }`) is registered too. Modules load in order.
 * @throws CliError `MODULE_LOAD_FAILED` when a required module is missing or throws on import
 *   (a duplicate name is such a throw, naming the registered definition).
 */
export async function loadModules(requests: readonly ModuleRequest[]): Promise<LoadedModules> {
  const urls: string[] = [];
  const definitions: string[] = [];
  for (const { specifier, from, required = true } of requests) {
    const url = resolveFrom(from, specifier);
    if (url === undefined) {
      if (!required) continue;
      throw new CliError('MODULE_LOAD_FAILED', `cannot find module '${specifier}' (from ${from})`, {
        details: { module: specifier },
      });
    }
    try {
      const mod = await importModule(url, from);
      for (const value of Object.values(mod)) {
        const items = Array.isArray(value) ? value : [value];
        for (const item of items) {
          const id = registerExport(item);
          if (id !== undefined && !definitions.includes(id)) definitions.push(id);
        }
      }
    } catch (e) {
      const hint = url.endsWith('.ts')
        ? ' (a TypeScript source: build it, install tsx next to it, or run the CLI under tsx: node --import tsx …)'
        : '';
      throw new CliError(
        'MODULE_LOAD_FAILED',
        `module '${specifier}' failed to load${hint}: ${(e as Error).message}`,
        {
          cause: e,
          details: { module: specifier },
        },
      );
    }
    urls.push(url);
  }
  return { urls, definitions };
}

/**
 * The modules a project lists in the nearest package.json at or above `cwd`
 * that has a `moprune.modules` field (see {@link PROJECT_MODULES_FIELD}).
 * @throws CliError `INVALID_JSON` when that field is not a list of strings.
 */
export function projectModules(cwd: string): ModuleRequest[] {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      let pkg: { moprune?: { modules?: unknown } };
      try {
        pkg = JSON.parse(readFileSync(file, 'utf8')) as typeof pkg;
      } catch {
        pkg = {};
      }
      const modules = pkg.moprune?.modules;
      if (modules !== undefined) {
        if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string')) {
          throw new CliError(
            'INVALID_JSON',
            `${file}: "moprune.modules" must be a list of package names or paths`,
            {
              details: { file },
            },
          );
        }
        return (modules as string[]).map((specifier) => ({ specifier, from: dir }));
      }
    }
    if (dirname(dir) === dir) return [];
  }
}

/** The registered experiments, sorted by name. */
export function listExperiments(): ExperimentDefinition[] {
  return registries().experiments.list();
}

/** The experiment registered as `name`, or undefined. */
export function getExperiment(name: string): ExperimentDefinition | undefined {
  return registries().experiments.get(name);
}
