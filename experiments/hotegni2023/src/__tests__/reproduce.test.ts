import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@moprune/backend';
import {
  createNetwork,
  loadNetworkSnapshot,
  streamSeeds,
  validateExperimentConfig,
} from '@moprune/core/node';
import { hps, mdmtn } from '@moprune/models';
import { machineDescription } from '@moprune/report';
import { cifarFixtureDataDir } from '@moprune/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BENCHMARKS,
  baselineLrEvery,
  capRamp,
  defaultVectors,
  denseConfig,
  FULL,
  MAIN_VECTOR,
  mgdaConfig,
  optionsFromArgs,
  QUICK,
  type ReproduceSummary,
  reproduce,
  retrainConfig,
  rowFigures,
  searchConfig,
  singleTaskConfig,
  TINY,
  type Vector,
  writeMethods,
  writeSummary,
} from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'hotegni2023-'));
const cacheDir = join(root, 'cache');

beforeAll(async () => {
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('configs', () => {
  const base = { scale: FULL, vector: MAIN_VECTOR, form: 'textbook' as const, seed: 0 };
  it('every config is a valid experiment config, with the reference protocol', () => {
    const search = searchConfig({ ...base, minZeroRows: 1239 });
    const retrain = retrainConfig({ ...base, initFrom: '/s/best' });
    for (const c of [search, retrain, denseConfig(base)]) expect(validateExperimentConfig(c)).toEqual([]);
    expect(search.solver).toMatchObject({
      type: 'chebyshev-al',
      preference: [1e-3, 0.2, 0.799],
      mu0: 2.5e-8,
      rho: 2,
      outerEvery: 3,
      lrDecay: 0.5,
      form: 'textbook',
      optimizer: { type: 'adam', lr: 2.5e-3 },
    });
    expect(search.training).toMatchObject({ epochs: 9, batchSize: 256, seed: 0 });
    expect(retrain.training).toMatchObject({ epochs: 30, initFrom: '/s/best' });
    expect((search.pruners as unknown[])[0]).toMatchObject({ strength: 1, freezeZeroGroups: false });
    expect(
      (retrainConfig({ ...base, scale: QUICK, initFrom: '/s' }).pruners as unknown[])[0],
    ).not.toHaveProperty('tying');
    expect((retrain.pruners as unknown[])[0]).toMatchObject({
      proxDisabled: true,
      freezeZeroGroups: true,
      tying: true,
      tyingClusters: 'once',
      tyingPreference: 0.7,
    });
    expect(search.dataset).toMatchObject({ trainSize: 50_000, validationSize: 10_000, testSize: 10_000 });
    // The cap ramps (k + 1)·0.8/3 over the three outer iterations, one prox per epoch.
    const caps = capRamp(FULL);
    expect(caps).toHaveLength(9);
    for (const [i, c] of caps.entries()) expect(c).toBeCloseTo(((Math.floor(i / 3) + 1) * 0.8) / 3, 12);
  });

  it('runs the main vector in every mode and front vectors on the simplex', () => {
    for (const scale of [TINY, QUICK, FULL]) {
      const vs = defaultVectors(scale);
      expect(vs[0]).toEqual(MAIN_VECTOR);
      for (const v of vs) expect(v.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    expect(defaultVectors(QUICK).length).toBeGreaterThanOrEqual(5);
    expect(new Set(defaultVectors(FULL).map((v) => v[0]))).toEqual(new Set([0, 1e-4, 1e-3, 1e-2, 0.1]));
  });

  it('counts MDMTN rows as the reference does: 6,193 rows, 311,490 parameters + 4 α', () => {
    const net = createNetwork(mdmtn({ variant: 'multiMnist' }), { seed: 0 });
    const f = rowFigures(net);
    expect(f.rows).toBe(6193);
    expect(f.weights).toBe(311_494);
    expect(f.zeroRows).toBe(0);
    net.dispose();
  });
});

describe('bad input', () => {
  const bad: [string, Vector][] = [
    ['negative', [-0.1, 0.6, 0.5]],
    ['not summing to 1', [0.1, 0.2, 0.3]],
    ['wrong length', [0.5, 0.5] as unknown as Vector],
    ['not a number', [Number.NaN, 0.5, 0.5]],
  ];
  for (const [what, vector] of bad) {
    it(`refuses a preference vector ${what} before training`, async () => {
      const out = join(root, `bad-${what}`);
      await expect(
        reproduce({ mode: 'tiny', outDir: out, vectors: [vector], cacheDir }),
      ).rejects.toMatchObject({
        name: 'Hotegni2023Error',
        code: 'INVALID_VECTOR',
      });
      expect(existsSync(out)).toBe(false);
    });
  }
  it('parses --vector and --al, and passes a malformed vector on to be refused', () => {
    expect(optionsFromArgs({ vector: '0.001,0.2,0.799; 0,0.5,0.5', al: 'reference' })).toEqual({
      vectors: [
        [0.001, 0.2, 0.799],
        [0, 0.5, 0.5],
      ],
      form: 'reference',
    });
    expect(optionsFromArgs({ vector: '0.5,,0.5' }).vectors![0]![1]).toBeNaN();
  });
  it('refuses an unknown model', async () => {
    await expect(
      reproduce({ mode: 'tiny', outDir: join(root, 'y'), model: 'vgg' as 'hps' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('model') });
  });
  it('refuses an unknown AL form and seed', async () => {
    await expect(
      reproduce({ mode: 'tiny', outDir: join(root, 'x'), form: 'other' as 'textbook', seed: -1 }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringMatching(/form[\s\S]*seed|seed[\s\S]*form/),
    });
  });
});

describe('tiny end to end', () => {
  const out = join(root, 'tiny');
  let summary: ReproduceSummary;
  let tensorsBefore = 0;
  const vectors: Vector[] = [MAIN_VECTOR, [0, 0.5, 0.5]];
  beforeAll(async () => {
    tensorsBefore = tf.memory().numTensors;
    summary = await reproduce({ mode: 'tiny', outDir: out, seed: 0, vectors, cacheDir });
  }, 240_000);

  it('runs both phases per vector (one for k0 = 0) and reports the kept network', () => {
    expect(summary.interrupted).toBe(false);
    expect(summary.results.map((r) => r.phases.map((p) => p.phase))).toEqual([
      ['search', 'retrain'],
      ['dense'],
    ]);
    for (const r of summary.results) {
      expect(r.testAccuracy).toHaveLength(2);
      for (const a of r.testAccuracy) expect(a).toBeGreaterThan(0.05);
      expect(r.figures.rows).toBe(6193);
    }
    expect(summary.parameters).toEqual({ network: 311_490, alphas: 4 });
    // k0 = 0 trains without the prox: nothing zero.
    expect(summary.results[1]!.figures.zeroRows).toBe(0);
    // The search starts from the LSUV-initialized network: every layer's output std 1 ± 0.1 on a batch.
    const main = summary.results[0]!;
    const searchConfig = JSON.parse(readFileSync(join(main.dir, 'search', 'config.json'), 'utf8'));
    expect(searchConfig.training.initFrom).toBe(join(main.dir, 'init'));
    const init = loadNetworkSnapshot(join(main.dir, 'init'))!;
    const lsuv = init.extra.lsuv as { node: string; stdAfter: number }[];
    expect(lsuv).toHaveLength(9);
    for (const l of lsuv) expect(Math.abs(l.stdAfter - 1)).toBeLessThanOrEqual(0.1);
    init.net.dispose();
  });

  it('the search zeroes rows under the cap, and retraining keeps them zero', () => {
    const main = summary.results[0]!;
    // Tiny: one outer iteration, so the cap is 0.8 from the first prox: at most floor(0.8·rows) per layer.
    // (Tiny and quick mode retrain without tying: affinity propagation on 2,880 rows takes ~30 s.)
    expect(main.figures.zeroRows).toBeGreaterThan(0);
    expect(main.figures.zeroRowsByLayer['monitor1.fc'] ?? 0).toBeLessThanOrEqual(Math.floor(0.8 * 2880));
    const search = loadNetworkSnapshot(join(main.dir, 'search', main.searchMetSparsity ? 'best' : 'final'))!;
    const retrained = loadNetworkSnapshot(join(main.dir, 'retrain', 'best'))!;
    const before = rowFigures(search.net);
    const after = rowFigures(retrained.net);
    // Every row zero after the search is still zero after retraining (frozen), per layer.
    for (const [layer, n] of Object.entries(before.zeroRowsByLayer)) {
      expect(after.zeroRowsByLayer[layer] ?? 0).toBeGreaterThanOrEqual(n);
    }
    // Distinct rows: the non-zero rows plus one zero row per layer with zero rows.
    expect(before.uniqueRows).toBe(
      before.rows - before.zeroRows + Object.keys(before.zeroRowsByLayer).length,
    );
    search.net.dispose();
    retrained.net.dispose();
  });

  it('leaves no tensor behind: three phases, the LSUV start and the figures', () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('writes summary.md with the anchor beside the main vector, summary.json and the front plots', async () => {
    const files = await writeSummary(out, summary);
    const md = readFileSync(files[0]!, 'utf8');
    expect(md).toContain('beside the reference');
    expect(md).toContain('96.97%');
    expect(md).toContain('6193');
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).results).toHaveLength(2);
    expect(readFileSync(join(out, 'front-tasks.svg'), 'utf8')).toContain('<svg');
    // The machine the runs trained on is recorded and printed, not the one writing the report.
    expect(summary.machine).toBe(machineDescription());
    const elsewhere = { ...summary, machine: '64 × Other CPU, MOPRUNE_NATIVE_THREADS=8' };
    const md2 = readFileSync((await writeSummary(join(out, 'elsewhere'), elsewhere))[0]!, 'utf8');
    expect(md2).toContain('; machine: 64 × Other CPU, MOPRUNE_NATIVE_THREADS=8;');
    expect(md2).not.toContain(machineDescription());
  });

  it('an interrupted run resumes in the phase it stopped in and ends with the same figures', async () => {
    const dir = join(root, 'interrupted');
    const controller = new AbortController();
    const stopped = await reproduce({
      mode: 'tiny',
      outDir: dir,
      seed: 0,
      vectors: [MAIN_VECTOR],
      cacheDir,
      signal: controller.signal,
      // Ctrl-C at the search's (last) epoch: the search completes, the retraining stops before its end.
      log: (l) => {
        if (l.includes('search: epoch')) controller.abort();
      },
    });
    expect(stopped.interrupted).toBe(true);
    expect(stopped.results).toHaveLength(0);
    const lines: string[] = [];
    const resumed = await reproduce({
      mode: 'tiny',
      outDir: dir,
      seed: 0,
      vectors: [MAIN_VECTOR],
      cacheDir,
      resume: true,
      log: (l) => lines.push(l),
    });
    expect(lines.some((l) => l.includes('search: completed earlier, reused'))).toBe(true);
    expect(resumed.interrupted).toBe(false);
    expect(resumed.results[0]!.testAccuracy).toEqual(summary.results[0]!.testAccuracy);
    expect(resumed.results[0]!.figures).toEqual(summary.results[0]!.figures);
  }, 120_000);

  it('resuming reuses every completed phase with the same figures', async () => {
    const lines: string[] = [];
    const again = await reproduce({
      mode: 'tiny',
      outDir: out,
      seed: 0,
      vectors,
      cacheDir,
      resume: true,
      log: (l) => lines.push(l),
    });
    expect(lines.filter((l) => l.includes('completed earlier, reused'))).toHaveLength(3);
    expect(again.results.map((r) => r.testAccuracy)).toEqual(summary.results.map((r) => r.testAccuracy));
    expect(again.results.map((r) => r.figures)).toEqual(summary.results.map((r) => r.figures));
    // A reused phase still counts the time it took when it ran.
    for (const r of again.results) {
      expect(r.wallMs).toBeGreaterThanOrEqual(r.phases.reduce((a, p) => a + p.wallMs, 0));
      expect(r.phases.every((p) => p.reused && p.wallMs > 0)).toBe(true);
    }
  }, 120_000);
});

describe('the HPS baseline through the same harness', () => {
  it('trains both phases on the hard-parameter-sharing net: 431 rows, 22,350 parameters, no α', async () => {
    const search = searchConfig({
      scale: FULL,
      vector: MAIN_VECTOR,
      form: 'textbook',
      seed: 0,
      model: 'hps',
      minZeroRows: 44,
    });
    expect(search.model).toEqual({ type: 'hps', variant: 'multiMnist' });
    expect((search.pruners as { params: { exclude: string[] } }[])[0]!.params.exclude).toEqual([
      'task1.fc',
      'task2.fc',
      'shared.conv1',
    ]);
    const s = await reproduce({
      mode: 'tiny',
      outDir: join(root, 'hps'),
      seed: 0,
      model: 'hps',
      vectors: [MAIN_VECTOR],
      cacheDir,
    });
    expect(s.model).toBe('hps');
    expect(s.parameters).toEqual({ network: 22_350, alphas: 0 });
    const r = s.results[0]!;
    expect(r.model).toBe('hps');
    expect(r.dir).toBe(join(root, 'hps', 'hps-k0.001-0.2-0.799'));
    expect(r.figures.rows).toBe(1 + 10 + 320 + 2 * 50);
    // (One tiny epoch zeroes no HPS row: LSUV gives its shared rows norms ≈ 0.4, above the prox's 0.2,
    // so no search epoch reaches 10% and the search's last network is retrained.)
    expect(r.searchMetSparsity).toBe(r.figures.zeroRows >= 44);
    // Only the grouped layers (the second conv's input channels and the shared dense rows) lose rows.
    for (const layer of Object.keys(r.figures.zeroRowsByLayer))
      expect(['shared.conv2', 'shared.fc']).toContain(layer);
    expect(r.testAccuracy).toHaveLength(2);
    const md = readFileSync((await writeSummary(join(root, 'hps'), s))[0]!, 'utf8');
    expect(md).toContain('HPS (the baseline)');
    expect(md).not.toContain('beside the reference');
  }, 120_000);
});

describe('MGDA-UB and single-task baselines through the same harness', () => {
  const base = { scale: FULL, vector: MAIN_VECTOR, form: 'textbook' as const, seed: 0 };
  it("configs: the reference's settings, valid experiment configs", () => {
    const mgda = mgdaConfig(base);
    const left = singleTaskConfig({ ...base, task: 0 });
    const right = singleTaskConfig({ ...base, task: 1 });
    for (const c of [mgda, left, right]) expect(validateExperimentConfig(c)).toEqual([]);
    expect(mgda.solver).toEqual({ type: 'smgd', lr: 1e-2, momentum: 0.9, minNormOver: ['shared.'] });
    expect(mgda.model).toEqual({ type: 'mdmtn', variant: 'multiMnist' });
    expect((mgda.objectives as unknown[]).length).toBe(2);
    expect(mgda.training).toMatchObject({
      epochs: 39,
      batchSize: 256,
      lrSchedule: { type: 'step', every: 12, gamma: 0.5, unit: 'epoch' },
      keepBest: {},
    });
    expect(right.model).toEqual({ type: 'hps', variant: 'multiMnist' });
    expect(right.objectives).toEqual([{ type: 'nll', task: 1, name: 'nll-right' }]);
    expect(right.solver).toMatchObject({ weights: [1], optimizer: { type: 'adam', lr: 1e-2 } });
    expect(right.training).toMatchObject({ epochs: 39, keepBest: { monitor: 'validation.accuracy.1' } });
    // The reference's budget on request: 100 epochs, halved every 30.
    expect(mgdaConfig({ ...base, baselineEpochs: 100 }).training).toMatchObject({
      epochs: 100,
      lrSchedule: { every: 30 },
    });
    expect(left.training).toMatchObject({ keepBest: { monitor: 'validation.accuracy.0' } });
    // Same data as the paper's method.
    expect(mgda.dataset).toEqual(searchConfig({ ...base, minZeroRows: 1 }).dataset);
    expect([FULL, QUICK, TINY].map((s) => baselineLrEvery(s.baselineEpochs))).toEqual([12, 2, 1]);
  });

  it('refuses options that do not apply to a baseline, and an unknown method', async () => {
    const refused = async (o: Record<string, unknown>) => {
      try {
        await reproduce({ mode: 'tiny', outDir: join(root, 'bad-method'), cacheDir, ...o });
      } catch (e) {
        const err = e as { name: string; code: string; issues: { path: string }[] };
        return `${err.name}:${err.code}:${err.issues.map((i) => i.path).join(',')}`;
      }
      return 'none';
    };
    expect(await refused({ method: 'pcgrad' })).toBe('Hotegni2023Error:INVALID_OPTIONS:method');
    expect(await refused({ method: 'mgda-ub', vectors: [MAIN_VECTOR] })).toBe(
      'Hotegni2023Error:INVALID_OPTIONS:vectors',
    );
    expect(await refused({ method: 'single-task', model: 'mdmtn', form: 'reference' })).toBe(
      'Hotegni2023Error:INVALID_OPTIONS:form,model',
    );
    expect(existsSync(join(root, 'bad-method'))).toBe(false);
    expect(await refused({ method: 'mgda-ub', baselineEpochs: 0 })).toBe(
      'Hotegni2023Error:INVALID_OPTIONS:baselineEpochs',
    );
    expect(await refused({ baselineEpochs: 10 })).toBe('Hotegni2023Error:INVALID_OPTIONS:baselineEpochs');
    expect(optionsFromArgs({ method: 'mgda-ub', epochs: '100' })).toEqual({
      method: 'mgda-ub',
      baselineEpochs: 100,
    });
  });

  let mgda: ReproduceSummary;
  let single: ReproduceSummary;
  it('MGDA-UB trains MDMTN with the min-norm weights of the shared trunk and reports the best-validation epoch', async () => {
    const out = join(root, 'mgda');
    mgda = await reproduce({ mode: 'tiny', outDir: out, seed: 0, method: 'mgda-ub', cacheDir });
    expect(mgda).toMatchObject({
      method: 'mgda-ub',
      model: 'mdmtn',
      parameters: { network: 311_490, alphas: 4 },
    });
    const r = mgda.results[0]!;
    expect(r).toMatchObject({ vector: null, method: 'mgda-ub', searchMetSparsity: null });
    expect(r.phases.map((p) => p.phase)).toEqual(['mgda']);
    expect(r.dir).toBe(join(out, 'mgda-ub'));
    expect(r.testAccuracy).toHaveLength(2);
    expect(r.figures.rows).toBe(6193);
    // Every step logs its min-norm weights: on the simplex, and chosen (not the fixed ½, ½).
    const steps = readFileSync(join(r.dir, 'mgda', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"type":"step"'))
      .map((l) => JSON.parse(l) as { weights: number[] });
    expect(steps.length).toBe(4);
    for (const s of steps) expect(s.weights[0]! + s.weights[1]!).toBeCloseTo(1, 6);
    expect(steps.some((s) => Math.abs(s.weights[0]! - 0.5) > 1e-3)).toBe(true);
    const files = await writeSummary(out, mgda);
    const md = readFileSync(files[0]!, 'utf8');
    expect(md).toContain('baseline: MDMTN by MGDA-UB');
    expect(md).toContain('MDMTN by MGDA-UB (per step the min-norm combination');
    // The learning curve of both tasks, one point per epoch.
    expect(r.phases[0]!.validationCurve).toHaveLength(1);
    expect(r.phases[0]!.validationCurve[0]).toEqual(r.validationAccuracy);
    expect(files).toContain(join(out, 'curves.svg'));
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toContain('<svg');
  }, 120_000);

  it('single-task: one HPS-trunk network per task, each kept on its own task; the untrained head not counted', async () => {
    const out = join(root, 'single');
    single = await reproduce({ mode: 'tiny', outDir: out, seed: 0, method: 'single-task', cacheDir });
    // Two trunks with one head each: 2 × (22,350 − 510).
    expect(single).toMatchObject({
      method: 'single-task',
      model: 'hps',
      parameters: { network: 43_680, alphas: 0 },
    });
    const r = single.results[0]!;
    expect(r.phases.map((p) => p.phase)).toEqual(['single-left', 'single-right']);
    // Rows of each network without the other head: 1 + 10 + 320 + 50.
    expect(r.figures.rows).toBe(2 * 381);
    expect(r.figures.weights).toBe(43_680);
    for (const [t, phase] of (['single-left', 'single-right'] as const).entries()) {
      const result = JSON.parse(readFileSync(join(r.dir, phase, 'result.json'), 'utf8')) as {
        best: { test: { accuracy: number[] }; validation: { accuracy: number[] } };
        history: { validation: { accuracy: number[] } }[];
      };
      expect(r.testAccuracy[t]).toBe(result.best.test.accuracy[t]);
      expect(r.validationAccuracy[t]).toBe(result.best.validation.accuracy[t]);
    }
    // The left network trained its own head only: the right head (task2.fc, left out of the counts) is as initialized.
    const init = createNetwork(hps({ variant: 'multiMnist' }), { seed: streamSeeds(0).init });
    const left = loadNetworkSnapshot(join(r.dir, 'single-left', 'best'))!;
    const same = (node: string) =>
      Array.from(left.net.params.get(`${node}/kernel`)!.dataSync()).every(
        (x, i) => x === init.params.get(`${node}/kernel`)!.dataSync()[i],
      );
    expect([same('task1.fc'), same('task2.fc')]).toEqual([false, true]);
    init.dispose();
    left.net.dispose();
    const file = join(root, 'methods.md');
    writeMethods(file, [mgda, { ...single, machine: '64 × Other CPU, MOPRUNE_NATIVE_THREADS=8' }]);
    const table = readFileSync(file, 'utf8');
    expect(table).toContain(`trained on: ${machineDescription()}; 64 × Other CPU, MOPRUNE_NATIVE_THREADS=8.`);
    for (const row of ['MDMTN by MGDA-UB', 'single-task networks', 'reference code, k = (0.001, 0.2, 0.799)'])
      expect(table).toContain(row);
    expect(table).toContain('43,680');
  }, 120_000);
});

describe('Cifar10Mnist', () => {
  it('without CIFAR-10 stops before training and names the files', async () => {
    const out = join(root, 'c10m-missing');
    await expect(
      reproduce({
        mode: 'tiny',
        outDir: out,
        benchmark: 'cifar10Mnist',
        dataDir: join(root, 'no-cifar'),
        vectors: [MAIN_VECTOR],
        cacheDir,
      }),
    ).rejects.toMatchObject({
      code: 'MISSING_FILES',
      message: expect.stringContaining('cifar-10-batches-bin'),
    });
    expect(existsSync(join(out, 'k0.001-0.2-0.799', 'search'))).toBe(false);
  });

  it("runs both phases on the fixture CIFAR-10 files with the reference's Cifar10Mnist settings", async () => {
    const c = searchConfig({
      scale: FULL,
      vector: MAIN_VECTOR,
      form: 'textbook',
      seed: 0,
      benchmark: 'cifar10Mnist',
      minZeroRows: 1,
    });
    expect(c.model).toEqual({ type: 'mdmtn', variant: 'cifar10Mnist' });
    expect(c.dataset).toMatchObject({
      type: 'cifar10-mnist',
      trainSize: 40_000,
      validationSize: 10_000,
      testSize: 10_000,
    });
    expect(c.solver).toMatchObject({ mu0: 6.8e-8, lrDecay: 0.98, optimizer: { lr: 1e-4 } });
    expect(capRamp(FULL, BENCHMARKS.cifar10Mnist.maxLayerZeroFraction.mdmtn).at(-1)).toBeCloseTo(0.3, 12);
    const s = await reproduce({
      mode: 'tiny',
      outDir: join(root, 'c10m'),
      benchmark: 'cifar10Mnist',
      dataDir: cifarFixtureDataDir,
      sizes: { trainSize: 10, validationSize: 5, testSize: 4 },
      vectors: [MAIN_VECTOR],
      cacheDir,
    });
    const r = s.results[0]!;
    expect(r.benchmark).toBe('cifar10Mnist');
    expect(r.dir).toBe(join(root, 'c10m', 'cifar10mnist-k0.001-0.2-0.799'));
    expect(r.phases.map((p) => p.phase)).toEqual(['search', 'retrain']);
    expect(r.testAccuracy).toHaveLength(2);
    expect(s.parameters).toEqual({ network: 505_524, alphas: 4 });
  }, 120_000);
});
