import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExperimentMode, ExperimentRunOptions, ExperimentSummary, JsonObject } from '@moprune/core/node';
import type { HtmlOptions, PaperComparison } from '@moprune/report';
import type { SweepPlan, SweepResult } from '@moprune/sweep';
import { COMMANDS, type CommandSpec, commandUsage, INTERNAL_COMMANDS, mainUsage } from './cli-spec.js';
import { BACKEND_CHOICES, loadComponents, paretoTools, startBackend } from './components.js';
import { CliError, isUsageError } from './errors.js';
import {
  getExperiment,
  listExperiments,
  loadModules,
  MODULES_ENV_VAR,
  type ModuleRequest,
  projectModules,
} from './modules.js';
import { createProgress, type ProgressStream, trainProgress } from './progress.js';
import {
  absoluteModules,
  type ExecutorFlags,
  executorFromFlags,
  isSweepFile,
  parseMs,
  parseWorkers,
  serveTrialHostProcess,
  storeDir,
  trialHostCommand,
} from './sweep.js';
import { sweepDisplay, workerLine } from './sweep-progress.js';

/** Exit statuses of `moprune`. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** The command ran and failed (bad config contents, missing file, non-finite loss …). */
  FAILURE: 1,
  /** The command line is wrong (unknown command/option, missing argument). */
  USAGE: 2,
  /** Stopped by Ctrl-C / SIGINT after writing a checkpoint (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** Where {@link main} reads and writes; the bin passes the process's, tests pass doubles. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  /** Messages, errors and the progress line (drawn only when `isTTY`). */
  readonly stderr: ProgressStream;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT. */
  readonly signal?: AbortSignal;
}

/** The CLI's version (from its package.json). */
export function cliVersion(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
  return pkg.version;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function parseCommand(spec: CommandSpec, argv: readonly string[]): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of spec.options) {
    options[o.name] = {
      type: o.type,
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  // A negative number after an option that takes a value is that value (`--seed -1`), not an option:
  // handed over as `--seed=-1`, so the option's own check says what is wrong with it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (e) {
    const valid = spec.options.map((o) => `--${o.name}`).join(', ');
    const first = (e as Error).message.split('\n')[0]!.split('. To specify')[0]!;
    // Node's parser says "Unknown option …"; moprune's messages start in lower case.
    const text = first.charAt(0).toLowerCase() + first.slice(1);
    throw new CliError('USAGE', `${text}\nvalid options of '${spec.name}': ${valid}`, {
      cause: e,
      details: { command: spec.name },
    });
  }
}

function usageError(spec: CommandSpec, message: string): CliError {
  return new CliError('USAGE', message, { details: { command: spec.name } });
}

