import { relative } from 'node:path';
import { defineExperiment, type ExperimentOutcome, type ExperimentRunOptions } from '@moprune/core';
import type { Data, Net, Sites } from './configs.js';
import { type ReproduceOptions, type ReproduceSummary, reproduce, type Study } from './reproduce.js';
import { analyse, writeSummary } from './summary.js';

/** Numbers of a comma-separated list; an entry that is not a number becomes NaN (refused by `reproduce`). */
const numbers = (v: string) => v.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x)));

/**
 * The options of {@link reproduce} from the command line's experiment options:
 * `--study`, `--net`, `--data`, `--gamma 0.3,1,3`, `--alpha`, `--beta`,
 * `--sites`, `--seeds 0,1,2`, `--no-dense`. Values are passed on as they are,
 * for `reproduce` to refuse with `INVALID_OPTIONS`.
 */
export function optionsFromArgs(
  args: Readonly<Record<string, string | boolean | readonly string[]>>,
): Omit<ReproduceOptions, 'outDir'> {
  const str = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  return {
    ...(str('study') === undefined ? {} : { study: str('study') as Study }),
    ...(str('net') === undefined ? {} : { net: str('net') as Net }),
    ...(str('data') === undefined ? {} : { data: str('data') as Data }),
    ...(str('gamma') === undefined ? {} : { gammas: numbers(str('gamma')!) }),
    ...(str('alpha') === undefined ? {} : { alpha: Number(str('alpha')) }),
    ...(str('beta') === undefined ? {} : { beta: Number(str('beta')) }),
    ...(str('sites') === undefined ? {} : { sites: str('sites') as Exclude<Sites, 'none'> }),
    ...(str('seeds') === undefined ? {} : { seeds: numbers(str('seeds')!) }),
    ...(args['no-dense'] === true ? { dense: false } : {}),
  };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '—');

/** Headline lines (what `moprune reproduce` prints at the end). */
export function headline(summary: ReproduceSummary): string[] {
  const a = analyse(summary);
  const lines = a.settings.map(
    (x) =>
      `${x.sites === 'none' ? 'dense' : `${x.sites} γ=${x.params.gamma} α=${x.params.alpha} β=${x.params.beta}`}: test accuracy ${pct(
        x.testAccuracy.mean,
      )}, ${(100 * x.flopsRemoved.mean).toFixed(1)}% of FLOPs removed${x.blocksRemoved === null ? '' : `, ${x.blocksRemoved.toFixed(1)} blocks removed`} (${x.seeds.length} seed${x.seeds.length > 1 ? 's' : ''})`,
  );
  for (const f of a.fronts)
    lines.push(`${f.sites} front: hypervolume ${f.hypervolume.test.toFixed(4)} (test error vs FLOPs kept)`);
  if (summary.interrupted) lines.push('interrupted: rerun the same command with --resume');
  return lines;
}

/**
 * The `moprune reproduce guenter2024` experiment: a study (γ front, gate kinds,
 * α, β) of Bernoulli-gated training from scratch, each run's kept network
 * measured; `summary.md`, `summary.json` and the plots in the output directory.
 */
export const experiment = defineExperiment({
  name: 'guenter2024',
  description:
    'Guenter & Sideris (2024): combined unit/filter and layer pruning of ResNets during training with variational Bernoulli gates and an expected-complexity cost — fronts over γ, gate kinds, α and β',
  modes: {
    quick:
      'ResNet-20 on 4,800 padded Fashion-MNIST images, 3 epochs per run: the dense baseline and three γ — a visible front in minutes on 2 cores (not a result)',
    full: 'ResNet-20 on padded Fashion-MNIST (55k/5k/10k; --net lenet300: LeNet-300-100 with input and unit gates on MNIST, 100 epochs), 30 epochs per run: the study over its grid; --seeds 0,1,2 for the headline',
  },
  defaultSeed: 0,
  options: [
    {
      name: 'study',
      type: 'string',
      arg: 'S',
      help: 'gamma (default: the γ front), sites (unit-only vs layer-only vs combined), alpha, beta',
    },
    {
      name: 'net',
      type: 'string',
      arg: 'NET',
      help: 'resnet20 (default), resnet56, lenet300 (input-feature and unit gates, no blocks)',
    },
    {
      name: 'data',
      type: 'string',
      arg: 'SET',
      help: 'fashion-mnist (default; padded to 32×32 for the ResNets), mnist, cifar10 (needs --data-dir <dir>/cifar-10-batches-bin)',
    },
    {
      name: 'gamma',
      type: 'string',
      arg: 'LIST',
      help: "γ values, comma-separated (default: the mode's grid)",
    },
    {
      name: 'alpha',
      type: 'string',
      arg: 'A',
      help: 'FLOPs vs parameters in the cost, in [0, 1] (default 1: FLOPs)',
    },
    { name: 'beta', type: 'string', arg: 'B', help: 'layers vs units in the cost, in [0, 1] (default 0.5)' },
    { name: 'sites', type: 'string', arg: 'KIND', help: 'gamma study only: all (default), units, layers' },
    { name: 'seeds', type: 'string', arg: 'LIST', help: 'seeds, comma-separated (default: --seed)' },
    { name: 'no-dense', type: 'boolean', help: 'Skip the dense baseline' },
  ],
  async run(o: ExperimentRunOptions): Promise<ExperimentOutcome> {
    const fromArgs = optionsFromArgs(o.args);
    const summary = await reproduce({
      ...fromArgs,
      seeds: fromArgs.seeds ?? [o.seed],
      mode: o.mode,
      outDir: o.outDir,
      resume: o.resume,
      signal: o.signal,
      log: o.log,
      ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
      ...(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir }),
    });
    const files = await writeSummary(o.outDir, summary);
    const runs = summary.results.map((r) => relative(o.outDir, r.dir));
    return {
      status: summary.interrupted ? 'interrupted' : 'completed',
      ...(runs.length === 0 ? {} : { reportDir: runs[0]!, reportDirs: runs.slice(1) }),
      summary: [...headline(summary), `summary: ${files[0]}`],
    };
  },
});

export default experiment;
