import { type InitializerName, type NetworkSpec, schema as s } from '@moprune/core';
import { throwIfInvalid } from './errors.js';
import { SpecBuilder } from './internal/builder.js';
import { defineBuiltModel } from './internal/definition.js';
import { initField, singleTaskShape } from './internal/fields.js';

/** Options of {@link transformerClassifier}. */
export interface TransformerClassifierOptions {
  /** Token vocabulary size (ids in `[0, vocab)`). */
  readonly vocab: number;
  /** Model width d (embedding and residual stream). @default 32 */
  readonly dim?: number;
  /** Attention heads per block; must divide `dim`. @default 2 */
  readonly heads?: number;
  /** Hidden units of each block's feed-forward part. @default 2·dim */
  readonly ffDim?: number;
  /** Encoder blocks. @default 1 */
  readonly blocks?: number;
  /** Causal self-attention (position i sees positions ≤ i). @default false */
  readonly causal?: boolean;
  /**
   * Per-sample input shape; the sequence is its flattened entries (a dataset
   * of sequences declares `[T, 1, 1]`, so T tokens).
   * @default [16]
   */
  readonly inputShape?: readonly number[];
  /** Output classes. @default 10 */
  readonly classes?: number;
  /** Initializer of every kernel and embedding table. @default 'glorotUniform' */
  readonly init?: InitializerName;
}

const TRANSFORMER_FIELDS = {
  vocab: s.integer({ min: 2 }),
  dim: s.integer({ min: 1 }).optional(),
  heads: s.integer({ min: 1 }).optional(),
  ffDim: s.integer({ min: 1 }).optional(),
  blocks: s.integer({ min: 1 }).optional(),
  causal: s.boolean().optional(),
  init: initField,
};

/**
 * A small Transformer encoder for sequence classification, built from core's
 * ordinary Network ops: token + learned positional `embedding` → `blocks` ×
 * pre-norm encoder block (`layerNorm` → multi-head `selfAttention` → `dense`
 * output projection → residual `add`; `layerNorm` → `dense` ffDim → ReLU →
 * `dense` dim → residual `add`) → final `layerNorm` → mean over positions
 * (`globalAvgPool`) → `dense` logits. Node ids: `embed`, `block<i>.ln1`,
 * `.attention`, `.projection`, `.attend` (add), `.ln2`, `.ff1`, `.ff2`,
 * `.residual` (add), then `ln`, `pool`, `head`.
 *
 * The feed-forward hidden units are prunable structures (compaction removes
 * dead ones); the residual stream's width is tied across blocks and is not.
 * @throws ModelError `INVALID_CONFIG` listing every bad option (e.g. heads not dividing dim).
 */
export function transformerClassifier(options: TransformerClassifierOptions): NetworkSpec {
  throwIfInvalid('transformer', s.object({ ...TRANSFORMER_FIELDS, ...singleTaskShape }).issues(options));
  const dim = options.dim ?? 32;
  const heads = options.heads ?? 2;
  if (dim % heads !== 0) {
    throwIfInvalid('transformer', [{ path: 'heads', message: `${heads} heads do not divide dim ${dim}` }]);
  }
  const ffDim = options.ffDim ?? 2 * dim;
  const init = options.init ?? 'glorotUniform';
  const length = (options.inputShape ?? [16]).reduce((a, b) => a * b, 1);
  const b = new SpecBuilder('transformer', [length]);
  let x = b.add({ id: 'embed', op: 'embedding', inputs: ['input'], vocab: options.vocab, dim, init });
  for (let i = 0; i < (options.blocks ?? 1); i++) {
    const p = `block${i + 1}`;
    const ln1 = b.add({ id: `${p}.ln1`, op: 'layerNorm', inputs: [x] });
    const attention = b.add({
      id: `${p}.attention`,
      op: 'selfAttention',
      inputs: [ln1],
      heads,
      ...(options.causal ? { causal: true } : {}),
      init,
    });
    const projection = b.dense(`${p}.projection`, attention, dim, init);
    x = b.add({ id: `${p}.attend`, op: 'add', inputs: [x, projection] });
    const ln2 = b.add({ id: `${p}.ln2`, op: 'layerNorm', inputs: [x] });
    const hidden = b.act(`${p}.ff1.relu`, b.dense(`${p}.ff1`, ln2, ffDim, init), 'relu');
    const ff2 = b.dense(`${p}.ff2`, hidden, dim, init);
    x = b.add({ id: `${p}.residual`, op: 'add', inputs: [x, ff2] });
  }
  const ln = b.add({ id: 'ln', op: 'layerNorm', inputs: [x] });
  const pooled = b.add({ id: 'pool', op: 'globalAvgPool', inputs: [ln] });
  const out = b.dense('head', pooled, options.classes ?? 10, init);
  return b.build([out]);
}

/** The registered model of {@link transformerClassifier}. */
export const transformerModel = defineBuiltModel({
  name: 'transformer',
  description:
    'small Transformer encoder classifier: embedding + positions, pre-norm blocks (multi-head self-attention, feed-forward), mean pooling',
  fields: TRANSFORMER_FIELDS,
  tasks: 'single',
  build: transformerClassifier,
});
