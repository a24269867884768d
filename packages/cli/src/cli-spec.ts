/** One option of a command, for parsing (node:util parseArgs) and for help text. */
export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** Placeholder of a string option's value in help text. */
  readonly arg?: string;
  readonly help: string;
}

/** One command: its synopsis, help text and options. */
export interface CommandSpec {
  readonly name: string;
  /** Positional synopsis, e.g. `<config.json>`. */
  readonly args: string;
  readonly summary: string;
  /** Extra help paragraphs. */
  readonly details: readonly string[];
  readonly options: readonly OptionSpec[];
}

const HELP: OptionSpec = { name: 'help', short: 'h', type: 'boolean', help: 'Show this help' };
const BACKEND: OptionSpec = {
  name: 'backend',
  type: 'string',
  arg: 'NAME',
  help: 'TensorFlow.js backend: auto, tensorflow, native, wasm or cpu (default: $MOPRUNE_BACKEND, else auto)',
};
const OUT: OptionSpec = { name: 'out', type: 'string', arg: 'DIR', help: 'Output directory' };
const RESUME: OptionSpec = {
  name: 'resume',
  type: 'boolean',
  help: 'Continue the run in the output directory from its last checkpoint',
};
const FORCE: OptionSpec = {
  name: 'force',
  type: 'boolean',
  help: 'Start over in an output directory that already holds a run (its checkpoints are discarded)',
};
const QUIET: OptionSpec = { name: 'quiet', short: 'q', type: 'boolean', help: 'No progress line' };
const DATA_DIR: OptionSpec = {
  name: 'data-dir',
  type: 'string',
  arg: 'DIR',
  help: 'Directory of user-supplied data (CIFAR binaries …)',
};
const CACHE_DIR: OptionSpec = {
  name: 'cache-dir',
  type: 'string',
  arg: 'DIR',
  help: 'Directory for built data caches',
};
const MODULE: OptionSpec = {
  name: 'module',
  short: 'm',
  type: 'string',
  multiple: true,
  arg: 'SPEC',
  help: 'Import a module that defines components or experiments (package name or path; repeatable; also $MOPRUNE_MODULES and package.json "moprune.modules")',
};

/** Every command of `moprune`, in help order. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'reproduce',
    args: '<experiment>',
    summary: 'Run a registered paper reproduction and write its report',
    details: [
      'Modes: --full (default) runs the paper-sized experiment; --quick a short run of the same pipeline.',
      'Output goes to --out (default results/<experiment>/<mode>-seed<seed>). Ctrl-C stops after a checkpoint (exit 130); run the same command with --resume to continue.',
    ],
    options: [
      { name: 'quick', type: 'boolean', help: 'Short run of the same pipeline' },
      { name: 'full', type: 'boolean', help: 'Paper-sized run (default)' },
      { name: 'seed', type: 'string', arg: 'N', help: "Seed, an integer ≥ 0 (default: the experiment's)" },
      OUT,
      RESUME,
      FORCE,
      MODULE,
      BACKEND,
      DATA_DIR,
      CACHE_DIR,
      QUIET,
      HELP,
    ],
  },
  {
    name: 'train',
    args: '<config.json>',
    summary: 'Train one experiment config (model, dataset, objectives, solver, pruners, training)',
    details: [
      'The config is validated completely before any work; every problem is listed with its path.',
      'Output goes to --out (default results/train/<config name>): config.json, metrics.jsonl, result.json, checkpoint/, report.md and plots. Ctrl-C stops after a checkpoint (exit 130); --resume continues.',
    ],
    options: [OUT, RESUME, FORCE, BACKEND, MODULE, DATA_DIR, CACHE_DIR, QUIET, HELP],
  },
  {
    name: 'report',
    args: '<dir>',
    summary: 'Write report.md and SVG plots for a run directory or a sweep of runs',
    details: [
      'A run directory has result.json; a sweep has subdirectories that do. A report.json in the directory adds a title, notes, paper figures and the knee/final run.',
    ],
    options: [
      {
        name: 'paper',
        type: 'string',
        arg: 'FILE',
        help: 'JSON file of paper figures { source, figures: [{ label, paper, fact, format?, note? }] }',
      },
      HELP,
    ],
  },
  {
    name: 'list',
    args: '[kind]',
    summary: 'List registered experiments, models, datasets, objectives, solvers and pruners',
    details: ['kind: experiments, models, datasets, objectives, solvers or pruners (default: all).'],
    options: [{ name: 'json', type: 'boolean', help: 'Print JSON' }, MODULE, HELP],
  },
];

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(1, n - s.length));

/** The top-level usage text. */
export function mainUsage(): string {
  const lines = ['Usage: moprune <command> [options]', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  ${pad(`${c.name} ${c.args}`, 26)}${c.summary}`);
  lines.push(
    '',
    'Options:',
    `  ${pad('-h, --help', 26)}Show help (moprune <command> --help for a command)`,
    `  ${pad('-v, --version', 26)}Print the version`,
    '',
    'Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (continue with --resume).',
  );
  return lines.join('\n');
}

/** The help text of one command. */
export function commandUsage(c: CommandSpec): string {
  const lines = [`Usage: moprune ${c.name} ${c.args} [options]`, '', c.summary, ''];
  for (const d of c.details) lines.push(d);
  lines.push('', 'Options:');
  for (const o of c.options) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    lines.push(`  ${pad(flag, 26)}${o.help}`);
  }
  return lines.join('\n');
}
