import { type InitializerName, type NetworkSpec, schema as s } from '@moprune/core';
import { throwIfInvalid } from './errors.js';
import { SpecBuilder } from './internal/builder.js';
import { defineBuiltModel } from './internal/definition.js';
import { initField, singleTaskShape } from './internal/fields.js';

/**
 * Gate sites of a ResNet (the Guenter & Sideris 2024 reconstruction):
 * - `'units'`: a `gate` node after each BatchNorm inside every residual branch,
 *   G(x) = ξ₂ ⊙ BN₂(W₂ ∗ ReLU(ξ₁ ⊙ BN₁(W₁ ∗ x))) — ReLU(ξ·a) = ξ·ReLU(a) for ξ ≥ 0, so
 *   this is the paper's ξ₁ ⊙ ReLU(BN₁(…)); the stem conv is not gated (its channels are
 *   the residual stream every block adds to);
 * - `'layers'`: every block's `add` is `gated`, x + ξ_B·G(x) (ξ_B = 0 leaves the shortcut);
 * - `'units+layers'`: both; `'none'`: neither.
 */
export type ResnetGates = 'none' | 'units' | 'layers' | 'units+layers';

/** Options of {@link resnet}. */
export interface ResnetOptions {
  /** 6n + 2 layers, n residual blocks per stage (20, 32, 44, 56, 110 … 1202). */
  readonly depth: number;
  /** Per-sample input shape `[H, W, C]`. @default [32, 32, 3] */
  readonly inputShape?: readonly number[];
  /** Output classes. @default 10 */
  readonly classes?: number;
  /** Initializer of every conv and the dense head. @default 'heNormal' (He et al. 2016) */
  readonly init?: InitializerName;
  /** @default 'none' */
  readonly gates?: ResnetGates;
}

/** Options of {@link resnet20}, {@link resnet32} and {@link resnet56}. */
export type ResnetFixedDepthOptions = Omit<ResnetOptions, 'depth'>;

const GATES: readonly ResnetGates[] = ['none', 'units', 'layers', 'units+layers'];

/** ResNet-1202, the deepest CIFAR ResNet of He et al.; a bound so a typo cannot build a huge spec. */
const MAX_DEPTH = 1202;

const depthField = s.custom<number>(`a depth 6n + 2 for an integer n ≥ 1, at most ${MAX_DEPTH}`, (v, path) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 8 && v <= MAX_DEPTH && (v - 2) % 6 === 0
    ? []
    : [
        {
          path,
          message: `must be 6n + 2 for an integer n ≥ 1, at most ${MAX_DEPTH} (20, 32, 56 …), got ${JSON.stringify(v)}`,
        },
      ],
);

const RESNET_FIELDS = { depth: depthField, init: initField, gates: s.oneOf(GATES).optional() };

/**
 * PyTorch's BatchNorm2d defaults (ε 1e-5, running-average factor 0.1, i.e. Keras
 * momentum 0.9), which the common CIFAR ResNet reproductions train with; core's
 * defaults are Keras' (1e-3, 0.99).
 */
const BN = { epsilon: 1e-5, momentum: 0.9 } as const;

/**
 * A CIFAR ResNet of He et al. 2016 (§4.2): a 3×3 conv with 16 filters, then three
 * stages of n basic blocks with 16, 32 and 64 filters (the first block of stages 2
 * and 3 halves the spatial size with stride 2), global average pooling and a dense
 * head; depth = 6n + 2. Convs have no bias (BatchNorm follows each). Shortcuts are
 * option A: identity, or `padShortcut` (subsample + zero channels) where the shape
 * changes, so shortcuts hold no parameters. ResNet-20: 269,722 params, 40.55M MACs;
 * ResNet-56: 853,018 params, 125.49M MACs (32×32×3 input, counting rule of core's
 * NodeInfo). 'same' padding with stride 2 pads bottom/right (TensorFlow) where PyTorch
 * pads both sides; shapes and counts are the same.
 *
 * Node ids: stem `conv1`, `bn1`, `relu1`; block b of stage s is `stage{s}.block{b}`
 * (its `add` node — the layer group and layer gate site), with branch nodes
 * `stage{s}.block{b}.conv1|bn1|gate1|relu1|conv2|bn2|gate2`, the shortcut
 * `stage{s}.block{b}.shortcut` where needed and `stage{s}.block{b}.relu` after the add;
 * then `pool`, `fc`. The output is the **logits** of `fc`.
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`.
 */
