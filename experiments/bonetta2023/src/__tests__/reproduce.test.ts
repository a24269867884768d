import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@moprune/backend';
import { type JsonObject, loadNetworkSnapshot, validateExperimentConfig } from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATASETS,
  FULL,
  METHODS,
  NETS,
  optionsFromArgs,
  pretrainConfig,
  pruneConfig,
  QUICK,
  type ReproduceOptions,
  type ReproduceSummary,
  reproduce,
  retrainConfig,
  retrainedIsChosen,
  seedRows,
  spread,
  transformerPretrainConfig,
  transformerPruneConfig,
  validateReproduceOptions,
  writeSummary,
} from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'bonetta2023-'));

beforeAll(async () => {
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('configs', () => {
  const base = { scale: FULL, seed: 1 };
  it('every full-size config is a valid experiment config', () => {
    for (const net of NETS) {
      for (const dataset of DATASETS) {
        expect(validateExperimentConfig(pretrainConfig({ ...base, net, dataset }))).toEqual([]);
        expect((pretrainConfig({ ...base, net, dataset }).training as JsonObject).lrSchedule).toEqual({
          type: 'cosine',
        });
        expect(pretrainConfig({ ...base, scale: QUICK, net, dataset }).training).not.toHaveProperty(
          'lrSchedule',
        );
        for (const method of METHODS) {
          const c = pruneConfig({ ...base, net, dataset, method, pretrained: '/x/best' });
          expect(validateExperimentConfig(c), String(c.name)).toEqual([]);
        }
      }
    }
    expect(validateExperimentConfig(transformerPretrainConfig(FULL))).toEqual([]);
    expect(
      validateExperimentConfig(transformerPruneConfig({ ...base, pretrained: '/t/best', floor: 0.9 })),
    ).toEqual([]);
  });

  it("carries the paper's protocol, and the same harness for every method", () => {
    const c = pruneConfig({
      ...base,
      net: 'lenet5',
      dataset: 'mnist',
      method: 'relevance',
      pretrained: '/p/best',
    });
    expect(c.model).toEqual({ type: 'lenet5', variant: 'caffe' });
    expect(c.dataset).toEqual({ type: 'mnist', validationSize: 5000, splitSeed: 0 });
    expect(c.training).toMatchObject({ epochs: 120, batchSize: 100, seed: 1, initFrom: '/p/best' });
    expect(c.objectives).toEqual([
      { type: 'crossEntropy' },
      {
        type: 'selectiveWeightDecay',
        alpha: 1,
        gamma: 1e-3,
        factor: 'exponential',
        params: { roles: ['kernel', 'bias'] },
      },
    ]);
    expect(c.solver).toEqual({
      type: 'weighted-sum',
      weights: [0.5, 0.5],
      optimizer: { type: 'adam', lr: 1e-3 },
    });
    // 55,000 training images at batch 100: γ decays to 0 over the epoch's 550 steps.
    expect(c.pruners).toEqual([
      {
        type: 'relevance',
        every: 250,
        floor: 0.98,
        params: { roles: ['kernel', 'bias'] },
        evaluateTest: true,
        keep: { rule: 'sparsest' },
        fraction: 0.04,
        gamma: { initial: 1e-3, decaySteps: 550 },
      },
    ]);
    const fashion = pruneConfig({
      ...base,
      net: 'lenet5',
      dataset: 'fashion',
      method: 'relevance',
      pretrained: '/p/best',
    });
    expect(fashion.training).toMatchObject({ epochs: 75 });
    expect((fashion.pruners as JsonObject[])[0]).toMatchObject({ floor: 0.905 });
    const harness = (x: JsonObject) => {
      const p = (x.pruners as JsonObject[])[0]!;
      return {
        training: x.training,
        dataset: x.dataset,
        every: p.every,
        floor: p.floor,
        params: p.params,
        keep: p.keep,
      };
    };
    for (const method of METHODS) {
      const m = pruneConfig({ ...base, net: 'lenet5', dataset: 'mnist', method, pretrained: '/p/best' });
      expect(harness(m), method).toEqual(harness(c));
    }
    // A sparsity cap (our extension) reaches every method's pruner; without it none has one.
    for (const method of METHODS) {
      const capped = pruneConfig({
        ...base,
        net: 'lenet5',
        dataset: 'mnist',
        method,
        pretrained: '/p',
        maxSparsity: 0.99,
      });
      expect((capped.pruners as JsonObject[])[0], method).toMatchObject({ maxSparsity: 0.99 });
      const plain = pruneConfig({ ...base, net: 'lenet5', dataset: 'mnist', method, pretrained: '/p' });
      expect((plain.pruners as JsonObject[])[0], method).not.toHaveProperty('maxSparsity');
    }
    // A moving average of the weights (our extension) reaches every method's training; without it none has one.
    for (const method of METHODS) {
      const o = { ...base, net: 'lenet300' as const, dataset: 'mnist' as const, method, pretrained: '/p' };
      expect(pruneConfig({ ...o, averaging: 0.999 }).training, method).toMatchObject({
        averaging: { decay: 0.999 },
      });
      expect(pruneConfig(o).training, method).not.toHaveProperty('averaging');
    }
    // The companion code's factor, as an option.
    const ref = pruneConfig({
      ...base,
      net: 'lenet5',
      dataset: 'mnist',
      method: 'relevance',
      pretrained: '/p',
      factor: 'reference',
    });
    expect((ref.objectives as JsonObject[])[1]).toMatchObject({ factor: 'reference' });
    // LOBSTER's decay is decoupled (after the optimizer step).
    const lobster = pruneConfig({
      ...base,
      net: 'lenet5',
      dataset: 'mnist',
      method: 'lobster',
      pretrained: '/p',
    });
    expect((lobster.objectives as JsonObject[])[1]).toMatchObject({
      factor: 'lobster',
      decoupled: true,
      gamma: 1e-4,
    });
  });
});

describe('the LeNet-300-100 dense-start and rate options', () => {
  const base = { scale: FULL, seed: 1, net: 'lenet300' as const, dataset: 'mnist' as const };
  it('dropout goes into the model of the dense start and of every pruning run, epochs into the dense start, the rate into every method', () => {
    const pre = pretrainConfig({ ...base, dropout: 0.2, pretrainEpochs: 100 });
    expect(validateExperimentConfig(pre)).toEqual([]);
    expect(pre.model).toEqual({ type: 'lenet-300-100', init: 'torchDefault', dropout: { hidden: 0.2 } });
    expect((pre.training as JsonObject).epochs).toBe(100);
    expect(pretrainConfig(base).model).toEqual({ type: 'lenet-300-100', init: 'torchDefault' });
    expect((pretrainConfig(base).training as JsonObject).epochs).toBe(20);
    for (const method of ['relevance', 'lobster', 'tartaglione', 'magnitude'] as const) {
      const c = pruneConfig({ ...base, method, pretrained: '/p/best', dropout: 0.2, lr: 1e-4 });
      expect(validateExperimentConfig(c)).toEqual([]);
      expect(c.model).toEqual(pre.model);
      expect(((c.solver as JsonObject).optimizer as JsonObject).lr).toBe(1e-4);
      const plain = pruneConfig({ ...base, method, pretrained: '/p/best' });
      expect(((plain.solver as JsonObject).optimizer as JsonObject).lr).toBe(1e-3);
    }
    // The pretraining rate stays the paper's.
    expect(((pre.solver as JsonObject).optimizer as JsonObject).lr).toBe(1e-3);
  });

  it("LeNet-5's dropout goes after its hidden dense layer, in the dense start and every pruning run", () => {
    const five = { ...base, net: 'lenet5' as const };
    const pre = pretrainConfig({ ...five, dropout: 0.2 });
    expect(validateExperimentConfig(pre)).toEqual([]);
    expect(pre.model).toEqual({ type: 'lenet5', variant: 'caffe', dropout: { hidden: 0.2 } });
    expect(pretrainConfig(five).model).toEqual({ type: 'lenet5', variant: 'caffe' });
    for (const method of ['relevance', 'lobster', 'tartaglione', 'magnitude'] as const)
      expect(pruneConfig({ ...five, method, pretrained: '/p/best', dropout: 0.2 }).model).toEqual(pre.model);
  });

  it("the pruning budget goes into every method's run, the dense start keeps its own", () => {
    for (const method of ['relevance', 'lobster', 'tartaglione', 'magnitude'] as const) {
      const c = pruneConfig({ ...base, method, pretrained: '/p/best', epochs: 200 });
      expect(validateExperimentConfig(c)).toEqual([]);
      expect((c.training as JsonObject).epochs).toBe(200);
      expect((pruneConfig({ ...base, method, pretrained: '/p/best' }).training as JsonObject).epochs).toBe(
        120,
      );
      expect(
        (pruneConfig({ ...base, dataset: 'fashion', method, pretrained: '/p/best' }).training as JsonObject)
          .epochs,
      ).toBe(75);
    }
    expect(optionsFromArgs({ epochs: '200' })).toMatchObject({ epochs: 200 });
    expect(validateReproduceOptions({ outDir: root, epochs: 200 })).toEqual([]);
    for (const epochs of [0, 2.5, -1])
      expect(validateReproduceOptions({ outDir: root, epochs }).map((i) => i.path)).toEqual(['epochs']);
  });

  it('retraining: cross-entropy alone from the kept snapshot, the rate annealed, the best-validation epoch', () => {
    const c = retrainConfig({
      ...base,
      method: 'relevance',
      from: '/run/final',
      epochs: 40,
      dropout: 0.2,
      lr: 3e-4,
    });
    expect(validateExperimentConfig(c)).toEqual([]);
    expect(c).toMatchObject({
      model: { type: 'lenet-300-100', dropout: { hidden: 0.2 } },
      objectives: [{ type: 'crossEntropy' }],
      solver: { weights: [1], optimizer: { type: 'adam', lr: 3e-4 } },
      training: {
        epochs: 40,
        initFrom: '/run/final',
        lrSchedule: { type: 'cosine' },
        keepBest: { monitor: 'validation.accuracy' },
      },
    });
    expect(c).not.toHaveProperty('pruners');
    // The same model and data as the pruning run it continues (initFrom needs the same network spec).
    const prune = pruneConfig({ ...base, method: 'relevance', pretrained: '/p/best', dropout: 0.2 });
    expect(c.model).toEqual(prune.model);
    expect(c.dataset).toEqual(prune.dataset);
    // Chosen above the floor and above the kept check's validation accuracy, both strictly.
    expect(retrainedIsChosen(0.98, 0.981, 0.98)).toBe(true);
    expect(retrainedIsChosen(0.981, 0.981, 0.98)).toBe(false);
    expect(retrainedIsChosen(0.975, 0.979, 0.98)).toBe(false);
    expect(retrainedIsChosen(0.975, 0.98, 0.98)).toBe(false);
    expect(optionsFromArgs({ 'retrain-epochs': '40' })).toMatchObject({ retrainEpochs: 40 });
    for (const retrainEpochs of [0, 2.5])
      expect(validateReproduceOptions({ outDir: root, retrainEpochs }).map((i) => i.path)).toEqual([
        'retrainEpochs',
      ]);
    expect(optionsFromArgs({ 'retrain-dropout': '0' })).toMatchObject({ retrainDropout: 0 });
    // The ranking reaches relevance's and magnitude's pruner (LOBSTER and Tartaglione keep their own cuts).
    for (const method of ['relevance', 'magnitude'] as const) {
      const ranked = pruneConfig({ ...base, method, pretrained: '/p/best', ranking: 'fanIn' });
      expect(validateExperimentConfig(ranked)).toEqual([]);
      expect((ranked.pruners as JsonObject[])[0]).toMatchObject({ ranking: 'fanIn' });
      expect(
        (pruneConfig({ ...base, method, pretrained: '/p/best' }).pruners as JsonObject[])[0],
      ).not.toHaveProperty('ranking');
    }
    expect(optionsFromArgs({ ranking: 'fanIn' })).toMatchObject({ ranking: 'fanIn' });
    expect(validateReproduceOptions({ outDir: root, ranking: 'l2' as never }).map((i) => i.path)).toEqual([
      'ranking',
    ]);
    expect(validateReproduceOptions({ outDir: root, retrainEpochs: 40, retrainDropout: 0 })).toEqual([]);
    expect(
      validateReproduceOptions({ outDir: root, nets: ['lenet300'], retrainEpochs: 40, retrainDropout: 0.2 }),
    ).toEqual([]);
    const paths = (o: Partial<Parameters<typeof validateReproduceOptions>[0]>) =>
      validateReproduceOptions({ outDir: root, ...o }).map((i) => i.path);
    expect(paths({ retrainDropout: 0 })).toEqual(['retrainDropout']);
    expect(paths({ retrainEpochs: 40, retrainDropout: 0.2 })).toEqual(['retrainDropout']);
    expect(paths({ nets: ['lenet300'], retrainEpochs: 40, retrainDropout: 1 })).toEqual(['retrainDropout']);
    // Distilled from the dense start: cross-entropy and the distillation term, weighted (1 − w, w).
    const kd = retrainConfig({
      ...base,
      method: 'relevance',
      from: '/run/final',
      epochs: 40,
      dropout: 0.2,
      distill: { teacher: '/p/best', temperature: 4, weight: 0.9 },
    });
    expect(validateExperimentConfig(kd)).toEqual([]);
    expect(kd.objectives).toEqual([
      { type: 'crossEntropy' },
      { type: 'distillation', teacher: '/p/best', temperature: 4 },
    ]);
    const [ce, soft] = (kd.solver as { weights: number[] }).weights;
    expect([ce, soft]).toEqual([1 - 0.9, 0.9]);
    expect({ ...kd, objectives: c.objectives, solver: c.solver }).toEqual(c);
    expect(optionsFromArgs({ 'retrain-distill': '4', 'retrain-distill-weight': '0.5' })).toMatchObject({
      retrainDistill: 4,
      retrainDistillWeight: 0.5,
    });
    expect(paths({ retrainEpochs: 40, retrainDistill: 4, retrainDistillWeight: 1 })).toEqual([]);
    expect(paths({ retrainDistill: 4 })).toEqual(['retrainDistill']);
    expect(paths({ retrainEpochs: 40, retrainDistill: 0 })).toEqual(['retrainDistill']);
    expect(paths({ retrainEpochs: 40, retrainDistill: 4, retrainDistillWeight: 0 })).toEqual([
      'retrainDistillWeight',
    ]);
    expect(paths({ retrainEpochs: 40, retrainDistillWeight: 0.5 })).toEqual(['retrainDistillWeight']);
  });

  it('refuses a bad dropout, epoch count or rate, and dropout without the image networks it applies to', () => {
    expect(
      validateReproduceOptions({
        outDir: root,
        nets: ['lenet300'],
        dropout: 1,
        pretrainEpochs: 2.5,
        lr: 0,
      }).map((i) => i.path),
    ).toEqual(['dropout', 'pretrainEpochs', 'lr']);
    const refusal = [
      {
        path: 'dropout',
        message:
          "applies to the image networks' hidden dense layers: name them with nets ['lenet300'] and/or ['lenet5'] (--net lenet300,lenet5)",
      },
    ];
    expect(validateReproduceOptions({ outDir: root, dropout: 0.2 })).toEqual(refusal);
    expect(validateReproduceOptions({ outDir: root, nets: ['lenet300'], dropout: 0.2 })).toEqual([]);
    expect(validateReproduceOptions({ outDir: root, nets: ['lenet300', 'lenet5'], dropout: 0.2 })).toEqual(
      [],
    );
    expect(optionsFromArgs({ dropout: '0.2', 'pretrain-epochs': '100', lr: '1e-4' })).toMatchObject({
      dropout: 0.2,
      pretrainEpochs: 100,
      lr: 1e-4,
    });
  });

  it('a missing dense start of other options has its own directory and names the command with them', async () => {
    await expect(
      reproduce({
        mode: 'full',
        outDir: join(root, 'full-d', 'out'),
        nets: ['lenet300'],
        datasets: ['mnist'],
        transformer: false,
        dropout: 0.2,
        pretrainEpochs: 100,
      }),
    ).rejects.toMatchObject({
      code: 'MISSING_PRETRAINED',
      message: expect.stringMatching(
        /pretrained-full\/lenet300-mnist-e100-d0\.2;.*\n.*--full --pretrain --net lenet300 --dataset mnist --method relevance --pretrain-epochs 100 --dropout 0\.2/,
      ),
    });
  });
});

describe('bad input is refused before training', () => {
  it('lists every bad option', async () => {
    const issues = validateReproduceOptions({
      outDir: root,
      alpha: 0,
      gamma: -1,
      fraction: 1,
      maxSparsity: 1,
      methods: ['relevance', 'obd' as never],
      nets: ['vgg' as never],
    });
    expect(issues.map((i) => i.path)).toEqual([
      'methods',
      'nets',
      'alpha',
      'gamma',
      'fraction',
      'maxSparsity',
    ]);
    const out = join(root, 'bad');
    await expect(reproduce({ mode: 'tiny', outDir: out, alpha: -1 })).rejects.toMatchObject({
      name: 'Bonetta2023Error',
      code: 'INVALID_OPTIONS',
    });
    expect(existsSync(out)).toBe(false);
    // The command line's numbers go through the same checks (NaN included).
    expect(
      validateReproduceOptions({
        outDir: root,
        ...optionsFromArgs({ fraction: 'x', floor: '1.5', 'max-sparsity': '0', averaging: '1' }),
      }).map((i) => i.path),
    ).toEqual(['fraction', 'floor', 'maxSparsity', 'averaging']);
    expect(optionsFromArgs({ 'max-sparsity': '0.99', averaging: '0.999' })).toMatchObject({
      maxSparsity: 0.99,
      averaging: 0.999,
    });
    expect(optionsFromArgs({ net: 'transformer' })).toMatchObject({ images: false, transformer: true });
    expect(optionsFromArgs({ net: 'lenet5,transformer', method: 'relevance' })).toMatchObject({
      nets: ['lenet5'],
      transformer: true,
      methods: ['relevance'],
    });
  });

  it('a missing pretrained checkpoint names the command that makes it (full mode never pretrains by itself)', async () => {
    await expect(
      reproduce({
        mode: 'full',
        outDir: join(root, 'full', 'out'),
        nets: ['lenet5'],
        datasets: ['fashion'],
        transformer: false,
      }),
    ).rejects.toMatchObject({
      name: 'Bonetta2023Error',
      code: 'MISSING_PRETRAINED',
      message: expect.stringContaining(
        'moprune reproduce bonetta2023 --full --pretrain --net lenet5 --dataset fashion',
      ),
    });
  });
});

describe('tiny end-to-end', () => {
  let summary: ReproduceSummary;
  const out = join(root, 'tiny', 'out');

  beforeAll(async () => {
    summary = await reproduce({ mode: 'tiny', outDir: out, seed: 2 });
  }, 300_000);
  /** The relevance run of `out` again, resumed (its pruning run reused), with `extra` options. */
  const rerunRelevance = (extra: Partial<ReproduceOptions>) =>
    reproduce({
      mode: 'tiny',
      outDir: out,
      seed: 2,
      resume: true,
      methods: ['relevance'],
      transformer: false,
      ...extra,
    });

  it('pretrains, runs the four methods on one harness and the Transformer block, and writes the summary', async () => {
    expect(summary.interrupted).toBe(false);
    const c = summary.cases[0]!;
    expect(Object.keys(c.runs)).toEqual(['relevance', 'lobster', 'tartaglione', 'magnitude']);
    for (const f of Object.values(c.runs)) {
      expect(f.status).toBe('completed');
      expect(f.checks.length).toBeGreaterThan(0);
      // The run ended with its kept checkpoint: its pruned entries are the check's.
      const snap = loadNetworkSnapshot(join(f.runDir, 'final'))!;
      let live = 0;
      for (const name of ['fc1', 'fc2', 'fc3'].flatMap((n) => [`${n}/kernel`, `${n}/bias`])) {
        const m = snap.net.getMask(name);
        live += m ? Array.from(m.dataSync()).filter((v) => v !== 0).length : snap.net.params.get(name)!.size;
      }
      snap.net.dispose();
      expect(live, f.method).toBe(f.kept!.live);
      // The best-validation check at the acceptance's sparsity (1.5% here), chosen on validation alone.
      const atTarget = f.checks.filter((k) => k.live <= 0.015 * k.total);
      const bestVal = Math.max(...atTarget.map((k) => k.validationAccuracy));
      expect(f.bestAtTarget?.step ?? null, f.method).toBe(
        atTarget.length === 0
          ? null
          : atTarget.filter((k) => k.validationAccuracy === bestVal).sort((x, y) => x.live - y.live)[0]!.step,
      );
      expect(f.deployment!.compactionMaxError).toBeLessThan(1e-4);
      expect('dir' in f.deployment!.export).toBe(true);
    }
    expect(c.secondPass!.ratio).toBeGreaterThan(0);
    const t = summary.transformer!;
    expect(t.run.checks.length).toBeGreaterThan(0);
    // Attention and positional embeddings have no built-in tf.layers equivalent: reported, not exported.
    expect(t.run.deployment!.export).toMatchObject({
      unsupported: expect.stringContaining("op 'embedding'"),
    });
    const files = await writeSummary(out, summary);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual([
      'front-lenet300-mnist.svg',
      'front-transformer.svg',
      'summary.md',
    ]);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('LOBSTER 2022 (approx.)');
    expect(md).toContain('best val. at ≤ 1.5% remaining: % remaining');
    // What selection ran on, as the tiny scale evaluates it (its first 200 held-out images; 100 sequences).
    expect(md).toContain(
      "validation split (image networks: the first 200 of 5,000 training images held out; the Transformer block: its task's own 100 validation sequences)",
    );
    expect(md).toContain("Selective decay's cost per step");
    // No setting changed: none recorded, none stated; a multi-word option is named by its flag.
    expect(summary.settings).toEqual({});
    expect(md).not.toContain('Settings changed');
    const changed = join(root, 'tiny', 'settings-out');
    await writeSummary(changed, { ...summary, settings: { maxSparsity: 0.985, averaging: 0.999 } });
    expect(readFileSync(join(changed, 'summary.md'), 'utf8')).toContain(
      '`--max-sparsity 0.985`, `--averaging 0.999`.',
    );
    expect(readFileSync(join(out, 'front-lenet300-mnist.svg'), 'utf8')).toContain('<svg');
    expect(tf.memory().numTensors).toBeLessThan(50);
  });

  it('aggregates seeds: mean and spread of the kept checkpoints', () => {
    const other = { ...summary, seed: 3 };
    const rows = seedRows([summary, other]);
    const relevance = rows.find((r) => r.method === 'relevance')!;
    expect(relevance.seeds).toEqual([2, 3]);
    expect(relevance.kept!.remaining.mean).toBeCloseTo(summary.cases[0]!.runs.relevance!.kept!.remaining, 12);
    expect(relevance.kept!.remaining.std).toBe(0);
    expect(relevance.denseTestError.mean).toBeCloseTo(1 - summary.cases[0]!.dense.testAccuracy, 12);
    expect(spread([1, 2, 3])).toEqual({ n: 3, mean: 2, std: 1, min: 1, max: 3 });
    // The Transformer block's runs are a row of their own, with the drop against their dense start.
    const block = rows.find((r) => r.net === 'transformer')!;
    expect(block).toMatchObject({ dataset: 'query-count', method: 'relevance', seeds: [2, 3] });
    const kept = summary.transformer!.run.kept!;
    expect(block.kept!.remaining.mean).toBeCloseTo(kept.remaining, 12);
    expect(block.kept!.drop.mean).toBeCloseTo(
      summary.transformer!.dense.testAccuracy - kept.testAccuracy!,
      12,
    );
    // The drop is taken seed by seed: a seed whose dense start is a point worse drops a point less.
    const worseStart = {
      ...summary,
      seed: 4,
      cases: summary.cases.map((c) => ({
        ...c,
        dense: { ...c.dense, testAccuracy: c.dense.testAccuracy - 0.01 },
      })),
    };
    const mixed = seedRows([summary, worseStart]).find((r) => r.method === 'relevance')!;
    expect(mixed.kept!.drop.max - mixed.kept!.drop.min).toBeCloseTo(0.01, 12);
    expect(mixed.kept!.testError.std).toBe(0);
  });

  it('aggregates seeds per floor and mode, and refuses two runs of one seed in a row', () => {
    const c = summary.cases[0]!;
    const lowFloor = { ...summary, seed: 3, cases: [{ ...c, floor: c.floor - 0.01 }] };
    const quick = { ...summary, seed: 4, mode: 'quick' as const };
    const rows = seedRows([summary, lowFloor, quick]).filter(
      (r) => r.net === c.net && r.method === 'relevance',
    );
    expect(rows.map((r) => [r.floor, r.mode, r.seeds])).toEqual([
      [c.floor, 'tiny', [2]],
      [c.floor - 0.01, 'tiny', [3]],
      [c.floor, 'quick', [4]],
    ]);
    const block = seedRows([summary]).find((r) => r.net === 'transformer')!;
    expect(block.floor).toBe(summary.transformer!.floor);
    // The same seed again (a rerun with other options) is not a second seed.
    const rerun = { ...summary, date: '2026-12-06T12:00:00.000Z' };
    let error: (Error & { code?: string; details?: Record<string, unknown> }) | undefined;
    try {
      seedRows([summary, rerun]);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({ name: 'Bonetta2023Error', code: 'DUPLICATE_SEED' });
    expect(error!.message).toContain(`two completed runs of seed 2 for ${c.net} / ${c.dataset} / `);
    expect(error!.details).toMatchObject({ seed: 2, dates: [summary.date, rerun.date] });
    // An interrupted rerun is not a run: nothing to refuse.
    const interrupted = {
      ...rerun,
      cases: [
        {
          ...c,
          runs: Object.fromEntries(
            Object.entries(c.runs).map(([k, f]) => [k, { ...f!, status: 'interrupted' }]),
          ),
        },
      ],
      transformer: null,
    } as typeof summary;
    expect(seedRows([summary, interrupted]).find((r) => r.method === 'relevance')!.seeds).toEqual([2]);
  });

  it('a floor at or above the dense accuracy is refused before pruning', async () => {
    await expect(
      reproduce({ mode: 'tiny', outDir: out, seed: 2, floor: 0.99, transformer: false }),
    ).rejects.toMatchObject({
      name: 'Bonetta2023Error',
      code: 'FLOOR_ABOVE_DENSE',
    });
  });

  it('a dense checkpoint made by another pretraining configuration is refused, not reused', async () => {
    const stale = join(root, 'tiny', 'stale-pretrained');
    cpSync(join(root, 'tiny', 'pretrained-tiny'), stale, { recursive: true });
    const configPath = join(stale, 'lenet300-mnist', 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.training.epochs += 1;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    await expect(
      reproduce({
        mode: 'tiny',
        outDir: join(root, 'tiny', 'stale-out'),
        seed: 2,
        pretrainedDir: stale,
        transformer: false,
      }),
    ).rejects.toMatchObject({
      name: 'Bonetta2023Error',
      code: 'STALE_PRETRAINED',
      message: expect.stringContaining(join(stale, 'lenet300-mnist')),
    });
  });

  it('an interrupted pretraining is not taken for a finished one', async () => {
    // A stopped run leaves result.json (status "interrupted") and a best checkpoint behind.
    const stopped = join(root, 'tiny', 'stopped-pretrained');
    cpSync(join(root, 'tiny', 'pretrained-tiny'), stopped, { recursive: true });
    const resultPath = join(stopped, 'lenet300-mnist', 'result.json');
    const result = JSON.parse(readFileSync(resultPath, 'utf8'));
    writeFileSync(resultPath, JSON.stringify({ ...result, status: 'interrupted', best: null }));
    const lines: string[] = [];
    const capped = await reproduce({
      mode: 'tiny',
      outDir: join(root, 'tiny', 'stopped-out'),
      seed: 2,
      pretrainedDir: stopped,
      methods: ['relevance'],
      transformer: false,
      maxSparsity: 0.2,
      log: (l) => lines.push(l),
    });
    // Tiny mode pretrains when it must: the stopped run is trained again, not reused.
    expect(lines.some((l) => l.includes('lenet300-mnist pretraining'))).toBe(true);
    expect(JSON.parse(readFileSync(resultPath, 'utf8')).status).toBe('completed');
    // The sparsity cap reaches the run's pruner, and no check goes past it (tiny mode cuts 20% a check).
    const run = capped.cases[0]!.runs.relevance!;
    expect(run.kept!.remaining).toBeGreaterThanOrEqual(0.8 - 1e-6);
    expect(run.kept!.remaining).toBeLessThan(1);
  }, 120_000);

  it("reports the best-validation check at the acceptance's sparsity, chosen on validation alone", async () => {
    // Deep cuts (99% of what remains) under a low floor take the run past 1.5% remaining at its first check.
    const deep = await reproduce({
      mode: 'tiny',
      outDir: join(root, 'tiny', 'deep-out'),
      seed: 2,
      methods: ['magnitude'],
      transformer: false,
      fraction: 0.99,
      floor: 0.05,
    });
    const f = deep.cases[0]!.runs.magnitude!;
    const atTarget = f.checks.filter((k) => k.live <= 0.015 * k.total);
    expect(atTarget.length).toBeGreaterThan(1);
    const bestVal = Math.max(...atTarget.map((k) => k.validationAccuracy));
    const expected = atTarget
      .filter((k) => k.validationAccuracy === bestVal)
      .sort((x, y) => x.live - y.live)[0]!;
    expect(f.bestAtTarget).toEqual(expected);
    await writeSummary(join(root, 'tiny', 'deep-out'), deep);
    const md = readFileSync(join(root, 'tiny', 'deep-out', 'summary.md'), 'utf8');
    const row = md.split('\n').find((l) => l.startsWith('| magnitude'))!;
    expect(row).toContain(`| ${(100 * expected.remaining).toFixed(3)}% |`);
    expect(row.trimEnd().endsWith(`| ${expected.step} |`)).toBe(true);
    // The settings this invocation changed are recorded and stated, as their flags.
    expect(deep.settings).toEqual({ fraction: 0.99, floor: 0.05 });
    expect(md).toContain(
      "Settings changed on the command line (everything else at the protocol's defaults): `--fraction 0.99`, `--floor 0.05`.",
    );
  }, 120_000);

  it('retrains the kept network with its masks held, and hands over what validation chooses', async () => {
    const lines: string[] = [];
    const again = await rerunRelevance({ retrainEpochs: 2, log: (l) => lines.push(l) });
    // The pruning run is the completed one, reused; only the retraining trains.
    expect(lines.some((l) => l.includes('relevance: completed earlier, reused'))).toBe(true);
    const f = again.cases[0]!.runs.relevance!;
    const kept = summary.cases[0]!.runs.relevance!.kept!;
    expect(f.kept).toEqual(kept);
    const r = f.retrained!;
    expect(r).toMatchObject({ runDir: `${f.runDir}-retrain-e2`, epochs: 2, remaining: kept.remaining });
    expect(r.chosen).toBe(
      retrainedIsChosen(kept.validationAccuracy, r.validationAccuracy, again.cases[0]!.floor),
    );
    // The masks held: no pruned weight came back in the retrained network.
    const before = loadNetworkSnapshot(join(f.runDir, 'final'))!;
    const after = loadNetworkSnapshot(join(r.runDir, 'best'))!;
    let live = 0;
    for (const name of ['fc1', 'fc2', 'fc3'].flatMap((n) => [`${n}/kernel`, `${n}/bias`])) {
      const zero = before.net.params.get(name)!.dataSync();
      const now = after.net.params.get(name)!.dataSync();
      for (let i = 0; i < now.length; i++) {
        if (zero[i] === 0) expect(now[i] === 0, name).toBe(true);
        if (now[i] !== 0) live++;
      }
    }
    after.net.dispose();
    expect(live).toBeLessThanOrEqual(kept.live);
    expect(again.settings).toEqual({ retrainEpochs: 2 });
    // Reported: the headline, summary.md's retraining table, and the seeds' row of what the runs hand over.
    expect(lines.some((l) => l.includes('retrained 2 epochs: validation error'))).toBe(true);
    const dir = join(root, 'tiny', 'retrain-out');
    await writeSummary(dir, again);
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(md).toContain('Retraining of the kept networks');
    expect(md.split('\n').find((l) => l.startsWith('| relevance | 2 |'))).toContain(
      r.chosen ? '| yes |' : '| no |',
    );
    const row = seedRows([again]).find((x) => x.method === 'relevance')!;
    const handed = r.chosen ? r.testAccuracy : kept.testAccuracy!;
    expect(row.result!.testError.mean).toBeCloseTo(1 - handed, 12);
    expect(row.result!.retrainedChosen).toBe(r.chosen ? 1 : 0);
    // Forced the other way, the row follows the choice.
    const flipped = {
      ...again,
      cases: [{ ...again.cases[0]!, runs: { relevance: { ...f, retrained: { ...r, chosen: !r.chosen } } } }],
    };
    const other = seedRows([flipped]).find((x) => x.method === 'relevance')!;
    expect(other.result!.testError.mean).toBeCloseTo(
      1 - (r.chosen ? kept.testAccuracy! : r.testAccuracy),
      12,
    );
    expect(seedRows([summary]).find((x) => x.method === 'relevance')!.result).toBeNull();
    // Another dropout for the retraining: the kept network moved onto that network, in its own directory.
    const dropped = await rerunRelevance({ nets: ['lenet300'], retrainEpochs: 2, retrainDropout: 0.2 });
    const d = dropped.cases[0]!.runs.relevance!.retrained!;
    expect(d).toMatchObject({ runDir: `${f.runDir}-retrain-e2-d0.2`, dropout: 0.2 });
    const config = JSON.parse(readFileSync(join(d.runDir, 'config.json'), 'utf8'));
    expect(config.model).toMatchObject({ dropout: { hidden: 0.2 } });
    expect(config.training.initFrom).toBe(join(d.runDir, 'start'));
    const start = loadNetworkSnapshot(join(d.runDir, 'start'))!;
    expect(start.net.spec.nodes.filter((n) => n.op === 'dropout').map((n) => n.id)).toEqual([
      'fc1.dropout',
      'fc2.dropout',
    ]);
    const moved = loadNetworkSnapshot(join(d.runDir, 'best'))!;
    for (const name of ['fc1', 'fc2', 'fc3'].flatMap((n) => [`${n}/kernel`, `${n}/bias`])) {
      // The kept weights and masks carried over; no pruned weight came back.
      expect(Array.from(start.net.params.get(name)!.dataSync()), name).toEqual(
        Array.from(before.net.params.get(name)!.dataSync()),
      );
      const zero = before.net.params.get(name)!.dataSync();
      const now = moved.net.params.get(name)!.dataSync();
      for (let i = 0; i < now.length; i++) if (zero[i] === 0) expect(now[i] === 0, name).toBe(true);
    }
    start.net.dispose();
    moved.net.dispose();
    // Distilled from the dense start the pruning run started from, in its own directory.
    const kdLines: string[] = [];
    const distilled = await rerunRelevance({
      retrainEpochs: 2,
      retrainDistill: 4,
      log: (l) => kdLines.push(l),
    });
    const k = distilled.cases[0]!.runs.relevance!.retrained!;
    expect(k).toMatchObject({
      runDir: `${f.runDir}-retrain-e2-kd4-w0.9`,
      distill: { temperature: 4, weight: 0.9 },
    });
    const kdConfig = JSON.parse(readFileSync(join(k.runDir, 'config.json'), 'utf8'));
    const pruned = JSON.parse(readFileSync(join(f.runDir, 'config.json'), 'utf8'));
    expect(kdConfig.objectives[1]).toEqual({
      type: 'distillation',
      teacher: pruned.training.initFrom,
      temperature: 4,
    });
    const kdResult = JSON.parse(readFileSync(join(k.runDir, 'result.json'), 'utf8'));
    expect(kdResult.history[0].train.distillation).toBeGreaterThan(0);
    expect(kdLines.some((l) => l.includes('retrained 2 epochs, distilled (T = 4, w = 0.9)'))).toBe(true);
    const taught = loadNetworkSnapshot(join(k.runDir, 'best'))!;
    for (const name of ['fc1', 'fc2', 'fc3'].flatMap((n) => [`${n}/kernel`, `${n}/bias`])) {
      const zero = before.net.params.get(name)!.dataSync();
      const now = taught.net.params.get(name)!.dataSync();
      for (let i = 0; i < now.length; i++) if (zero[i] === 0) expect(now[i] === 0, name).toBe(true);
    }
    taught.net.dispose();
    before.net.dispose();
    expect(tf.memory().numTensors).toBeLessThan(50);
  }, 120_000);

  it('resuming reuses every completed run', async () => {
    const lines: string[] = [];
    const again = await rerunRelevance({ log: (l) => lines.push(l) });
    expect(lines.some((l) => l.includes('completed earlier, reused'))).toBe(true);
    expect(again.cases[0]!.runs.relevance!.kept).toEqual(summary.cases[0]!.runs.relevance!.kept);
  }, 120_000);
});
