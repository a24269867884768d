import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compact,
  createNetwork,
  earlyStopping,
  evaluateNetwork,
  isMopruneError,
  keepBest,
  listCheckpoints,
  loadLatestCheckpoint,
  loadNetworkSnapshot,
  type Network,
  networkFromValues,
  nodeRunStore,
  type Objective,
  type ProgressInfo,
  type Pruner,
  recalibrateBatchNorm,
  type Solver,
  saveNetworkSnapshot,
  streamSeeds,
  type TrainOptions,
  train,
} from '../node/index.js';
import { tempDirs } from './fixtures/temp-dirs.js';
import {
  blobDataset,
  crossEntropy,
  expectedUnits,
  gatedSpec,
  gatePruner,
  l1Kernels,
  magnitudePruner,
  mlpSpec,
  unitRemover,
  weightBytes,
  weightedSum,
} from './fixtures/train-fixtures.js';

const tempDir = tempDirs('moprune-train-');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dataset = blobDataset();

function baseOptions(seed = 3): TrainOptions {
  return {
    net: createNetwork(mlpSpec(), { seed: 11 }),
    dataset,
    objectives: [crossEntropy(), l1Kernels()],
    solver: weightedSum([0.99, 0.01], { type: 'adam', lr: 0.02 }),
    epochs: 4,
    batchSize: 16,
    seed,
    data: { layout: 'flat' },
  };
}

