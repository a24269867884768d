import { type InitializerName, type NetworkSpec, schema as s } from '@moprune/core';
import { throwIfInvalid } from './errors.js';
import { SpecBuilder } from './internal/builder.js';
import { defineBuiltModel } from './internal/definition.js';
import { dropoutRate, initField, plainGatesField, singleTaskShape } from './internal/fields.js';
import type { PlainGates } from './mlp.js';

/**
 * Which LeNet-5 the papers mean:
 * - `'classic'`: conv 6@5×5 `same` → ReLU → maxpool 2 → conv 16@5×5 `valid` → ReLU →
 *   maxpool 2 → 120 → 84 → classes (the project's benchmark net; 61,706 params on MNIST).
 * - `'reiners'`: Reiners et al. 2020's Keras net: conv 6@3×3 → ReLU → avgpool 2 →
 *   conv 16@3×3 → ReLU → avgpool 2 → Flatten(400) → 120 → 84 → classes. Both convs are
 *   `valid` (Keras' default): 28 → 26 → 13 → 11 → 5, so 5·5·16 = 400 and the dense
 *   kernels hold 48,000 + 10,080 + 840 = 58,920 weights as the paper states
 *   (`same` padding would give Flatten(784)).
 * - `'caffe'`: Caffe's 20-50-500 LeNet-5 used by Bonetta & Cancelliere 2023 (and Han et
 *   al. 2015): conv 20@5×5 → ReLU → maxpool 2 → conv 50@5×5 → ReLU → maxpool 2 →
 *   Flatten(800) → 500 → classes (431,080 params). The original Caffe prototxt has no
 *   ReLU after the convs; the authors' PyTorch code, which this follows, has one.
 */
export type Lenet5Variant = 'classic' | 'reiners' | 'caffe';

/** Options of {@link lenet5}. */
export interface Lenet5Options {
  /** @default 'classic' */
  readonly variant?: Lenet5Variant;
  /** Per-sample input shape `[H, W, C]`. @default [28, 28, 1] */
  readonly inputShape?: readonly number[];
  /** Output classes. @default 10 */
  readonly classes?: number;
  /**
   * Initializer of every conv and dense layer.
   * @default 'glorotUniform' for the Keras-origin `'classic'` and `'reiners'`;
   * 'torchDefault' for `'caffe'` (Bonetta's code is PyTorch)
   */
  readonly init?: InitializerName;
  /** `'units'` puts a `gate` node after each hidden conv/dense activation (before pooling). @default 'none' */
  readonly gates?: PlainGates;
  /**
   * Dropout rate `hidden` after every hidden dense activation (after its gate): nodes `fc<i>.dropout`,
   * active in training only (inverted dropout). The convolutions get none. A rate of 0 adds no node.
   * @default no dropout
   */
  readonly dropout?: Lenet5Dropout;
}

/** Dropout rates of {@link Lenet5Options.dropout}, in [0, 1). */
export interface Lenet5Dropout {
  readonly hidden?: number;
}

interface ConvStage {
  readonly filters: number;
  readonly kernel: number;
  readonly padding: 'same' | 'valid';
}

interface Layout {
  readonly convs: readonly ConvStage[];
  readonly pool: 'maxPool' | 'avgPool';
  readonly dense: readonly number[];
  readonly init: InitializerName;
}

const LAYOUTS: Readonly<Record<Lenet5Variant, Layout>> = {
  classic: {
    convs: [
      { filters: 6, kernel: 5, padding: 'same' },
      { filters: 16, kernel: 5, padding: 'valid' },
    ],
    pool: 'maxPool',
    dense: [120, 84],
    init: 'glorotUniform',
  },
  reiners: {
    convs: [
      { filters: 6, kernel: 3, padding: 'valid' },
      { filters: 16, kernel: 3, padding: 'valid' },
    ],
    pool: 'avgPool',
    dense: [120, 84],
    init: 'glorotUniform',
  },
  caffe: {
    convs: [
      { filters: 20, kernel: 5, padding: 'valid' },
      { filters: 50, kernel: 5, padding: 'valid' },
    ],
    pool: 'maxPool',
    dense: [500],
    init: 'torchDefault',
  },
};

const VARIANTS = Object.keys(LAYOUTS) as Lenet5Variant[];
const LENET5_FIELDS = {
  variant: s.oneOf(VARIANTS).optional(),
  init: initField,
  gates: plainGatesField,
  dropout: s.object({ hidden: dropoutRate }).optional(),
};

/**
 * LeNet-5 in one of the three variants the papers use (see {@link Lenet5Variant}).
 * Nodes: `conv1`, `conv2` (each followed by `.relu`, optional `.gate`, then `pool1`/`pool2`),
 * `flatten`, dense `fc1 …` (each hidden one followed by `.relu`, optional `.gate` and `.dropout`);
 * the output is the **logits** of the last dense layer.
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`
 * when the input is not `[H, W, C]` or too small.
 */
export function lenet5(options: Lenet5Options = {}): NetworkSpec {
  throwIfInvalid('lenet5', s.object({ ...LENET5_FIELDS, ...singleTaskShape }).issues(options));
  const variant = options.variant ?? 'classic';
  const layout = LAYOUTS[variant];
  const init = options.init ?? layout.init;
  const gated = options.gates === 'units';
  const b = new SpecBuilder(`lenet5-${variant}`, options.inputShape ?? [28, 28, 1]);
  let x = 'input';
  layout.convs.forEach((c, i) => {
    const id = `conv${i + 1}`;
    x = b.add({
      id,
      op: 'conv2d',
      inputs: [x],
      filters: c.filters,
      kernelSize: [c.kernel, c.kernel],
      padding: c.padding,
      init,
    });
    x = b.act(`${id}.relu`, x, 'relu');
    if (gated) x = b.add({ id: `${id}.gate`, op: 'gate', inputs: [x] });
    x = b.add({ id: `pool${i + 1}`, op: layout.pool, inputs: [x], poolSize: [2, 2] });
  });
  x = b.add({ id: 'flatten', op: 'flatten', inputs: [x] });
  layout.dense.forEach((units, i) => {
    const id = `fc${i + 1}`;
    x = b.act(`${id}.relu`, b.dense(id, x, units, init), 'relu');
    if (gated) x = b.add({ id: `${id}.gate`, op: 'gate', inputs: [x] });
    const rate = options.dropout?.hidden;
    if (rate !== undefined && rate > 0) x = b.add({ id: `${id}.dropout`, op: 'dropout', inputs: [x], rate });
  });
  const out = b.dense(`fc${layout.dense.length + 1}`, x, options.classes ?? 10, init);
  return b.build([out]);
}

/** The registered model of {@link lenet5}. */
export const lenet5Model = defineBuiltModel({
  name: 'lenet5',
  description:
    "LeNet-5: variant 'classic' (6/16, 5×5), 'reiners' (6/16, 3×3, avgpool) or 'caffe' (20-50-500)",
  fields: LENET5_FIELDS,
  tasks: 'single',
  build: lenet5,
});
