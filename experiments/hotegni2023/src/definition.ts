import { relative } from 'node:path';
import { defineExperiment, type ExperimentOutcome, type ExperimentRunOptions } from '@moprune/core';
import { type AlForm, ANCHOR, type Benchmark, type Method, type Model, type Vector } from './configs.js';
import { type ReproduceOptions, type ReproduceSummary, reproduce } from './reproduce.js';
import { resultLabel, writeSummary } from './summary.js';

/**
 * The options of {@link reproduce} from the command line's experiment options:
 * `--vector k0,k1,k2` (several separated by `;` or `/`), `--al textbook|reference`.
 * A vector that does not parse is passed on as it is, for `reproduce` to refuse
 * with `INVALID_VECTOR`.
 */
export function optionsFromArgs(
  args: Readonly<Record<string, string | boolean | readonly string[]>>,
): Pick<ReproduceOptions, 'vectors' | 'form' | 'model' | 'benchmark' | 'method' | 'baselineEpochs'> {
  const raw = typeof args.vector === 'string' ? args.vector : undefined;
  const vectors =
    raw === undefined
      ? undefined
      : raw
          .split(/[;/]/)
          .map((v) => v.trim())
          .filter((v) => v !== '')
          .map(
            (v) => v.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x))) as unknown as Vector,
          );
  return {
    ...(vectors === undefined ? {} : { vectors }),
    ...(typeof args.al === 'string' ? { form: args.al as AlForm } : {}),
    ...(typeof args.model === 'string' ? { model: args.model as Model } : {}),
    ...(typeof args.method === 'string' ? { method: args.method as Method } : {}),
    ...(typeof args.epochs === 'string' ? { baselineEpochs: Number(args.epochs) } : {}),
    ...(typeof args.data === 'string'
      ? {
          benchmark: (args.data === 'cifar10mnist'
            ? 'cifar10Mnist'
            : args.data === 'multimnist'
              ? 'multiMnist'
              : args.data) as Benchmark,
        }
      : {}),
  };
}

const pct = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(2)}%`;

/** Headline lines (what `moprune reproduce` prints at the end). */
export function headline(summary: ReproduceSummary): string[] {
  const lines = summary.results.map(
    (r) =>
      `${resultLabel(r)}${r.vector === null ? '' : ` ${r.form}`}: test accuracy ${pct(r.testAccuracy[0])} / ${pct(r.testAccuracy[1])}, ${r.figures.zeroRows} of ${r.figures.rows} rows zero (${pct(r.figures.zeroRows / r.figures.rows)})`,
  );
  lines.push(
    `reference (k = (${ANCHOR.vector.join(', ')}), its code on this machine): ${pct(ANCHOR.testAccuracy[0])} / ${pct(ANCHOR.testAccuracy[1])}, ${ANCHOR.zeroRows} of ${ANCHOR.rows} rows zero`,
  );
  if (summary.results.length > 1) {
    lines.push(
      `front: ${summary.front.length} non-dominated of ${summary.results.length}; hypervolume ${summary.hypervolume.toFixed(4)}`,
    );
  }
  if (summary.interrupted) lines.push('interrupted: rerun the same command with --resume');
  return lines;
}

/**
 * The `moprune reproduce hotegni2023` experiment: per preference vector the
 * search and retraining phases of MDMTN on MultiMNIST, the kept network's
 * accuracies and rows; `summary.md`, `summary.json` and the front plots in
 * the output directory.
 */
export const experiment = defineExperiment({
  name: 'hotegni2023',
  description:
    'Hotegni, Peitz & Berkemeier (2023): sparse multi-task MDMTN on MultiMNIST by weighted Chebyshev + augmented Lagrangian, GrOWL prox and parameter tying; the front over preference vectors',
  modes: {
    quick:
      'five preference vectors at k0 = 1e-3 on 20,000 MultiMNIST images: a 2-epoch search, a 3-epoch retraining without tying — minutes on 2 cores',
    full: "the paper's protocol (3 × 3 search, 10 × 3 retraining epochs, 50k/10k/10k) for the main vector of every k0 and five vectors at k0 = 1e-3",
  },
  defaultSeed: 0,
  options: [
    {
      name: 'vector',
      type: 'string',
      arg: 'K',
      help: "Preference vector(s) k0,k1,k2 (≥ 0, summing to 1; several separated by ;) (default: the mode's set)",
    },
    {
      name: 'model',
      type: 'string',
      arg: 'NET',
      help: "mdmtn (the paper's; default) or hps (the hard-parameter-sharing baseline, trained the same way)",
    },
    {
      name: 'method',
      type: 'string',
      arg: 'M',
      help: "chebyshev-al (the paper's; default), or a baseline on the same data: mgda-ub (MGDA over the shared trunk) or single-task (one network per task)",
    },
    {
      name: 'epochs',
      type: 'string',
      arg: 'N',
      help: "Baselines only: epochs of each run (default 39 in full mode, the paper's method's budget; the reference trains 100)",
    },
    {
      name: 'data',
      type: 'string',
      arg: 'SET',
      help: 'multimnist (default) or cifar10mnist (needs CIFAR-10 in --data-dir <dir>/cifar-10-batches-bin)',
    },
    {
      name: 'al',
      type: 'string',
      arg: 'FORM',
      help: "Augmented Lagrangian: textbook (λ ≥ 0, inequality form; default) or reference (the authors' code)",
    },
  ],
  async run(o: ExperimentRunOptions): Promise<ExperimentOutcome> {
    const summary = await reproduce({
      ...optionsFromArgs(o.args),
      mode: o.mode,
      outDir: o.outDir,
      seed: o.seed,
      resume: o.resume,
      signal: o.signal,
      log: o.log,
      ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
      ...(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir }),
    });
    const files = await writeSummary(o.outDir, summary);
    const runs = summary.results.map((r) => relative(o.outDir, r.phases[r.phases.length - 1]!.runDir));
    return {
      status: summary.interrupted ? 'interrupted' : 'completed',
      ...(runs.length === 0 ? {} : { reportDir: runs[0]!, reportDirs: runs.slice(1) }),
      summary: [...headline(summary), `summary: ${files[0]}`],
    };
  },
});

export default experiment;
