import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@moprune/backend';
import { createNetwork, validateExperimentConfig } from '@moprune/core/node';
import { resnet } from '@moprune/models';
import { cifarFixtureDataDir } from '@moprune/test-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyse,
  epochFigures,
  GRIDS,
  guenterConfig,
  machineDescription,
  measureKept,
  mergeSummaries,
  optionsFromArgs,
  planRuns,
  type ReproduceSummary,
  type RunResult,
  reproduce,
  summaryMarkdown,
  TINY,
  timeInference,
  writeSummary,
} from '../index.js';

const root = mkdtempSync(join(tmpdir(), 'guenter2024-'));

beforeAll(async () => {
  await initBackend({ silent: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('plans and options', () => {
  it('plans the dense baseline and each study over its grid, seed by seed', () => {
    const base = { mode: 'full' as const, net: 'resnet20' as const, seeds: [0, 1] };
    const gamma = planRuns({ ...base, study: 'gamma' });
    expect(gamma).toHaveLength(2 * (1 + GRIDS.full.gammas.length));
    expect(gamma.filter((r) => r.sites === 'none').map((r) => r.seed)).toEqual([0, 1]);
    expect(gamma.filter((r) => r.seed === 0 && r.sites === 'all').map((r) => r.params.gamma)).toEqual([
      ...GRIDS.full.gammas,
    ]);
    const sites = planRuns({ ...base, seeds: [0], study: 'sites', gammas: [1, 3] });
    expect(sites.map((r) => `${r.sites}${r.params.gamma}`)).toEqual([
      'none1',
      'units1',
      'units3',
      'layers1',
      'layers3',
      'all1',
      'all3',
    ]);
    const alpha = planRuns({ ...base, seeds: [0], study: 'alpha', dense: false });
    expect(alpha.map((r) => r.params.alpha)).toEqual([...GRIDS.full.alphas]);
    expect(new Set(alpha.map((r) => r.params.gamma))).toEqual(new Set([GRIDS.full.main.gamma]));
    const beta = planRuns({ ...base, seeds: [0], study: 'beta', dense: false, alpha: 0.3 });
    expect(beta.map((r) => r.params.beta)).toEqual([...GRIDS.full.betas]);
    expect(beta.every((r) => r.params.alpha === 0.3)).toBe(true);
    // LeNet-300-100 has no blocks: its gamma study gates units.
    expect(
      planRuns({ ...base, net: 'lenet300', seeds: [0], study: 'gamma', dense: false }).every(
        (r) => r.sites === 'units',
      ),
    ).toBe(true);
  });

  it('refuses bad input before any training, naming every problem', async () => {
    const out = join(root, 'bad');
    const fails = (o: object, paths: string[]) =>
      expect(reproduce({ outDir: out, mode: 'tiny', ...o })).rejects.toMatchObject({
        name: 'Guenter2024Error',
        code: 'INVALID_OPTIONS',
        issues: paths.map((path) => expect.objectContaining({ path })),
      });
    await fails({ gammas: [-1, 1], alpha: 1.5, beta: -0.1 }, ['gammas[0]', 'alpha', 'beta']);
    await fails({ net: 'lenet300', study: 'sites' }, ['study']);
    await fails({ net: 'lenet300', sites: 'layers' }, ['sites']);
    await fails({ study: 'alpha', gammas: [1] }, ['gammas']);
    await fails({ seeds: [0, 1.5], mode: 'huge' }, ['mode', 'seeds[1]']);
    await fails({ seeds: [] }, ['seeds']);
    expect(existsSync(out)).toBe(false);
  });

  it('reads the command line: lists, numbers and flags', () => {
    expect(
      optionsFromArgs({
        study: 'sites',
        gamma: '0.3,1',
        alpha: '0.5',
        seeds: '0,1,2',
        'no-dense': true,
        sites: 'units',
      }),
    ).toEqual({
      study: 'sites',
      gammas: [0.3, 1],
      alpha: 0.5,
      seeds: [0, 1, 2],
      dense: false,
      sites: 'units',
    });
    expect(optionsFromArgs({ gamma: '1,x' }).gammas).toEqual([1, Number.NaN]);
    expect(optionsFromArgs({})).toEqual({});
  });

  it('every config of every mode is valid and recomputes BatchNorm statistics before evaluating', () => {
    const c = guenterConfig({
      net: 'resnet20',
      data: 'fashion-mnist',
      sites: 'all',
      params: { gamma: 1, alpha: 1, beta: 0.5 },
      seed: 0,
      scale: TINY,
    });
    expect(validateExperimentConfig(c)).toEqual([]);
    expect(c.training).toMatchObject({ recalibrateBatchNorm: 1 });
  });
});

describe('LeNet-300-100 on MNIST, tiny', () => {
  let s: ReproduceSummary;
  const out = join(root, 'lenet');
  const lines: string[] = [];
  it('trains the dense baseline and the gated run, measures the kept network, and is leak-free', async () => {
    const before = tf.memory().numTensors;
    s = await reproduce({
      mode: 'tiny',
      outDir: out,
      net: 'lenet300',
      gammas: [50],
      seeds: [0],
      log: (l) => lines.push(l),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.results.map((r) => r.sites)).toEqual(['none', 'units']);
    const [dense, gated] = s.results as [RunResult, RunResult];
    expect(dense.built).toEqual({ macs: 266_200, params: 266_610 });
    expect(dense.kept).toEqual(dense.built);
    expect(dense.flopsRemoved).toBe(0);
    expect(dense.blocks).toBeNull();
    for (const r of s.results) {
      expect(r.testAccuracy).toBeGreaterThan(0);
      expect(r.testAccuracy).toBeLessThanOrEqual(1);
      expect(r.epochs).toHaveLength(1);
      expect(r.epochs[0]!.steps).toBe(2);
      expect(r.epochs[0]!.macs).toBe(266_200);
      expect(existsSync(join(r.dir, 'final'))).toBe(true);
    }
    // The gated run gates the 784 input features too (the L0 anchor prunes input pixels).
    expect(gated.layers.map((l) => [l.node, l.built])).toEqual([
      ['input features', 784],
      ['fc1', 300],
      ['fc2', 100],
    ]);
    // What the kept network holds is exactly what the layers say.
    const [i0, h1, h2] = gated.layers.map((l) => l.kept) as [number, number, number];
    expect(gated.kept.params).toBe(i0 * h1 + h1 + h1 * h2 + h2 + h2 * 10 + 10);
    expect(gated.kept.macs).toBe(i0 * h1 + h1 * h2 + h2 * 10);
    expect(lines.some((l) => /epoch 1\/1, validation accuracy/.test(l))).toBe(true);
  }, 120_000);

  it('writes the summary, its tables and plots; --resume reuses the runs to the same figures', async () => {
    const files = await writeSummary(out, s);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual([
      'summary.md',
      'summary.json',
      'front.svg',
      'layers.svg',
      'step-time.svg',
    ]);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('dense baseline');
    expect(md).toContain('input + unit gates, γ = 50');
    const again = await reproduce({
      mode: 'tiny',
      outDir: out,
      net: 'lenet300',
      gammas: [50],
      seeds: [0],
      resume: true,
    });
    expect(again.results.map((r) => r.reused)).toEqual([true, true]);
    expect(again.results.map((r) => [r.testAccuracy, r.kept])).toEqual(
      s.results.map((r) => [r.testAccuracy, r.kept]),
    );
  }, 120_000);
});

describe('ResNet-20 on CIFAR-10', () => {
  it('without the files stops before training and names them', async () => {
    const out = join(root, 'no-cifar');
    await expect(
      reproduce({ mode: 'tiny', outDir: out, data: 'cifar10', dataDir: join(root, 'nothing-here') }),
    ).rejects.toMatchObject({
      code: 'MISSING_FILES',
      message: expect.stringContaining('cifar-10-batches-bin'),
    });
    expect(existsSync(join(out, 'resnet20-cifar10-dense-seed0', 'metrics.jsonl'))).toBe(false);
  });

  it('runs combined gating on the fixture files: 9 blocks, filters per layer, FLOPs as built', async () => {
    const s = await reproduce({
      mode: 'tiny',
      outDir: join(root, 'cifar'),
      data: 'cifar10',
      dataDir: cifarFixtureDataDir,
      dense: false,
    });
    const r = s.results[0]!;
    expect(r.sites).toBe('all');
    // ResNet-20 on 32×32×1 has 40,256,128; two more input channels add 32·32·3·3·16·2 to the first conv.
    expect(r.built.macs).toBe(40_256_128 + 32 * 32 * 9 * 16 * 2);
    expect(r.blocks).toEqual({ kept: 9, total: 9 });
    expect(r.layers).toHaveLength(19);
    expect(r.layers[0]).toEqual({ node: 'conv1', built: 16, kept: 16 });
    expect(r.kept.macs).toBeLessThanOrEqual(r.built.macs);
  }, 120_000);
});

describe('the kept network', () => {
  it('closed gates remove what they gate: a block becomes its skip, half the filters of a layer go — same function', () => {
    const spec = resnet({ depth: 20, inputShape: [32, 32, 1], gates: 'units+layers' });
    const trained = createNetwork(spec, { seed: 1 });
    const built = createNetwork(spec, { seed: 0 });
    const gates = Object.fromEntries(
      trained.gateSites.map((site) => {
        let values = Array.from({ length: site.size }, () => 1);
        if (site.id === 'stage2.block2') values = [0];
        if (site.id === 'stage3.block1.gate1') values = values.map((_, i) => (i % 2 === 0 ? 1 : 0));
        return [site.id, { shape: site.kind === 'layer' ? [] : [site.size], values }];
      }),
    );
    const before = tf.memory().numTensors;
    const m = measureKept(trained, built, gates);
    expect(m.blocks).toEqual({ kept: 8, total: 9 });
    const layer = (node: string) => m.layers.find((l) => l.node === node);
    expect(layer('stage2.block2.conv1')).toEqual({ node: 'stage2.block2.conv1', built: 32, kept: 0 });
    expect(layer('stage3.block1.conv1')).toEqual({ node: 'stage3.block1.conv1', built: 64, kept: 32 });
    expect(layer('stage3.block1.conv2')).toEqual({ node: 'stage3.block1.conv2', built: 64, kept: 64 });
    // The block's two convs (2 × 2,359,296 MACs), half of stage3.block1.conv1 (1,179,648 / 2) and half
    // of the input of stage3.block1.conv2 (2,359,296 / 2).
    expect(m.built.macs).toBe(40_256_128);
    expect(m.kept.macs).toBe(40_256_128 - 2 * 2_359_296 - 1_179_648 / 2 - 2_359_296 / 2);
    expect(m.trained).toEqual(m.built);
    const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 5);
    const gateTensors = Object.fromEntries(
      Object.entries(gates).map(([id, g]) => [id, tf.tensor(g.values, g.shape as number[])]),
    );
    const want = trained.apply(x, { training: false, gates: gateTensors })[0]!;
    const got = m.net.apply(x, { training: false })[0]!;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(want, got))).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([x, want, got, ...Object.values(gateTensors)]);
    m.net.dispose();
    expect(tf.memory().numTensors).toBe(before);
    trained.dispose();
    built.dispose();
  });
});

describe('analysis', () => {
  const run = (o: Partial<RunResult> & Pick<RunResult, 'sites' | 'seed'>): RunResult => ({
    name: `${o.sites}-${o.params?.gamma ?? 0}-${o.seed}`,
    dir: '/x',
    params: { gamma: 1, alpha: 1, beta: 0.5 },
    reused: false,
    validationAccuracy: 0.9,
    testAccuracy: 0.9,
    built: { macs: 100, params: 10 },
    kept: { macs: 100, params: 10 },
    trained: { macs: 100, params: 10 },
    flopsRemoved: 0,
    paramsRemoved: 0,
    blocks: { kept: 9, total: 9 },
    layers: [],
    epochs: [],
    stepTimeRatio: 1,
    inference: null,
    wallMs: 0,
    ...o,
  });
  const summary = (results: RunResult[]): ReproduceSummary => ({
    experiment: 'guenter2024',
    mode: 'full',
    study: 'sites',
    net: 'resnet20',
    data: 'fashion-mnist',
    seeds: [0, 1],
    date: '2026-12-04',
    results,
    interrupted: false,
    wallMs: 0,
  });
  it('averages seeds, chooses the headline on validation, and measures each front by its hypervolume', () => {
    const g = (gamma: number) => ({ gamma, alpha: 1, beta: 0.5 });
    const a = analyse(
      summary([
        run({ sites: 'none', seed: 0, validationAccuracy: 0.92, testAccuracy: 0.91 }),
        run({ sites: 'none', seed: 1, validationAccuracy: 0.92, testAccuracy: 0.93 }),
        // γ = 1: within a point on validation, 60% of FLOPs removed.
        run({
          sites: 'all',
          seed: 0,
          params: g(1),
          validationAccuracy: 0.915,
          testAccuracy: 0.9,
          flopsRemoved: 0.6,
        }),
        run({
          sites: 'all',
          seed: 1,
          params: g(1),
          validationAccuracy: 0.913,
          testAccuracy: 0.91,
          flopsRemoved: 0.5,
        }),
        // γ = 3: removes more, but 2 points down on validation (its test accuracy would pass: not used).
        run({
          sites: 'all',
          seed: 0,
          params: g(3),
          validationAccuracy: 0.9,
          testAccuracy: 0.93,
          flopsRemoved: 0.8,
        }),
        run({
          sites: 'units',
          seed: 0,
          params: g(1),
          validationAccuracy: 0.9,
          testAccuracy: 0.9,
          flopsRemoved: 0.3,
        }),
      ]),
    );
    expect(a.settings).toHaveLength(4);
    const dense = a.settings[a.dense!]!;
    expect(dense.testAccuracy.mean).toBeCloseTo(0.92, 12);
    expect(dense.testAccuracy.sd).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    const h = a.settings[a.headline!]!;
    expect(h.params.gamma).toBe(1);
    expect(h.flopsRemoved.mean).toBeCloseTo(0.55, 12);
    const all = a.fronts.find((f) => f.sites === 'all')!;
    // Points (FLOPs kept, test error): (0.45, 0.095) and (0.2, 0.07); the second dominates.
    expect(all.front.map((i) => a.settings[i]!.params.gamma)).toEqual([3]);
    expect(all.hypervolume.test).toBeCloseTo(0.8 * 0.93, 12);
    const units = a.fronts.find((f) => f.sites === 'units')!;
    expect(units.hypervolume.test).toBeCloseTo(0.3 * 0.9, 12);
  });

  it('merges summaries of runs trained apart: one front per gate kind over all their runs', () => {
    const g = (gamma: number) => ({ gamma, alpha: 1, beta: 0.5 });
    const at = (date: string, results: RunResult[], o: Partial<ReproduceSummary> = {}) => ({
      ...summary(results),
      date,
      wallMs: 60_000,
      ...o,
    });
    const unitsLow = run({ sites: 'units', seed: 0, params: g(0.3), testAccuracy: 0.93, flopsRemoved: 0.5 });
    const unitsHigh = run({ sites: 'units', seed: 0, params: g(1), testAccuracy: 0.9, flopsRemoved: 0.8 });
    const dense = run({ sites: 'none', seed: 0, testAccuracy: 0.935 });
    const denseAgain = { ...dense, testAccuracy: 0.94 };
    const seed1 = run({ sites: 'units', seed: 1, params: g(1), testAccuracy: 0.92, flopsRemoved: 0.7 });
    const merged = mergeSummaries(
      [
        at('2026-12-06T10:00:00Z', [denseAgain, unitsHigh], { interrupted: true, seeds: [0], machine: 'M1' }),
        at('2026-12-05T10:00:00Z', [dense, unitsLow]),
        at('2026-12-06T11:00:00Z', [seed1], { seeds: [1], machine: 'M2' }),
      ],
      ['a/summary.json', 'b/summary.json', 'c/summary.json'],
    );
    // The dense run of both a and b is taken once, from a (the later date).
    expect(merged.results.map((r) => r.name)).toEqual([
      dense.name,
      unitsHigh.name,
      unitsLow.name,
      seed1.name,
    ]);
    expect(merged.results[0]!.testAccuracy).toBe(0.94);
    expect(merged.seeds).toEqual([0, 1]);
    expect(merged.date).toBe('2026-12-06T11:00:00Z');
    expect(merged.interrupted).toBe(true);
    expect(merged.wallMs).toBe(180_000);
    expect(merged.sources).toEqual(['a/summary.json', 'b/summary.json', 'c/summary.json']);
    const a = analyse(merged);
    const units = a.fronts.find((f) => f.sites === 'units')!;
    // γ = 1 averages seeds 0 and 1: (FLOPs kept 0.25, error 0.09); γ = 0.3: (0.5, 0.07). Both non-dominated.
    expect(units.points.map((i) => a.settings[i]!.params.gamma).sort()).toEqual([0.3, 1]);
    expect(units.front).toHaveLength(2);
    expect(units.hypervolume.test).toBeCloseTo((1 - 0.25) * (1 - 0.09) + (1 - 0.5) * (0.09 - 0.07), 12);
    expect(summaryMarkdown(merged)).toContain(
      'Merged from 3 summaries: `a/summary.json`, `b/summary.json`, `c/summary.json`.',
    );
    // The machines the parts recorded, each once; the report prints them, not the merging machine.
    expect(merged.machine).toBe('M1; M2');
    expect(summaryMarkdown(merged)).toContain('; machine: M1; M2;');
    expect(
      mergeSummaries([
        at('2026-12-06', [dense], { machine: 'M1' }),
        at('2026-12-06', [dense], { machine: 'M1' }),
      ]).machine,
    ).toBe('M1');
    expect(summaryMarkdown(summary([dense]))).not.toContain('Merged from');
    // Parts of the same date: the one listed later wins.
    const tie = mergeSummaries([at('2026-12-06', [dense]), at('2026-12-06', [denseAgain])]);
    expect(tie.results.map((r) => r.testAccuracy)).toEqual([0.94]);
    expect(tie.sources).toEqual(['part 1', 'part 2']);
    expect(tie.machine).toBeUndefined();
    // The same summary given twice: its runs once each.
    const twice = at('2026-12-06', [dense, unitsLow]);
    expect(mergeSummaries([twice, twice]).results.map((r) => r.name)).toEqual([dense.name, unitsLow.name]);
    expect(summaryMarkdown(tie)).toContain(`; machine: ${machineDescription()};`);
  });

  it('refuses to merge summaries of another network, data or mode, or what is not a summary', () => {
    const s = summary([run({ sites: 'none', seed: 0 })]);
    const refused = (parts: unknown[], sources?: string[]) => {
      try {
        mergeSummaries(parts as ReproduceSummary[], sources);
      } catch (e) {
        return e as Error & { code: string; issues?: { path: string; message: string }[] };
      }
      throw new Error('merged');
    };
    const e = refused(
      [s, { ...s, net: 'resnet56', mode: 'quick' }, { ...s, data: 'mnist' }],
      ['x', 'y', 'z'],
    );
    expect(e.name).toBe('Guenter2024Error');
    expect(e.code).toBe('INCOMPATIBLE_SUMMARIES');
    expect(e.issues!.map((i) => i.path)).toEqual(['y.net', 'z.data', 'y.mode']);
    expect(e.message).toContain('is "resnet56", but x has "resnet20"');
    expect(refused([s, { experiment: 'bonetta2023', cases: [] }]).issues!.map((i) => i.path)).toEqual([
      'part 2',
    ]);
    expect(refused([]).message).toBe('no summaries to merge');
    expect(refused([s], ['a', 'b']).code).toBe('INCOMPATIBLE_SUMMARIES');
  });

  it('says what load the inference timings ran at, and that they are not measurements above the cores', () => {
    const timed = (average: number) => ({
      batch: 128,
      rounds: 5,
      denseMs: 20,
      keptMs: 10,
      speedup: 2,
      load: { average, cores: 2 },
    });
    const gated = (seed: number, average: number) =>
      run({ sites: 'all', seed, inference: timed(average), kept: { macs: 50, params: 5 } });
    const dense = run({ sites: 'none', seed: 0 });
    const shared = summaryMarkdown(summary([dense, gated(0, 0.4), gated(1, 3.7)]));
    expect(shared).toContain('Inference timed at a 1-minute load average of 0.40–3.70 on 2 cores.');
    expect(shared).toContain('other work shared them, so these speed-ups are not measurements');
    const quiet = summaryMarkdown(summary([dense, gated(0, 1.2), gated(1, 1.2)]));
    expect(quiet).toContain('Inference timed at a 1-minute load average of 1.20 on 2 cores.');
    expect(quiet).not.toContain('not measurements');
    expect(summaryMarkdown(summary([dense, run({ sites: 'all', seed: 0 })]))).not.toContain('load average');
  });

  it('timeInference records the load it timed at', () => {
    const spec = {
      name: 'tiny',
      inputShape: [4],
      nodes: [{ id: 'fc', op: 'dense', inputs: ['input'], units: 3 }],
      outputs: ['fc'],
    } as const;
    const a = createNetwork(spec as never, { seed: 1 });
    const b = createNetwork(spec as never, { seed: 2 });
    const t = timeInference(a, b, 1, 2);
    expect(t.load.cores).toBe(availableParallelism());
    expect(t.load.average).toBeGreaterThanOrEqual(0);
    expect(t.speedup).toBeCloseTo(t.denseMs / t.keptMs, 12);
    a.dispose();
    b.dispose();
  });

  it('reads step times per epoch and the FLOPs each epoch trained from metrics.jsonl', () => {
    const dir = join(root, 'metrics');
    const lines = [
      { type: 'step', epoch: 0, timeMs: 10 },
      { type: 'step', epoch: 0, timeMs: 30 },
      { type: 'epoch', epoch: 0, metrics: { macs: 80 }, validation: { accuracy: [0.5] } },
      { type: 'step', epoch: 1, timeMs: 5 },
      { type: 'step', epoch: 1, timeMs: 7 },
      { type: 'step', epoch: 1, timeMs: 6 },
      { type: 'epoch', epoch: 1, metrics: { macs: 50 }, validation: { accuracy: [0.6] } },
    ];
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    expect(epochFigures(dir, 100)).toEqual([
      { epoch: 0, steps: 2, trainSeconds: 0.04, medianStepMs: 20, macs: 100, validationAccuracy: 0.5 },
      { epoch: 1, steps: 3, trainSeconds: 0.018, medianStepMs: 6, macs: 80, validationAccuracy: 0.6 },
    ]);
  });
});
