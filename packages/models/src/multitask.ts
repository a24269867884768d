import { type InitializerName, type NetworkSpec, schema as s } from '@moprune/core';
import { throwIfInvalid } from './errors.js';
import { SpecBuilder } from './internal/builder.js';
import { defineBuiltModel } from './internal/definition.js';
import { initField, multiTaskShape } from './internal/fields.js';

/**
 * Which of Hotegni et al. 2023's architectures (sizes for its two benchmarks):
 * - `'multiMnist'` (28×28×1): shared trunk conv 10@5×5 → maxpool 2 → ReLU → conv 20@5×5 →
 *   maxpool 2 → ReLU → Flatten(320) → Dense 50 → ReLU; monitor per task conv 20@5×5 →
 *   maxpool 2 → ReLU → Flatten(2880) → Dense 50 → ReLU; heads Dense(50 → classes).
 * - `'cifar10Mnist'` (32×32×3): trunk conv 16@3×3 → maxpool 2 → BN → ReLU → conv 32@3×3 →
 *   maxpool 2 → BN → ReLU → Flatten(1152) → Dense 32 → ReLU; monitor conv 32@3×3 → maxpool 2
 *   → BN → ReLU → Flatten(7200) → Dense 32 → ReLU; heads Dense(32 → classes).
 * All convs `valid` with bias (PyTorch layers); pooling before the activation as in the
 * reference; BatchNorm with PyTorch's defaults (ε 1e-5, Keras momentum 0.9).
 */
export type MultiTaskVariant = 'multiMnist' | 'cifar10Mnist';

/** Options of {@link hps}. */
export interface HpsOptions {
  /** @default 'cifar10Mnist' when `inputShape` has 3 channels, else 'multiMnist' */
  readonly variant?: MultiTaskVariant;
  /** Per-sample input shape. @default [28, 28, 1] for 'multiMnist', [32, 32, 3] for 'cifar10Mnist' */
  readonly inputShape?: readonly number[];
  /** Classes per task; one head per entry. @default [10, 10] */
  readonly classes?: readonly number[];
  /** Initializer of every conv and dense layer. @default 'torchDefault' (the reference is PyTorch) */
  readonly init?: InitializerName;
}

/** Options of {@link mdmtn}. */
export interface MdmtnOptions extends HpsOptions {
  /**
   * Initial `[α_shared, α_monitor]` of every task's `mix` node. The paper trains α
   * from (1, 0), so a task starts from the shared representation alone. (The
   * reference class's own default is a fixed (0.75, 0.25); freeze the `alpha`
   * parameters in the trainer to reproduce that.)
   * @default [1, 0]
   */
  readonly alphaInit?: readonly [number, number];
}

interface Stage {
  readonly filters: number;
  readonly kernel: number;
}

interface Layout {
  readonly trunk: readonly Stage[];
  readonly monitor: readonly Stage[];
  readonly width: number;
  readonly batchNorm: boolean;
  readonly inputShape: readonly number[];
}

const LAYOUTS: Readonly<Record<MultiTaskVariant, Layout>> = {
  multiMnist: {
    trunk: [
      { filters: 10, kernel: 5 },
      { filters: 20, kernel: 5 },
    ],
    monitor: [{ filters: 20, kernel: 5 }],
    width: 50,
    batchNorm: false,
    inputShape: [28, 28, 1],
  },
  cifar10Mnist: {
    trunk: [
      { filters: 16, kernel: 3 },
      { filters: 32, kernel: 3 },
    ],
    monitor: [{ filters: 32, kernel: 3 }],
    width: 32,
    batchNorm: true,
    inputShape: [32, 32, 3],
  },
};

const BN = { epsilon: 1e-5, momentum: 0.9 } as const;

const HPS_FIELDS = { variant: s.oneOf(Object.keys(LAYOUTS)).optional(), init: initField };
const MDMTN_FIELDS = {
  ...HPS_FIELDS,
  alphaInit: s.array(s.number(), { minLength: 2, maxLength: 2 }).optional(),
};

function variantOf(options: HpsOptions): MultiTaskVariant {
  return options.variant ?? (options.inputShape?.[2] === 3 ? 'cifar10Mnist' : 'multiMnist');
}

