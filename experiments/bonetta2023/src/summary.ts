/**
 * `summary.md` and the fronts (SVG) of a reproduction: per network and
 * dataset, every method's kept checkpoint, acceptance-target checkpoint and best-validation checkpoint at the acceptance's sparsity
 * beside the published anchors, the deployed size and speed, and the cost of
 * the second backward pass; the Transformer block's accuracy against sparsity.
 */
import { join } from 'node:path';
import { formatPercent, frontsPlotSpec, markdownTable, renderSvg, writeTextAtomic } from '@moprune/report';
import { ANCHORS, type ImageDataset, type Net, PAPER_DENSE, PROTOCOL, TARGETS } from './configs.js';
import { type PruneFigures, type ReproduceSummary, SCALES } from './reproduce.js';
import type { Selection } from './runs.js';

const NET_NAMES: Record<Net, string> = { lenet300: 'LeNet-300-100', lenet5: 'LeNet-5 (Caffe 20-50-500)' };
const DATASET_NAMES: Record<ImageDataset, string> = { mnist: 'MNIST', fashion: 'Fashion-MNIST' };

const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : formatPercent(x, digits);
const err = (acc: number | null | undefined) => (acc === null || acc === undefined ? '—' : pct(1 - acc));
const ms = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2));

function selectionCells(s: Selection | null): string[] {
  return s === null
    ? ['—', '—', '—', '—']
    : [pct(s.remaining, 3), err(s.validationAccuracy), err(s.testAccuracy), String(s.step)];
}

function unitsText(f: PruneFigures): string {
  const u = f.deployment?.units ?? {};
  return Object.entries(u)
    .map(([node, c]) => `${node} ${c.live}/${c.total}`)
    .join(', ');
}

function deploymentRow(f: PruneFigures): string[] {
  const d = f.deployment;
  if (d === null) return [f.method, '—', '—', '—', '—', '—', '—'];
  const t = d.inferenceMs;
  return [
    f.method,
    unitsText(f) || '—',
    `${d.params.nonzero.toLocaleString('en-US')} / ${d.params.compacted.toLocaleString('en-US')} / ${d.params.dense.toLocaleString('en-US')}`,
    `${ms(t.dense)} / ${ms(t['pruned (masked)'])} / ${ms(t.compacted)}`,
    'unsupported' in d.export
      ? `not exported: ${d.export.unsupported.split(':').slice(0, 2).join(':')}`
      : `${ms(t['compacted, exported tf.LayersModel'])} (max |Δ| ${d.export.maxError.toExponential(1)})`,
    d.compactionMaxError.toExponential(1),
    `${d.backend}, load ${d.load.toFixed(1)}`,
  ];
}

/** Which validation data a mode selects on, as the summary states it. */
function validationText(mode: ReproduceSummary['mode']): string {
  const scale = SCALES[mode];
  const images = `${PROTOCOL.validationSize.toLocaleString('en-US')} training images held out`;
  const evaluated =
    scale.evalLimit === undefined
      ? images
      : `the first ${scale.evalLimit.toLocaleString('en-US')} of ${images}`;
  return `image networks: ${evaluated}; the Transformer block: its task's own ${scale.transformer.validation.toLocaleString('en-US')} validation sequences`;
}

