import * as tf from '@tensorflow/tfjs-core';
import { CoreError } from '../errors.js';
import type { Batch, BatchOptions, Dataset, Objective, Pruner, SplitName } from '../interfaces.js';
import type { Network } from '../network-types.js';
import { Rng } from '../rng.js';

/** What a network's output tensor holds, read from the output node of its spec. */
export type OutputKind = 'logits' | 'probabilities' | 'logProbabilities';

/**
 * The kind of each spec output: an `activation` node with `softmax` gives
 * probabilities, with `logSoftmax` log-probabilities; anything else is taken
 * as logits. The evaluation loss is the cross-entropy computed accordingly.
 */
export function outputKinds(net: Network): OutputKind[] {
  return net.spec.outputs.map((id) => {
    const node = net.spec.nodes.find((n) => n.id === id);
    if (node?.op === 'activation' && node.fn === 'softmax') return 'probabilities';
    if (node?.op === 'activation' && node.fn === 'logSoftmax') return 'logProbabilities';
    return 'logits';
  });
}

/** Options of {@link evaluateNetwork}. */
export interface EvaluateOptions {
  /** @default 256 */
  readonly batchSize?: number;
  /** Objectives to average over the split (those with a `prepare` step are skipped: they need a training step). @default [] */
  readonly objectives?: readonly Objective[];
  /** Pruners whose deterministic (evaluation) gates apply. @default [] */
  readonly pruners?: readonly Pruner[];
  /** Forwarded to {@link Dataset.batches}. */
  readonly layout?: BatchOptions['layout'];
  /** Forwarded to {@link Dataset.batches}. */
  readonly limit?: number;
  /** Forwarded to {@link Dataset.batches} (objectives see the labels in the format they were trained with). */
  readonly labels?: BatchOptions['labels'];
  /** Fixed gate values by site (e.g. saved with a snapshot), applied over the pruners' gates. @default {} */
  readonly gates?: Readonly<Record<string, GateValues>>;
}

/** Gate values of one site as plain data: `shape` `[]` for a layer gate, `[C]` for unit gates. */
export interface GateValues {
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

/** The deterministic (evaluation) gates of the pruners, as plain data. */
export function evaluationGates(pruners: readonly Pruner[]): Record<string, GateValues> {
  const out: Record<string, GateValues> = {};
  // tidy frees whatever a pruner's gates() allocates besides the returned gates.
  const gates = tf.tidy(() => collectGates(pruners, false, Rng.fromSeed(0)));
  for (const [site, t] of Object.entries(gates)) {
    out[site] = { shape: [...t.shape], values: Array.from(t.dataSync()) };
  }
  tf.dispose(Object.values(gates));
  return out;
}

/** Figures of one evaluation pass. */
export interface EvaluationResult {
  readonly split: SplitName;
  /** Samples evaluated. */
  readonly samples: number;
  /** Accuracy (argmax = label) per task. */
  readonly accuracy: readonly number[];
  /** Mean cross-entropy per task. */
  readonly loss: readonly number[];
  /** Mean value of each evaluated objective (sample-weighted over batches), by objective name. */
  readonly objectives: Readonly<Record<string, number>>;
}

/** Number of correct predictions and the summed cross-entropy of one task's output. */
function taskFigures(
  out: tf.Tensor,
  y: tf.Tensor,
  kind: OutputKind,
): { correct: tf.Scalar; ceSum: tf.Scalar } {
  return tf.tidy(() => {
    const classes = out.shape[1]!;
    const labels = y.rank === 1 ? tf.cast(y, 'int32') : tf.argMax(y, 1);
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), labels), 'float32')) as tf.Scalar;
    const oneHot = tf.oneHot(labels, classes);
    const logp =
      kind === 'logits'
        ? tf.logSoftmax(out)
        : kind === 'logProbabilities'
          ? out
          : tf.log(tf.clipByValue(out, 1e-7, 1));
    const ceSum = tf.neg(tf.sum(tf.mul(oneHot, logp))) as tf.Scalar;
    return { correct, ceSum };
  });
}

