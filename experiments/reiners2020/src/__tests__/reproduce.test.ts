import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@moprune/backend';
import { validateExperimentConfig } from '@moprune/core';
import { REINERS2020_LAMBDA2_GRID } from '@moprune/solvers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baselineConfig,
  experiment,
  FULL,
  gridLambda2,
  headline,
  isCollapsed,
  madamConfig,
  optionsFromArgs,
  type ProgressEvent,
  QUICK,
  type RunFigures,
  reproduce,
  type SweepSummary,
  smgdConfig,
  validateReproduceOptions,
  vggConfig,
  weightedSumConfig,
} from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'reiners2020-'));

beforeAll(async () => {
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('configs', () => {
  const base = { scale: FULL, seed: 1 };
  it('every full-size config is a valid experiment config', () => {
    for (const c of [
      smgdConfig(base),
      madamConfig(base),
      weightedSumConfig({ ...base, lambda: [0.99, 0.01] }),
      weightedSumConfig({ ...base, lambda: [0.99, 0.01], epochs: FULL.epochs }),
      baselineConfig({ ...base, optimizer: 'adam' }),
      baselineConfig({ ...base, optimizer: 'sgd' }),
      vggConfig(base),
    ]) {
      expect(validateExperimentConfig(c), String(c.name)).toEqual([]);
    }
  });

  it('SMGD on normalized gradients only when asked (beyond the paper)', () => {
    expect(smgdConfig(base).solver).not.toHaveProperty('normalize');
    const balanced = smgdConfig({ ...base, smgdNormalize: 'l2' });
    expect(balanced.solver).toMatchObject({ type: 'smgd', normalize: 'l2', lr: 0.01, momentum: 0.9 });
    expect(balanced.name).toBe('reiners2020-lenet5-smgd-l2-itp');
    expect(validateExperimentConfig(balanced)).toEqual([]);
    expect(vggConfig({ ...base, smgdNormalize: 'loss' }).solver).toMatchObject({ normalize: 'loss' });
    expect(optionsFromArgs({ normalize: 'l2' })).toEqual({ smgdNormalize: 'l2' });
    expect(validateReproduceOptions({ outDir: 'x', smgdNormalize: 'l1' as never })).toEqual([
      { path: 'smgdNormalize', message: 'must be one of none, l2, loss, loss+, got "l1"' },
    ]);
  });

  it('quick mode trains on all of MNIST, evaluates whole splits and searches λ2 between 1e-4 and 1e-3', () => {
    expect(QUICK.limit).toBeUndefined();
    expect(QUICK.evalLimit).toBeUndefined();
    expect(QUICK.gridLambda2).toEqual([1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 1e-3]);
    const knee = weightedSumConfig({
      scale: QUICK,
      seed: 1,
      lambda: [0.9995, 5e-4],
      epochs: QUICK.retrainEpochs ?? 0,
    });
    expect(knee.training).not.toHaveProperty('limit');
    expect(knee.training).toMatchObject({ epochs: 6, validation: { split: 'validation' } });
    expect(smgdConfig({ scale: QUICK, seed: 1 }).training).not.toHaveProperty('limit');
  });

  it("carries the paper's settings", () => {
    const smgd = smgdConfig(base);
    expect(smgd.solver).toEqual({ type: 'smgd', lr: 0.01, momentum: 0.9, decay: 0.01 / 30 });
    expect(smgd.training).toMatchObject({ epochs: 30, batchSize: 32, seed: 1 });
    expect(smgd.pruners).toEqual([{ type: 'itp', threshold: 0.001, regrow: true }]);
    expect(smgd.dataset).toEqual({ type: 'mnist' });
    // Another starting rate keeps decay = lr/epochs.
    expect(smgdConfig({ ...base, smgdLr: 0.1 }).solver).toEqual({
      type: 'smgd',
      lr: 0.1,
      momentum: 0.9,
      decay: 0.1 / 30,
    });
    // k counted in epochs: the same decay spread over the 1,875 steps of an epoch (60,000 / 32).
    expect(smgdConfig({ ...base, smgdDecay: 'epoch' }).solver).toMatchObject({ decay: 0.01 / 30 / 1875 });
    expect(vggConfig({ ...base, smgdDecay: 'epoch' }).solver).toMatchObject({
      decay: 0.01 / 125 / Math.ceil(50_000 / 64),
    });
    expect(smgdConfig({ ...base, regrow: false }).pruners).toEqual([
      { type: 'itp', threshold: 0.001, regrow: false },
    ]);
    // The knee candidates hold out a validation split and never evaluate the test set.
    const candidate = weightedSumConfig({ ...base, lambda: [0.9, 0.1] });
    expect(candidate.dataset).toEqual({ type: 'mnist', validationSize: 5000, splitSeed: 1 });
    expect(candidate.training).toMatchObject({
      epochs: 10,
      evaluateTest: false,
      validation: { split: 'validation' },
    });
    expect(baselineConfig({ ...base, optimizer: 'sgd' }).training).toMatchObject({
      lrSchedule: { type: 'inverseTime', decay: 'lrOverEpochs', unit: 'step' },
    });
    expect(vggConfig(base).training).toMatchObject({ epochs: 125, batchSize: 64 });
  });

  it('spreads a reduced grid over the paper grid, endpoints included', () => {
    const g = gridLambda2(10);
    expect(g).toHaveLength(10);
    expect(g[0]).toBe(0);
    expect(g[9]).toBe(0.1);
    for (let i = 1; i < g.length; i++) expect(g[i]!).toBeGreaterThan(g[i - 1]!);
    expect(gridLambda2(100)).toEqual([...REINERS2020_LAMBDA2_GRID]);
  });
});

describe('reproduce (tiny)', () => {
  it('rejects bad options before any work, naming each field', async () => {
    expect(
      validateReproduceOptions({
        outDir: '',
        mode: 'huge' as 'full',
        strategy: ['grid', 'x' as 'grid'],
        seed: -1,
        smgdDecay: 'update' as 'step',
      }).map((i) => i.path),
    ).toEqual(['mode', 'strategy[1]', 'smgdDecay', 'seed', 'outDir']);
    await expect(reproduce({ outDir: join(root, 'bad'), scale: { epochs: 0 } })).rejects.toMatchObject({
      name: 'Reiners2020Error',
      code: 'INVALID_OPTIONS',
    });
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });

  it('fails fast on the VGG part without CIFAR-10, naming the missing files', async () => {
    const empty = mkdtempSync(join(root, 'no-cifar-'));
    const outDir = join(root, 'vgg');
    const error = await reproduce({ mode: 'tiny', part: 'vgg', outDir, dataDir: empty }).catch((e) => e);
    expect(error).toMatchObject({ name: 'DatasetError', code: 'MISSING_FILES' });
    expect(String(error.message)).toContain('data_batch_1.bin');
    expect(existsSync(outDir)).toBe(false);
  });

  it('runs the knee search end to end: candidates, front, knee, retrain, files; resume reuses them', async () => {
    const outDir = join(root, 'knee');
    const events: ProgressEvent[] = [];
    const before = tf.memory().numTensors;
    const summary = await reproduce({
      mode: 'tiny',
      part: 'knee',
      seed: 3,
      outDir,
      onProgress: (e) => events.push(e),
    });
    expect(tf.memory().numTensors).toBe(before);
    const sweep = summary.knee.grid as SweepSummary;
    expect(sweep.candidates.map((c) => c.lambda)).toEqual([
      [1, 0],
      [0.9, 0.1],
    ]);
    for (const c of sweep.candidates) {
      expect(c.f).toHaveLength(2);
      expect(c.f.every(Number.isFinite)).toBe(true);
      expect(c.figures.status).toBe('completed');
      expect(c.figures.testAccuracy).toBeNull();
      expect(c.figures.validationAccuracy).toBeGreaterThan(0);
      expect(existsSync(join(c.figures.runDir, 'result.json'))).toBe(true);
      expect(existsSync(join(c.figures.runDir, 'config.json'))).toBe(true);
    }
    // λ2 = 0.1 pulls the dense ℓ1 far below the unpenalized run's.
    expect(sweep.candidates[1]!.f[1]!).toBeLessThan(sweep.candidates[0]!.f[1]!);
    expect(sweep.candidates[1]!.figures.denseKernels.removed).toBeGreaterThan(
      sweep.candidates[0]!.figures.denseKernels.removed,
    );
    expect(sweep.front.length).toBeGreaterThanOrEqual(1);
    expect(sweep.front).toContain(sweep.knee);
    const f2 = sweep.front.map((i) => sweep.candidates[i]!.f[1]!);
    expect(f2).toEqual([...f2].sort((a, b) => a - b));
    expect(sweep.selectedOn).toBe('validation');
    expect(sweep.kneeRule).toContain('kneeByDistance');
    expect(sweep.hypervolume.value).toBeGreaterThan(0);
    expect(sweep.retrain?.status).toBe('completed');
    expect(sweep.retrain?.testAccuracy).toBeGreaterThan(0);
    expect(sweep.retrain?.denseKernels.total).toBe(58_920);
    expect(Object.keys(sweep.retrain?.denseLayers ?? {}).sort()).toEqual(['fc1', 'fc2', 'fc3']);
    const onDisk = readJson(join(outDir, 'knee-grid', 'sweep.json'));
    expect(onDisk.front).toEqual(sweep.front);
    expect(onDisk.knee).toBe(sweep.knee);
    expect(readJson(join(outDir, 'summary.json')).knee.grid.knee).toBe(sweep.knee);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(3);
    expect(events.at(-1)?.type).toBe('knee');

    // Resuming reuses every completed run untouched (same config.json).
    const result = join(outDir, 'knee-grid', 'retrain', 'result.json');
    const mtime = statSync(result).mtimeMs;
    const again: ProgressEvent[] = [];
    const resumed = await reproduce({
      mode: 'tiny',
      part: 'knee',
      seed: 3,
      outDir,
      resume: true,
      onProgress: (e) => again.push(e),
    });
    expect(again.filter((e) => e.type === 'run-end').every((e) => e.type === 'run-end' && e.reused)).toBe(
      true,
    );
    expect(again.some((e) => e.type === 'epoch')).toBe(false);
    expect(statSync(result).mtimeMs).toBe(mtime);
    expect(resumed.knee.grid?.knee).toBe(sweep.knee);
  });

  // The dichotomic search runs the same path (its λ rule is tested in @moprune/solvers).
  it('leaves collapsed candidates out of the knee rule, retrains the knee on further seeds, and takes the CLI options', async () => {
    const outDir = join(root, 'seeds');
    const summary = await reproduce({ mode: 'tiny', part: 'knee', seed: 3, retrainSeeds: [3, 4], outDir });
    const sweep = summary.knee.grid!;
    expect(sweep.retrains.map((r) => r.runDir)).toEqual([
      join(outDir, 'knee-grid', 'retrain'),
      join(outDir, 'knee-grid-retrains', 'seed-4'),
    ]);
    expect(sweep.retrains[0]).toEqual(sweep.retrain);
    expect(sweep.retrains[1]!.status).toBe('completed');
    // Another seed, another network.
    expect(sweep.retrains[1]!.testAccuracy).not.toBe(sweep.retrain!.testAccuracy);
    expect(sweep.collapsed).toEqual(
      sweep.candidates.flatMap((c, i) => ((c.figures.validationAccuracy ?? 1) <= 0.2 ? [i] : [])),
    );
    expect(sweep.collapsed).not.toContain(sweep.knee);
    expect(Number.isInteger(sweep.allCandidatesKnee)).toBe(true);
    expect(sweep.candidates[sweep.referenceExpressionKnee]).toBeDefined();
    expect(headline(summary).join('\n')).toContain('retrained on 2 seeds');
    const f = (acc: number | null) => ({ validationAccuracy: acc }) as RunFigures;
    expect([isCollapsed(f(0.118)), isCollapsed(f(0.2)), isCollapsed(f(0.21)), isCollapsed(f(null))]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(
      optionsFromArgs({
        part: 'knee',
        strategy: 'grid,bisection',
        'retrain-seeds': '2,3',
        mask: true,
        lr: '0.1',
      }),
    ).toEqual({
      part: 'knee',
      strategy: ['grid', 'bisection'],
      retrainSeeds: [2, 3],
      regrow: false,
      smgdLr: 0.1,
    });
    expect(validateReproduceOptions({ outDir, ...optionsFromArgs({ 'retrain-seeds': '2,x' }) })).toEqual([
      { path: 'retrainSeeds[1]', message: 'must be an integer ≥ 0, got NaN' },
    ]);
    expect(
      validateReproduceOptions({ outDir, scale: { gridLambda2: [1e-4, -1], retrainEpochs: 0 } }),
    ).toEqual([
      { path: 'scale.retrainEpochs', message: 'must be an integer ≥ 1, got 0' },
      { path: 'scale.gridLambda2[1]', message: 'must be a number in [0, 1), got -1' },
    ]);
  });

  it("a scale's own λ2 grid and retrain length are what the knee search runs", async () => {
    const outDir = join(root, 'own-grid');
    const summary = await reproduce({
      mode: 'tiny',
      part: 'knee',
      seed: 2,
      outDir,
      scale: { gridLambda2: [2e-4, 7e-4, 3e-3], retrainEpochs: 2 },
    });
    const sweep = summary.knee.grid!;
    expect(sweep.candidates.map((c) => c.lambda)).toEqual([
      [1 - 2e-4, 2e-4],
      [1 - 7e-4, 7e-4],
      [1 - 3e-3, 3e-3],
    ]);
    expect(sweep.candidates.every((c) => c.figures.epochsCompleted === 1)).toBe(true);
    expect(sweep.retrain!.epochsCompleted).toBe(2);
  });

  it('runs an adaptive strategy (bisection) up to its evaluation cap', async () => {
    const outDir = join(root, 'adaptive');
    const summary = await reproduce({
      mode: 'tiny',
      part: 'knee',
      strategy: 'bisection',
      seed: 3,
      outDir,
      scale: { maxCandidates: 3 },
    });
    const sweep = summary.knee.bisection!;
    const lambdas = sweep.candidates.map((c) => c.lambda);
    expect(lambdas).toHaveLength(3);
    expect(lambdas.slice(0, 2)).toEqual([
      [1, 0],
      [0.9, 0.1],
    ]);
    const third = lambdas[2]!;
    expect(third[0]! + third[1]!).toBeCloseTo(1, 12);
    // Both initial candidates are non-dominated (λ2 = 0.1 trades CE for ℓ1): their midpoint comes next.
    expect(third[1]!).toBeCloseTo(0.05, 12);
    expect(existsSync(join(outDir, 'knee-bisection', 'sweep.json'))).toBe(true);
    expect(sweep.retrain?.status).toBe('completed');
  });

  it('runs SMGD + ITP, logging c1/c2, and summarizes it in the headline lines', async () => {
    const outDir = join(root, 'smgd');
    const summary = await reproduce({ mode: 'tiny', part: 'smgd', seed: 5, outDir });
    const smgd = summary.runs.smgd!;
    expect(smgd.status).toBe('completed');
    expect(smgd.testAccuracy).toBeGreaterThan(0.1);
    expect(smgd.denseKernels.nonzero).toBe(
      Object.values(smgd.denseLayers).reduce((a, l) => a + l.nonzero, 0),
    );
    expect(smgd.objectives?.f2).toBeGreaterThan(smgd.params!.denseL1);
    const metrics = readFileSync(join(outDir, 'smgd', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    // SMGD logs its min-norm weights (c1, c2) on the simplex.
    const step = metrics.map((l) => JSON.parse(l)).find((r) => r.type === 'step');
    expect(step.weights).toHaveLength(2);
    expect(step.weights[0] + step.weights[1]).toBeCloseTo(1, 9);
    const lines = headline(summary);
    // The terminal table first: header, rule, the run, the paper's marked solution, the footnote; then one line per run.
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(
      /^run +epochs +test acc\. +dense removed +kept fc1 \/ fc2 \/ fc3 +params\* +MACs\* +wall$/,
    );
    const kept = Object.values(smgd.denseLayers).map((l) => l.nonzero.toLocaleString('en-US'));
    expect(lines[2]).toContain(`${(100 * smgd.testAccuracy!).toFixed(2)}%`);
    expect(lines[2]).toContain(`${(100 * smgd.denseKernels.removed).toFixed(2)}%`);
    expect(lines[2]).toContain(kept.join(' / '));
    expect(smgd.compacted!.params).toBeGreaterThan(0);
    expect(lines[2]).toMatch(/^smgd +1 +/);
    expect(lines[3]).toMatch(/^paper: marked LeNet-5 solution .* 98\.90% +95\.63% +2,107 \/ 300 \/ 170 /);
    expect(lines[6]).toMatch(/^smgd: completed, 1 epochs, test accuracy \d+\.\d\d%, dense weights removed/);
    expect(experiment.name).toBe('reiners2020');
    expect(Object.keys(experiment.modes)).toEqual(['quick', 'full']);
  });
});

describe('the reproduce script', () => {
  it("reads its options after pnpm's `--` (`pnpm reproduce -- --quick`)", () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/run.ts', '--', '--quick', '--full'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.stderr).toContain('choose one of --quick and --full');
    expect(r.status).not.toBe(0);
  });
});