function onePositional(spec: CommandSpec, positionals: readonly string[], what: string): string {
  if (positionals.length === 0) throw usageError(spec, `missing ${what}`);
  if (positionals.length > 1) throw usageError(spec, `unexpected argument '${positionals[1]}'`);
  return positionals[0]!;
}

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(
      'FILE_NOT_FOUND',
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        cause: e,
        details: { file },
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError('INVALID_JSON', `${what} ${file} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
      details: { file },
    });
  }
}

const RUN_FILES = ['config.json', 'result.json', 'metrics.jsonl', 'checkpoint'];

/**
 * Guards an output directory: an existing run there is never overwritten
 * silently (core's fresh run would discard its checkpoints).
 */
function prepareOutDir(
  dir: string,
  resume: boolean,
  force: boolean,
  resumeHint: string,
  anyFile: boolean,
): void {
  if (!existsSync(dir)) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new CliError(
        'NOT_WRITABLE',
        `cannot create the output directory ${dir}: ${
          code === 'ENOTDIR' || code === 'EEXIST'
            ? 'a part of the path is a file, not a directory'
            : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
              ? 'permission denied'
              : (e as Error).message
        } (${code})`,
        { cause: e, details: { dir, errno: code } },
      );
    }
    return;
  }
  const entries = readdirSync(dir);
  const occupied = anyFile ? entries.length > 0 : entries.some((e) => RUN_FILES.includes(e));
  if (occupied && !resume && !force) {
    throw new CliError(
      'RUN_EXISTS',
      `${dir} already holds a run; continue it with ${resumeHint} --resume, or start over with --force`,
      { details: { dir } },
    );
  }
}

function backendOption(spec: CommandSpec, v: Values): (typeof BACKEND_CHOICES)[number] | undefined {
  const b = v.backend as string | undefined;
  if (b === undefined) return undefined;
  if (!(BACKEND_CHOICES as readonly string[]).includes(b)) {
    throw usageError(spec, `--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${b}'`);
  }
  return b as (typeof BACKEND_CHOICES)[number];
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function summaryLines(dir: string, s: ExperimentSummary): string[] {
  const lines = [`run: ${dir} (${s.status}, ${s.steps} steps, ${(s.wallTimeMs / 1000).toFixed(1)} s)`];
  const acc = (e: JsonObject | null) =>
    Array.isArray(e?.accuracy) ? mean(e.accuracy as number[]) : undefined;
  const v = acc(s.validation);
  const t = acc(s.test);
  if (v !== undefined) lines.push(`validation accuracy: ${pct(v)}`);
  if (t !== undefined) lines.push(`test accuracy: ${pct(t)}`);
  if (typeof s.metrics.sparsity === 'number')
    lines.push(`sparsity (all parameters): ${pct(s.metrics.sparsity)}`);
  return lines;
}

async function cmdTrain(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  const file = resolve(io.cwd, onePositional(spec, positionals, 'the config file argument <config.json>'));
  const backend = backendOption(spec, v);
  const config = readJsonFile(file, 'config');
  await loadComponentsAndModules(v, io);
  const core = await import('@moprune/core/node');
  const issues = core.validateExperimentConfig(config);
  if (issues.length > 0) {
    throw new core.CoreError(
      'INVALID_CONFIG',
      `invalid experiment config ${file}:\n${core.formatIssues(issues)}`,
      {
        issues,
        details: { file },
      },
    );
  }
  const name =
    typeof (config as { name?: unknown }).name === 'string'
      ? (config as { name: string }).name
      : basename(file).replace(/\.json$/i, '');
  const outDir = resolve(io.cwd, (v.out as string | undefined) ?? join('results', 'train', name));
  const resume = v.resume === true;
  prepareOutDir(outDir, resume, v.force === true, `moprune train ${file} --out ${outDir}`, false);
  const log = (line: string) => progress.log(line);
  const progress = createProgress({ stream: io.stderr, ...(v.quiet ? { enabled: false } : {}) });
  try {
    await startBackend(backend, io.env, log);
    if (
      resume &&
      !existsSync(join(outDir, 'checkpoint', 'latest')) &&
      !existsSync(join(outDir, core.RUN_LOCK_FILE))
    ) {
      log(`moprune: no checkpoint in ${outDir}; starting from the beginning`);
    }
    const bar = trainProgress(progress);
    const signal = io.signal ?? new AbortController().signal;
    let summary: ExperimentSummary;
    try {
      ({ summary } = await core.runExperiment(config, {
        runDir: outDir,
        resume: resume ? 'auto' : false,
        signal,
        callbacks: [bar],
        onCheckpointCorrupt: (e) => {
          const to =
            typeof e.details.quarantined === 'string' ? `; moved aside to ${e.details.quarantined}` : '';
          log(
            `moprune: warning: skipping a corrupt checkpoint — ${e.message}${to}; resuming from the newest valid one`,
          );
        },
        onStaleLock: (holder, why) => {
          log(
            `moprune: warning: taking over the lock of process ${holder.pid} on ${holder.host} (${why}); it did not finish`,
          );
        },
        ...dataDirs(v, io),
      }));
    } finally {
      bar.finish();
    }
    if (summary.status === 'interrupted') {
      log(
        `moprune: interrupted at step ${summary.steps}; checkpoint written. Continue with: moprune train ${file} --out ${outDir} --resume`,
      );
      return EXIT.INTERRUPTED;
    }
    const { writeReport } = await import('@moprune/report');
    const written = await writeReport(outDir, {
      pareto: await paretoTools(),
      ...(v.html === true ? { html: await htmlInputs(outDir, v, io) } : {}),
    });
    for (const l of summaryLines(outDir, summary)) io.stdout.write(`${l}\n`);
    io.stdout.write(`report: ${written.files[written.files.length - 1]}\n`);
    return EXIT.OK;
  } finally {
    progress.close();
  }
}

function isPaperComparison(v: unknown): v is PaperComparison {
  const p = v as PaperComparison | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.source === 'string' &&
    Array.isArray(p.figures) &&
    p.figures.every(
      (f) => typeof f.label === 'string' && typeof f.paper === 'number' && typeof f.fact === 'string',
    )
  );
}

