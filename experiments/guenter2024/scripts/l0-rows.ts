// LeNet-300-100 with input + hidden gates under the L0-regularization anchor's pricing instead of the
// paper's expected-parameter cost — an exploration of why our gated LeNet misses the anchor, not part
// of the reproduction. It also shows the extension point: the cost is a contributor's objective,
// defined here through `defineObjective` and used by name in an ordinary config.
//
// Louizos et al. (2018) gate each dense layer's input rows and price a gate at the weights of its row
// in the built network — a pixel at fc1's 300, an fc1 unit at fc2's 100, an fc2 unit at the output's
// 10 — linearly in the keep-probabilities p:
//   C = Σ_sites fanOut(site)·Σ_k p_k / Σ_sites fanOut(site)·size(site)   (C = 1 for the dense net),
// where the paper's cost multiplies the layers' expected widths (an fc1 unit costs its 784 inputs
// and 100 outputs), so it removes fc1 units first and the anchor removes pixels first.
//
//   npx tsx scripts/l0-rows.ts --gamma 0.1 [--seed 0] [--epochs 100] --out <dir>   (from experiments/guenter2024)
//
// Everything else is the reproduction's full LeNet-300-100 config (`guenterConfig`, `LENET_FULL`:
// 100 epochs, batch 100, cosine-annealed Adam 1e-3, gates from θ₀ = 1); the kept network (θ > ½) is
// measured by `measureKept` like the reproduction's runs. Prints one JSON line; resumes from `--out`.
import { parseArgs } from 'node:util';
import { initBackend } from '@moprune/backend';
import {
  createNetwork,
  defineObjective,
  type GateValues,
  type JsonObject,
  registries,
  runExperiment,
  schema as s,
} from '@moprune/core/node';
import * as tf from '@tensorflow/tfjs-core';
import '@moprune/datasets/register';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import '@moprune/solvers';
import { guenterConfig, LENET_FULL, measureKept } from '../src/index.js';

/** Unit-gate sizes of LeNet-300-100 with input gates, in site order, and the width each row feeds. */
const SIZES = [784, 300, 100];
const FAN_OUT = [300, 100, 10];

defineObjective({
  name: 'l0RowCost',
  description: "the L0-regularization anchor's expected row count of unit-gated dense layers (normalized)",
  configSchema: s.object({ name: s.string().optional() }),
  create: (c) => {
    // Fan-outs and the normalizer come from the network as first seen (the built one): physical
    // removal shrinks the sites during training, and a removed unit then just costs nothing.
    let fanOut: Map<string, number> | undefined;
    let total = 0;
    return {
      name: c.name ?? 'l0RowCost',
      config: c as JsonObject,
      value(ctx) {
        const sites = ctx.net.gateSites.filter((g) => g.kind === 'unit');
        if (fanOut === undefined) {
          if (sites.map((g) => g.size).join() !== SIZES.join())
            throw new Error(
              `l0RowCost is written for LeNet-300-100 with input gates (unit gates ${SIZES.join(', ')})`,
            );
          fanOut = new Map(sites.map((g, i) => [g.id, FAN_OUT[i]!]));
          total = SIZES.reduce((n, size, i) => n + size * FAN_OUT[i]!, 0);
        }
        const weights = fanOut;
        return tf.tidy(() => {
          let sum: tf.Scalar = tf.scalar(0);
          for (const site of sites) {
            const p = ctx.gateProbabilities[site.id];
            sum = tf.add(sum, tf.mul(p === undefined ? site.size : tf.sum(p), weights.get(site.id)!));
          }
          return tf.div(sum, total) as tf.Scalar;
        });
      },
    };
  },
});

const { values } = parseArgs({
  options: {
    gamma: { type: 'string' },
    seed: { type: 'string', default: '0' },
    epochs: { type: 'string' },
    out: { type: 'string' },
  },
});
if (values.gamma === undefined || values.out === undefined) {
  console.error('usage: npx tsx scripts/l0-rows.ts --gamma <γ ≥ 0> [--seed N] [--epochs N] --out <dir>');
  process.exit(2);
}
const gamma = Number(values.gamma);
if (!(gamma >= 0)) throw new Error(`--gamma must be a number ≥ 0, got '${values.gamma}'`);
const seed = Number(values.seed);
const base = guenterConfig({
  net: 'lenet300',
  data: 'mnist',
  sites: 'units',
  seed,
  scale: LENET_FULL,
  params: { gamma, alpha: 1, beta: 0.5 },
}) as unknown as { objectives: JsonObject[]; training: JsonObject } & JsonObject;
// The weighted sum's weights carry γ (1/(1 + γ), γ/(1 + γ)); only the cost itself is swapped.
const config: JsonObject = {
  ...base,
  name: `lenet300-l0rows-g${gamma}-seed${seed}`,
  objectives: [base.objectives[0]!, { type: 'l0RowCost' }],
  training: { ...base.training, ...(values.epochs === undefined ? {} : { epochs: Number(values.epochs) }) },
};
await initBackend({ backend: 'native' });
const done = await runExperiment(config, { runDir: values.out, resume: 'auto', keepNetwork: true });
const acc = (e: JsonObject | null) => ((e?.accuracy as number[] | undefined) ?? [])[0] ?? Number.NaN;
const spec = registries().models.create(config.model as JsonObject, {
  inputShape: [28, 28, 1],
  classes: [10],
});
const built = createNetwork(spec, { seed: 0 });
const kept = measureKept(done.net!, built, (done.gates ?? {}) as unknown as Record<string, GateValues>);
console.log(
  JSON.stringify({
    name: config.name,
    status: done.summary.status,
    validationAccuracy: acc(done.summary.validation),
    testAccuracy: acc(done.summary.test),
    kept: kept.layers.map((l) => `${l.node}:${l.kept}/${l.built}`),
    keptTotal: kept.layers.reduce((n, l) => n + l.kept, 0),
    macs: { built: kept.built.macs, kept: kept.kept.macs },
  }),
);
built.dispose();
done.net?.dispose();
