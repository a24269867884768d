import { relative } from 'node:path';
import { defineExperiment, type ExperimentOutcome, type ExperimentRunOptions } from '@moprune/core';
import { sweepHookOf } from '@moprune/sweep';
import { type Factor, type ImageDataset, type Method, type Net, type Ranking, TARGETS } from './configs.js';
import { headlineOf, type ReproduceOptions, type ReproduceSummary, reproduce } from './reproduce.js';
import { writeSummary } from './summary.js';

const list = (v: unknown): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : undefined;
const number = (v: unknown): number | undefined => (typeof v === 'string' ? Number(v) : undefined);

/**
 * The options of {@link reproduce} from the command line's experiment
 * options. `--net` may name `transformer` beside the image networks; naming
 * only image networks (or only the Transformer) runs only that part.
 */
export function optionsFromArgs(
  args: Readonly<Record<string, string | boolean | readonly string[]>>,
): Omit<ReproduceOptions, 'outDir' | 'mode' | 'seed'> {
  const nets = list(args.net);
  const images = nets?.filter((n) => n !== 'transformer');
  const methods = list(args.method);
  const datasets = list(args.dataset);
  const values = {
    alpha: number(args.alpha),
    gamma: number(args.gamma),
    fraction: number(args.fraction),
    floor: number(args.floor),
    maxSparsity: number(args['max-sparsity']),
    averaging: number(args.averaging),
    dropout: number(args.dropout),
    pretrainEpochs: number(args['pretrain-epochs']),
    lr: number(args.lr),
    epochs: number(args.epochs),
    retrainEpochs: number(args['retrain-epochs']),
    retrainDropout: number(args['retrain-dropout']),
    retrainDistill: number(args['retrain-distill']),
    retrainDistillWeight: number(args['retrain-distill-weight']),
  };
  return {
    ...(methods === undefined ? {} : { methods: methods as Method[] }),
    ...(datasets === undefined ? {} : { datasets: datasets as ImageDataset[] }),
    ...(nets === undefined
      ? {}
      : {
          transformer: nets.includes('transformer'),
          ...(images!.length === 0 ? { images: false } : { nets: images as Net[] }),
        }),
    ...(args.pretrain === true ? { pretrain: true } : {}),
    ...(typeof args.pretrained === 'string' ? { pretrainedDir: args.pretrained } : {}),
    ...(typeof args.factor === 'string' ? { factor: args.factor as Factor } : {}),
    ...(typeof args.ranking === 'string' ? { ranking: args.ranking as Ranking } : {}),
    ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
  };
}

