/**
 * `summary.md`, `summary.json` and the front plots of a reproduction: every
 * vector's figures, the main vector beside the reference run on this machine,
 * the front over the vectors.
 */
import { join } from 'node:path';
import {
  frontPlotSpec,
  linePlotSpec,
  machineDescription,
  machinesOf,
  markdownTable,
  renderSvg,
  writeTextAtomic,
} from '@moprune/report';
import { ANCHOR, MAIN_VECTOR } from './configs.js';
import type { ReproduceSummary, VectorResult } from './reproduce.js';

const pct = (x: number | undefined, digits = 2) =>
  x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(digits)}%`;
const secs = (x: number) => (Number.isNaN(x) ? '—' : `${x.toFixed(1)} s`);
const mins = (ms: number) => `${(ms / 60000).toFixed(1)} min`;
const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The phase figure of a result, or undefined. */
const phase = (r: VectorResult, p: 'search' | 'retrain' | 'dense') => r.phases.find((f) => f.phase === p);

/** How a result is named in tables: its preference vector, or its baseline. */
export function resultLabel(r: VectorResult): string {
  if (r.vector !== null)
    return `${r.model === 'hps' ? 'HPS' : 'MDMTN'} by Chebyshev-AL, k = (${r.vector.join(', ')})${r.form === 'reference' ? ', reference AL form' : ''}`;
  return r.method === 'single-task'
    ? 'single-task networks'
    : `${r.model === 'hps' ? 'HPS' : 'MDMTN'} by MGDA-UB`;
}

/** The machine a summary's runs trained on; the writing machine for a summary that did not record it. */
const machine = (s: ReproduceSummary) => s.machine ?? machineDescription();

/** The baseline runs' summary: per run its kept epoch, accuracies and time. */
function baselineMarkdown(s: ReproduceSummary): string[] {
  const r = s.results[0];
  const what =
    s.method === 'single-task'
      ? 'one network per task (the HPS trunk with one head; Adam 1e-2 halved every 30% of the epochs — the reference: every 30 of 100), each kept at its best validation accuracy on its own task'
      : `${s.model === 'hps' ? 'HPS' : 'MDMTN'} by MGDA-UB (per step the min-norm combination of the two tasks' gradients over the shared trunk; SGD 1e-2, momentum 0.9, halved every 30% of the epochs — the reference: every 30 of 100), kept at its best mean validation accuracy`;
  const md = [
    `# Hotegni, Peitz & Berkemeier (2023) — baseline: ${r ? resultLabel(r) : s.method} on ${s.benchmark === 'cifar10Mnist' ? 'Cifar10Mnist' : 'MultiMNIST'}`,
    '',
    `Date ${s.date}; ${s.mode} mode, seed ${s.seed}; machine: ${machine(s)}; wall time ${mins(s.wallMs)}${s.interrupted ? ' (interrupted: rerun with --resume)' : ''}.`,
    '',
    `${what}. Same data and splits as the paper's method; selection on the validation split only. ${s.parameters.network.toLocaleString('en')} network parameters${s.parameters.alphas > 0 ? ` + ${s.parameters.alphas} mixing α` : ''}.`,
    '',
  ];
  if (!r) return md;
  md.push(
    markdownTable(
      ['run', 'epochs', 'kept epoch', 'train loop per epoch', 'whole epoch', 'wall'],
      r.phases.map((p) => [
        p.phase,
        String(p.epochs),
        p.bestEpoch === null ? '—' : String(p.bestEpoch + 1),
        secs(p.trainSecondsPerEpoch),
        secs(p.epochSeconds),
        mins(p.wallMs),
      ]),
    ),
    '',
    markdownTable(
      ['', 'test left', 'test right', 'val left', 'val right', 'zero rows', 'zero weights'],
      [
        [
          resultLabel(r),
          pct(r.testAccuracy[0]),
          pct(r.testAccuracy[1]),
          pct(r.validationAccuracy[0]),
          pct(r.validationAccuracy[1]),
          `${r.figures.zeroRows} / ${r.figures.rows}`,
          pct(r.figures.zeroWeights / r.figures.weights),
        ],
      ],
    ),
    '',
  );
  return md;
}

