import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ComponentState,
  compact,
  createNetwork,
  evaluateNetwork,
  isMopruneError,
  type Network,
  nodeRunStore,
  type Pruner,
  type TrainOptions,
  train,
} from '../node/index.js';
import { tempDirs } from './fixtures/temp-dirs.js';
import {
  blobDataset,
  crossEntropy,
  gatedSpec,
  gatePruner,
  l1Kernels,
  magnitudePruner,
  mlpSpec,
  unitRemover,
  weightBytes,
  weightedSum,
} from './fixtures/train-fixtures.js';

const tempDir = tempDirs('moprune-averaging-');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dataset = blobDataset();

function options(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    net: createNetwork(mlpSpec(), { seed: 11 }),
    dataset,
    objectives: [crossEntropy(), l1Kernels()],
    solver: weightedSum([0.99, 0.01], { type: 'adam', lr: 0.02 }),
    epochs: 3,
    batchSize: 16,
    seed: 3,
    data: { layout: 'flat' },
    ...extra,
  };
}

/** The trainable parameters' values by name (float64 copies). */
function trainable(net: Network): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, v] of net.params) if (v.trainable) out.set(name, Float64Array.from(v.dataSync()));
  return out;
}

const stepLines = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; objectives?: unknown; validation?: { accuracy: number[] } })
    .filter((l) => l.type === 'step')
    .map((l) => l.objectives);