const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('train', () => {
  it('trains, logs every step and epoch to metrics.jsonl, and evaluates', async () => {
    const runDir = tempDir();
    const o = baseOptions();
    const result = await train({
      ...o,
      store: nodeRunStore(runDir),
      lrSchedule: { type: 'inverseTime', decay: 'lrOverEpochs' },
      metrics: (net) => ({
        nnz: [...net.params.values()].reduce(
          (a, v) => a + tf.tidy(() => tf.sum(tf.notEqual(v, 0)).dataSync()[0]!),
          0,
        ),
      }),
    });
    expect(result.steps).toBe(4 * 6);
    expect(result.epochsCompleted).toBe(4);
    expect(result.interrupted).toBe(false);
    const first = result.history[0]!.train.ce!;
    const last = result.history[3]!.train.ce!;
    expect(last).toBeLessThan(first);
    expect(result.validation!.accuracy[0]).toBeGreaterThan(0.8);
    // The final validation is the last epoch's (no second pass over the split).
    expect(result.validation).toEqual(result.history[3]!.validation);
    expect(result.test!.samples).toBe(48);
    const lines = readLines(join(runDir, 'metrics.jsonl'));
    const steps = lines.filter((l) => l.type === 'step');
    const epochs = lines.filter((l) => l.type === 'epoch');
    expect(steps).toHaveLength(24);
    expect(epochs).toHaveLength(4);
    expect(steps[0]).toMatchObject({ step: 0, epoch: 0, batch: 0, weights: [0.99, 0.01], lr: 0.02 });
    expect(Object.keys(steps[0]!.objectives as object)).toEqual(['ce', 'l1']);
    // Keras inverse time decay per step with decay = lr/epochs = 0.005.
    expect(steps[10]!.lr).toBeCloseTo(0.02 / (1 + 0.005 * 10), 12);
    expect(epochs[0]).toMatchObject({ epoch: 0, step: 6, validation: { split: 'validation' } });
    expect((epochs[0]!.metrics as { nnz: number }).nnz).toBeGreaterThan(0);
    expect(listCheckpoints(join(runDir, 'checkpoint')).map((c) => c.step)).toEqual([24, 18]);
    result.net.dispose();
    o.solver.dispose();
  });

  it('holds the metrics log open only while it runs: closed when train returns or throws, reopened at the end', async () => {
    // Linux lists a process's descriptors in /proc/self/fd; elsewhere there is nothing to count.
    if (!existsSync('/proc/self/fd')) return;
    const runDir = tempDir();
    const log = join(runDir, 'metrics.jsonl');
    const openOnLog = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === log;
        } catch {
          return false;
        }
      }).length;
    const store = nodeRunStore(runDir);
    const during: number[] = [];
    const o = baseOptions();
    const result = await train({
      ...o,
      epochs: 1,
      store,
      validation: false,
      callbacks: [{ name: 'fds', onStepEnd: () => void during.push(openOnLog()) }],
    });
    expect(during).toEqual(Array(6).fill(1));
    expect(openOnLog()).toBe(0);
    // After close the store still works: an append reopens at the end, a truncation is honoured.
    const bytes = readFileSync(log).length;
    store.appendLog('{"extra":1}\n');
    expect(readFileSync(log, 'utf8').slice(bytes)).toBe('{"extra":1}\n');
    store.truncateLog(bytes);
    store.appendLog('{"again":2}\n');
    expect(readFileSync(log, 'utf8').slice(bytes)).toBe('{"again":2}\n');
    store.close?.();
    expect(openOnLog()).toBe(0);
    result.net.dispose();
    // A run that throws (after logging three steps) closes it too.
    let calls = 0;
    const poisoned: Objective = {
      name: 'poison',
      config: { type: 'test-poison' },
      value: () => tf.scalar(++calls > 3 ? Number.NaN : 0),
    };
    const failing = baseOptions();
    const seen: number[] = [];
    await expect(
      train({
        ...failing,
        objectives: [crossEntropy(), poisoned],
        store: nodeRunStore(runDir),
        validation: false,
        callbacks: [{ name: 'fds', onStepEnd: () => void seen.push(openOnLog()) }],
      }),
    ).rejects.toMatchObject({ code: 'NON_FINITE_LOSS' });
    expect(seen).toEqual([1, 1, 1]);
    expect(openOnLog()).toBe(0);
    failing.net.dispose();
    failing.solver.dispose();
    o.solver.dispose();
  });

  it('is deterministic per seed (dropout, shuffle) and differs across seeds', async () => {
    const run = async (seed: number) => {
      const o = baseOptions(seed);
      const r = await train({ ...o, epochs: 2, validation: false, evaluateTest: false });
      const w = weightBytes(r.net);
      r.net.dispose();
      o.solver.dispose();
      return w;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  it('leaks no tensor across epochs, with a pruner and BatchNorm state updates', async () => {
    const counts: number[] = [];
    const o = baseOptions();
    const pruner = magnitudePruner();
    const r = await train({
      ...o,
      pruners: [pruner],
      store: nodeRunStore(tempDir()),
      epochs: 3,
      callbacks: [{ name: 'count', onEpochEnd: () => void counts.push(tf.memory().numTensors) }],
    });
    expect(counts[0]).toBe(counts[2]);
    expect(pruner.draws.length).toBe(Math.floor(18 / 4));
    // Pruner figures are logged beside the run's metrics.
    expect(r.history.map((h) => h.metrics['test-magnitude.prunes'])).toEqual([1, 3, 4]);
    const mask = r.net.getMask('fc1/kernel')!;
    const w = r.net.params.get('fc1/kernel')!;
    // Masked weights are exactly zero after training.
    expect(tf.tidy(() => tf.sum(tf.abs(tf.mul(w, tf.sub(1, mask)))).dataSync()[0])).toBe(0);
    // BatchNorm moving statistics moved away from their init.
    expect(tf.tidy(() => tf.sum(tf.abs(r.net.params.get('bn1/movingMean')!)).dataSync()[0])).toBeGreaterThan(
      0,
    );
    r.net.dispose();
    o.solver.dispose();
  });

  it('an abort from outside the loop (a timer, as a SIGINT handler would) stops the run mid-epoch', async () => {
    const o = baseOptions();
    const controller = new AbortController();
    let steps = 0;
    const r = await train({
      ...o,
      validation: false,
      evaluateTest: false,
      signal: controller.signal,
      callbacks: [
        {
          name: 'arm',
          onStepEnd: () => {
            steps++;
            if (steps === 3) setTimeout(() => controller.abort(), 0);
            return undefined;
          },
        },
      ],
    });
    expect(r.interrupted).toBe(true);
    expect(r.steps).toBeGreaterThanOrEqual(3);
    expect(r.steps).toBeLessThan(6);
    r.net.dispose();
    o.solver.dispose();
  });

  it('an aborted run checkpoints, and resuming reaches bit-identical weights (mid-epoch, with pruner)', async () => {
    const reference = baseOptions();
    const full = await train({
      ...reference,
      pruners: [magnitudePruner()],
      validation: false,
      evaluateTest: false,
    });
    const want = weightBytes(full.net);
    full.net.dispose();
    reference.solver.dispose();

    const runDir = tempDir();
    const controller = new AbortController();
    const a = baseOptions();
    const first = await train({
      ...a,
      pruners: [magnitudePruner()],
      store: nodeRunStore(runDir),
      validation: false,
      evaluateTest: false,
      signal: controller.signal,
      checkpoint: { everySteps: 5 },
      callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 8 && controller.abort()) }],
    });
    expect(first.interrupted).toBe(true);
    expect(first.steps).toBe(9);
    expect(loadLatestCheckpoint(join(runDir, 'checkpoint'))!.step).toBe(9);
    first.net.dispose();
    a.solver.dispose();

    const b = baseOptions();
    const second = await train({
      ...b,
      pruners: [magnitudePruner()],
      store: nodeRunStore(runDir),
      resume: true,
      validation: false,
      evaluateTest: false,
    });
    expect(second.resumedFrom!.step).toBe(9);
    expect(second.steps).toBe(24);
    expect(weightBytes(second.net)).toEqual(want);
    const steps = readLines(join(runDir, 'metrics.jsonl')).filter((l) => l.type === 'step');
    expect(steps.map((l) => l.step)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    second.net.dispose();
    b.solver.dispose();
  });

  it("objective parameters a pruner set survive a resume: a decayed γ is not reset to the objective's initial value", async () => {
    // An ℓ1 term scaled by γ, which a pruner sets after every step (γ = 1/(step + 2), as a decay would):
    // the step after a resume must see the γ the pruner set before the checkpoint.
    const scaledL1 = (): Objective => {
      let gamma = 1;
      const l1 = l1Kernels('scaledL1');
      return {
        ...l1,
        value: (ctx) => tf.tidy(() => tf.mul(l1.value(ctx), gamma) as tf.Scalar),
        setParameter(name, value) {
          if (name !== 'gamma') throw new Error(`no parameter '${name}'`);
          gamma = value;
        },
      };
    };
    const decayer = (): Pruner => ({
      name: 'test-decayer',
      config: { type: 'test-decayer' },
      init: () => {},
      afterStep({ step, objectives }) {
        objectives!.find((o) => o.name === 'scaledL1')!.setParameter!('gamma', 1 / (step + 2));
        return undefined;
      },
      state: () => ({ json: {}, arrays: {} }),
      load: () => {},
    });
    const options = (): TrainOptions => ({
      ...baseOptions(),
      objectives: [crossEntropy(), scaledL1()],
      solver: weightedSum([0.5, 0.5], { type: 'sgd', lr: 0.1 }),
      validation: false,
      evaluateTest: false,
    });
    const reference = options();
    const full = await train({ ...reference, pruners: [decayer()] });
    const want = weightBytes(full.net);
    full.net.dispose();
    reference.solver.dispose();

    const runDir = tempDir();
    const controller = new AbortController();
    const a = options();
    const first = await train({
      ...a,
      pruners: [decayer()],
      store: nodeRunStore(runDir),
      signal: controller.signal,
      checkpoint: { everySteps: 5 },
      callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 8 && controller.abort()) }],
    });
    expect(first.steps).toBe(9);
    first.net.dispose();
    a.solver.dispose();

    const b = options();
    const second = await train({ ...b, pruners: [decayer()], store: nodeRunStore(runDir), resume: true });
    expect(second.resumedFrom!.step).toBe(9);
    expect(weightBytes(second.net)).toEqual(want);
    second.net.dispose();
    b.solver.dispose();
  });

  it('stops on a non-finite objective before the update, after checkpointing the last finite state', async () => {
    let calls = 0;
    const poisoned: Objective = {
      name: 'poison',
      config: { type: 'test-poison' },
      value: () => {
        calls += 1;
        return tf.scalar(calls >= 8 ? Number.NaN : 0);
      },
    };
    const runDir = tempDir();
    const before0 = tf.memory().numTensors;
    const o = baseOptions();
    let before: Record<string, string> = {};
    let error: unknown;
    try {
      await train({
        ...o,
        objectives: [crossEntropy(), poisoned],
        store: nodeRunStore(runDir),
        validation: false,
        callbacks: [
          {
            name: 'snap',
            onStepEnd: (s) => {
              before = weightBytes(s.net);
              return undefined;
            },
          },
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(isMopruneError(error, 'NON_FINITE_LOSS')).toBe(true);
    const e = error as { message: string; details: Record<string, unknown> };
    expect(e.details).toMatchObject({ step: 7, objective: 'poison', epoch: 1, batch: 1 });
    expect(e.message).toContain("objective 'poison'");
    const ckpt = loadLatestCheckpoint(join(runDir, 'checkpoint'))!;
    expect(ckpt.step).toBe(7);
    // The checkpointed weights are those after step 6: nothing of step 7 was applied.
    const values = new Map(
      [...o.net.params.keys()].map((n) => {
        const a = ckpt.state.arrays[`param/${n}`]!;
        return [n, tf.tensor(a.data, [...a.shape])];
      }),
    );
    const restored = networkFromValues(mlpSpec(), values);
    tf.dispose([...values.values()]);
    expect(weightBytes(restored)).toEqual(before);
    expect(weightBytes(o.net)).toEqual(before);
    restored.dispose();
    o.net.dispose();
    o.solver.dispose();
    // Nothing of the failed step leaked.
    expect(tf.memory().numTensors).toBe(before0);
  });

  it('swaps in a replacement network from a pruner and rebuilds solver state', async () => {
    let replaced: Network | undefined;
    const swapper: Pruner = {
      name: 'test-swap',
      config: { type: 'test-swap' },
      init() {},
      afterStep({ net, step }) {
        if (step !== 3) return undefined;
        const values = new Map([...net.params].map(([n, v]) => [n, v as tf.Tensor]));
        replaced = networkFromValues(net.spec, values);
        return { replaceNetwork: replaced };
      },
      state: () => ({ json: {}, arrays: {} }),
      load() {},
    };
    const o = baseOptions();
    const solver = o.solver as typeof o.solver & { resets: number };
    const original = o.net;
    const r = await train({ ...o, pruners: [swapper], epochs: 1, validation: false, evaluateTest: false });
    expect(r.net).toBe(replaced);
    expect(solver.resets).toBe(2);
    expect(() => original.apply(tf.zeros([1, 6]))).toThrow();
    const optState = solver.state().json as { entries: { t: number }[] };
    // Same shapes: the Adam step counts carried over (6 steps in all).
    expect(optState.entries.every((e) => e.t === 6)).toBe(true);
    r.net.dispose();
    o.solver.dispose();
  });

  it('a compacted replacement carries the solver state of the surviving entries over, sliced', async () => {
    let replaced: Network | undefined;
    const remover: Pruner = {
      name: 'test-remove-unit',
      config: { type: 'test-remove-unit' },
      init() {},
      afterStep({ net, step }) {
        if (step !== 3) return undefined;
        // Zero one hidden unit's whole structure group, then remove it physically.
        const group = net.groups.find((g) => g.kind === 'unit')!;
        for (const slice of group.slices) {
          const v = net.params.get(slice.param)!;
          const zeroed = tf.tidy(() => {
            const hit = tf.sum(tf.oneHot(tf.tensor1d([...slice.indices], 'int32'), v.shape[slice.axis]!), 0);
            const shape = v.shape.map((d, k) => (k === slice.axis ? d : 1));
            return tf.mul(v, tf.sub(1, tf.reshape(hit, shape)));
          });
          v.assign(zeroed);
          zeroed.dispose();
        }
        replaced = compact(net);
        return { replaceNetwork: replaced };
      },
      state: () => ({ json: {}, arrays: {} }),
      load() {},
    };
    const o = baseOptions();
    const shapes = [...o.net.params.values()].map((v) => v.shape.join('x'));
    const r = await train({ ...o, pruners: [remover], epochs: 1, validation: false, evaluateTest: false });
    expect(r.net).toBe(replaced);
    const entries = o.solver.state().json.entries as { t: number; shape: number[] }[];
    // Some variables shrank …
    expect(entries.filter((e, i) => e.shape.join('x') !== shapes[i]).length).toBeGreaterThan(0);
    // … and every one, the shrunk included, kept its Adam step count: 6 steps in all, none restarted.
    expect(entries.map((e) => e.t)).toEqual(entries.map(() => 6));
    r.net.dispose();
    o.solver.dispose();
  });

  it('early stopping with patience stops, and the run resumes as finished', async () => {
    const runDir = tempDir();
    const o = baseOptions();
    const stopper = earlyStopping({ monitor: 'train.l1', mode: 'max', patience: 2 });
    const r = await train({ ...o, store: nodeRunStore(runDir), epochs: 10, callbacks: [stopper] });
    // ℓ1 of the kernels grows while CE dominates for the first epoch at most; it must stop well before 10.
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochsCompleted).toBeLessThan(10);
    const steps = r.steps;
    r.net.dispose();
    o.solver.dispose();
    const again = baseOptions();
    const r2 = await train({
      ...again,
      store: nodeRunStore(runDir),
      epochs: 10,
      resume: true,
      callbacks: [earlyStopping({ monitor: 'train.l1', mode: 'max', patience: 2 })],
    });
    expect(r2.steps).toBe(steps);
    expect(r2.stoppedEarly).toBe(true);
    r2.net.dispose();
    again.solver.dispose();
  });

  it('rejects bad options with one INVALID_CONFIG error listing every problem', async () => {
    const o = baseOptions();
    await expect(
      train({
        ...o,
        epochs: 0,
        batchSize: 2.5,
        seed: -1,
        lrSchedule: { type: 'step', every: 0, gamma: 1 },
        validation: { everyEpochs: 0 },
        checkpoint: { keep: 0 },
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      issues: [
        { path: 'epochs' },
        { path: 'batchSize' },
        { path: 'seed' },
        { path: 'validation.everyEpochs' },
        { path: 'checkpoint.keep' },
        { path: 'lrSchedule.every' },
      ],
    });
    await expect(train({ ...o, resume: true })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    // A checkpoint of another run (other seed) is refused; a fresh run in that directory discards it.
    const runDir = tempDir();
    const other = baseOptions(8);
    (
      await train({
        ...other,
        epochs: 1,
        store: nodeRunStore(runDir),
        validation: false,
        evaluateTest: false,
      })
    ).net.dispose();
    other.solver.dispose();
    const again = baseOptions(9);
    await expect(train({ ...again, store: nodeRunStore(runDir), resume: true })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const fresh = await train({
      ...again,
      epochs: 2,
      store: nodeRunStore(runDir),
      checkpoint: { everyEpochs: 2 },
      validation: false,
    });
    expect(listCheckpoints(join(runDir, 'checkpoint')).map((c) => c.step)).toEqual([12]);
    fresh.net.dispose();
    again.solver.dispose();
    await expect(train({ ...o, resume: true, store: nodeRunStore(tempDir()) })).rejects.toMatchObject({
      code: 'CHECKPOINT_NOT_FOUND',
    });
    o.net.dispose();
    o.solver.dispose();
  });

  it('resumes a run that was physically compacted before its checkpoint (network rebuilt from the checkpointed spec)', async () => {
    const scenario = (runDir?: string): TrainOptions => ({
      ...baseOptions(),
      net: createNetwork(gatedSpec(), { seed: 2 }),
      pruners: [unitRemover(['fc1:unit:1', 'fc1:unit:4', 'fc1:unit:6'], 3, (n) => compact(n))],
      validation: false,
      evaluateTest: false,
      ...(runDir === undefined ? {} : { store: nodeRunStore(runDir) }),
    });
    const ref = scenario();
    const full = await train(ref);
    expect(full.net.params.get('fc1/kernel')!.shape).toEqual([6, 5]);
    const want = weightBytes(full.net);
    full.net.dispose();
    ref.solver.dispose();

    const runDir = tempDir();
    const controller = new AbortController();
    const a = scenario(runDir);
    const first = await train({
      ...a,
      signal: controller.signal,
      callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 7 && controller.abort()) }],
    });
    expect(first.interrupted).toBe(true);
    first.net.dispose();
    a.solver.dispose();
    const b = scenario(runDir);
    const second = await train({ ...b, resume: true });
    expect(second.net).not.toBe(b.net);
    expect(second.net.spec.nodes.find((n) => n.id === 'fc1')).toMatchObject({ units: 5 });
    expect(weightBytes(second.net)).toEqual(want);
    second.net.dispose();
    b.solver.dispose();
  });

  it('gates: every solver pass of a step sees the same samples, gradients reach the pruner variables, and resume restores them', async () => {
    const twice = (inner: Solver): Solver => ({
      ...inner,
      get learningRate() {
        return inner.learningRate;
      },
      set learningRate(lr: number) {
        inner.learningRate = lr;
      },
      step(problem) {
        const a = tf.tidy(() => problem.evaluate().map((v) => v.dataSync()[0]!));
        const result = inner.step(problem);
        expect(result.values).toEqual(a);
        return result;
      },
    });
    const scenario = (runDir?: string) => {
      const pruner = gatePruner();
      const inner = weightedSum([0.9, 0.1], { type: 'sgd', lr: 0.1, momentum: 0.9 });
      const options: TrainOptions = {
        ...baseOptions(),
        net: createNetwork(gatedSpec(), { seed: 2 }),
        objectives: [crossEntropy(), expectedUnits()],
        solver: twice(inner),
        pruners: [pruner],
        validation: false,
        evaluateTest: false,
        ...(runDir === undefined ? {} : { store: nodeRunStore(runDir) }),
      };
      return { options, pruner, inner };
    };
    const ref = scenario();
    const full = await train(ref.options);
    // Each step drew its gates twice (two passes) with identical samples.
    expect(ref.pruner.samples).toHaveLength(2 * 24);
    for (let i = 0; i < 24; i++) expect(ref.pruner.samples[2 * i]).toBe(ref.pruner.samples[2 * i + 1]);
    // Every training pass is told its batch size (per-example gates need it): batches of 16.
    expect(ref.pruner.batches).toEqual(new Array(2 * 24).fill(16));
    const phi = [...ref.pruner.phi().dataSync()];
    expect(phi.some((x) => Math.abs(x - 1.5) > 1e-3)).toBe(true);
    const want = {
      ...weightBytes(full.net),
      phi: Buffer.from(ref.pruner.phi().dataSync().buffer).toString('base64'),
    };
    full.net.dispose();
    ref.inner.dispose();
    ref.pruner.dispose!();

    const runDir = tempDir();
    const controller = new AbortController();
    const a = scenario(runDir);
    const first = await train({
      ...a.options,
      signal: controller.signal,
      callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 10 && controller.abort()) }],
    });
    first.net.dispose();
    a.inner.dispose();
    a.pruner.dispose!();
    const b = scenario(runDir);
    const second = await train({ ...b.options, resume: true });
    expect({
      ...weightBytes(second.net),
      phi: Buffer.from(b.pruner.phi().dataSync().buffer).toString('base64'),
    }).toEqual(want);
    second.net.dispose();
    b.inner.dispose();
    b.pruner.dispose!();
  });

  it('prepare() gets the data gradients by parameter name, computed once per step', async () => {
    let checked = 0;
    const relevance: Objective = {
      name: 'relevance',
      config: { type: 'test-relevance' },
      prepare(ctx) {
        const g = ctx.dataGradients();
        expect(ctx.dataGradients()).toBe(g);
        expect([...g.keys()].sort()).toEqual(['fc1/bias', 'fc1/kernel', 'fc2/bias', 'fc2/kernel']);
        // Same gradient as a direct backward pass of CE on this batch (the spec has no dropout).
        const { value, grads } = tf.variableGrads(
          () =>
            crossEntropy().value({
              net: ctx.net,
              outputs: ctx.net.apply(ctx.batch.x, { training: true }),
              batch: ctx.batch,
              gateProbabilities: {},
              training: true,
            }),
          [ctx.net.params.get('fc1/kernel')!],
        );
        const direct = Object.values(grads)[0]!;
        expect([...direct.dataSync()]).toEqual([...g.get('fc1/kernel')!.dataSync()]);
        tf.dispose([value, direct]);
        checked += 1;
      },
      value: () => tf.scalar(0),
    };
    const o = baseOptions();
    const r = await train({
      ...o,
      net: createNetwork(gatedSpec(), { seed: 2 }),
      objectives: [crossEntropy(), relevance],
      epochs: 1,
      validation: false,
      evaluateTest: false,
    });
    expect(checked).toBe(6);
    r.net.dispose();
    o.net.dispose();
    o.solver.dispose();
  });

  it('reports progress with an ETA after every step', async () => {
    const seen: ProgressInfo[] = [];
    const o = baseOptions();
    const r = await train({
      ...o,
      epochs: 2,
      validation: false,
      evaluateTest: false,
      callbacks: [{ name: 'progress', onProgress: (p) => void seen.push(p) }],
    });
    expect(seen.map((p) => p.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(seen[5]).toMatchObject({ totalSteps: 12, epoch: 0, epochs: 2, batch: 6, batchesPerEpoch: 6 });
    expect(seen.every((p) => p.etaMs >= 0 && p.stepsPerSecond > 0)).toBe(true);
    expect(seen[11]!.etaMs).toBe(0);
    r.net.dispose();
    o.solver.dispose();
  });

  it('evaluates logits, softmax and log-softmax outputs with sparse or one-hot labels to the same figures', () => {
    const withHead = (fn?: 'softmax' | 'logSoftmax') => {
      const spec = mlpSpec();
      return createNetwork(
        fn === undefined
          ? spec
          : {
              ...spec,
              nodes: [...spec.nodes, { id: 'head', op: 'activation', inputs: ['fc2'], fn }],
              outputs: ['head'],
            },
        { seed: 9 },
      );
    };
    const before = tf.memory().numTensors;
    const nets = [withHead(), withHead('softmax'), withHead('logSoftmax')];
    const results = nets.flatMap((n) =>
      (['sparse', 'onehot'] as const).map((labels) =>
        evaluateNetwork(n, dataset, 'test', { batchSize: 20, labels }),
      ),
    );
    const ref = results[0]!;
    expect(ref.samples).toBe(48);
    for (const r of results) {
      expect(r.accuracy).toEqual(ref.accuracy);
      expect(r.loss[0]).toBeCloseTo(ref.loss[0]!, 5);
    }
    for (const n of nets) n.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a growing batch size (a pure function of the epoch) trains and resumes bit-identically', async () => {
    const growing = (epoch: number) => 8 * 2 ** epoch;
    const ref = baseOptions();
    const full = await train({
      ...ref,
      batchSize: growing,
      epochs: 3,
      validation: false,
      evaluateTest: false,
    });
    // 96 samples: 12 + 6 + 3 batches.
    expect(full.steps).toBe(21);
    expect(full.history.map((h) => h.step)).toEqual([12, 18, 21]);
    const want = weightBytes(full.net);
    full.net.dispose();
    ref.solver.dispose();
    const runDir = tempDir();
    const controller = new AbortController();
    const a = baseOptions();
    const first = await train({
      ...a,
      batchSize: growing,
      epochs: 3,
      store: nodeRunStore(runDir),
      validation: false,
      evaluateTest: false,
      signal: controller.signal,
      callbacks: [{ name: 'abort', onStepEnd: (s) => void (s.step === 14 && controller.abort()) }],
    });
    first.net.dispose();
    a.solver.dispose();
    const b = baseOptions();
    const second = await train({
      ...b,
      batchSize: growing,
      epochs: 3,
      store: nodeRunStore(runDir),
      resume: true,
      validation: false,
    });
    expect(second.resumedFrom!.step).toBe(15);
    expect(weightBytes(second.net)).toEqual(want);
    second.net.dispose();
    b.solver.dispose();
    await expect(train({ ...b, batchSize: (e: number) => 4 - 2 * e, epochs: 3 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      issues: [{ path: 'batchSize', message: expect.stringContaining('epoch 2') }],
    });
    b.net.dispose();
  });

  it('without a schedule the loop leaves the solver its own rate (e.g. a per-epoch decay it manages)', async () => {
    const o = baseOptions();
    const inner = o.solver;
    const selfDecaying: Solver = {
      ...inner,
      get learningRate() {
        return inner.learningRate;
      },
      set learningRate(lr: number) {
        inner.learningRate = lr;
      },
      step: (p) => inner.step(p),
      endEpoch: () => {
        inner.learningRate *= 0.5;
      },
    };
    const r = await train({ ...o, solver: selfDecaying, epochs: 3, validation: false, evaluateTest: false });
    expect(r.history.map((h) => h.learningRate)).toEqual([0.02, 0.01, 0.005]);
    r.net.dispose();
    inner.dispose();
  });

  it('keepBest snapshots the best epoch with its evaluation gates; the snapshot re-evaluates to the same figures', async () => {
    const runDir = tempDir();
    const pruner = gatePruner();
    const o = baseOptions();
    const best = keepBest({
      save: (net, step, extra) => saveNetworkSnapshot(join(runDir, 'best'), net, step, extra),
      monitor: 'validation.accuracy',
    });
    const r = await train({
      ...o,
      net: createNetwork(gatedSpec(), { seed: 2 }),
      objectives: [crossEntropy(), expectedUnits()],
      pruners: [pruner],
      epochs: 3,
      callbacks: [best],
    });
    const snap = loadNetworkSnapshot(join(runDir, 'best'))!;
    expect(snap.extra.epoch).toBe(best.bestEpoch);
    expect(Object.keys(snap.extra.gates as object)).toEqual(['g1']);
    const again = evaluateNetwork(snap.net, dataset, 'validation', {
      gates: snap.extra.gates as never,
      objectives: [crossEntropy()],
    });
    expect(again.accuracy[0]).toBe(r.history[best.bestEpoch]!.validation!.accuracy[0]);
    expect(again.loss[0]).toBeCloseTo(r.history[best.bestEpoch]!.validation!.loss[0]!, 6);
    snap.net.dispose();
    r.net.dispose();
    o.net.dispose();
    o.solver.dispose();
    pruner.dispose!();
  });

  it('a prepare() pass does not touch BatchNorm statistics: same run as without it', async () => {
    const zero = (withPrepare: boolean): Objective => ({
      name: 'zero',
      config: { type: 'test-zero' },
      ...(withPrepare ? { prepare: (ctx) => void ctx.dataGradients() } : {}),
      value: () => tf.scalar(0),
    });
    const run = async (withPrepare: boolean) => {
      // Weights that are powers of two: scaling the reused data gradient rounds as the pass does.
      const o = { ...baseOptions(), solver: weightedSum([0.5, 0.5], { type: 'adam', lr: 0.02 }) };
      const r = await train({
        ...o,
        objectives: [crossEntropy(), zero(withPrepare)],
        epochs: 1,
        validation: false,
        evaluateTest: false,
      });
      const w = weightBytes(r.net);
      r.net.dispose();
      o.solver.dispose();
      return w;
    };
    const before = tf.memory().numTensors;
    expect(await run(true)).toEqual(await run(false));
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the prepare pass's data gradient is reused: one forward pass per step, same run bit for bit (gates included)", async () => {
    // expectedUnits reads only the gate probabilities: with the data objective's value and gradient
    // known from the prepare pass, the solver's pass needs no forward pass at all.
    const units = (withPrepare: boolean): Objective => ({
      ...expectedUnits(),
      ...(withPrepare ? { prepare: (ctx) => void ctx.dataGradients() } : {}),
    });
    const run = async (withPrepare: boolean) => {
      const o = { ...baseOptions(), solver: weightedSum([0.5, 0.5], { type: 'adam', lr: 0.02 }) };
      o.net.dispose();
      const pruner = gatePruner();
      const r = await train({
        ...o,
        net: createNetwork(gatedSpec(), { seed: 5 }),
        objectives: [crossEntropy(), units(withPrepare)],
        pruners: [pruner],
        epochs: 2,
        validation: false,
        evaluateTest: false,
      });
      const out = {
        weights: weightBytes(r.net),
        phi: Array.from(pruner.phi().dataSync()),
        passes: pruner.samples.length,
        steps: r.steps,
      };
      r.net.dispose();
      o.solver.dispose();
      pruner.dispose!();
      return out;
    };
    const before = tf.memory().numTensors;
    const on = await run(true);
    const off = await run(false);
    expect(on.steps).toBeGreaterThan(10);
    // One training-mode forward pass per step (gates are sampled once per pass), with or without prepare.
    expect(on.passes).toBe(on.steps);
    expect(off.passes).toBe(off.steps);
    expect(on.weights).toEqual(off.weights);
    expect(on.phi).toEqual(off.phi);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('recalibrateBatchNorm: evaluations see BatchNorm statistics of the network as evaluated', async () => {
    // fc1 → relu → gate g1 (sampled while training) → fc2 → bn2 → relu → fc3
    const spec = {
      name: 'gated-bn',
      inputShape: [6],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 8 },
        { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'g1', op: 'gate', inputs: ['relu1'] },
        { id: 'fc2', op: 'dense', inputs: ['g1'], units: 8 },
        { id: 'bn2', op: 'batchNorm', inputs: ['fc2'] },
        { id: 'relu2', op: 'activation', inputs: ['bn2'], fn: 'relu' },
        { id: 'fc3', op: 'dense', inputs: ['relu2'], units: 3 },
      ],
      outputs: ['fc3'],
    } as const;
    const run = async (recalibrate: number) => {
      const inner = gatePruner();
      // Evaluation closes every second unit (training samples from θ = σ(1.5) ≈ 0.82).
      const half = [1, 0, 1, 0, 1, 0, 1, 0];
      const pruner: Pruner = {
        ...inner,
        gates: (training, rng) => (training ? inner.gates!(training, rng) : { g1: tf.tensor1d(half) }),
      };
      const o = baseOptions();
      o.net.dispose();
      const r = await train({
        ...o,
        net: createNetwork(spec as never, { seed: 2 }),
        objectives: [crossEntropy()],
        pruners: [pruner],
        epochs: 2,
        recalibrateBatchNorm: recalibrate,
      });
      // What the first 2 batches of epoch 0's order give under the evaluation gates.
      const stats = () => [
        ...r.net.params.get('bn2/movingMean')!.dataSync(),
        ...r.net.params.get('bn2/movingVariance')!.dataSync(),
      ];
      const got = stats();
      const batches = [
        ...dataset.batches('train', {
          batchSize: 16,
          seed: streamSeeds(3).shuffle,
          epoch: 0,
          shuffle: true,
          layout: 'flat',
        }),
      ];
      const gates = { g1: tf.tensor1d(half) };
      recalibrateBatchNorm(
        r.net,
        batches.slice(0, 2).map((b) => b.x),
        { gates },
      );
      const want = stats();
      gates.g1.dispose();
      for (const b of batches) b.dispose();
      const figures = { got, want, test: r.test!.loss[0]! };
      r.net.dispose();
      o.solver.dispose();
      inner.dispose!();
      return figures;
    };
    const before = tf.memory().numTensors;
    const on = await run(2);
    for (const [i, v] of on.got.entries()) expect(v).toBeCloseTo(on.want[i]!, 5);
    // Without it the statistics are the moving averages over the sampled networks: not those.
    const off = await run(0);
    expect(off.got.some((v, i) => Math.abs(v - off.want[i]!) > 1e-3)).toBe(true);
    expect(on.test).not.toBe(off.test);
    expect(tf.memory().numTensors).toBe(before);
  });
});