/** Writes `summary.md`, `summary.json`, `front-tasks.svg` and `front-sparsity.svg` into `outDir`. Returns the files (summary.md first). */
export async function writeSummary(outDir: string, s: ReproduceSummary): Promise<string[]> {
  const files = [join(outDir, 'summary.md'), join(outDir, 'summary.json')];
  writeTextAtomic(files[1]!, `${JSON.stringify(s, null, 2)}\n`);
  if (s.method !== 'chebyshev-al') {
    const md = baselineMarkdown(s);
    const r = s.results[0];
    if (r) {
      // The learning curves: validation accuracy of each task after every epoch, per run.
      const series = r.phases.flatMap((p) =>
        ['left', 'right'].flatMap((side, t) => {
          // A single-task network is trained on one task: only that task's curve.
          if ((p.phase === 'single-left' && t === 1) || (p.phase === 'single-right' && t === 0)) return [];
          return [
            {
              name: `${p.phase === 'mgda' ? 'MGDA-UB' : p.phase}, ${side} digit`,
              x: p.validationCurve.map((_, e) => e + 1),
              y: p.validationCurve.map((a) => a[t] ?? Number.NaN),
            },
          ];
        }),
      );
      const svg = await renderSvg(
        linePlotSpec(series, {
          title: `${resultLabel(r)}: validation accuracy per epoch`,
          xTitle: 'epoch',
          yTitle: 'validation accuracy',
          yFormat: '.1%',
          points: true,
        }),
      );
      writeTextAtomic(join(outDir, 'curves.svg'), svg);
      files.push(join(outDir, 'curves.svg'));
      md.push('![validation accuracy per epoch](curves.svg)', '');
    }
    writeTextAtomic(files[0]!, `${md.join('\n')}\n`);
    return files;
  }
  const md: string[] = [
    `# Hotegni, Peitz & Berkemeier (2023) — ${s.model === 'hps' ? 'HPS (the baseline)' : 'MDMTN'} on ${s.benchmark === 'cifar10Mnist' ? 'Cifar10Mnist' : 'MultiMNIST'}`,
    '',
    `Date ${s.date}; ${s.mode} mode, seed ${s.seed}, ${s.form} augmented Lagrangian; machine: ${machine(s)}; wall time ${mins(s.wallMs)}${s.interrupted ? ' (interrupted: rerun with --resume)' : ''}.`,
    '',
    `Each vector: the search phase (GrOWL prox after every epoch) keeps its best-validation epoch with ≥ ${s.model === 'hps' ? 10 : 20}% zero rows; the retraining phase (zero rows frozen, rows tied to their cluster means) keeps its best-validation epoch, whose test accuracies are reported. Selection uses the validation split only. Rows are counted the reference's way: input neurons of every dense kernel and input channels of every conv kernel, heads included.`,
    '',
    `${s.model === 'hps' ? 'HPS' : 'MDMTN'}: ${s.parameters.network.toLocaleString('en')} network parameters + ${s.parameters.alphas} mixing α (the paper's counts — MDMTN 311,491 + 4, HPS 22,351 — include the scalarization variable t as a parameter too: ${(s.parameters.network + 1).toLocaleString('en')} + ${s.parameters.alphas}).`,
    '',
  ];
  const rows = s.results.map((r, i) => [
    `(${r.vector?.join(', ')})${s.front.includes(i) ? ' ★' : ''}`,
    pct(r.testAccuracy[0]),
    pct(r.testAccuracy[1]),
    pct(r.validationAccuracy[0]),
    pct(r.validationAccuracy[1]),
    `${r.figures.zeroRows} / ${r.figures.rows} (${pct(r.figures.zeroRows / r.figures.rows)})`,
    pct(r.figures.zeroWeights / r.figures.weights),
    r.figures.compressionRate.toFixed(2),
    r.figures.parameterSharing.toFixed(2),
    r.searchMetSparsity === null ? 'no sparsity (k0 = 0)' : r.searchMetSparsity ? 'yes' : 'no',
    String(((phase(r, 'retrain') ?? phase(r, 'dense'))?.bestEpoch ?? Number.NaN) + 1).replace('NaN', '—'),
    mins(r.wallMs),
  ]);
  md.push(
    '## Every vector',
    '',
    markdownTable(
      [
        'k = (k0, k1, k2)',
        'test left',
        'test right',
        'val left',
        'val right',
        'zero rows',
        'zero weights',
        'compression',
        'sharing',
        `search ≥ ${s.model === 'hps' ? 10 : 20}% rows`,
        'kept epoch',
        'wall',
      ],
      rows,
    ),
    '',
    `★ non-dominated in (left error, right error, 1 − zero-row fraction); hypervolume against (1, 1, 1): ${s.hypervolume.toFixed(4)}.`,
    '',
  );
  const main =
    s.model === 'mdmtn' && s.benchmark === 'multiMnist'
      ? s.results.find((r) => r.vector !== null && same(r.vector, MAIN_VECTOR))
      : undefined;
  if (main) {
    const search = phase(main, 'search');
    const retrain = phase(main, 'retrain');
    md.push(
      `## The main vector beside the reference (its code on this machine, k = (${ANCHOR.vector.join(', ')}), seed 0, 1 thread)`,
      '',
      markdownTable(
        ['', 'reference', `moprune (${main.form} AL)`],
        [
          ['test accuracy left', pct(ANCHOR.testAccuracy[0]), pct(main.testAccuracy[0])],
          ['test accuracy right', pct(ANCHOR.testAccuracy[1]), pct(main.testAccuracy[1])],
          [
            'zero rows',
            `${ANCHOR.zeroRows} / ${ANCHOR.rows} (${pct(ANCHOR.zeroRows / ANCHOR.rows)})`,
            `${main.figures.zeroRows} / ${main.figures.rows} (${pct(main.figures.zeroRows / main.figures.rows)})`,
          ],
          [
            'zero rows by layer',
            Object.entries(ANCHOR.zeroRowsByLayer)
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
            Object.entries(main.figures.zeroRowsByLayer)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ') || 'none',
          ],
          ['compression rate', ANCHOR.compressionRate.toFixed(2), main.figures.compressionRate.toFixed(2)],
          ['parameter sharing', ANCHOR.parameterSharing.toFixed(2), main.figures.parameterSharing.toFixed(2)],
          [
            'kept retraining epoch',
            `${ANCHOR.bestRetrainEpoch} of ${ANCHOR.retrainEpochs}`,
            retrain
              ? `${retrain.bestEpoch === null ? '—' : retrain.bestEpoch + 1} of ${retrain.epochs}`
              : '—',
          ],
          [
            'train loop per epoch (search / retrain)',
            `${secs(ANCHOR.epochSeconds.search)} / ${secs(ANCHOR.epochSeconds.retrain)}`,
            `${secs(search?.trainSecondsPerEpoch ?? Number.NaN)} / ${secs(retrain?.trainSecondsPerEpoch ?? Number.NaN)}`,
          ],
          [
            'whole epoch incl. prox/tying and validation (search / retrain)',
            '—',
            `${secs(search?.epochSeconds ?? Number.NaN)} / ${secs(retrain?.epochSeconds ?? Number.NaN)}`,
          ],
          ['wall time, both phases', `${ANCHOR.wallMinutes} min`, mins(main.wallMs)],
        ],
      ),
      '',
      s.mode === 'full'
        ? ''
        : `(${s.mode} mode trains on fewer images and epochs than the reference: its figures are not comparable with the anchor.)`,
      '',
    );
  }
  if (s.results.length > 1) {
    const label = (r: VectorResult) => `(${r.vector?.join(', ')})`;
    const tasks = await renderSvg(
      frontPlotSpec(
        s.results.map((r) => ({
          x: r.testAccuracy[0] ?? Number.NaN,
          y: r.testAccuracy[1] ?? Number.NaN,
          label: label(r),
          details: { 'zero rows': pct(r.figures.zeroRows / r.figures.rows) },
        })),
        {
          title: 'MDMTN on MultiMNIST: test accuracy, left vs right digit (one point per preference vector)',
          xTitle: 'left-digit test accuracy',
          yTitle: 'right-digit test accuracy',
          front: s.front,
        },
      ),
    );
    const sparsity = await renderSvg(
      frontPlotSpec(
        s.results.map((r) => ({
          x: r.figures.zeroRows / r.figures.rows,
          y: ((r.testAccuracy[0] ?? Number.NaN) + (r.testAccuracy[1] ?? Number.NaN)) / 2,
          label: label(r),
        })),
        {
          title: 'MDMTN on MultiMNIST: mean test accuracy vs zero rows',
          xTitle: 'fraction of rows zero',
          yTitle: 'mean test accuracy',
          front: s.front,
        },
      ),
    );
    writeTextAtomic(join(outDir, 'front-tasks.svg'), tasks);
    writeTextAtomic(join(outDir, 'front-sparsity.svg'), sparsity);
    files.push(join(outDir, 'front-tasks.svg'), join(outDir, 'front-sparsity.svg'));
    md.push(
      '## Front',
      '',
      '![left vs right](front-tasks.svg)',
      '',
      '![accuracy vs sparsity](front-sparsity.svg)',
      '',
    );
  }
  writeTextAtomic(files[0]!, `${md.join('\n')}\n`);
  return files;
}

