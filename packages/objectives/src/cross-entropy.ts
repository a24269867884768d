import {
  defineObjective,
  type JsonObject,
  type Objective,
  type ObjectiveContext,
  schema as s,
  softmaxCrossEntropy,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { commonFields, outputKind } from './define.js';
import { ObjectiveError } from './errors.js';

/** What the network output holds. */
export type OutputKind = 'logits' | 'logProbabilities' | 'probabilities';

/** Keras' `epsilon()`: the clip of probabilities before the log. */
const KERAS_EPSILON = 1e-7;

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * `'logits'`: unnormalized scores (log-softmax is applied, stably);
   * `'logProbabilities'`: already log-softmaxed (MDMTN heads);
   * `'probabilities'`: softmax outputs, handled as Keras does (rows renormalized,
   * clipped to [1e-7, 1 − 1e-7] before the log), for specs that end in softmax.
   * @default 'logits'
   */
  readonly from?: OutputKind;
  /** Mean or sum over the batch. @default 'mean' */
  readonly reduction?: 'mean' | 'sum';
  /**
   * Check that sparse labels are integers in `[0, classes)` (reads the labels
   * back from the backend; a label out of range would otherwise silently add 0).
   * @default true
   */
  readonly checkLabels?: boolean;
}

/**
 * Cross-entropy of `output` (`[n, classes]`) against `labels`: sparse
 * (`[n]` class indices, int32 or integral float32) or dense (`[n, classes]`
 * one-hot or any target distribution). From logits it uses log-softmax
 * (x − logsumexp x), which never overflows. Entries with target 0 contribute
 * exactly 0 even where the log-probability is −∞ (no 0·(−∞) = NaN).
 */
export function crossEntropy(
  output: tf.Tensor,
  labels: tf.Tensor,
  options: CrossEntropyOptions = {},
): tf.Scalar {
  const from = options.from ?? 'logits';
  const reduction = options.reduction ?? 'mean';
  if (output.rank !== 2) {
    throw new ObjectiveError(
      'SHAPE_MISMATCH',
      `cross-entropy needs outputs [batch, classes], got [${output.shape}]`,
    );
  }
  const [n, classes] = output.shape as [number, number];
  if (labels.shape[0] !== n || labels.rank > 2 || (labels.rank === 2 && labels.shape[1] !== classes)) {
    throw new ObjectiveError(
      'SHAPE_MISMATCH',
      `labels [${labels.shape}] do not fit outputs [${output.shape}]: expected [${n}] (sparse) or [${n}, ${classes}] (one-hot)`,
    );
  }
  if (labels.rank === 1 && (options.checkLabels ?? true)) {
    const values = labels.dataSync();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= classes) {
        throw new ObjectiveError(
          'INVALID_LABELS',
          `label ${i} is ${v}; sparse labels must be integers in [0, ${classes})`,
        );
      }
    }
  }
  if (from === 'logits' && labels.rank === 1) {
    // Sparse labels against logits, the common case: core's softmaxCrossEntropy, one fused kernel
    // pair on backends that register it (native), the same composition as below elsewhere.
    return tf.tidy(() =>
      softmaxCrossEntropy(
        output,
        labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32'),
        reduction === 'mean' ? n : 1,
      ),
    );
  }
  return tf.tidy(() => {
    const logp =
      from === 'logits'
        ? tf.logSoftmax(output)
        : from === 'probabilities'
          ? tf.log(tf.clipByValue(tf.div(output, tf.sum(output, 1, true)), KERAS_EPSILON, 1 - KERAS_EPSILON))
          : output;
    const target =
      labels.rank === 1
        ? tf.oneHot(labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32'), classes)
        : tf.cast(labels, 'float32');
    const terms = tf.where(tf.greater(target, 0), tf.mul(target, logp), tf.zerosLike(logp));
    const total = tf.neg(tf.sum(terms));
    return (reduction === 'mean' ? tf.div(total, n) : total) as tf.Scalar;
  });
}

interface CrossEntropyConfig extends Required<CrossEntropyOptions> {
  readonly name: string;
  readonly output: number;
  readonly label: number;
}

/** Objective computing {@link crossEntropy} of one output against one label tensor of the batch. */
function crossEntropyObjective(options: CrossEntropyConfig, config: JsonObject): Objective {
  return {
    name: options.name,
    config,
    value(ctx: ObjectiveContext): tf.Scalar {
      const out = ctx.outputs[options.output];
      const y = ctx.batch.y[options.label];
      if (!out) {
        throw new ObjectiveError(
          'SHAPE_MISMATCH',
          `${options.name}: output ${options.output} requested, the network has ${ctx.outputs.length}`,
        );
      }
      if (!y) {
        throw new ObjectiveError(
          'SHAPE_MISMATCH',
          `${options.name}: label ${options.label} requested, the batch has ${ctx.batch.y.length}`,
        );
      }
      return crossEntropy(out, y, options);
    },
  };
}

const headFields = {
  from: outputKind().optional(),
  reduction: s.oneOf(['mean', 'sum'] as const).optional(),
  checkLabels: s.boolean().optional(),
  ...commonFields,
};

/** `{ type: 'crossEntropy', output?, label?, from?, reduction?, checkLabels?, name? }`. */
export const crossEntropyDefinition = defineObjective({
  name: 'crossEntropy',
  description: 'mean cross-entropy of one network output against one label tensor (sparse or one-hot)',
  configSchema: s.object({
    output: s.integer({ min: 0 }).optional(),
    label: s.integer({ min: 0 }).optional(),
    ...headFields,
  }),
  create(c) {
    const output = c.output ?? 0;
    return crossEntropyObjective(
      {
        output,
        label: c.label ?? output,
        from: c.from ?? 'logits',
        reduction: c.reduction ?? 'mean',
        checkLabels: c.checkLabels ?? true,
        name: c.name ?? 'crossEntropy',
      },
      c,
    );
  },
});

/**
 * `{ type: 'nll', task, from?, reduction?, checkLabels?, name? }`: the
 * negative log-likelihood of task `task` of a multi-task network (output
 * `task` against label `task`). Heads usually end in log-softmax (MDMTN), so
 * `from` defaults to `'logProbabilities'` here.
 */
export const nllDefinition = defineObjective({
  name: 'nll',
  description:
    "negative log-likelihood of one task's head (output i against label i) of a multi-task network",
  configSchema: s.object({ task: s.integer({ min: 0 }), ...headFields }),
  create: (c) =>
    crossEntropyObjective(
      {
        output: c.task,
        label: c.task,
        from: c.from ?? 'logProbabilities',
        reduction: c.reduction ?? 'mean',
        checkLabels: c.checkLabels ?? true,
        name: c.name ?? `nll[${c.task}]`,
      },
      c,
    ),
});
