import { type InitializerName, type NetworkSpec, schema as s } from '@moprune/core';
import { throwIfInvalid } from './errors.js';
import { SpecBuilder } from './internal/builder.js';
import { defineBuiltModel } from './internal/definition.js';
import { dropoutRate, initField, singleTaskShape } from './internal/fields.js';

const mlpGatesField = s.oneOf(['none', 'units', 'inputs+units']).optional();
const mlpDropoutField = s.object({ input: dropoutRate, hidden: dropoutRate }).optional();

/** Where a plain (non-residual) network may carry unit gates. */
export type PlainGates = 'none' | 'units';

/**
 * Gates of the fully connected models: {@link PlainGates}, or `'inputs+units'` — also a gate on
 * every input feature (the flattened input), as L0-regularization prunes input pixels; compaction
 * then reads only the kept features (a `select` node).
 */
export type MlpGates = PlainGates | 'inputs+units';

/** Hidden-layer activations of {@link mlp}. */
export type MlpActivation = 'relu' | 'elu' | 'tanh' | 'sigmoid';

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Units of each hidden layer, input side first. */
  readonly hidden: readonly number[];
  /** Per-sample input shape; inputs of rank > 1 are flattened first. @default [28, 28, 1] */
  readonly inputShape?: readonly number[];
  /** Output classes. @default 10 */
  readonly classes?: number;
  /** Hidden-layer activation. @default 'relu' */
  readonly activation?: MlpActivation;
  /** Initializer of every dense layer. @default 'glorotUniform' */
  readonly init?: InitializerName;
  /**
   * `'units'` puts a `gate` node after each hidden activation; `'inputs+units'` also one on the
   * flattened input (`input.gate`, one gate per feature). @default 'none'
   */
  readonly gates?: MlpGates;
  /**
   * Dropout rates: `input` on the flattened input (after its gates), `hidden` after every hidden
   * activation (after its gate) — nodes `input.dropout` and `fc<i>.dropout`, active in training only
   * (inverted dropout: kept activations scaled by 1/(1 − rate)). A rate of 0 adds no node.
   * @default no dropout
   */
  readonly dropout?: MlpDropout;
}

/** Dropout rates of {@link MlpOptions.dropout}, each in [0, 1). */
export interface MlpDropout {
  /** On the flattened input. @default 0 */
  readonly input?: number;
  /** After every hidden activation. @default 0 */
  readonly hidden?: number;
}

/** Options of {@link lenet300100}. */
export type Lenet300100Options = Omit<MlpOptions, 'hidden' | 'activation'>;

const MLP_FIELDS = {
  hidden: s.array(s.integer({ min: 1 })),
  activation: s.oneOf(['relu', 'elu', 'tanh', 'sigmoid']).optional(),
  init: initField,
  gates: mlpGatesField,
  dropout: mlpDropoutField,
};
const LENET300_FIELDS = { init: initField, gates: mlpGatesField, dropout: mlpDropoutField };

function buildMlp(name: string, options: MlpOptions): NetworkSpec {
  const b = new SpecBuilder(name, options.inputShape ?? [28, 28, 1]);
  const init = options.init ?? 'glorotUniform';
  const fn = options.activation ?? 'relu';
  let x = b.flattenInput('flatten');
  const gates = options.gates ?? 'none';
  const drop = (id: string, rate: number | undefined) => {
    if (rate !== undefined && rate > 0) x = b.add({ id: `${id}.dropout`, op: 'dropout', inputs: [x], rate });
  };
  if (gates === 'inputs+units') x = b.add({ id: 'input.gate', op: 'gate', inputs: [x] });
  drop('input', options.dropout?.input);
  options.hidden.forEach((units, i) => {
    const id = `fc${i + 1}`;
    x = b.act(`${id}.${fn}`, b.dense(id, x, units, init), fn);
    if (gates !== 'none') x = b.add({ id: `${id}.gate`, op: 'gate', inputs: [x] });
    drop(id, options.dropout?.hidden);
  });
  const out = b.dense(`fc${options.hidden.length + 1}`, x, options.classes ?? 10, init);
  return b.build([out]);
}

/**
 * A fully connected classifier: `flatten [→ gate] [→ dropout] → (dense → activation [→ gate] [→ dropout])* → dense`.
 * Dense nodes are `fc1 … fc{n+1}`. The output is the **logits** of the last
 * dense layer (no softmax), so a cross-entropy-with-logits objective applies.
 * Small enough for tests and demos.
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`.
 */
export function mlp(options: MlpOptions): NetworkSpec {
  throwIfInvalid('mlp', s.object({ ...MLP_FIELDS, ...singleTaskShape }).issues(options));
  return buildMlp('mlp', options);
}

/**
 * LeNet-300-100 (LeCun et al. 1998; the pruning benchmark of Han et al. 2015,
 * Bonetta 2023, Louizos 2018): `784 → 300 → 100 → classes`, ReLU, logits
 * output. 266,610 parameters for MNIST. Dense nodes `fc1`, `fc2`, `fc3`.
 * Init defaults to glorotUniform (the Keras default the Keras-origin
 * reproductions use).
 * @throws ModelError `INVALID_CONFIG` listing every bad option; `INCOMPATIBLE_INPUT`.
 */
export function lenet300100(options: Lenet300100Options = {}): NetworkSpec {
  throwIfInvalid('lenet-300-100', s.object({ ...LENET300_FIELDS, ...singleTaskShape }).issues(options));
  return buildMlp('lenet-300-100', { ...options, hidden: [300, 100] });
}

/** The registered model of {@link mlp}. */
export const mlpModel = defineBuiltModel({
  name: 'mlp',
  description: 'Fully connected classifier with the given hidden layers (tests, demos)',
  fields: MLP_FIELDS,
  tasks: 'single',
  build: mlp,
});

/** The registered model of {@link lenet300100}. */
export const lenet300100Model = defineBuiltModel({
  name: 'lenet-300-100',
  description: 'LeNet-300-100: 784-300-100-10 fully connected, ReLU (266,610 params on MNIST)',
  fields: LENET300_FIELDS,
  tasks: 'single',
  build: lenet300100,
});
