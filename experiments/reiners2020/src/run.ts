/**
 * `pnpm --filter @moprune/experiment-reiners2020 reproduce [--quick|--full] [--part smgd|madam|knee|baselines|vgg|all]
 *   [--strategy grid,bisection,dichotomic] [--seed N] [--out DIR] [--resume] [--mask] [--data-dir DIR] [--lr SMGD_RATE]`
 *
 * Picks the fastest backend (`initBackend`), runs {@link reproduce}, prints one
 * line per epoch and a table of the figures. Ctrl-C stops at the next batch
 * after a checkpoint; `--resume` continues.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '@moprune/backend';
import { type KneeStrategy, type Part, type ProgressEvent, type RunFigures, reproduce } from './reproduce.js';

// `pnpm <script> -- --flag` hands the `--` on to the script (pnpm ≥ 9): drop it, or every flag after it
// would be a positional argument.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === '--' ? argv.slice(1) : argv,
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    part: { type: 'string', default: 'all' },
    strategy: { type: 'string', default: 'grid' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    resume: { type: 'boolean', default: false },
    mask: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    lr: { type: 'string' },
    'decay-per': { type: 'string' },
    'retrain-seeds': { type: 'string' },
  },
});
if (values.quick && values.full) throw new Error('choose one of --quick and --full');
const mode = values.full ? 'full' : 'quick';
const outDir = values.out ?? `results/${mode}`;
const strategies = values.strategy.split(',').map((s) => s.trim()) as KneeStrategy[];

const backend = await initBackend();
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
const log = (e: ProgressEvent) => {
  const t = new Date().toISOString().slice(11, 19);
  if (e.type === 'run-start') console.error(`${t} ${e.run}: ${e.epochs} epochs → ${e.runDir}`);
  else if (e.type === 'epoch')
    console.error(
      `${t} ${e.run}: epoch ${e.epoch}/${e.epochs} train ${JSON.stringify(e.train)} ${e.split ?? ''} acc ${pct(e.accuracy)} dense removed ${pct(e.denseKernelsRemoved)}`,
    );
  else if (e.type === 'run-end')
    console.error(
      `${t} ${e.run}: ${e.reused ? 'reused' : e.figures.status} test ${pct(e.figures.testAccuracy)}`,
    );
  else if (e.type === 'skipped') console.error(`${t} ${e.run}: skipped — ${e.reason}`);
  else
    console.error(
      `${t} knee (${e.strategy}): ${e.sweep.candidates.length} candidates, ${e.sweep.front.length} non-dominated, knee λ = [${e.sweep.candidates[e.sweep.knee]!.lambda.join(', ')}]`,
    );
};

const summary = await reproduce({
  mode,
  part: values.part as Part,
  strategy: strategies,
  seed: Number(values.seed),
  outDir,
  resume: values.resume,
  regrow: !values.mask,
  signal: controller.signal,
  onProgress: log,
  ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
  ...(values.lr === undefined ? {} : { smgdLr: Number(values.lr) }),
  ...(values['decay-per'] === undefined ? {} : { smgdDecay: values['decay-per'] as 'step' | 'epoch' }),
  ...(values['retrain-seeds'] === undefined
    ? {}
    : { retrainSeeds: values['retrain-seeds'].split(',').map((x) => Number(x.trim())) }),
});

const row = (f: RunFigures) =>
  `| ${f.run} | ${f.status} | ${f.epochsCompleted} | ${pct(f.testAccuracy)} | ${pct(f.denseKernels.removed)} | ${f.denseKernels.nonzero}/${f.denseKernels.total} | ${(f.wallTimeMs / 1000).toFixed(0)} s |`;
console.log(
  `\nbackend: ${backend.backend}; mode ${mode}; seed ${summary.seed}; ITP regrow ${summary.regrow}`,
);
console.log(
  '| run | status | epochs | test accuracy | dense weights removed | dense non-zero | train time |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const f of Object.values(summary.runs)) console.log(row(f));
for (const [strategy, sweep] of Object.entries(summary.knee)) {
  console.log(
    `\nknee search (${strategy}), ${sweep.candidateEpochs}-epoch candidates, selected on validation:`,
  );
  console.log('| # | λ2 | f1 (val) | f2 (val) | val accuracy | dense removed | front | knee |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |');
  for (const c of sweep.candidates) {
    console.log(
      `| ${c.index} | ${c.lambda[1]!.toPrecision(3)} | ${c.f[0]!.toFixed(4)} | ${c.f[1]!.toFixed(1)} | ${pct(c.figures.validationAccuracy)} | ${pct(c.figures.denseKernels.removed)} | ${sweep.front.includes(c.index) ? '●' : ''} | ${sweep.knee === c.index ? '◆' : ''} |`,
    );
  }
  console.log(`rule: ${sweep.kneeRule}; hypervolume ${sweep.hypervolume.value.toPrecision(4)}`);
  if (sweep.retrain) console.log(row(sweep.retrain));
}
for (const [part, reason] of Object.entries(summary.skipped)) console.log(`\nskipped ${part}: ${reason}`);
console.log(
  `\nwall time ${(summary.wallTimeMs / 1000).toFixed(0)} s${summary.interrupted ? ' (interrupted)' : ''}`,
);