/** conv → maxpool 2 → [BN] → ReLU per stage, flatten, dense → ReLU; returns the last node. */
function tower(
  b: SpecBuilder,
  prefix: string,
  stages: readonly Stage[],
  layout: Layout,
  init: InitializerName,
) {
  let x = 'input';
  stages.forEach((s, i) => {
    const k = i + 1;
    x = b.add({
      id: `${prefix}.conv${k}`,
      op: 'conv2d',
      inputs: [x],
      filters: s.filters,
      kernelSize: [s.kernel, s.kernel],
      init,
    });
    x = b.add({ id: `${prefix}.pool${k}`, op: 'maxPool', inputs: [x], poolSize: [2, 2] });
    if (layout.batchNorm) x = b.add({ id: `${prefix}.bn${k}`, op: 'batchNorm', inputs: [x], ...BN });
    x = b.act(`${prefix}.relu${k}`, x, 'relu');
  });
  x = b.add({ id: `${prefix}.flatten`, op: 'flatten', inputs: [x] });
  return b.act(`${prefix}.fc.relu`, b.dense(`${prefix}.fc`, x, layout.width, init), 'relu');
}

function build(kind: 'hps' | 'mdmtn', options: MdmtnOptions): NetworkSpec {
  const variant = variantOf(options);
  const layout = LAYOUTS[variant];
  const init = options.init ?? 'torchDefault';
  const b = new SpecBuilder(`${kind}-${variant}`, options.inputShape ?? layout.inputShape);
  const shared = tower(b, 'shared', layout.trunk, layout, init);
  const outputs = (options.classes ?? [10, 10]).map((classes, i) => {
    const task = `task${i + 1}`;
    let z = shared;
    if (kind === 'mdmtn') {
      const monitor = tower(b, `monitor${i + 1}`, layout.monitor, layout, init);
      z = b.add({
        id: `${task}.mix`,
        op: 'mix',
        inputs: [shared, monitor],
        init: options.alphaInit ?? [1, 0],
      });
    }
    return b.act(`${task}.logSoftmax`, b.dense(`${task}.fc`, z, classes, init), 'logSoftmax');
  });
  return b.build(outputs);
}

/**
 * Hard-parameter-sharing multi-task net (Hotegni et al. 2023's baseline): the shared
 * trunk of {@link MultiTaskVariant} feeding one dense head per task. Output t
 * (`task{t}.logSoftmax`) is task t's **log-probabilities** (log-softmax over its
 * classes), so its NLL is `−mean(out[label])`. Parameters: 22,350 (MultiMNIST),
 * 42,740 (Cifar10Mnist); the paper's 22,351 / 42,741 also count the Chebyshev
 * scalarization variable t, which belongs to the solver, not the network.
 * Node ids: `shared.conv1 …`, `shared.fc`, `task{t}.fc`.
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`.
 */
export function hps(options: HpsOptions = {}): NetworkSpec {
  throwIfInvalid('hps', s.object({ ...HPS_FIELDS, ...multiTaskShape }).issues(options));
  return build('hps', options);
}

/**
 * Monitored deep multi-task network (MDMTN, Hotegni et al. 2023): the shared trunk
 * plus one task-specific monitor per task; task t's representation is
 * z_t = α_t0·S(x) + α_t1·M_t(x) (a `mix` node `task{t}.mix` with trainable
 * `task{t}.mix/alpha` of shape [2]), then its dense head. Output t
 * (`task{t}.logSoftmax`) is task t's **log-probabilities**. Parameters (two tasks):
 * 311,490 + 4 α (MultiMNIST) and 505,524 + 4 α (Cifar10Mnist); the paper's 311,491 /
 * 505,525 include the scalarization variable t (a solver variable). The monitors
 * hold ≈93% (MultiMNIST) of the weights. Node ids: `shared.*`, `monitor{t}.conv1 …`,
 * `monitor{t}.fc`, `task{t}.mix`, `task{t}.fc`.
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`.
 */
export function mdmtn(options: MdmtnOptions = {}): NetworkSpec {
  throwIfInvalid('mdmtn', s.object({ ...MDMTN_FIELDS, ...multiTaskShape }).issues(options));
  return build('mdmtn', options);
}

/** The registered model of {@link hps}. */
export const hpsModel = defineBuiltModel({
  name: 'hps',
  description: "Hard-parameter-sharing multi-task net (Hotegni 2023), variant 'multiMnist' or 'cifar10Mnist'",
  fields: HPS_FIELDS,
  tasks: 'multi',
  build: hps,
});

/** The registered model of {@link mdmtn}. */
export const mdmtnModel = defineBuiltModel({
  name: 'mdmtn',
  description: "Monitored deep multi-task net (Hotegni 2023), variant 'multiMnist' or 'cifar10Mnist'",
  fields: MDMTN_FIELDS,
  tasks: 'multi',
  build: mdmtn,
});