describe('train with averaging', () => {
  it('evaluates and returns the moving average of the trained weights; training itself is unchanged', async () => {
    const decay = 0.8;
    // Without averaging: the trained trajectory.
    const plainDir = tempDir();
    const p = options({ store: nodeRunStore(plainDir), checkpoint: false });
    const plain = await train(p);
    const trained = weightBytes(plain.net);
    plain.net.dispose();
    p.solver.dispose();

    // With it: the same steps, and the average computed here from the weights after every step.
    const dir = tempDir();
    const o = options({ store: nodeRunStore(dir), checkpoint: false, averaging: { decay } });
    let average = trainable(o.net);
    let raw: Record<string, string> = {};
    let atEpochEnd: Record<string, string> = {};
    const result = await train({
      ...o,
      callbacks: [
        {
          name: 'follow',
          onStepEnd: ({ net }) => {
            const now = trainable(net);
            average = new Map(
              [...average].map(([k, a]) => [k, a.map((x, i) => decay * x + (1 - decay) * now.get(k)![i]!)]),
            );
            raw = weightBytes(net);
            return undefined;
          },
          // The epoch's end (metrics, history, callbacks such as keepBest) sees the network as evaluated.
          onEpochEnd: ({ net }) => {
            atEpochEnd = weightBytes(net);
            return undefined;
          },
        },
      ],
    });
    // The trajectory: every step line and the last trained weights are those of the plain run.
    expect(stepLines(dir)).toEqual(stepLines(plainDir));
    expect(raw).toEqual(trained);
    // The returned network holds the average …
    const got = trainable(result.net);
    for (const [k, a] of average) {
      const g = got.get(k)!;
      for (let i = 0; i < a.length; i++) expect(g[i]).toBeCloseTo(a[i]!, 5);
    }
    expect(weightBytes(result.net)).not.toEqual(trained);
    expect(atEpochEnd).toEqual(weightBytes(result.net));
    // … and every figure the run reported is that network's.
    const test = evaluateNetwork(result.net, dataset, 'test', { objectives: o.objectives, layout: 'flat' });
    const validation = evaluateNetwork(result.net, dataset, 'validation', {
      objectives: o.objectives,
      layout: 'flat',
    });
    expect(result.test!.loss).toEqual(test.loss);
    expect(result.validation!.loss).toEqual(validation.loss);
    expect(result.history[result.history.length - 1]!.validation!.loss).toEqual(validation.loss);
    result.net.dispose();
    o.solver.dispose();
  });

  it('keeps pruned weights at zero in the evaluated average', async () => {
    const o = options({ pruners: [magnitudePruner('fc1/kernel', 2, 0.3)], averaging: { decay: 0.9 } });
    const result = await train(o);
    const mask = result.net.getMask('fc1/kernel')!.dataSync();
    const kernel = result.net.params.get('fc1/kernel')!.dataSync();
    const zeros = [...mask].filter((m) => m === 0).length;
    expect(zeros).toBeGreaterThan(0);
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) expect(Math.abs(kernel[i]!)).toBe(0);
    result.net.dispose();
    o.solver.dispose();
  });

  it("averages the pruners' variables and follows physical removal; a resumed run ends bit for bit like the uninterrupted one", async () => {
    const scenario = (runDir?: string): TrainOptions =>
      options({
        net: createNetwork(gatedSpec(), { seed: 2 }),
        objectives: [crossEntropy()],
        solver: weightedSum([1], { type: 'adam', lr: 0.02 }),
        epochs: 4,
        pruners: [unitRemover(['fc1:unit:1', 'fc1:unit:4', 'fc1:unit:6'], 3, (n) => compact(n))],
        averaging: { decay: 0.7 },
        ...(runDir === undefined ? {} : { store: nodeRunStore(runDir), checkpoint: { everySteps: 5 } }),
      });
    const ref = scenario();
    const full = await train(ref);
    expect(full.net.params.get('fc1/kernel')!.shape).toEqual([6, 5]);
    const want = weightBytes(full.net);
    const wantTest = full.test!.loss;
    full.net.dispose();
    ref.solver.dispose();

    const runDir = tempDir();
    const controller = new AbortController();
    const a = scenario(runDir);
    let lastTrained: Record<string, string> = {};
    const first = await train({
      ...a,
      signal: controller.signal,
      callbacks: [
        {
          name: 'abort',
          onStepEnd: (s) => {
            lastTrained = weightBytes(s.net);
            if (s.step === 12) controller.abort();
            return undefined;
          },
        },
      ],
    });
    expect(first.interrupted).toBe(true);
    // An interrupted run returns the trained values (its checkpoint keeps the averages beside them).
    expect(weightBytes(first.net)).toEqual(lastTrained);
    first.net.dispose();
    a.solver.dispose();
    const b = scenario(runDir);
    const second = await train({ ...b, resume: true });
    expect(second.resumedFrom!.step).toBe(13);
    expect(weightBytes(second.net)).toEqual(want);
    expect(second.test!.loss).toEqual(wantTest);
    second.net.dispose();
    b.solver.dispose();

    // A crash after an epoch's end: the resume starts from that epoch's checkpoint, which holds the
    // trained values (and the averages beside them), not the averages in their place.
    const crashDir = tempDir();
    const c = scenario(crashDir);
    await expect(
      train({
        ...c,
        checkpoint: { everyEpochs: 1 },
        callbacks: [
          {
            name: 'crash',
            onStepEnd: (s) => {
              if (s.step === 14) throw new Error('crash');
              return undefined;
            },
          },
        ],
      }),
    ).rejects.toThrow('crash');
    c.solver.dispose();
    const d = scenario(crashDir);
    const third = await train({ ...d, checkpoint: { everyEpochs: 1 }, resume: true });
    expect(third.resumedFrom!.step).toBe(12);
    expect(weightBytes(third.net)).toEqual(want);
    third.net.dispose();
    d.solver.dispose();

    // A pruner's variables are averaged too: the gate parameters the run ends with are not the trained ones.
    const gates = gatePruner('g1', 8);
    let trainedPhi: Float32Array | undefined;
    const g = options({
      net: createNetwork(gatedSpec(), { seed: 2 }),
      objectives: [crossEntropy()],
      solver: weightedSum([1], { type: 'adam', lr: 0.05 }),
      pruners: [gates],
      averaging: { decay: 0.9 },
      callbacks: [
        {
          name: 'phi',
          onStepEnd: () => {
            trainedPhi = gates.phi().dataSync().slice() as Float32Array;
            return undefined;
          },
        },
      ],
    });
    const gated = await train(g);
    expect([...gates.phi().dataSync()]).not.toEqual([...trainedPhi!]);
    gated.net.dispose();
    g.solver.dispose();
  });

  it('gives pruners the evaluated values (withEvaluatedValues) and restarts the average from values a pruner writes back (valuesWritten)', async () => {
    // A keeper like the validation-gated pruners' ledger: at step 5 it evaluates and copies the network
    // as evaluated; after the last step it writes that copy back and says so.
    let total = 0;
    let copy: Record<string, string> | undefined;
    let copyValues: Map<string, Float32Array> | undefined;
    let trainedAfterCopy: Record<string, string> | undefined;
    let evaluatedLoss: number | undefined;
    const keeper: Pruner = {
      name: 'keeper',
      config: { type: 'keeper' },
      init(c) {
        total = c.totalSteps;
      },
      async afterStep(ctx) {
        if (ctx.step === 5) {
          evaluatedLoss = (await ctx.evaluate('validation')).loss;
          const before = weightBytes(ctx.net);
          await ctx.withEvaluatedValues!(async () => {
            await Promise.resolve(); // an asynchronous copy, as the ledger's
            copy = weightBytes(ctx.net);
            copyValues = new Map(
              [...ctx.net.params].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]),
            );
          });
          trainedAfterCopy = weightBytes(ctx.net);
          expect(trainedAfterCopy).toEqual(before); // the trained values are back
        }
        if (ctx.step === total - 1) {
          for (const [k, v] of ctx.net.params)
            tf.tidy(() => v.assign(tf.tensor(copyValues!.get(k)!, v.shape)));
          ctx.valuesWritten!();
        }
        return undefined;
      },
      state: (): ComponentState => ({ json: {}, arrays: {} }),
      load() {},
    };
    const tensorsBefore = tf.memory().numTensors;
    const o = options({ pruners: [keeper], averaging: { decay: 0.9 }, epochs: 2 });
    const result = await train(o);
    // The copy is the averaged network, not the trained one.
    expect(copy).not.toEqual(trainedAfterCopy);
    // Its validation loss is the one the pruner's evaluate saw at step 5.
    const copyNet = createNetwork(mlpSpec(), { seed: 11 });
    for (const [k, v] of copyNet.params) tf.tidy(() => v.assign(tf.tensor(copyValues!.get(k)!, v.shape)));
    const seen = evaluateNetwork(copyNet, dataset, 'validation', {
      objectives: o.objectives,
      layout: 'flat',
    });
    expect(seen.loss[0]).toBeCloseTo(evaluatedLoss!, 6);
    // The run returns exactly the written copy, and its final figures are the copy's.
    expect(weightBytes(result.net)).toEqual(copy);
    expect(result.validation!.loss).toEqual(seen.loss);
    copyNet.dispose();
    result.net.dispose();
    o.solver.dispose();
    // The swaps of withEvaluatedValues and the restart leave no tensor behind.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const o = options({ averaging: { decay: 0.9 }, pruners: [magnitudePruner('fc1/kernel', 2, 0.3)] });
    const result = await train(o);
    result.net.dispose();
    o.solver.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a decay outside (0, 1) before any work', async () => {
    for (const decay of [0, 1, -0.5, Number.NaN]) {
      const o = options({ averaging: { decay } });
      let error: unknown;
      let stepped = false;
      try {
        const seen = {
          name: 'x',
          onStepEnd: () => {
            stepped = true;
            return undefined;
          },
        };
        await train({ ...o, callbacks: [seen] });
      } catch (e) {
        error = e;
      }
      expect(isMopruneError(error) && error.code).toBe('INVALID_CONFIG');
      expect(String((error as Error).message)).toContain('averaging.decay');
      expect(stepped).toBe(false);
      o.net.dispose();
      o.solver.dispose();
    }
  });
});
