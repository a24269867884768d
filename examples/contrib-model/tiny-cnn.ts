/**
 * An example contributor model, written in one file against public entry points only
 * (`@moprune/core`; `@moprune/models/testing` in its test): a small CNN for one task —
 * conv 3×3 → ReLU → max-pool 2 → conv 3×3 → ReLU → global average pool → dense — as a
 * `NetworkSpec`, the JSON graph core's interpreter runs (and compacts, exports, gates).
 */
import { defineModel, MopruneError, type NetworkSpec, type NodeSpec, schema as s } from '@moprune/core';

/** Config of {@link tinyCnn}. */
export interface TinyCnnConfig {
  readonly type: 'tiny-cnn';
  /** Filters of the two convolutions (two entries). @default [8, 16] */
  readonly filters?: readonly number[];
  /** `'units'` puts a gate after each conv's activation (for gate pruners). @default 'none' */
  readonly gates?: 'none' | 'units';
}

/** The model's typed error: `name` 'TinyCnnError', code `INCOMPATIBLE_INPUT`. */
export class TinyCnnError extends MopruneError<'INCOMPATIBLE_INPUT'> {
  constructor(message: string) {
    super('INCOMPATIBLE_INPUT', message);
    this.name = 'TinyCnnError';
  }
}

/** The spec for a dataset of `inputShape` ([H, W, C]) and `classes` (one task). */
export function tinyCnn(
  config: Partial<TinyCnnConfig>,
  data: { readonly inputShape: readonly number[]; readonly classes: readonly number[] },
): NetworkSpec {
  if (data.classes.length !== 1) {
    throw new TinyCnnError(`tiny-cnn is a single-task model; the dataset has ${data.classes.length} tasks`);
  }
  if (data.inputShape.length !== 3) {
    throw new TinyCnnError(`tiny-cnn needs [H, W, C] images, got ${JSON.stringify(data.inputShape)}`);
  }
  const [f1 = 8, f2 = 16] = config.filters ?? [];
  const gated = config.gates === 'units';
  const nodes: NodeSpec[] = [];
  let last = 'input';
  const add = (node: NodeSpec) => {
    nodes.push(node);
    last = node.id;
  };
  add({ id: 'conv1', op: 'conv2d', inputs: [last], filters: f1, kernelSize: [3, 3], padding: 'same' });
  add({ id: 'relu1', op: 'activation', inputs: [last], fn: 'relu' });
  if (gated) add({ id: 'gate1', op: 'gate', inputs: [last] });
  add({ id: 'pool1', op: 'maxPool', inputs: [last], poolSize: [2, 2] });
  add({ id: 'conv2', op: 'conv2d', inputs: [last], filters: f2, kernelSize: [3, 3], padding: 'same' });
  add({ id: 'relu2', op: 'activation', inputs: [last], fn: 'relu' });
  if (gated) add({ id: 'gate2', op: 'gate', inputs: [last] });
  add({ id: 'gap', op: 'globalAvgPool', inputs: [last] });
  add({ id: 'out', op: 'dense', inputs: [last], units: data.classes[0]! });
  return { name: 'tiny-cnn', inputShape: [...data.inputShape], nodes, outputs: [last] };
}

/** The `tiny-cnn` model, registered: `{ "type": "tiny-cnn", "filters": [8, 16] }` builds it for the run's dataset. */
export const tinyCnnModel = defineModel({
  name: 'tiny-cnn',
  description: 'small CNN for one task: two 3×3 convs, max-pool, global average pool, dense',
  configSchema: s.object({
    filters: s.array(s.integer({ min: 1 }), { minLength: 2, maxLength: 2 }).optional(),
    gates: s.oneOf(['none', 'units']).optional(),
  }),
  create: (config, ctx) => tinyCnn(config, ctx),
});
