import { join, relative } from 'node:path';
import {
  defineExperiment,
  type ExperimentOutcome,
  type ExperimentRunOptions,
  writeJsonAtomic,
} from '@moprune/core/node';
import { sweepHookOf } from '@moprune/sweep';
import {
  KNEE_RULE,
  type KneeStrategy,
  type Part,
  type ReproduceOptions,
  type ReproduceSummary,
  type RunFigures,
  reproduce,
} from './reproduce.js';

/**
 * The paper's figures the report sets beside the SMGD + ITP run: the
 * reference's marked LeNet-5 solution (Fig. 4 of arXiv 2008.13590 / the
 * repository's front plot) keeps 2,107/48,000, 300/10,080 and 170/840 dense
 * weights at test accuracy ≈ 0.989; the abstract claims up to 98% of the dense
 * edges removed.
 */
export const PAPER = {
  source: 'Reiners, Klamroth, Stiglmayr (2020), arXiv 2008.13590',
  figures: [
    {
      label: 'test accuracy',
      paper: 0.989,
      fact: 'test.accuracy',
      format: 'percent',
      note: 'marked solution',
    },
    {
      label: 'dense-layer weights removed',
      paper: 0.98,
      fact: 'denseKernels.removedFraction',
      format: 'percent',
      note: 'abstract: "up to 98%"',
    },
    {
      label: 'fc1 kernel non-zero',
      paper: 2107,
      fact: 'kernel.fc1.nonzero',
      format: 'count',
      note: 'of 48,000',
    },
    {
      label: 'fc2 kernel non-zero',
      paper: 300,
      fact: 'kernel.fc2.nonzero',
      format: 'count',
      note: 'of 10,080',
    },
    { label: 'fc3 kernel non-zero', paper: 170, fact: 'kernel.fc3.nonzero', format: 'count', note: 'of 840' },
  ],
} as const;

/** The acceptance bar of issue #7: SMGD + ITP, 30 epochs, no pre-training. */
export const ACCEPTANCE = { denseKernelsRemoved: 0.95, testAccuracy: 0.985 } as const;

/** True when a run meets {@link ACCEPTANCE}. */
export function meetsAcceptance(f: RunFigures): boolean {
  return (
    f.status === 'completed' &&
    f.denseKernels.removed >= ACCEPTANCE.denseKernelsRemoved &&
    (f.testAccuracy ?? 0) >= ACCEPTANCE.testAccuracy
  );
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);

const OPTION_LIST = (v: string | boolean | readonly string[] | undefined): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
    : undefined;

/**
 * The experiment's command-line options as {@link ReproduceOptions} fields (unchecked:
 * `reproduce` validates them, every problem listed, before any training).
 */
export function optionsFromArgs(
  args: Readonly<Record<string, string | boolean | readonly string[]>>,
): Omit<ReproduceOptions, 'outDir' | 'mode' | 'seed'> {
  const strategies = OPTION_LIST(args.strategy);
  const seeds = OPTION_LIST(args['retrain-seeds']);
  return {
    ...(typeof args.part === 'string' ? { part: args.part as Part } : {}),
    ...(strategies === undefined ? {} : { strategy: strategies as KneeStrategy[] }),
    ...(seeds === undefined
      ? {}
      : { retrainSeeds: seeds.map((x) => (/^\d+$/.test(x) ? Number(x) : Number.NaN)) }),
    ...(args.mask === true ? { regrow: false } : {}),
    ...(typeof args.lr === 'string' ? { smgdLr: Number(args.lr) } : {}),
    ...(typeof args['decay-per'] === 'string' ? { smgdDecay: args['decay-per'] as 'step' | 'epoch' } : {}),
    ...(typeof args.normalize === 'string'
      ? { smgdNormalize: args.normalize as NonNullable<ReproduceOptions['smgdNormalize']> }
      : {}),
  };
}

/** Thousands with a thin separator: 58920 → "58,920". */
const count = (x: number) => Math.round(x).toLocaleString('en-US');

/** A compact count: 431080 → "431k", 2.3e6 → "2.3M". */
const short = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e4 ? `${Math.round(x / 1e3)}k` : count(x);

/** Plain-text table: the first column left-aligned, the others right-aligned. */
function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: readonly string[]) =>
    r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}

/**
 * The terminal summary of a reproduction: per run (and each knee's retrain),
 * test accuracy, dense weights removed, kept dense weights per layer,
 * parameters and MACs of the compacted network and wall time, with the
 * paper's marked LeNet-5 solution as the last row.
 */