/** `--data-dir` and `--cache-dir`, resolved against the working directory, for the options that take them. */
function dataDirs(v: Values, io: CliIo): { dataDir?: string; cacheDir?: string } {
  return {
    ...(typeof v['data-dir'] === 'string' ? { dataDir: resolve(io.cwd, v['data-dir']) } : {}),
    ...(typeof v['cache-dir'] === 'string' ? { cacheDir: resolve(io.cwd, v['cache-dir']) } : {}),
  };
}

/** `--images`: the test images report.html bundles, checked before any work. */
function htmlImagesOption(v: Values): number {
  const images = v.images === undefined ? 200 : Number(v.images);
  if (!Number.isInteger(images) || images < 1) {
    throw new CliError('USAGE', `--images must be an integer ≥ 1, got '${String(v.images)}'`);
  }
  return images;
}

/**
 * What report.html's model panel shows for the run or sweep in `dir` (see
 * `htmlReportInputs`). The backend must be started and the runs' component modules loaded.
 */
async function htmlInputs(dir: string, v: Values, io: CliIo, images = 200): Promise<HtmlOptions> {
  const [{ listRunDirs }, { htmlReportInputs }] = await Promise.all([
    import('@moprune/report'),
    import('./report-html.js'),
  ]);
  const runs = existsSync(join(dir, 'result.json'))
    ? [{ key: '.', dir }]
    : listRunDirs(dir).map((name) => ({ key: name, dir: join(dir, name) }));
  return htmlReportInputs(runs, {
    images,
    ...dataDirs(v, io),
  });
}

async function cmdReport(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  const dir = resolve(io.cwd, onePositional(spec, positionals, 'the directory argument <dir>'));
  let paper: PaperComparison | undefined;
  if (typeof v.paper === 'string') {
    const file = resolve(io.cwd, v.paper);
    const p = readJsonFile(file, 'paper figures');
    if (!isPaperComparison(p)) {
      throw new CliError(
        'INVALID_JSON',
        `${file} must be { "source": string, "figures": [{ "label": string, "paper": number, "fact": string, … }] }`,
        { details: { file } },
      );
    }
    paper = p;
  }
  const images = htmlImagesOption(v);
  const { writeReport } = await import('@moprune/report');
  let html: HtmlOptions | undefined;
  if (v.html === true) {
    await startBackend(backendOption(spec, v), io.env, (line) => io.stderr.write(`${line}\n`));
    // The runs' pruners decide gated networks' gates: their definitions must be registered.
    await loadComponentsAndModules(v, io);
    html = await htmlInputs(dir, v, io, images);
  }
  const written = await writeReport(dir, {
    pareto: await paretoTools(),
    ...(paper === undefined ? {} : { paper }),
    ...(html === undefined ? {} : { html }),
  });
  io.stdout.write(`${written.kind} report:\n`);
  for (const f of written.files) io.stdout.write(`  ${f}\n`);
  return EXIT.OK;
}

