import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostCommand, SweepExecutor } from '@moprune/sweep';
import { type BACKEND_CHOICES, loadComponents, startBackend } from './components.js';
import { CliError } from './errors.js';
import { loadModules, projectModules } from './modules.js';

/** The sweep and worker options the CLI reads, parsed. */
export interface ExecutorFlags {
  /** `--workers N`: local pool size. */
  readonly workers?: number;
  /** `--redis URL`: use BullMQ. */
  readonly redis?: string;
  /** `--store DIR` (absolute). */
  readonly store?: string;
  readonly queue?: string;
  readonly backend?: (typeof BACKEND_CHOICES)[number];
  readonly dataDir?: string;
  readonly cacheDir?: string;
  /** `--module`s: every trial process imports them too. */
  readonly modules: readonly string[];
}

/**
 * The module hooks of this process (`--import`, `--require`, `--loader` and
 * their `=` forms): a trial process needs the same to load what this one
 * loads — `pnpm reproduce` runs the built CLI under `node --import tsx` so
 * that the workspace's experiments (TypeScript sources) load.
 */
export function moduleHookArgs(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  const flags = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (flags.has(a) && i + 1 < execArgv.length) out.push(a, execArgv[++i]!);
    else if ([...flags].some((f) => f.startsWith('--') && a.startsWith(`${f}=`))) out.push(a);
  }
  return out;
}

/**
 * The command that starts a trial process: this CLI's own bin with the
 * internal `__trial-host` command (through tsx when the CLI runs from its
 * TypeScript sources, as in the tests; with this process's module hooks otherwise).
 */
export function trialHostCommand(flags: ExecutorFlags, cwd: string): HostCommand {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const bin = join(dirname(here), fromSource ? 'bin.ts' : 'bin.js');
  const execArgv = fromSource
    ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
    : moduleHookArgs(process.execArgv);
  const args = ['__trial-host', '--cwd', cwd];
  if (flags.backend !== undefined) args.push('--backend', flags.backend);
  if (flags.dataDir !== undefined) args.push('--data-dir', flags.dataDir);
  if (flags.cacheDir !== undefined) args.push('--cache-dir', flags.cacheDir);
  for (const m of flags.modules) args.push('--module', m);
  return { module: bin, args, execArgv };
}

/**
 * Module specifiers as trial processes (maybe on other machines) must see
 * them: relative paths become absolute (against `base`); package names stay.
 */
export function absoluteModules(modules: readonly string[], base: string): string[] {
  return modules.map((m) => (m.startsWith('.') ? resolve(base, m) : m));
}

/** The executor the flags ask for: BullMQ with `--redis`, else the local pool. */
export async function executorFromFlags(flags: ExecutorFlags, cwd: string): Promise<SweepExecutor> {
  const sweep = await import('@moprune/sweep');
  if (flags.redis !== undefined) {
    return sweep.bullmqExecutor({
      redis: flags.redis,
      ...(flags.queue === undefined ? {} : { queue: flags.queue }),
    });
  }
  return sweep.localExecutor({
    host: trialHostCommand(flags, cwd),
    ...(flags.workers === undefined ? {} : { workers: flags.workers }),
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
  });
}

/**
 * The body of `moprune __trial-host`: registers every component, starts the
 * backend, loads the project's modules (`moprune.modules` in package.json) and
 * `--module`s, then serves trials to its parent over IPC, importing each
 * trial's modules once per process.
 */
export async function serveTrialHostProcess(flags: ExecutorFlags, cwd: string): Promise<void> {
  await loadComponents();
  await startBackend(flags.backend, process.env, () => {});
  const imported = new Set<string>();
  const importModules = async (modules: readonly string[]) => {
    const fresh = [...new Set(modules)].filter((m) => !imported.has(m));
    if (fresh.length === 0) return;
    await loadModules(fresh.map((specifier) => ({ specifier, from: cwd })));
    for (const m of fresh) imported.add(m);
  };
  await loadModules(projectModules(cwd));
  await importModules(flags.modules);
  const { serveTrialHost } = await import('@moprune/sweep');
  serveTrialHost({ importModules });
}

/** Parses `--workers`. @throws CliError `USAGE`. */
export function parseWorkers(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new CliError('USAGE', `${flag} must be an integer ≥ 1, got '${value}'`);
  }
  return Number(value);
}

/** Parses a duration in ms. @throws CliError `USAGE`. */
export function parseMs(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 100) {
    throw new CliError('USAGE', `${flag} must be a number of milliseconds ≥ 100, got '${value}'`);
  }
  return Number(value);
}

/** `--store`, resolved against `cwd` (default `results/sweeps`). */
export function storeDir(value: string | undefined, cwd: string): string {
  return resolve(cwd, value ?? join('results', 'sweeps'));
}

/** True when the argument names a sweep file (ends in .json or exists) rather than an experiment. */
export function isSweepFile(arg: string, cwd: string): boolean {
  return /\.json$/i.test(arg) || existsSync(isAbsolute(arg) ? arg : resolve(cwd, arg));
}
