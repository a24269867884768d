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
const HTML: OptionSpec = {
  name: 'html',
  type: 'boolean',
  help: 'Also write report.html beside report.md: the interactive page (moprune report --help)',
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

const REDIS: OptionSpec = {
  name: 'redis',
  type: 'string',
  arg: 'URL',
  help: 'Redis of the BullMQ queue, e.g. redis://127.0.0.1:6379',
};
const STORE: OptionSpec = {
  name: 'store',
  type: 'string',
  arg: 'DIR',
  help: 'Directory of the sweeps (state + run directories); with --redis one that every worker mounts (default results/sweeps)',
};
const WORKERS: OptionSpec = {
  name: 'workers',
  type: 'string',
  arg: 'N',
  help: 'Local pool: at most N trials at once (default: one single-thread trial per core)',
};
const QUEUE: OptionSpec = {
  name: 'queue',
  type: 'string',
  arg: 'NAME',
  help: 'BullMQ queue (default moprune-trials)',
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
      "An experiment's sweeps (knee-search candidates, preference vectors, seeds) run on a local pool of processes (--workers N, default one per core) or on BullMQ workers (--redis URL --store DIR; start 'moprune worker' on any machine that mounts DIR).",
    ],
    options: [
      { name: 'quick', type: 'boolean', help: 'Short run of the same pipeline' },
      { name: 'full', type: 'boolean', help: 'Paper-sized run (default)' },
      { name: 'seed', type: 'string', arg: 'N', help: "Seed, an integer ≥ 0 (default: the experiment's)" },
      OUT,
      RESUME,
      FORCE,
      WORKERS,
      REDIS,
      STORE,
      QUEUE,
      MODULE,
      BACKEND,
      DATA_DIR,
      CACHE_DIR,
      HTML,
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
    options: [OUT, RESUME, FORCE, BACKEND, MODULE, DATA_DIR, CACHE_DIR, HTML, QUIET, HELP],
  },
  {
    name: 'sweep',
    args: '<sweep.json|experiment>',
    summary: 'Run a sweep of trials: on a local pool of processes, or on BullMQ workers (--redis)',
    details: [
      'A sweep file lists trials, or a base config with a grid over config fields, preference vectors and seeds (see the @moprune/sweep README). Every trial config is validated before anything runs or is enqueued.',
      'Locally (the default) trials run in a pool of processes on this machine: as many at once as fit in the cores at their thread count (one thread each unless a trial says otherwise), at most --workers.',
      "With --redis the trials are enqueued on BullMQ and run by 'moprune worker' processes on any machine that mounts --store; this command follows them to the end (Ctrl-C stops following, the workers go on; run it again to continue).",
      'The state (which trials are done, their summaries) is <store>/<sweep id>/sweep-state.json; run the same command again after an interruption and only the missing trials run.',
      "With a registered experiment instead of a file (first argument), it is 'moprune reproduce <experiment>' with that command's options: the experiment's sweeps (knee-search candidates, preference vectors, seeds) run on the executor chosen here.",
      'Exit status: 0 every trial finished, 1 some trial failed, 130 interrupted.',
    ],
    options: [
      {
        name: 'workers',
        type: 'string',
        arg: 'N',
        help: 'Local pool: at most N trials at once (default: one per core)',
      },
      REDIS,
      STORE,
      QUEUE,
      {
        name: 'retry-failed',
        type: 'boolean',
        help: 'Run the trials that failed in an earlier session again',
      },
      MODULE,
      BACKEND,
      DATA_DIR,
      CACHE_DIR,
      QUIET,
      HELP,
    ],
  },
  {
    name: 'worker',
    args: '',
    summary: 'Take trials of BullMQ sweeps from Redis and run them (any number of machines)',
    details: [
      'Runs until SIGINT/SIGTERM: running trials then write a checkpoint and go back to the queue, where another worker resumes them.',
      'A worker that dies (kill -9, power loss) is noticed by the other workers after --lock-duration; its trials are resumed from their last checkpoint.',
    ],
    options: [
      REDIS,
      STORE,
      QUEUE,
      { name: 'slots', type: 'string', arg: 'N', help: 'Trials at once (default: one per core)' },
      {
        name: 'lock-duration',
        type: 'string',
        arg: 'MS',
        help: 'A worker silent this long is considered dead (BullMQ lockDuration, default 30000)',
      },
      {
        name: 'stalled-interval',
        type: 'string',
        arg: 'MS',
        help: "How often to look for dead workers' trials (BullMQ stalledInterval, default 30000)",
      },
      {
        name: 'max-stalled',
        type: 'string',
        arg: 'N',
        help: 'How often a trial may lose its worker before it fails (default 3)',
      },
      MODULE,
      BACKEND,
      DATA_DIR,
      CACHE_DIR,
      HELP,
    ],
  },
  {
    name: 'report',
    args: '<dir>',
    summary: 'Write report.md and SVG plots for a run directory or a sweep of runs',
    details: [
      'A run directory has result.json; a sweep has subdirectories that do. A report.json in the directory adds a title, notes, paper figures and the knee/final run.',
      "--html also writes report.html, an interactive page that works offline (its scripts are copied to report-assets/): tooltips on the plots, click a point or a candidate row to select a run, the selected run's compacted network run in the page by stock TensorFlow.js on test images of its dataset, and a canvas to draw an input for single-channel images.",
    ],
    options: [
      {
        name: 'paper',
        type: 'string',
        arg: 'FILE',
        help: 'JSON file of paper figures { source, figures: [{ label, paper, fact, format?, note? }] }',
      },
      HTML,
      {
        name: 'images',
        type: 'string',
        arg: 'N',
        help: 'Test images bundled with report.html for its model panel (default 200)',
      },
      MODULE,
      BACKEND,
      DATA_DIR,
      CACHE_DIR,
      HELP,
    ],
  },
  {
    name: 'export',
    args: '<run-dir>',
    summary: 'Export the compacted network of a run as a TensorFlow.js LayersModel (model.json + weights)',
    details: [
      "Writes the network at --checkpoint (last: the newest checkpoint; best: the training.keepBest snapshot) with pruned units, filters and gated-off blocks removed, as model.json + weights.bin that stock @tensorflow/tfjs loads with tf.loadLayersModel — in a browser too, no moprune code needed — plus export.json (input shape, classes, parameters and MACs before and after compaction, the run's accuracy).",
      "A gated network is compacted with its evaluation gates (the run's pruners, restored from the checkpoint, decide them). A network with no LayersModel equivalent (self-attention, positional embeddings) fails naming the node.",
    ],
    options: [
      { name: 'out', type: 'string', arg: 'DIR', help: 'Output directory (default <run-dir>/export)' },
      {
        name: 'checkpoint',
        type: 'string',
        arg: 'best|last',
        help: 'Which network of the run (default last)',
      },
      { name: 'force', type: 'boolean', help: 'Replace --out when it exists and is not empty' },
      BACKEND,
      HELP,
    ],
  },
  {
    name: 'list',
    args: '[kind]',
    summary: 'List registered experiments, models, datasets, objectives, solvers and pruners',
    details: [
      'kind: experiments, models, datasets, objectives, solvers or pruners (default: all).',
      "--fields shows each component's config fields (from its configSchema: '?' marks an optional one) with what each must be; --json always includes them.",
    ],
    options: [
      { name: 'json', type: 'boolean', help: 'Print JSON' },
      { name: 'fields', type: 'boolean', help: "Show each component's config fields" },
      MODULE,
      HELP,
    ],
  },
];

/**
 * Commands `moprune` runs for itself, not listed in help: `__trial-host` is
 * the process a sweep's local pool and a worker start per trial slot.
 */
export const INTERNAL_COMMANDS: readonly CommandSpec[] = [
  {
    name: '__trial-host',
    args: '',
    summary: 'Serve trials to the parent process over IPC (internal)',
    details: [],
    options: [
      { name: 'cwd', type: 'string', arg: 'DIR', help: 'Directory modules resolve from' },
      MODULE,
      BACKEND,
      DATA_DIR,
      CACHE_DIR,
    ],
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