async function cmdExport(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  const runDir = resolve(io.cwd, onePositional(spec, positionals, 'the run directory argument <run-dir>'));
  const checkpoint = (v.checkpoint as string | undefined) ?? 'last';
  if (checkpoint !== 'best' && checkpoint !== 'last') {
    throw new CliError(
      'USAGE',
      `--checkpoint must be best or last, got '${checkpoint}'\n\n${commandUsage(spec)}`,
    );
  }
  const outDir = resolve(io.cwd, typeof v.out === 'string' ? v.out : join(runDir, 'export'));
  await startBackend(backendOption(spec, v), io.env, (line) => io.stderr.write(`${line}\n`));
  // The run's pruners decide a gated network's gates: their definitions must be registered.
  await loadComponentsAndModules(v, io);
  const { exportRun } = await import('./export.js');
  const m = await exportRun(runDir, outDir, checkpoint, { force: v.force === true });
  const pct = (a: number, b: number) => (b === 0 ? '—' : `${((100 * a) / b).toFixed(1)}%`);
  io.stdout.write(
    `exported ${m.source.name} (${checkpoint}, step ${m.source.step}) to ${outDir}\n` +
      `  parameters ${m.before.params} → ${m.after.params} (${pct(m.after.params, m.before.params)}), MACs ${m.before.macs} → ${m.after.macs} (${pct(m.after.macs, m.before.macs)})\n` +
      `  input [null, ${m.inputShape.join(', ')}]; load with tf.loadLayersModel('${join(outDir, 'model.json')}')\n`,
  );
  return EXIT.OK;
}

const KINDS = ['experiments', 'models', 'datasets', 'objectives', 'solvers', 'pruners'] as const;

/** `$MOPRUNE_MODULES` and `--module`, in that order. */
function cliModules(v: Values, io: CliIo): string[] {
  const fromEnv = (io.env[MODULES_ENV_VAR] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return [...fromEnv, ...((v.module as string[] | undefined) ?? [])];
}

/**
 * Loads our component packages, then the project's modules (`moprune.modules`
 * in the nearest package.json), `$MOPRUNE_MODULES` and `--module`, in that
 * order, plus `extra` (optional modules such as an experiment's conventional package).
 */
async function loadComponentsAndModules(
  v: Values,
  io: CliIo,
  extra: readonly ModuleRequest[] = [],
): Promise<void> {
  await loadComponents();
  await loadModules([
    ...projectModules(io.cwd),
    ...cliModules(v, io).map((specifier) => ({ specifier, from: io.cwd })),
    ...extra,
  ]);
}

/** One line of `moprune list`: a registered name, its description and (components) its config fields. */
interface ListEntry {
  readonly name: string;
  readonly description: string;
  readonly fields?: readonly { name: string; optional: boolean; description: string }[];
}

/** The `--fields` lines under a component, one per config field besides `type`. */
function fieldLines(fields: NonNullable<ListEntry['fields']>): string[] {
  if (fields.length === 0) return ['      (no fields besides type)'];
  const labels = fields.map((f) => `${f.name}${f.optional ? '?' : ''}`);
  const w = Math.max(...labels.map((l) => l.length)) + 2;
  return fields.map((f, i) => `      ${labels[i]!.padEnd(w)}${f.description}`);
}

async function cmdList(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 1) throw usageError(spec, `unexpected argument '${positionals[1]}'`);
  const kind = positionals[0];
  if (kind !== undefined && !(KINDS as readonly string[]).includes(kind)) {
    throw usageError(spec, `unknown kind '${kind}'; one of: ${KINDS.join(', ')}`);
  }
  await loadComponentsAndModules(v, io);
  const { registries } = await import('@moprune/core');
  const r = registries();
  const entries: Record<string, ListEntry[]> = {
    experiments: listExperiments().map((e) => ({ name: e.name, description: e.description })),
  };
  for (const k of KINDS.slice(1) as ('models' | 'datasets' | 'objectives' | 'solvers' | 'pruners')[]) {
    entries[k] = r[k].list().map((d) => ({
      name: d.name,
      description: d.description,
      fields: Object.entries(d.configSchema.fields).map(([name, f]) => ({
        name,
        optional: f.isOptional,
        description: f.description,
      })),
    }));
  }
  const shown = kind === undefined ? KINDS : [kind];
  if (v.json) {
    io.stdout.write(`${JSON.stringify(Object.fromEntries(shown.map((k) => [k, entries[k]])), null, 2)}\n`);
    return EXIT.OK;
  }
  const out: string[] = [];
  for (const k of shown) {
    out.push(`${k}:`);
    const list = entries[k]!;
    if (list.length === 0) out.push('  (none registered)');
    const w = Math.max(0, ...list.map((e) => e.name.length)) + 2;
    for (const e of list) {
      out.push(`  ${e.name.padEnd(w)}${e.description}`);
      if (v.fields && e.fields) out.push(...fieldLines(e.fields));
    }
    out.push('');
  }
  io.stdout.write(`${out.join('\n').trimEnd()}\n`);
  return EXIT.OK;
}