export function summaryTable(summary: ReproduceSummary): string[] {
  const row = (name: string, f: RunFigures): string[] => {
    const layers = Object.values(f.denseLayers);
    return [
      name,
      String(f.epochsCompleted),
      pct(f.testAccuracy),
      pct(f.denseKernels.removed),
      layers.length === 0 ? '—' : layers.map((l) => count(l.nonzero)).join(' / '),
      f.compacted === null ? '—' : short(f.compacted.params),
      f.compacted === null ? '—' : short(f.compacted.macs),
      `${(f.wallTimeMs / 1000).toFixed(0)} s`,
    ];
  };
  const rows: string[][] = Object.values(summary.runs).map((f) => row(f.run, f));
  for (const [strategy, sweep] of Object.entries(summary.knee)) {
    for (const [i, r] of sweep.retrains.entries()) {
      const lambda2 = sweep.candidates[sweep.knee]!.lambda[1];
      rows.push(
        row(
          `knee ${strategy} λ2=${lambda2} retrained${sweep.retrains.length > 1 ? ` (seed ${i === 0 ? summary.seed : r.run.replace(/^.*seed-/, '')})` : ''}`,
          r,
        ),
      );
    }
  }
  if (rows.length === 0) return [];
  const paper = PAPER.figures;
  rows.push([
    'paper: marked LeNet-5 solution',
    '—',
    pct(paper[0].paper),
    `${pct(1 - (paper[2].paper + paper[3].paper + paper[4].paper) / 58_920)}`,
    `${count(paper[2].paper)} / ${count(paper[3].paper)} / ${count(paper[4].paper)}`,
    '—',
    '—',
    '—',
  ]);
  return textTable(
    ['run', 'epochs', 'test acc.', 'dense removed', 'kept fc1 / fc2 / fc3', 'params*', 'MACs*', 'wall'],
    rows,
  ).concat(['* of the compacted network (dead units and channels removed)']);
}

/** Headline lines of a reproduction (what `moprune reproduce` prints at the end): {@link summaryTable}, then one line per run and knee search. */
export function headline(summary: ReproduceSummary): string[] {
  const table = summaryTable(summary);
  const lines: string[] = table.length === 0 ? [] : [...table, ''];
  for (const f of Object.values(summary.runs)) {
    lines.push(
      `${f.run}: ${f.status}, ${f.epochsCompleted} epochs, test accuracy ${pct(f.testAccuracy)}, dense weights removed ${pct(f.denseKernels.removed)} (${f.denseKernels.nonzero}/${f.denseKernels.total} kept)`,
    );
  }
  for (const [strategy, sweep] of Object.entries(summary.knee)) {
    const knee = sweep.candidates[sweep.knee]!;
    const old = sweep.candidates[sweep.allCandidatesKnee];
    lines.push(
      `knee (${strategy}, selected on validation): ${sweep.candidates.length} candidates (${sweep.collapsed.length} collapsed, left out), ${sweep.front.length} non-dominated, knee λ2 = ${knee.lambda[1]}` +
        (old !== undefined && old !== knee
          ? ` (over every candidate the rule would pick λ2 = ${old.lambda[1]})`
          : '') +
        (sweep.retrain
          ? `; retrained: test accuracy ${pct(sweep.retrain.testAccuracy)}, dense removed ${pct(sweep.retrain.denseKernels.removed)}`
          : ''),
    );
    if (sweep.retrains.length > 1) {
      const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const acc = sweep.retrains.map((r) => r.testAccuracy ?? Number.NaN);
      const removed = sweep.retrains.map((r) => r.denseKernels.removed);
      lines.push(
        `knee (${strategy}) retrained on ${sweep.retrains.length} seeds: test accuracy ${acc.map((a) => pct(a)).join(' / ')} (mean ${pct(mean(acc))}), dense removed ${removed.map((r) => pct(r)).join(' / ')} (mean ${pct(mean(removed))})`,
      );
    }
  }
  const smgd = summary.runs.smgd;
  if (smgd && summary.mode === 'full') {
    lines.push(
      `acceptance (≥ ${pct(ACCEPTANCE.denseKernelsRemoved)} dense weights removed at ≥ ${pct(ACCEPTANCE.testAccuracy)} test accuracy): ${meetsAcceptance(smgd) ? 'met' : 'not met'}`,
    );
  }
  for (const [part, reason] of Object.entries(summary.skipped))
    lines.push(`${part} skipped: ${reason.split('\n')[0]}`);
  return lines;
}

/** Writes report.json (title, notes, knee) into the SMGD run and each knee sweep for `moprune report`. */
function writeManifests(outDir: string, summary: ReproduceSummary): void {
  if (summary.runs.smgd) {
    writeJsonAtomic(join(outDir, 'smgd', 'report.json'), {
      title: 'Reiners et al. (2020): SMGD + ITP, LeNet-5 (Reiners variant) on MNIST',
      notes: [
        `Mode ${summary.mode}, seed ${summary.seed}, ITP regrow ${summary.regrow}. Trained on ${
          summary.scale.limit === undefined ? 'all 60,000' : `the first ${summary.scale.limit} of the 60,000`
        } MNIST training images; the test split is evaluated every epoch for monitoring only (the "validation" figures of this run are test-split figures; nothing is selected on them).`,
      ],
    });
  }
  for (const [strategy, sweep] of Object.entries(summary.knee)) {
    writeJsonAtomic(join(sweep.dir, 'report.json'), {
      title: `Reiners et al. (2020): weighted-sum knee search (${strategy}), LeNet-5 on MNIST`,
      knee: `candidate-${String(sweep.knee).padStart(2, '0')}`,
      kneeRule: KNEE_RULE,
      axisTitles: { f1: 'cross-entropy, validation (f1)', f2: 'Σ|w| of dense kernels (f2)' },
      ...(sweep.retrain ? { final: 'retrain' } : {}),
      notes: [
        `Candidates train ${sweep.candidateEpochs} epochs on MNIST minus a validation split and are placed on the front by their validation figures (the reference used the test set).`,
      ],
    });
  }
}

