import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMopruneError } from '@moprune/core';
import { kneeByDistance, nonDominatedIndices } from '@moprune/solvers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  complexityTable,
  layerTable,
  type ParetoTools,
  readRun,
  renderRunReport,
  runFacts,
  writeReport,
} from '../index.js';
import { makeRun, makeSweep, tinyConfig } from './fixtures/runs.js';
import { markCount, parseSvg } from './svg.js';

const pareto: ParetoTools = {
  nonDominatedIndices: (p) => nonDominatedIndices(p),
  knee: (p) => kneeByDistance(p),
  kneeRule: 'kneeByDistance',
};

let root: string;
let sweep: string;
let smgdRun: string;
const LAMBDAS = [0, 0.001, 0.01, 0.05];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'moprune-report-'));
  sweep = join(root, 'sweep');
  await makeSweep(sweep, LAMBDAS);
  smgdRun = join(root, 'smgd');
  await makeRun(smgdRun, tinyConfig(0, 'smgd'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('one run', () => {
  it('counts dense weights per layer from the checkpoint, matching the per-node counts core logged', () => {
    const run = readRun(join(sweep, 'l2-0.01'));
    expect(run.params).not.toBeNull();
    const byName = new Map(run.params!.map((p) => [p.name, p]));
    // mlp hidden [16] on 28×28×1: fc1 kernel 784×16, fc2 kernel 16×10.
    expect(byName.get('fc1/kernel')!.total).toBe(12_544);
    expect(byName.get('fc2/kernel')!.total).toBe(160);
    for (const node of ['fc1', 'fc2']) {
      const nz = run.params!.filter((p) => p.node === node).reduce((a, p) => a + p.nonzero, 0);
      expect(nz).toBe(run.result.metrics[`nonzero.${node}`]);
    }
    const f = runFacts(run);
    expect(f['denseKernels.total']).toBe(12_704);
    expect(f['denseKernels.nonzero']).toBe(
      byName.get('fc1/kernel')!.nonzero + byName.get('fc2/kernel')!.nonzero,
    );
    expect(f['denseKernels.removedFraction']).toBeCloseTo(1 - f['denseKernels.nonzero']! / 12_704, 12);
    const table = layerTable(run)!;
    expect(table).toContain(
      `| fc1 | dense | ${byName.get('fc1/kernel')!.nonzero.toLocaleString('en-US')} / 12,544`,
    );
    expect(table).toContain('**dense kernels**');
  });

  it('tables parameters and MACs as built / non-zero / compacted (12,730 params, 12,704 MACs as built)', () => {
    const table = complexityTable(readRun(join(sweep, 'l2-0')))!;
    // 784·16 + 16 + 16·10 + 10 = 12,730 parameters; MACs 784·16 + 16·10 = 12,704.
    expect(table).toMatch(/\| parameters \| 12,730 \|/);
    expect(table).toMatch(/\| MACs per sample \| 12,704 \|/);
  });

  it('renders the report with a log-scale weights plot (one line per weight) and a sparsity plot', async () => {
    const run = readRun(smgdRun);
    expect(run.steps.length).toBe(16);
    expect(run.steps.every((s) => s.weights.length === 2)).toBe(true);
    const r = await renderRunReport(run, {
      paper: {
        source: 'a paper',
        figures: [{ label: 'test accuracy', paper: 0.5, fact: 'test.accuracy', format: 'percent' }],
      },
    });
    expect(Object.keys(r.svgs).sort()).toEqual(['sparsity.svg', 'weights.svg']);
    const weights = parseSvg(r.svgs['weights.svg']!);
    expect(weights.getElementsByTagName('path').length).toBeGreaterThan(0);
    expect(r.svgs['weights.svg']).toContain('c1');
    expect(r.svgs['weights.svg']).toContain('c2');
    parseSvg(r.svgs['sparsity.svg']!);
    expect(r.markdown).toContain('## Against a paper');
    expect(r.markdown).toContain('![objective weights over training](weights.svg)');
    expect(r.markdown).toContain('| status | completed |');
  });

  it('writes report.md and the plots atomically into the run directory', async () => {
    const dir = join(sweep, 'l2-0.001');
    const written = await writeReport(dir);
    expect(written.kind).toBe('run');
    expect(written.files.map((f) => f.slice(dir.length + 1))).toEqual([
      'weights.svg',
      'sparsity.svg',
      'report.md',
    ]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('## Weights kept per layer');
  });
});

describe('a sweep', () => {
  it('plots the front with one circle per non-dominated run and the knee marked, and tables every run', async () => {
    writeFileSync(
      join(sweep, 'report.json'),
      JSON.stringify({
        title: 'tiny sweep',
        notes: ['Selection on the validation split.'],
        paper: {
          source: 'Reiners et al. (2020)',
          figures: [
            { label: 'dense weights kept', paper: 2577, fact: 'denseKernels.nonzero', format: 'count' },
          ],
        },
      }),
    );
    const written = await writeReport(sweep, { pareto });
    expect(written.kind).toBe('sweep');
    const runs = LAMBDAS.map((l) => readRun(join(sweep, `l2-${l}`)));
    const points = runs.map((r) => {
      const o = r.result.validation!.objectives as Record<string, number>;
      return [o.crossEntropy!, o.l1!];
    });
    const front = nonDominatedIndices(points);
    const knee = kneeByDistance(points);
    const svg = parseSvg(readFileSync(join(sweep, 'front.svg'), 'utf8'));
    expect(markCount(svg, 'front_points')).toBe(front.length);
    expect(markCount(svg, 'dominated_points')).toBe(LAMBDAS.length - front.length);
    expect(markCount(svg, 'knee_point')).toBe(1);
    const acc = parseSvg(readFileSync(join(sweep, 'front-accuracy.svg'), 'utf8'));
    expect(markCount(acc, 'knee_point')).toBe(1);
    const md = readFileSync(join(sweep, 'report.md'), 'utf8');
    expect(md.startsWith('# tiny sweep\n')).toBe(true);
    expect(md).toContain(`Knee: \`l2-${LAMBDAS[knee]}\``);
    for (const l of LAMBDAS) expect(md).toContain(`| l2-${l} | completed |`);
    expect(md).toContain(`## Knee run: l2-${LAMBDAS[knee]}`);
    expect(md).toContain('### Against Reiners et al. (2020)');
    expect(md).toContain('| dense weights kept | 2,577 |');
    expect(existsSync(join(sweep, `l2-${LAMBDAS[knee]}-weights.svg`))).toBe(true);
    // Stronger ℓ1 weight keeps fewer dense weights: the sweep really spans a trade-off.
    const kept = runs.map((r) => runFacts(r)['denseKernels.nonzero']!);
    expect(kept[kept.length - 1]!).toBeLessThan(kept[0]!);
  });

  it('takes the knee the experiment chose from report.json', async () => {
    writeFileSync(
      join(sweep, 'report.json'),
      JSON.stringify({ knee: 'l2-0.05', kneeRule: 'chosen by hand' }),
    );
    await writeReport(sweep, { pareto });
    const md = readFileSync(join(sweep, 'report.md'), 'utf8');
    expect(md).toContain('Knee: `l2-0.05` (chosen by hand)');
    writeFileSync(join(sweep, 'report.json'), JSON.stringify({ knee: 'nope' }));
    await expect(writeReport(sweep, { pareto })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    rmSync(join(sweep, 'report.json'));
  });
});

describe('a sweep with axis titles', () => {
  it('titles the front plot axes as report.json says, by objective name', async () => {
    const svgText = () => readFileSync(join(sweep, 'front.svg'), 'utf8');
    await writeReport(sweep, { pareto });
    expect(svgText()).toContain('>l1</text>'); // the objective's key by default
    writeFileSync(
      join(sweep, 'report.json'),
      JSON.stringify({
        axisTitles: { crossEntropy: 'cross-entropy, validation (f1)', l1: 'Σ|w| of dense kernels (f2)' },
      }),
    );
    try {
      await writeReport(sweep, { pareto });
      const svg = svgText();
      expect(svg).toContain('>cross-entropy, validation (f1)</text>');
      expect(svg).toContain('>Σ|w| of dense kernels (f2)</text>');
      expect(svg).not.toContain('>l1</text>');
    } finally {
      rmSync(join(sweep, 'report.json'));
    }
  });
});

describe('a sweep with a final run', () => {
  it('keeps the final run off the front, tables it, and reports it with the paper', async () => {
    writeFileSync(
      join(sweep, 'report.json'),
      JSON.stringify({
        final: 'l2-0.05',
        paper: { source: 'P', figures: [{ label: 'steps', paper: 16, fact: 'steps', format: 'count' }] },
      }),
    );
    try {
      await writeReport(sweep, { pareto });
      const svg = parseSvg(readFileSync(join(sweep, 'front.svg'), 'utf8'));
      expect(markCount(svg, 'front_points') + markCount(svg, 'dominated_points')).toBe(LAMBDAS.length - 1);
      const md = readFileSync(join(sweep, 'report.md'), 'utf8');
      expect(md).toContain(
        `${LAMBDAS.length} runs; ${LAMBDAS.length - 1} with validation objectives placed on the front`,
      );
      expect(md).toMatch(/\| l2-0\.05 \| completed \|.*\| final run \|/);
      expect(md).toContain('## Final run: l2-0.05');
      expect(md).toContain('| steps | 16 | 16 | ±0 |');
    } finally {
      rmSync(join(sweep, 'report.json'));
    }
  });
});

describe('a failed run', () => {
  it('reports the error without per-epoch tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moprune-failed-'));
    try {
      const real = JSON.parse(readFileSync(join(sweep, 'l2-0', 'result.json'), 'utf8'));
      writeFileSync(
        join(dir, 'result.json'),
        JSON.stringify({
          ...real,
          status: 'failed',
          steps: 3,
          epochsCompleted: 0,
          validation: null,
          test: null,
          metrics: {},
          history: [],
          error: { code: 'NON_FINITE_LOSS', message: "objective 'l1' is NaN at step 3", details: {} },
        }),
      );
      const r = await renderRunReport(readRun(dir));
      expect(r.markdown).toContain("| error | NON_FINITE_LOSS: objective 'l1' is NaN at step 3 |");
      expect(r.markdown).not.toContain('## Training');
      expect(r.markdown).not.toContain('## Parameters and MACs');
      expect(Object.keys(r.svgs)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errors', () => {
  it('a directory that is neither a run nor a sweep is RUN_NOT_FOUND, recognized as a moprune error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'moprune-empty-'));
    try {
      const e = await writeReport(empty).catch((x: unknown) => x);
      expect(isMopruneError(e, 'RUN_NOT_FOUND')).toBe(true);
      expect((e as Error).name).toBe('ReportError');
      expect(() => readRun(join(empty, 'missing'))).toThrow(/no result\.json/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
  it('a corrupt result.json is INVALID_RUN naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moprune-bad-'));
    try {
      writeFileSync(join(dir, 'result.json'), '{"status":"weird"}');
      expect(() => readRun(dir)).toThrow(expect.objectContaining({ code: 'INVALID_RUN' }));
      expect(() => readRun(dir)).toThrow(/result\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