export function resnet(options: ResnetOptions): NetworkSpec {
  throwIfInvalid('resnet', s.object({ ...RESNET_FIELDS, ...singleTaskShape }).issues(options));
  const n = (options.depth - 2) / 6;
  const init = options.init ?? 'heNormal';
  const gates = options.gates ?? 'none';
  const unitGates = gates === 'units' || gates === 'units+layers';
  const layerGates = gates === 'layers' || gates === 'units+layers';
  const b = new SpecBuilder(`resnet${options.depth}`, options.inputShape ?? [32, 32, 3]);
  const conv = (id: string, from: string, filters: number, stride: number) =>
    b.add({
      id,
      op: 'conv2d',
      inputs: [from],
      filters,
      kernelSize: [3, 3],
      strides: [stride, stride],
      padding: 'same',
      useBias: false,
      init,
    });
  const bn = (id: string, from: string) => b.add({ id, op: 'batchNorm', inputs: [from], ...BN });
  const gate = (id: string, from: string) => (unitGates ? b.add({ id, op: 'gate', inputs: [from] }) : from);

  let x = b.act('relu1', bn('bn1', conv('conv1', 'input', 16, 1)), 'relu');
  [16, 32, 64].forEach((filters, s) => {
    for (let k = 1; k <= n; k++) {
      const block = `stage${s + 1}.block${k}`;
      const stride = s > 0 && k === 1 ? 2 : 1;
      let y = gate(`${block}.gate1`, bn(`${block}.bn1`, conv(`${block}.conv1`, x, filters, stride)));
      y = b.act(`${block}.relu1`, y, 'relu');
      y = gate(`${block}.gate2`, bn(`${block}.bn2`, conv(`${block}.conv2`, y, filters, 1)));
      // Channels double exactly where the stride is 2 (the stem already has 16).
      const skip =
        stride === 1
          ? x
          : b.add({ id: `${block}.shortcut`, op: 'padShortcut', inputs: [x], stride, channels: filters });
      const sum = b.add({ id: block, op: 'add', inputs: [skip, y], ...(layerGates ? { gated: true } : {}) });
      x = b.act(`${block}.relu`, sum, 'relu');
    }
  });
  const out = b.dense(
    'fc',
    b.add({ id: 'pool', op: 'globalAvgPool', inputs: [x] }),
    options.classes ?? 10,
    init,
  );
  return b.build([out]);
}

/** ResNet-20 for CIFAR (n = 3; 269,722 params). See {@link resnet}. */
export function resnet20(options: ResnetFixedDepthOptions = {}): NetworkSpec {
  return resnet({ ...options, depth: 20 });
}

/** ResNet-32 for CIFAR (n = 5; 464,154 params). See {@link resnet}. */
export function resnet32(options: ResnetFixedDepthOptions = {}): NetworkSpec {
  return resnet({ ...options, depth: 32 });
}

/** ResNet-56 for CIFAR (n = 9; 853,018 params, 125.49M MACs). See {@link resnet}. */
export function resnet56(options: ResnetFixedDepthOptions = {}): NetworkSpec {
  return resnet({ ...options, depth: 56 });
}

/** The registered model of {@link resnet}. */
export const resnetModel = defineBuiltModel({
  name: 'resnet',
  description: 'CIFAR ResNet (He et al. 2016), depth 6n+2, option-A shortcuts, optional unit/layer gates',
  fields: RESNET_FIELDS,
  tasks: 'single',
  build: resnet,
});