/** Writes `summary.md` and `front-<net>-<dataset>.svg` / `front-transformer.svg` into `outDir`. Returns the files. */
export async function writeSummary(outDir: string, s: ReproduceSummary): Promise<string[]> {
  const files: string[] = [];
  const md: string[] = [
    `# Bonetta & Cancelliere (2023) — ${s.mode} mode, seed ${s.seed}`,
    '',
    `Date ${s.date}; wall time ${(s.wallTimeMs / 60000).toFixed(1)} min${s.interrupted ? ' (interrupted: rerun with --resume)' : ''}.`,
    '',
    `Every figure is selected on the validation split (${validationText(s.mode)}); test figures are measured on the selected networks and on every check for the fronts, never used to choose. "% remaining" counts all weights and biases.`,
    '',
  ];
  const settings = Object.entries(s.settings ?? {});
  if (settings.length > 0) {
    const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    md.push(
      `Settings changed on the command line (everything else at the protocol's defaults): ${settings
        .map(([k, v]) => `\`${flag(k)} ${v}\``)
        .join(', ')}.`,
      '',
    );
  }
  for (const c of s.cases) {
    const title = `${NET_NAMES[c.net]} on ${DATASET_NAMES[c.dataset]}`;
    const target = TARGETS[c.net][c.dataset];
    md.push(`## ${title}`, '');
    const paperDense = c.net === 'lenet5' ? PAPER_DENSE.lenet5[c.dataset] : undefined;
    md.push(
      `Dense start: validation accuracy ${pct(c.dense.validationAccuracy)}, test accuracy ${pct(c.dense.testAccuracy)}${
        paperDense === undefined ? '' : ` (paper's checkpoint: ${pct(paperDense)})`
      }. Floor: validation accuracy above ${pct(c.floor, 1)}.`,
      '',
    );
    const rows: string[][] = [];
    for (const f of Object.values(c.runs)) {
      rows.push([
        f.method,
        f.status,
        String(f.epochsCompleted),
        ...selectionCells(f.kept),
        ...selectionCells(f.target),
        ...selectionCells(f.bestAtTarget),
      ]);
    }
    if (c.dataset === 'mnist') {
      for (const a of ANCHORS[c.net])
        rows.push([
          a.method,
          'published',
          '',
          pct(a.remaining),
          '',
          pct(a.error),
          ...Array<string>(9).fill(''),
        ]);
    }
    md.push(
      markdownTable(
        [
          'method',
          'status',
          'epochs',
          'kept: % remaining',
          'val. error',
          'test error',
          'step',
          `target (val. error ≤ ${pct(target.error, 1)}): % remaining`,
          'val. error',
          'test error',
          'step',
          `best val. at ≤ ${pct(target.remaining, 1)} remaining: % remaining`,
          'val. error',
          'test error',
          'step',
        ],
        rows,
        ['left', 'left', 'right', ...Array<'right'>(12).fill('right')],
      ),
      '',
    );
    md.push(
      'Deployed (kept checkpoint): live units per layer; parameters non-zero / after compaction / dense; inference of a test batch in ms, dense / pruned with masks / compacted, and the compacted network exported as a `tf.LayersModel`.',
      '',
      markdownTable(
        [
          'method',
          'live units',
          'params',
          'ms dense / masked / compacted',
          'exported',
          'compaction max |Δ|',
          'measured on',
        ],
        Object.values(c.runs).map(deploymentRow),
      ),
      '',
    );
    if (c.secondPass) {
      const p = c.secondPass;
      md.push(
        `Selective decay's cost per step: ${ms(p.oneBackwardMs)} ms per step with cross-entropy alone, ${ms(p.twoBackwardMs)} ms with the selective decay (${p.ratio.toFixed(2)}×; median of ${p.rounds} alternating rounds of ${p.steps} steps, ${p.backend}, load ${p.load.toFixed(1)}). The paper's second backward pass is not run: the data gradient the decay needs is the step's own pass, which @moprune/core reuses for the update.`,
        '',
      );
    }
    const series = Object.values(c.runs).map((f) => {
      const pts = f.checks.filter((k) => k.testAccuracy !== null);
      return { name: f.method, x: pts.map((k) => k.remaining), y: pts.map((k) => 1 - k.testAccuracy!) };
    });
    const svgName = `front-${c.net}-${c.dataset}.svg`;
    const svg = await renderSvg(
      frontsPlotSpec(series, {
        title: `${title}: test error vs weights remaining (every check)`,
        xTitle: 'weights and biases remaining',
        yTitle: 'test error',
        xLog: true,
        xFormat: '.1~%',
        yFormat: '.1%',
        ...(c.dataset === 'mnist'
          ? {
              references: ANCHORS[c.net].map((a) => ({
                x: a.remaining,
                y: a.error,
                label: a.method.split(' ')[0]!,
              })),
            }
          : {}),
      }),
    );
    writeTextAtomic(join(outDir, svgName), svg);
    const retrained = Object.values(c.runs).filter((f) => f.retrained);
    if (retrained.length > 0) {
      md.push(
        `Retraining of the kept networks (our extension, not the paper's protocol): cross-entropy alone (or, distilled, with the dense start's softened outputs as targets too), the masks held, Adam annealed to 0 by a cosine, the best-validation epoch; it replaces the kept network only when its validation accuracy is above the floor and above the kept check's.`,
        '',
        markdownTable(
          [
            'method',
            'epochs',
            'distilled (T, w)',
            '% remaining',
            'kept: val. error',
            'test error',
            'retrained: val. error',
            'test error',
            'epoch',
            'chosen',
          ],
          retrained.map((f) => {
            const r = f.retrained!;
            return [
              f.method,
              String(r.epochs),
              r.distill === null ? '—' : `${r.distill.temperature}, ${r.distill.weight}`,
              pct(r.remaining, 3),
              err(f.kept?.validationAccuracy),
              err(f.kept?.testAccuracy),
              err(r.validationAccuracy),
              err(r.testAccuracy),
              String(r.epoch + 1),
              r.chosen ? 'yes' : 'no',
            ];
          }),
          ['left', ...Array<'right'>(9).fill('right')],
        ),
        '',
      );
    }
    files.push(join(outDir, svgName));
    md.push(`![${title} fronts](${svgName})`, '');
  }
  if (s.transformer) {
    const t = s.transformer;
    const f = t.run;
    md.push(
      '## Transformer encoder block (query-count task)',
      '',
      `Dense: validation accuracy ${pct(t.dense.validationAccuracy)}, test accuracy ${pct(t.dense.testAccuracy)}; floor ${pct(t.floor)} (one point below the dense validation accuracy). Relevance pruning ranks every parameter: embedding table and positions, attention projections, layer-norm gains and shifts, feed-forward and output layers.`,
      '',
      markdownTable(
        ['', '% remaining', 'val. accuracy', 'test accuracy', 'step'],
        [
          ['dense', '100%', pct(t.dense.validationAccuracy), pct(t.dense.testAccuracy), ''],
          ...(f.kept === null
            ? [['kept', '—', '—', '—', '—']]
            : [
                [
                  'kept (sparsest above the floor)',
                  pct(f.kept.remaining, 2),
                  pct(f.kept.validationAccuracy),
                  pct(f.kept.testAccuracy),
                  String(f.kept.step),
                ],
              ]),
        ],
      ),
      '',
      'Accuracy against sparsity (every check):',
      '',
      markdownTable(
        ['step', '% remaining', 'val. accuracy', 'test accuracy', 'cut'],
        f.checks.map((k) => [
          String(k.step),
          pct(k.remaining, 2),
          pct(k.validationAccuracy),
          pct(k.testAccuracy),
          String(k.pruned),
        ]),
      ),
      '',
    );
    if (f.deployment) {
      md.push(
        markdownTable(
          [
            'method',
            'live units',
            'params',
            'ms dense / masked / compacted',
            'exported',
            'compaction max |Δ|',
            'measured on',
          ],
          [deploymentRow(f)],
        ),
        '',
      );
    }
    const svg = await renderSvg(
      frontsPlotSpec(
        [
          {
            name: 'relevance',
            x: f.checks.map((k) => k.remaining),
            y: f.checks.map((k) => k.testAccuracy ?? Number.NaN),
          },
        ],
        {
          title: 'Transformer block: test accuracy vs parameters remaining',
          xTitle: 'parameters remaining',
          yTitle: 'test accuracy',
          xLog: true,
          xFormat: '.1~%',
          yFormat: '.1%',
          references: [{ x: 1, y: t.dense.testAccuracy, label: 'dense' }],
        },
      ),
    );
    writeTextAtomic(join(outDir, 'front-transformer.svg'), svg);
    files.push(join(outDir, 'front-transformer.svg'));
    md.push('![Transformer accuracy vs sparsity](front-transformer.svg)', '');
  }
  writeTextAtomic(join(outDir, 'summary.md'), `${md.join('\n')}\n`);
  files.push(join(outDir, 'summary.md'));
  return files;
}