/**
 * What `reproduce` needs before it can parse its options: the experiment
 * name (the first argument that is neither an option nor the value of a
 * common string option) and the `--module` values, so that the experiment's
 * own options can join the parse.
 */
function prescanReproduce(spec: CommandSpec, argv: readonly string[]): { name?: string; modules: string[] } {
  const takesValue = new Set(
    spec.options
      .filter((o) => o.type === 'string')
      .flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]),
  );
  const modules: string[] = [];
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--module' || a === '-m') modules.push(argv[i + 1] ?? '');
    else if (a.startsWith('--module=')) modules.push(a.slice('--module='.length));
    if (takesValue.has(a)) i++;
    else if (!a.startsWith('-') && name === undefined) name = a;
  }
  return { ...(name === undefined ? {} : { name }), modules };
}

/** The conventional package of experiment `name`, tried when installed. */
function conventionalModule(name: string, io: CliIo): ModuleRequest[] {
  return /^[a-z0-9][a-z0-9-]*$/.test(name)
    ? [{ specifier: `@moprune/experiment-${name}`, from: io.cwd, required: false }]
    : [];
}

async function cmdReproduce(base: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  // The experiment's own options (e.g. --method) can only be parsed once its module is loaded.
  const pre = prescanReproduce(base, argv);
  if (pre.name !== undefined) {
    await loadComponentsAndModules({ module: pre.modules }, io, conventionalModule(pre.name, io));
  }
  const found = pre.name === undefined ? undefined : getExperiment(pre.name);
  const spec: CommandSpec =
    found?.options === undefined ? base : { ...base, options: [...base.options, ...found.options] };
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  const name = onePositional(spec, positionals, 'the experiment argument (see moprune list experiments)');
  if (v.quick && v.full) throw usageError(spec, '--quick and --full exclude each other');
  const mode: ExperimentMode = v.quick ? 'quick' : 'full';
  let seed: number | undefined;
  if (v.seed !== undefined) {
    const s = String(v.seed);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
      throw usageError(spec, `--seed must be an integer ≥ 0, got '${s}'`);
    }
    seed = Number(s);
  }
  const backend = backendOption(spec, v);
  if (found === undefined) await loadComponentsAndModules(v, io, conventionalModule(name, io));
  const def = getExperiment(name);
  if (def === undefined) {
    const known = listExperiments().map((e) => e.name);
    throw new CliError(
      'UNKNOWN_EXPERIMENT',
      `unknown experiment '${name}'; ${
        known.length === 0
          ? `none is registered (install an experiment package, list it in package.json "moprune.modules", or pass --module / set ${MODULES_ENV_VAR})`
          : `registered: ${known.join(', ')}`
      }`,
      { details: { experiment: name } },
    );
  }
  const runSeed = seed ?? def.defaultSeed ?? 0;
  const outDir = resolve(
    io.cwd,
    (v.out as string | undefined) ?? join('results', name, `${mode}-seed${runSeed}`),
  );
  const resume = v.resume === true;
  const args: Record<string, string | boolean | readonly string[]> = Object.fromEntries(
    (def.options ?? []).flatMap((o) => {
      const value = v[o.name];
      return value === undefined ? [] : [[o.name, value]];
    }),
  );
  const argText = Object.entries(args)
    .flatMap(([k, value]) =>
      value === true
        ? [`--${k}`]
        : value === false
          ? []
          : (Array.isArray(value) ? value : [value]).map((x) => `--${k} ${x}`),
    )
    .join(' ');
  const again = `moprune reproduce ${name} --${mode} --seed ${runSeed}${argText === '' ? '' : ` ${argText}`} --out ${outDir}`;
  prepareOutDir(outDir, resume, v.force === true, again, true);
  const flags = executorFlags(spec, v, io);
  if (flags.redis !== undefined && flags.store === undefined) {
    throw usageError(spec, '--redis needs --store: the directory every worker mounts');
  }
  const progress = createProgress({ stream: io.stderr, ...(v.quiet ? { enabled: false } : {}) });
  const log = (line: string) => progress.log(line);
  const sweepStore = flags.store ?? outDir;
  const signal = io.signal ?? new AbortController().signal;
  const runExperimentSweep = async (plan: SweepPlan): Promise<SweepResult> => {
    const { runSweep } = await import('@moprune/sweep');
    const display = sweepDisplay(progress, v.quiet ? 'quiet' : io.stderr.isTTY === true ? 'tty' : 'lines');
    try {
      return await runSweep(
        { ...plan, modules: [...flags.modules, ...plan.modules] },
        {
          store: sweepStore,
          executor: await executorFromFlags(flags, io.cwd),
          signal,
          onEvent: (e) => display.onEvent(e),
        },
      );
    } finally {
      display.finish();
    }
  };
  try {
    await startBackend(backend, io.env, log);
    // The mode's description states its defaults; options given override them, so the banner names them.
    log(
      `moprune: ${name}, ${mode} mode (${def.modes[mode]})${
        argText === '' ? '' : `, options ${argText} (over the mode's defaults)`
      }, seed ${runSeed}, output ${outDir}`,
    );
    const { withSweepHook } = await import('@moprune/sweep');
    const runOptions: ExperimentRunOptions = {
      mode,
      seed: runSeed,
      outDir,
      resume,
      signal,
      progress,
      log,
      ...dataDirs(v, io),
      args,
    };
    const outcome = await def.run(withSweepHook(runOptions, { run: runExperimentSweep, store: sweepStore }));
    if (outcome.status === 'interrupted') {
      log(`moprune: interrupted; checkpoints written. Continue with: ${again} --resume`);
      return EXIT.INTERRUPTED;
    }
    const { writeReport } = await import('@moprune/report');
    const pareto = await paretoTools();
    const reportDir = resolve(outDir, outcome.reportDir ?? '.');
    const extra = [...new Set((outcome.reportDirs ?? []).map((d) => resolve(outDir, d)))].filter(
      (d) => d !== reportDir,
    );
    const others: string[] = [];
    const html = async (dir: string) => (v.html === true ? { html: await htmlInputs(dir, v, io) } : {});
    for (const dir of extra) {
      const w = await writeReport(dir, { pareto, ...(await html(dir)) });
      others.push(w.files[w.files.length - 1]!);
    }
    const written = await writeReport(reportDir, {
      pareto,
      ...(def.paper === undefined ? {} : { paper: def.paper }),
      ...(await html(reportDir)),
    });
    for (const l of outcome.summary ?? []) io.stdout.write(`${l}\n`);
    for (const f of others) io.stdout.write(`report: ${f}\n`);
    io.stdout.write(`report: ${written.files[written.files.length - 1]}\n`);
    return EXIT.OK;
  } finally {
    progress.close();
  }
}

function executorFlags(spec: CommandSpec, v: Values, io: CliIo): ExecutorFlags {
  const workers = parseWorkers(v.workers as string | undefined, '--workers');
  const redis = v.redis as string | undefined;
  if (redis !== undefined && workers !== undefined) {
    throw usageError(
      spec,
      '--workers sizes the local pool; with --redis start that many `moprune worker`s instead',
    );
  }
  const backend = backendOption(spec, v);
  return {
    ...(workers === undefined ? {} : { workers }),
    ...(redis === undefined ? {} : { redis }),
    ...(typeof v.store === 'string' ? { store: storeDir(v.store, io.cwd) } : {}),
    ...(typeof v.queue === 'string' ? { queue: v.queue } : {}),
    ...(backend === undefined ? {} : { backend }),
    ...dataDirs(v, io),
    modules: absoluteModules(cliModules(v, io), io.cwd),
  };
}

async function cmdSweep(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  // `moprune sweep <experiment> …` is `moprune reproduce <experiment> …`: its sweeps on the chosen executor.
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && argv[0] === first && !isSweepFile(first, io.cwd)) {
    return cmdReproduce(COMMANDS.find((c) => c.name === 'reproduce')!, argv, io);
  }
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  const arg = onePositional(spec, positionals, 'the sweep file argument <sweep.json|experiment>');
  const flags = executorFlags(spec, v, io);
  if (flags.redis !== undefined && flags.store === undefined) {
    throw usageError(spec, '--redis needs --store: the directory every worker mounts');
  }
  const file = resolve(io.cwd, arg);
  const doc = readJsonFile(file, 'sweep file');
  const withDefaults =
    typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? {
          id: basename(file).replace(/\.json$/i, ''),
          ...(doc as Record<string, unknown>),
          ...(Array.isArray((doc as { modules?: unknown }).modules)
            ? { modules: absoluteModules((doc as { modules: string[] }).modules, dirname(file)) }
            : {}),
        }
      : doc;
  const sweepModules = (withDefaults as { modules?: unknown }).modules;
  await loadComponentsAndModules(
    v,
    io,
    (Array.isArray(sweepModules) ? (sweepModules as string[]) : []).map((specifier) => ({
      specifier,
      from: io.cwd,
    })),
  );
  const { planSweep, runSweep } = await import('@moprune/sweep');
  const plan = planSweep(withDefaults);
  const store = flags.store ?? storeDir(undefined, io.cwd);
  const executor = await executorFromFlags(flags, io.cwd);
  const progress = createProgress({ stream: io.stderr, ...(v.quiet ? { enabled: false } : {}) });
  const display = sweepDisplay(progress, v.quiet ? 'quiet' : io.stderr.isTTY === true ? 'tty' : 'lines');
  try {
    const result = await runSweep(
      { ...plan, modules: [...flags.modules, ...plan.modules] },
      {
        store,
        executor,
        ...(io.signal === undefined ? {} : { signal: io.signal }),
        retryFailed: v['retry-failed'] === true,
        onEvent: (e) => display.onEvent(e),
      },
    );
    display.finish();
    const done = result.trials.filter((t) => t.status === 'done').length;
    const failed = result.trials.filter((t) => t.status === 'failed');
    io.stdout.write(
      `sweep ${result.sweep}: ${result.status}, ${done}/${result.trials.length} trials done${failed.length > 0 ? `, ${failed.length} failed` : ''}\nstate: ${result.stateFile}\n`,
    );
    for (const t of failed) io.stdout.write(`failed: ${t.id}: ${t.error?.code} ${t.error?.message}\n`);
    if (result.status === 'interrupted') {
      progress.log(
        `moprune: interrupted; run the same command again to continue (only the missing trials run)`,
      );
      return EXIT.INTERRUPTED;
    }
    return result.status === 'completed' ? EXIT.OK : EXIT.FAILURE;
  } finally {
    display.finish();
    progress.close();
  }
}

async function cmdWorker(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommand(spec, argv);
  if (v.help) {
    io.stdout.write(`${commandUsage(spec)}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw usageError(spec, `unexpected argument '${positionals[0]}'`);
  const flags = executorFlags(spec, v, io);
  if (flags.redis === undefined || flags.store === undefined) {
    throw usageError(
      spec,
      'a worker needs --redis URL and --store DIR (the directory every worker and the coordinator mount)',
    );
  }
  const slots = parseWorkers(v.slots as string | undefined, '--slots');
  const lockDurationMs = parseMs(v['lock-duration'] as string | undefined, '--lock-duration');
  const stalledIntervalMs = parseMs(v['stalled-interval'] as string | undefined, '--stalled-interval');
  const maxStalledCount = parseWorkers(v['max-stalled'] as string | undefined, '--max-stalled');
  const { startSweepWorker } = await import('@moprune/sweep');
  const worker = await startSweepWorker({
    redis: flags.redis,
    store: flags.store,
    host: trialHostCommand(flags, io.cwd),
    ...(flags.queue === undefined ? {} : { queue: flags.queue }),
    ...(slots === undefined ? {} : { slots }),
    ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
    ...(stalledIntervalMs === undefined ? {} : { stalledIntervalMs }),
    ...(maxStalledCount === undefined ? {} : { maxStalledCount }),
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
    onEvent: (e) => io.stderr.write(`${workerLine(e)}\n`),
  });
  // SIGINT (io.signal) and SIGTERM (service managers) both stop the worker gracefully.
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    io.signal?.addEventListener('abort', stop, { once: true });
  });
  io.stderr.write(
    `moprune: worker ${worker.name} stopping: running trials checkpoint and go back to the queue\n`,
  );
  await worker.close();
  // When Redis is gone, BullMQ's blocking connection keeps reconnecting after close(): a stopped
  // worker process must still end. The timer is unref'd, so it fires only if something lingers.
  setTimeout(() => process.exit(EXIT.OK), 3000).unref();
  return EXIT.OK;
}

