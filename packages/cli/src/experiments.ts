import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PaperComparison } from '@moprune/report';
import type { SweepPlan, SweepResult } from '@moprune/sweep';
import { CliError } from './errors.js';
import type { ProgressReporter } from './progress.js';

/** The two sizes every experiment offers. */
export type ExperimentMode = 'quick' | 'full';

/** What `moprune reproduce` hands an experiment. */
export interface ExperimentRunOptions {
  readonly mode: ExperimentMode;
  /** The run's one seed (every random stream derives from it). */
  readonly seed: number;
  /** Everything the experiment writes goes inside this directory (created by the CLI). */
  readonly outDir: string;
  /**
   * Continue an interrupted reproduction from what `outDir` holds (finished
   * sub-runs are kept, the interrupted one resumes from its checkpoint).
   */
  readonly resume: boolean;
  /**
   * Aborted on Ctrl-C: stop at the next batch boundary after writing a
   * checkpoint (pass it to core's `runExperiment`) and return `'interrupted'`.
   */
  readonly signal: AbortSignal;
  /** Progress line for long loops (sweep candidates; use `trainProgress` for epochs and batches). */
  readonly progress: ProgressReporter;
  /** Prints a message line to stderr (above the progress line). */
  log(line: string): void;
  /** `--data-dir`: user-supplied data (CIFAR …). */
  readonly dataDir?: string;
  /** `--cache-dir`: built data caches. */
  readonly cacheDir?: string;
  /**
   * Runs a sweep (an experiment's candidates, preference vectors or seeds as
   * trials; see `@moprune/sweep`) through the executor chosen on the command
   * line: the local pool (`--workers N`, default one single-thread trial per
   * core) or BullMQ workers (`--redis URL --store DIR`), with the sweep's
   * progress display. Trials go to `<sweepStore>/<plan.id>/<trial id>`; the
   * result has every finished trial's outcome. A sweep run again (`--resume`)
   * takes the finished trials from the store and runs only the missing ones.
   */
  runSweep(plan: SweepPlan): Promise<SweepResult>;
  /** Where {@link runSweep} puts the sweeps: `--store`, else `outDir`. */
  readonly sweepStore: string;
}

/** What an experiment's `run` resolves to. */
export interface ExperimentOutcome {
  /** `'interrupted'` when the abort signal stopped it (the CLI exits 130 and `--resume` continues). */
  readonly status: 'completed' | 'interrupted';
  /** The run or sweep directory the CLI writes report.md into (its main report). @default outDir */
  readonly reportDir?: string;
  /**
   * Further run or sweep directories (relative to `outDir`) that get their own
   * report.md and plots, written before the main one, e.g. every part of a reproduction.
   */
  readonly reportDirs?: readonly string[];
  /** Lines the CLI prints to stdout after the run (headline figures). */
  readonly summary?: readonly string[];
}

/**
 * A paper reproduction that `moprune reproduce <name>` runs. An experiment
 * package registers one with {@link registerExperiment} when imported (or
 * exports it as `experiment`/`default`, and the CLI registers it).
 */
export interface ExperimentDefinition {
  /** The command-line name, e.g. `reiners2020` (lower case, digits, `-`). */
  readonly name: string;
  /** One line for `moprune list`. */
  readonly description: string;
  /** What each mode runs, one line each (shown by `moprune reproduce --help`). */
  readonly modes: Readonly<Record<ExperimentMode, string>>;
  /** @default 0 */
  readonly defaultSeed?: number;
  /** The paper's figures; the report sets them side by side with the measured ones. */
  readonly paper?: PaperComparison;
  run(options: ExperimentRunOptions): Promise<ExperimentOutcome>;
}

const KEY = Symbol.for('@moprune/cli/experiments');

