import { type InitializerName, type NetworkSpec, schema as s } from '@moprune/core';
import { throwIfInvalid } from './errors.js';
import { SpecBuilder } from './internal/builder.js';
import { defineBuiltModel } from './internal/definition.js';
import { initField, plainGatesField, singleTaskShape } from './internal/fields.js';
import type { PlainGates } from './mlp.js';

/** Options of {@link vggLike}. */
export interface VggLikeOptions {
  /** Per-sample input shape `[H, W, C]`. @default [32, 32, 3] */
  readonly inputShape?: readonly number[];
  /** Output classes. @default 10 */
  readonly classes?: number;
  /** Dropout rate after each of the three pooling stages. @default [0.2, 0.3, 0.4] */
  readonly dropout?: readonly [number, number, number];
  /** Initializer of every conv and dense layer. @default 'glorotUniform' (Keras origin) */
  readonly init?: InitializerName;
  /**
   * `'units'` puts a `gate` node after each BatchNorm (the last per-filter op of a conv
   * unit: conv → ELU → BN → gate), so a closed gate zeroes the filter's output exactly.
   * @default 'none'
   */
  readonly gates?: PlainGates;
}

const VGG_FIELDS = {
  dropout: s.array(s.number({ min: 0, lt: 1 }), { minLength: 3, maxLength: 3 }).optional(),
  init: initField,
  gates: plainGatesField,
};

/**
 * The VGG-like CIFAR-10 net of Reiners et al. 2020: three stages of two 3×3 `same`
 * convs (32, 64, 128 filters), each conv followed by ELU then BatchNorm (the
 * reference's Keras order), then maxpool 2 and dropout .2/.3/.4; Flatten(2048) →
 * Dense(classes). 308,394 trainable parameters (+896 BatchNorm moving statistics),
 * 38.65M MACs per 32×32×3 image. BatchNorm uses the Keras defaults (ε 1e-3,
 * momentum 0.99). Nodes `conv1 … conv6` (with `.elu`, `.bn`, optional `.gate`),
 * `pool1 … pool3`, `dropout1 … dropout3`, `flatten`, `fc`; the output is the
 * **logits** of `fc` (the reference applies softmax inside its last layer; the
 * cross-entropy is the same).
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`.
 */
export function vggLike(options: VggLikeOptions = {}): NetworkSpec {
  throwIfInvalid('vgg-like', s.object({ ...VGG_FIELDS, ...singleTaskShape }).issues(options));
  const init = options.init ?? 'glorotUniform';
  const rates = options.dropout ?? [0.2, 0.3, 0.4];
  const b = new SpecBuilder('vgg-like', options.inputShape ?? [32, 32, 3]);
  let x = 'input';
  let conv = 0;
  [32, 64, 128].forEach((filters, stage) => {
    for (let k = 0; k < 2; k++) {
      const id = `conv${++conv}`;
      x = b.add({ id, op: 'conv2d', inputs: [x], filters, kernelSize: [3, 3], padding: 'same', init });
      x = b.act(`${id}.elu`, x, 'elu');
      x = b.add({ id: `${id}.bn`, op: 'batchNorm', inputs: [x] });
      if (options.gates === 'units') x = b.add({ id: `${id}.gate`, op: 'gate', inputs: [x] });
    }
    x = b.add({ id: `pool${stage + 1}`, op: 'maxPool', inputs: [x], poolSize: [2, 2] });
    x = b.add({ id: `dropout${stage + 1}`, op: 'dropout', inputs: [x], rate: rates[stage]! });
  });
  const out = b.dense(
    'fc',
    b.add({ id: 'flatten', op: 'flatten', inputs: [x] }),
    options.classes ?? 10,
    init,
  );
  return b.build([out]);
}

/** The registered model of {@link vggLike}. */
export const vggLikeModel = defineBuiltModel({
  name: 'vgg-like',
  description:
    'VGG-like CIFAR-10 net of Reiners 2020: 3×[conv, conv] ELU+BN, dropout .2/.3/.4, Flatten(2048) → 10',
  fields: VGG_FIELDS,
  tasks: 'single',
  build: vggLike,
});