/**
 * Where the CLI writes report.md: the SMGD run, else the first run that ran,
 * else the first knee sweep (relative to `outDir`).
 */
function reportDirOf(outDir: string, summary: ReproduceSummary): string {
  const run = summary.runs.smgd ?? Object.values(summary.runs)[0];
  if (run) return relative(outDir, run.runDir) || '.';
  const sweep = Object.values(summary.knee)[0];
  return sweep === undefined ? '.' : relative(outDir, sweep.dir) || '.';
}

/** Every other run and knee sweep of the summary, each of which gets its own report (relative to `outDir`). */
function otherReportDirs(outDir: string, summary: ReproduceSummary, main: string): string[] {
  const dirs = [
    ...Object.values(summary.runs).map((run) => relative(outDir, run.runDir) || '.'),
    ...Object.values(summary.knee).map((sweep) => relative(outDir, sweep.dir) || '.'),
  ];
  return dirs.filter((d) => d !== main);
}

/**
 * The `moprune reproduce reiners2020` experiment: every part of
 * {@link reproduce} with the grid knee search; the main report is the SMGD +
 * ITP run's (the issue's acceptance run) with the paper's figures beside it,
 * and every other run and the knee sweep (Pareto front, knee marked) get their own.
 * Defined (and so registered) when this module loads; the CLI finds it through
 * `moprune.modules` in this package's and the workspace's package.json.
 */
export const experiment = defineExperiment({
  name: 'reiners2020',
  description:
    'Reiners, Klamroth & Stiglmayr (2020): SMGD/MAdam + intra-training pruning of LeNet-5 on MNIST, weighted-sum knee search, Adam/SGD + l1 baselines, VGG-like on CIFAR-10',
  modes: {
    quick:
      'all 60,000 MNIST images; SMGD, MAdam, baselines 2 epochs; 6 one-epoch knee candidates (λ2 1e-4…1e-3), knee retrained 6 epochs: ≤ 5 minutes on 2 cores',
    full: "the paper's settings: LeNet-5 30 epochs at batch 32, 10-epoch knee candidates, VGG 125 epochs (needs CIFAR-10)",
  },
  defaultSeed: 1,
  paper: PAPER,
  options: [
    {
      name: 'part',
      type: 'string',
      arg: 'PART',
      help: 'smgd, madam, knee, baselines, vgg or all (default all)',
    },
    {
      name: 'strategy',
      type: 'string',
      arg: 'LIST',
      help: 'Knee searches: grid,bisection,dichotomic (default grid)',
    },
    {
      name: 'retrain-seeds',
      type: 'string',
      arg: 'LIST',
      help: 'Seeds the knee is retrained with besides --seed, e.g. 2,3 (default none)',
    },
    { name: 'mask', type: 'boolean', help: 'ITP without regrowth (a pruned weight stays pruned)' },
    {
      name: 'lr',
      type: 'string',
      arg: 'R',
      help: "SMGD's starting rate (default 0.01; decay stays R/epochs)",
    },
    {
      name: 'decay-per',
      type: 'string',
      arg: 'step|epoch',
      help: "What k counts in SMGD's lr/(1 + decay·k) (default step)",
    },
    {
      name: 'normalize',
      type: 'string',
      arg: 'MODE',
      help: "Beyond the paper: SMGD on scaled gradients, l2, loss or loss+ (MGDA-UB's normalizations; default none)",
    },
  ],
  async run(options: ExperimentRunOptions): Promise<ExperimentOutcome> {
    const summary = await reproduce({
      ...optionsFromArgs(options.args ?? {}),
      mode: options.mode,
      outDir: options.outDir,
      seed: options.seed,
      resume: options.resume,
      signal: options.signal,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(sweepHookOf(options) === undefined ? {} : { sweep: sweepHookOf(options)! }),
      onProgress: (e) => {
        if (e.type === 'run-start') options.log(`${e.run}: ${e.epochs} epochs`);
        else if (e.type === 'epoch')
          options.log(
            `${e.run}: epoch ${e.epoch}/${e.epochs}, ${e.split ?? ''} accuracy ${pct(e.accuracy)}, dense weights removed ${pct(e.denseKernelsRemoved)}`,
          );
        else if (e.type === 'skipped') options.log(`${e.run} skipped: ${e.reason}`);
      },
    });
    writeManifests(options.outDir, summary);
    const reportDir = reportDirOf(options.outDir, summary);
    return {
      status: summary.interrupted ? 'interrupted' : 'completed',
      reportDir,
      reportDirs: otherReportDirs(options.outDir, summary, reportDir),
      summary: headline(summary),
    };
  },
});

export default experiment;