const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(digits)}%`;

/** Headline lines (what `moprune reproduce` prints at the end). */
export function headline(summary: ReproduceSummary): string[] {
  const lines: string[] = [];
  for (const c of summary.cases) {
    const target = TARGETS[c.net][c.dataset];
    for (const f of Object.values(c.runs)) {
      lines.push(`${c.net}/${c.dataset} ${f.method}: ${headlineOf(f)}`);
      if (f.target !== null) {
        lines.push(
          `  sparsest check with validation error ≤ ${pct(target.error, 1)}: ${pct(f.target.remaining, 3)} remaining, test error ${pct(
            f.target.testAccuracy === null ? null : 1 - f.target.testAccuracy,
          )}`,
        );
      }
    }
    if (c.secondPass)
      lines.push(`${c.net}/${c.dataset}: selective decay ×${c.secondPass.ratio.toFixed(2)} per step`);
  }
  const t = summary.transformer;
  if (t) {
    lines.push(
      `transformer: dense test accuracy ${pct(t.dense.testAccuracy)}; ${headlineOf(t.run)}${
        t.run.kept === null ? '' : ` (${pct(1 - t.run.kept.remaining, 1)} of the parameters removed)`
      }`,
    );
  }
  if (summary.interrupted) lines.push('interrupted: rerun the same command with --resume');
  return lines;
}

/**
 * The `moprune reproduce bonetta2023` experiment: the image part (dense
 * starting checkpoints, four pruning methods on one harness, compaction,
 * export, timing) and the Transformer block; `summary.md` and the fronts in
 * the output directory, the main report on the first pruning run.
 */
export const experiment = defineExperiment({
  name: 'bonetta2023',
  description:
    'Bonetta & Cancelliere (2023): relevance-gated weight decay + iterative pruning vs magnitude, LOBSTER, Tartaglione on LeNet-300-100/LeNet-5 (MNIST, Fashion-MNIST) and a Transformer block',
  modes: {
    quick:
      'LeNet-300-100 on 5,500 MNIST images (3 pretraining, 6 pruning epochs, four methods) and a small Transformer: minutes on 2 cores',
    full: "the paper's protocol: LeNet-300-100 and LeNet-5 on MNIST (120 epochs) and Fashion-MNIST (75), four methods; the Transformer block (needs --pretrain once)",
  },
  defaultSeed: 1,
  options: [
    {
      name: 'method',
      type: 'string',
      arg: 'LIST',
      help: 'Methods: relevance,lobster,tartaglione,magnitude (default: all)',
    },
    {
      name: 'net',
      type: 'string',
      arg: 'LIST',
      help: 'Networks: lenet300,lenet5,transformer (default: full all, quick lenet300,transformer)',
    },
    {
      name: 'dataset',
      type: 'string',
      arg: 'LIST',
      help: 'Image datasets: mnist,fashion (default: full both, quick mnist)',
    },
    {
      name: 'pretrain',
      type: 'boolean',
      help: 'Train the missing dense starting checkpoints first (full mode needs it once)',
    },
    {
      name: 'pretrained',
      type: 'string',
      arg: 'DIR',
      help: 'Directory of the dense checkpoints (default: <out>/../pretrained-<mode>)',
    },
    { name: 'alpha', type: 'string', arg: 'A', help: 'α of s(w) = exp(−|∂L/∂w|/α), > 0 (default 1)' },
    { name: 'gamma', type: 'string', arg: 'G', help: 'Initial γ of the selective decay, ≥ 0 (default 1e-3)' },
    {
      name: 'fraction',
      type: 'string',
      arg: 'F',
      help: 'Fraction of the remaining weights cut per check, in (0, 1) (default 0.04)',
    },
    {
      name: 'floor',
      type: 'string',
      arg: 'P',
      help: 'Validation accuracy floor in [0, 1) (default 0.98 MNIST, 0.905 Fashion-MNIST)',
    },
    {
      name: 'max-sparsity',
      type: 'string',
      arg: 'S',
      help: 'Stop cutting at this sparsity in (0, 1), then train on at it (default 0.999; not in the paper)',
    },
    {
      name: 'averaging',
      type: 'string',
      arg: 'B',
      help: 'Evaluate a moving average of the weights with decay B in (0, 1) while pruning: checks, kept network, figures (default off; not in the paper)',
    },
    {
      name: 'factor',
      type: 'string',
      arg: 'F',
      help: "exponential (the paper's) or reference (the companion code's 1/(1 − α|g|))",
    },
    {
      name: 'dropout',
      type: 'string',
      arg: 'R',
      help: "Dropout after each hidden dense layer of the named image networks (--net lenet300 and/or lenet5: LeNet-300-100's two, LeNet-5's fc1), dense start and pruning (default none; not in the paper)",
    },
    {
      name: 'pretrain-epochs',
      type: 'string',
      arg: 'N',
      help: 'Epochs of the dense starts (default 20 in full mode); other values get their own checkpoint directory',
    },
    {
      name: 'lr',
      type: 'string',
      arg: 'η',
      help: "Adam's rate during pruning, > 0 (default the paper's 1e-3)",
    },
    {
      name: 'epochs',
      type: 'string',
      arg: 'N',
      help: "Epochs of the pruning runs, every method (default the paper's: 120 MNIST, 75 Fashion-MNIST in full mode)",
    },
    {
      name: 'retrain-epochs',
      type: 'string',
      arg: 'N',
      help: 'Retrain each kept network N epochs (cross-entropy, masks held, Adam annealed to 0 by a cosine); it replaces the kept one when it validates better above the floor (default off; not in the paper)',
    },
    {
      name: 'ranking',
      type: 'string',
      arg: 'R',
      help: "How relevance and magnitude pruning rank weights at a cut: magnitude (|w|, the paper's) or fanIn (|w|·√fan-in; not in the paper)",
    },
    {
      name: 'retrain-dropout',
      type: 'string',
      arg: 'R',
      help: "Dropout of the retraining runs, after the same layers as --dropout; 0 for none (default: the pruning runs')",
    },
    {
      name: 'retrain-distill',
      type: 'string',
      arg: 'T',
      help: 'Distil the dense start into the retrained networks at temperature T: (1 − w)·cross-entropy + w·T²·KL to its softened outputs (default off; not in the paper)',
    },
    {
      name: 'retrain-distill-weight',
      type: 'string',
      arg: 'W',
      help: 'The distillation term weight w in (0, 1] (default 0.9)',
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
      ...(sweepHookOf(o) === undefined ? {} : { sweep: sweepHookOf(o)! }),
    });
    const files = await writeSummary(o.outDir, summary);
    const runs = [
      ...summary.cases.flatMap((c) => Object.values(c.runs)),
      ...(summary.transformer ? [summary.transformer.run] : []),
    ].map((f) => relative(o.outDir, f.runDir));
    return {
      status: summary.interrupted ? 'interrupted' : 'completed',
      ...(runs.length === 0 ? {} : { reportDir: runs[0]!, reportDirs: runs.slice(1) }),
      summary: [...headline(summary), `summary: ${files[files.length - 1]}`],
    };
  },
});

export default experiment;