/** Merges the gate records of several pruners (later pruners win on a shared site); `batch` is passed on (per-example gates). */
export function collectGates(
  pruners: readonly Pruner[],
  training: boolean,
  rng: Rng,
  batch?: number,
): Record<string, tf.Tensor> {
  const gates: Record<string, tf.Tensor> = {};
  for (const p of pruners) if (p.gates) Object.assign(gates, p.gates(training, rng, batch));
  return gates;
}

/** Merges the gate keep-probabilities of several pruners. */
export function collectGateProbabilities(pruners: readonly Pruner[]): Record<string, tf.Tensor> {
  const probs: Record<string, tf.Tensor> = {};
  for (const p of pruners) if (p.gateProbabilities) Object.assign(probs, p.gateProbabilities());
  return probs;
}

/**
 * Evaluates a network on a split in inference mode (no dropout, BatchNorm
 * moving statistics, deterministic gates): accuracy and cross-entropy per
 * task, and the mean of each objective without a `prepare` step. Batches are
 * unshuffled; every tensor it makes is disposed.
 */
export function evaluateNetwork(
  net: Network,
  dataset: Dataset,
  split: SplitName,
  options: EvaluateOptions = {},
): EvaluationResult {
  const kinds = outputKinds(net);
  const tasks = kinds.length;
  const correct = new Array<number>(tasks).fill(0);
  const ce = new Array<number>(tasks).fill(0);
  const objectives = (options.objectives ?? []).filter((o) => o.prepare === undefined);
  const objSums = new Array<number>(objectives.length).fill(0);
  const pruners = options.pruners ?? [];
  let samples = 0;
  const batchOptions: BatchOptions = {
    batchSize: options.batchSize ?? 256,
    shuffle: false,
    ...(options.layout === undefined ? {} : { layout: options.layout }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
  };
  for (const batch of dataset.batches(split, batchOptions)) {
    try {
      evaluateBatch(batch);
    } finally {
      batch.dispose();
    }
  }
  function evaluateBatch(batch: Batch): void {
    if (batch.y.length !== tasks) {
      throw new CoreError(
        'SHAPE_MISMATCH',
        `dataset '${dataset.info.name}' has ${batch.y.length} label tensors, network '${net.spec.name}' has ${tasks} outputs`,
      );
    }
    const figures = tf.tidy(() => {
      // Evaluation gates are deterministic; the Rng is only there to satisfy the signature.
      const gates = collectGates(pruners, false, Rng.fromSeed(0));
      for (const [site, g] of Object.entries(options.gates ?? {})) {
        gates[site] = tf.tensor(g.values as number[], [...g.shape], 'float32');
      }
      const outputs = net.apply(batch.x, { training: false, gates });
      const per = outputs.map((o, t) => taskFigures(o, batch.y[t]!, kinds[t]!));
      const ctx = {
        net,
        outputs,
        batch,
        gateProbabilities: collectGateProbabilities(pruners),
        training: false,
      };
      const values = objectives.map((o) => o.value(ctx));
      return tf.stack([...per.flatMap((p) => [p.correct, p.ceSum]), ...values]);
    });
    const data = figures.dataSync();
    figures.dispose();
    for (let t = 0; t < tasks; t++) {
      correct[t]! += data[2 * t]!;
      ce[t]! += data[2 * t + 1]!;
    }
    for (let i = 0; i < objectives.length; i++) objSums[i]! += data[2 * tasks + i]! * batch.size;
    samples += batch.size;
  }
  const denom = Math.max(1, samples);
  return {
    split,
    samples,
    accuracy: correct.map((c) => c / denom),
    loss: ce.map((c) => c / denom),
    objectives: Object.fromEntries(objectives.map((o, i) => [o.name, objSums[i]! / denom])),
  };
}
