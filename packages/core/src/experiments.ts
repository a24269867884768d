/**
 * What a paper reproduction is, as `moprune reproduce` runs it. Plain types,
 * so an experiment package depends on core only; the CLI supplies the
 * progress line, the abort signal and the output directory.
 */

/** The two sizes every experiment offers. */
export type ExperimentMode = 'quick' | 'full';

/** One long loop (epochs, batches, sweep candidates) shown on a progress line. */
export interface ProgressTask {
  readonly label: string;
  /** Sets how many units are done (and optionally a new total). */
  update(done: number, total?: number): void;
  /** Adds `n` done units. @default n = 1 */
  tick(n?: number): void;
  /** Overrides the rate-based ETA with a caller's estimate (ms), e.g. the training loop's. */
  setEta(ms: number | undefined): void;
  /** Removes the task from the line. */
  done(): void;
}

/**
 * What experiments and commands report progress to. Tasks nest in creation
 * order: the line shows the outer tasks as `label done/total` and the
 * innermost as a bar with rate and ETA.
 */
export interface ProgressReporter {
  task(label: string, total: number, options?: { readonly unit?: string }): ProgressTask;
  /** Prints a line (above the progress line on a terminal). */
  log(line: string): void;
}

/** How a paper figure and its measured counterpart are printed. */
export type FigureFormat = 'count' | 'percent' | 'number';

/** One figure a paper reports, and the run fact it is compared with. */
export interface PaperFigure {
  /** What the figure is, e.g. "dense weights kept". */
  readonly label: string;
  /** The paper's value (fractions for percentages: 0.98 for 98%). */
  readonly paper: number;
  /** The key of the measured value among a run's facts (e.g. `denseKernels.nonzero`). */
  readonly fact: string;
  /** @default 'number' */
  readonly format?: FigureFormat;
  /** Where the paper's figure comes from or how it was read ("Fig. 4, marked point"). */
  readonly note?: string;
}

/** The figures of one paper that a reproduction compares against (plain JSON data). */
export interface PaperComparison {
  /** Citation, e.g. "Reiners, Klamroth, Stiglmayr (2020)". */
  readonly source: string;
  readonly figures: readonly PaperFigure[];
}

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
   * checkpoint (pass it to `runExperiment`) and return `'interrupted'`.
   */
  readonly signal: AbortSignal;
  /** Progress line for long loops. */
  readonly progress: ProgressReporter;
  /** Prints a message line to stderr (above the progress line). */
  log(line: string): void;
  /** `--data-dir`: user-supplied data (CIFAR …). */
  readonly dataDir?: string;
  /** `--cache-dir`: built data caches. */
  readonly cacheDir?: string;
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

/** What an experiment package writes to define a reproduction (see `defineExperiment`). */
export interface ExperimentSpec {
  /** The command-line name, e.g. `reiners2020` (lower case, digits, `-`). */
  readonly name: string;
  /** One line for `moprune list`. */
  readonly description: string;
  /** What each mode runs, one line each (shown when the run starts). */
  readonly modes: Readonly<Record<ExperimentMode, string>>;
  /** @default 0 */
  readonly defaultSeed?: number;
  /** The paper's figures; the report sets them side by side with the measured ones. */
  readonly paper?: PaperComparison;
  /** Runs the reproduction into `options.outDir`. */
  run(options: ExperimentRunOptions): Promise<ExperimentOutcome>;
}

/** A registered experiment (see `defineExperiment`). */
export interface ExperimentDefinition extends ExperimentSpec {
  readonly kind: 'experiment';
}