async function cmdTrialHost(spec: CommandSpec, argv: readonly string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommand(spec, argv);
  const cwd = typeof v.cwd === 'string' ? v.cwd : io.cwd;
  await serveTrialHostProcess(executorFlags(spec, v, { ...io, cwd }), cwd);
  return EXIT.OK;
}

const HANDLERS: Record<string, (spec: CommandSpec, argv: readonly string[], io: CliIo) => Promise<number>> = {
  reproduce: cmdReproduce,
  train: cmdTrain,
  report: cmdReport,
  export: cmdExport,
  list: cmdList,
  sweep: cmdSweep,
  worker: cmdWorker,
  '__trial-host': cmdTrialHost,
};

function printError(e: unknown, io: CliIo): void {
  const err = e as { code?: unknown; message?: unknown; stack?: unknown; details?: { command?: unknown } };
  const code = typeof err.code === 'string' ? err.code : 'INTERNAL';
  io.stderr.write(`moprune: error ${code}: ${String(err.message ?? e)}\n`);
  if (isUsageError(e)) {
    const spec = COMMANDS.find((c) => c.name === err.details?.command);
    io.stderr.write(`\n${spec === undefined ? mainUsage() : commandUsage(spec)}\n`);
  } else if (code === 'INTERNAL' && io.env.MOPRUNE_DEBUG && typeof err.stack === 'string') {
    io.stderr.write(`${err.stack}\n`);
  }
}