/** The process-wide experiment registry (on `globalThis`, so two copies of this package share it). */
function table(): Map<string, ExperimentDefinition> {
  const g = globalThis as { [KEY]?: Map<string, ExperimentDefinition> };
  g[KEY] ??= new Map();
  return g[KEY];
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/** True when `value` has the shape of an {@link ExperimentDefinition}. */
export function isExperimentDefinition(value: unknown): value is ExperimentDefinition {
  const v = value as Partial<ExperimentDefinition> | null;
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

/**
 * Registers an experiment. Registering the same definition object again is a
 * no-op (a module imported twice); another definition under a taken name is an error.
 * @throws CliError `INVALID_EXPERIMENT` for a malformed definition, `DUPLICATE_EXPERIMENT`.
 */
export function registerExperiment(definition: ExperimentDefinition): void {
  if (!isExperimentDefinition(definition) || !NAME_RE.test(definition.name)) {
    throw new CliError(
      'INVALID_EXPERIMENT',
      `an experiment needs a name matching ${NAME_RE}, a description, modes { quick, full } and run()`,
    );
  }
  for (const mode of ['quick', 'full'] as const) {
    if (typeof definition.modes[mode] !== 'string') {
      throw new CliError(
        'INVALID_EXPERIMENT',
        `experiment '${definition.name}' does not describe its '${mode}' mode`,
      );
    }
  }
  const t = table();
  const existing = t.get(definition.name);
  if (existing === definition) return;
  if (existing !== undefined) {
    throw new CliError(
      'DUPLICATE_EXPERIMENT',
      `an experiment named '${definition.name}' is already registered`,
    );
  }
  t.set(definition.name, definition);
}

/** The registered experiments, sorted by name. */
export function listExperiments(): ExperimentDefinition[] {
  return [...table().values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The experiment registered as `name`, or undefined. */
export function getExperiment(name: string): ExperimentDefinition | undefined {
  return table().get(name);
}

/** Removes a registration (tests). */
export function unregisterExperiment(name: string): boolean {
  return table().delete(name);
}

/**
 * Experiment packages the CLI imports when they are installed, so that
 * `moprune list` shows them and `moprune reproduce reiners2020` works with no
 * flag (reproduce also tries `@moprune/experiment-<name>` for any name).
 * Missing ones are skipped.
 */
export const KNOWN_EXPERIMENT_MODULES: readonly string[] = ['@moprune/experiment-reiners2020'];

/** The environment variable with more experiment modules (comma-separated specifiers or paths). */
export const EXPERIMENTS_ENV_VAR = 'MOPRUNE_EXPERIMENTS';

function resolveFrom(cwd: string, specifier: string): string | undefined {
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const file = resolve(cwd, specifier);
    return existsSync(file) ? pathToFileURL(file).href : undefined;
  }
  for (const base of [join(cwd, 'package.json'), import.meta.url]) {
    try {
      return pathToFileURL(createRequire(base).resolve(specifier)).href;
    } catch {
      // Not resolvable from here; try the next base.
    }
  }
  return undefined;
}

/**
 * Imports experiment modules and registers what they export: each module
 * either calls {@link registerExperiment} itself, or exports a definition as
 * `experiment`, `default`, or an array `experiments`. Modules are resolved
 * from `cwd` first (a workspace or project that installed them), then from
 * this package.
 * @param required - modules that must load (from `--module`/the environment); the known ones are optional
 * @throws CliError `MODULE_LOAD_FAILED` when a required module is missing or throws on import.
 */
export async function loadExperimentModules(
  required: readonly string[],
  cwd: string,
  optional: readonly string[] = KNOWN_EXPERIMENT_MODULES,
): Promise<void> {
  const specs = [
    ...required.map((s) => ({ s, required: true })),
    ...optional.map((s) => ({ s, required: false })),
  ];
  for (const { s, required: must } of specs) {
    const url = resolveFrom(cwd, s);
    if (url === undefined) {
      if (must)
        throw new CliError('MODULE_LOAD_FAILED', `cannot find experiment module '${s}' (from ${cwd})`);
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      const hint = url.endsWith('.ts')
        ? ' (a TypeScript source: build the package, or run the CLI under tsx: node --import tsx …)'
        : '';
      throw new CliError(
        'MODULE_LOAD_FAILED',
        `experiment module '${s}' failed to load${hint}: ${(e as Error).message}`,
        {
          cause: e,
          details: { module: s },
        },
      );
    }
    const exported = [
      mod.experiment,
      mod.default,
      ...(Array.isArray(mod.experiments) ? mod.experiments : []),
    ];
    for (const d of exported) if (isExperimentDefinition(d)) registerExperiment(d);
  }
}
