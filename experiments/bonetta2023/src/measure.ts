/**
 * What a pruned network is worth once deployed (compaction, export, inference
 * time dense vs sparse), and what the relevance regularizer costs per step.
 * Measured with alternating rounds so that the
 * shared machine's drift hits every variant alike; the load is recorded
 * beside every figure.
 */
import { loadavg } from 'node:os';
import {
  compact,
  isMopruneError,
  type JsonObject,
  loadLayersModelFromDir,
  loadNetworkSnapshot,
  type Network,
  networkMetrics,
  registries,
  saveLayersModel,
  train,
} from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';

/** Median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall time (ms) of one synchronous call whose result is read back. */
function timeOnce(f: () => tf.Tensor): number {
  const t0 = performance.now();
  const y = f();
  y.dataSync();
  const ms = performance.now() - t0;
  y.dispose();
  return ms;
}

/** Median wall times of several variants, `rounds` alternating rounds of `reps` calls each, after one warm-up call. */
function timeVariants(
  variants: Record<string, () => tf.Tensor>,
  rounds: number,
  reps = 5,
): Record<string, number> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) timeOnce(variants[n]!);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) for (let i = 0; i < reps; i++) samples[n]!.push(timeOnce(variants[n]!));
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

/** A pruned network as deployed: its structure after compaction, its export, its speed. */
export interface Deployment {
  /** Parameters (trainable entries) of the dense network, non-zero ones of the pruned, and of the compacted. */
  readonly params: { readonly dense: number; readonly nonzero: number; readonly compacted: number };
  /** Multiply–accumulates per sample (counting rule of @moprune/core). */
  readonly macs: { readonly dense: number; readonly nonzero: number; readonly compacted: number };
  /** Live units/filters per prunable layer after pruning. */
  readonly units: Readonly<Record<string, { readonly live: number; readonly total: number }>>;
  /** Largest |compacted(x) − pruned(x)| over the timing batch (compaction is exact up to float error). */
  readonly compactionMaxError: number;
  /** `tf.LayersModel` export of the compacted network: the directory, or why it could not be made. */
  readonly export: { readonly dir: string; readonly maxError: number } | { readonly unsupported: string };
  /** Median ms of one inference of `batch` test samples. */
  readonly inferenceMs: Readonly<Record<string, number>>;
  readonly batch: number;
  readonly backend: string;
  /** 1-minute load average when the timing ran (the machine is shared). */
  readonly load: number;
}

/** Options of {@link measureDeployment}. */
export interface DeploymentOptions {
  /** Snapshot directory of the dense starting network. */
  readonly dense: string;
  /** Snapshot directory of the pruned network the run ended with. */
  readonly pruned: string;
  /** Where the exported `tf.LayersModel` goes. */
  readonly exportDir: string;
  /** The run's config (its dataset gives the timing batch). */
  readonly config: JsonObject;
  readonly rounds: number;
  readonly dataDir?: string;
  /** @default 1000 */
  readonly batch?: number;
}

function loadNet(dir: string): Network {
  const snap = loadNetworkSnapshot(dir);
  if (snap === undefined) throw new Error(`no network snapshot in ${dir}`);
  return snap.net;
}

/**
 * Compacts the pruned network (removing units and filters whose every weight
 * was pruned), checks that it computes the same function, exports it to a
 * `tf.LayersModel` (ops without a built-in layer — self-attention — are
 * reported, not exported), and times inference of a test batch: dense,
 * pruned (masked, same shape as dense), compacted, and the exported models.
 */