/**
 * One table of every method on the same data and seed (`summaries`: the `summary.json` of each
 * run — the paper's method, HPS, MGDA-UB, the single-task pair), the reference run beside them;
 * one row per result. Written to `file` (markdown).
 */
export function writeMethods(file: string, summaries: readonly ReproduceSummary[]): void {
  const rows = summaries.flatMap((s) =>
    s.results.map((r) => [
      resultLabel(r),
      `${s.mode}, seed ${s.seed}`,
      pct(r.testAccuracy[0]),
      pct(r.testAccuracy[1]),
      `${r.figures.zeroRows} / ${r.figures.rows} (${pct(r.figures.zeroRows / r.figures.rows)})`,
      pct(r.figures.zeroWeights / r.figures.weights),
      `${s.parameters.network.toLocaleString('en')}${s.parameters.alphas > 0 ? ` + ${s.parameters.alphas} α` : ''}`,
      r.phases.map((p) => `${p.phase} ${p.epochs}`).join(' + '),
      mins(r.wallMs),
    ]),
  );
  rows.push([
    `reference code, k = (${ANCHOR.vector.join(', ')})`,
    'full, seed 0',
    pct(ANCHOR.testAccuracy[0]),
    pct(ANCHOR.testAccuracy[1]),
    `${ANCHOR.zeroRows} / ${ANCHOR.rows} (${pct(ANCHOR.zeroRows / ANCHOR.rows)})`,
    '—',
    `${(ANCHOR.parameters - 1).toLocaleString('en')} + ${ANCHOR.alphas} α`,
    `search 9 + retrain ${ANCHOR.retrainEpochs - 9}`,
    `${ANCHOR.wallMinutes} min`,
  ]);
  const md = [
    '# Hotegni, Peitz & Berkemeier (2023) — every method on MultiMNIST',
    '',
    `Written ${new Date().toISOString()}; trained on: ${machinesOf(summaries.map((x) => x.machine))}. Same data (50,000 / 10,000 / 10,000 MultiMNIST images in full mode, built with seed 0), the seed in the second column, test accuracy of the epoch kept on validation.`,
    '',
    markdownTable(
      [
        'method',
        'mode',
        'test left',
        'test right',
        'zero rows',
        'zero weights',
        'parameters',
        'epochs',
        'wall',
      ],
      rows,
    ),
    '',
  ];
  writeTextAtomic(file, `${md.join('\n')}\n`);
}