/**
 * Runs `moprune` with `argv` (without the node and script paths) and
 * returns the exit status (see {@link EXIT}); never throws and never calls
 * `process.exit`, so tests can run it in-process.
 */
export async function main(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const full: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    cwd: io?.cwd ?? process.cwd(),
    env: io?.env ?? process.env,
    ...(io?.signal === undefined ? {} : { signal: io.signal }),
  };
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      full.stderr.write(`${mainUsage()}\n`);
      return EXIT.USAGE;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      const spec = COMMANDS.find((c) => c.name === rest[0]);
      full.stdout.write(`${spec === undefined ? mainUsage() : commandUsage(spec)}\n`);
      return EXIT.OK;
    }
    if (command === '--version' || command === '-v') {
      full.stdout.write(`${cliVersion()}\n`);
      return EXIT.OK;
    }
    const spec = [...COMMANDS, ...INTERNAL_COMMANDS].find((c) => c.name === command);
    if (spec === undefined) {
      throw new CliError(
        'USAGE',
        `unknown ${command.startsWith('-') ? 'option' : 'command'} '${command}'; commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
      );
    }
    return await HANDLERS[spec.name]!(spec, rest, full);
  } catch (e) {
    printError(e, full);
    return isUsageError(e) ? EXIT.USAGE : EXIT.FAILURE;
  }
}