export async function measureDeployment(o: DeploymentOptions): Promise<Deployment> {
  const dataset = await registries().datasets.create(
    o.config.dataset as JsonObject,
    o.dataDir === undefined ? {} : { dataDir: o.dataDir },
  );
  const dense = loadNet(o.dense);
  const pruned = loadNet(o.pruned);
  const compacted = compact(pruned);
  const models: { dispose(): void }[] = [];
  const size = Math.min(o.batch ?? 1000, dataset.info.sizes.test);
  const [first] = [...dataset.batches('test', { batchSize: size, limit: size })];
  try {
    const x = first!.x;
    const maxDiff = (a: tf.Tensor, b: tf.Tensor) =>
      tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    const [yp, yc] = [pruned.apply(x)[0]!, compacted.apply(x)[0]!];
    const compactionMaxError = maxDiff(yp, yc);
    let exported: Deployment['export'];
    const variants: Record<string, () => tf.Tensor> = {
      dense: () => dense.apply(x)[0]!,
      'pruned (masked)': () => pruned.apply(x)[0]!,
      compacted: () => compacted.apply(x)[0]!,
    };
    try {
      await saveLayersModel(compacted, o.exportDir);
      const model = await loadLayersModelFromDir(o.exportDir);
      models.push(model);
      const ym = model.predict(x) as tf.Tensor;
      exported = { dir: o.exportDir, maxError: maxDiff(ym, yc) };
      ym.dispose();
      variants['compacted, exported tf.LayersModel'] = () => model.predict(x) as tf.Tensor;
    } catch (e) {
      if (!isMopruneError(e, 'UNSUPPORTED_OP')) throw e;
      exported = { unsupported: (e as Error).message };
    }
    tf.dispose([yp, yc]);
    const load = loadavg()[0]!;
    const inferenceMs = timeVariants(variants, o.rounds);
    const m = networkMetrics(pruned);
    const c = networkMetrics(compacted);
    return {
      params: { dense: m.dense.params, nonzero: m.nonzero.params, compacted: c.dense.params },
      macs: { dense: m.dense.macs, nonzero: m.nonzero.macs, compacted: c.dense.macs },
      units: m.units,
      compactionMaxError,
      export: exported,
      inferenceMs,
      batch: size,
      backend: tf.getBackend(),
      load,
    };
  } finally {
    first?.dispose();
    for (const d of models) d.dispose();
    compacted.dispose();
    pruned.dispose();
    dense.dispose();
  }
}

/**
 * The relevance regularizer's cost per step. The paper's method takes a second backward pass (the data
 * gradient for the factors, then the step's own); @moprune/core reuses the first for the update, so the
 * field names say "backward" for what is now the step with and without the selective decay.
 */
export interface SecondPassCost {
  /** Median ms per training step: cross-entropy alone (one backward pass). */
  readonly oneBackwardMs: number;
  /** Median ms per step: cross-entropy + selective decay (the data gradient ∂L/∂w first, reused for the step). */
  readonly twoBackwardMs: number;
  readonly ratio: number;
  readonly steps: number;
  readonly rounds: number;
  readonly backend: string;
  readonly load: number;
}

/**
 * Times training steps of the relevance run's network, data and optimizer
 * with and without the selective decay (whose `prepare` runs the extra
 * backward pass), in alternating rounds of `steps` steps from the same
 * starting weights; no pruner, no evaluation, no files.
 */
export async function measureSecondPass(o: {
  readonly config: JsonObject;
  readonly rounds: number;
  readonly steps?: number;
  readonly dataDir?: string;
}): Promise<SecondPassCost> {
  const r = registries();
  const dataset = await r.datasets.create(
    o.config.dataset as JsonObject,
    o.dataDir === undefined ? {} : { dataDir: o.dataDir },
  );
  const t = o.config.training as JsonObject;
  const steps = o.steps ?? 20;
  const batchSize = t.batchSize as number;
  const objectives = o.config.objectives as JsonObject[];
  const optimizer = (o.config.solver as JsonObject).optimizer as JsonObject;
  const time = async (two: boolean): Promise<number> => {
    const net = loadNet(t.initFrom as string);
    const objs = (two ? objectives : objectives.slice(0, 1)).map((c) => r.objectives.create(c, undefined));
    const solver = r.solvers.create(
      { type: 'weighted-sum', weights: two ? [0.5, 0.5] : [1], optimizer },
      undefined,
    );
    try {
      const result = await train({
        net,
        dataset,
        objectives: objs,
        solver,
        epochs: 1,
        batchSize,
        seed: 1,
        data: { limit: steps * batchSize },
        validation: false,
        evaluateTest: false,
        logEverySteps: 0,
      });
      result.net.dispose();
      return result.wallTimeMs / result.steps;
    } finally {
      net.dispose();
      solver.dispose();
      for (const x of objs) x.dispose?.();
    }
  };
  await time(false);
  await time(true);
  const one: number[] = [];
  const two: number[] = [];
  const load = loadavg()[0]!;
  for (let i = 0; i < o.rounds; i++) {
    if (i % 2 === 0) {
      one.push(await time(false));
      two.push(await time(true));
    } else {
      two.push(await time(true));
      one.push(await time(false));
    }
  }
  const oneBackwardMs = median(one);
  const twoBackwardMs = median(two);
  return {
    oneBackwardMs,
    twoBackwardMs,
    ratio: twoBackwardMs / oneBackwardMs,
    steps,
    rounds: o.rounds,
    backend: tf.getBackend(),
    load,
  };
}
