/**
 * The model conformance suite. Any model — ours or a contributor's — runs every check with one call
 * in a test file, handing it the test framework's `describe` and `it` (as every moprune suite takes
 * them; the checks are the suite's own, so vitest and jest both run it):
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeModelConformance } from '@moprune/models/testing';
 * describeModelConformance({ name: 'tiny-cnn', config: { type: 'tiny-cnn' }, describe, it });
 * ```
 *
 * Checks: the config builds a spec through the registry for each data shape given (an unknown key
 * refused by its path); the spec makes a network whose outputs have one `[n, classes]` tensor per
 * task, finite; initialization is a function of the seed; the network's structure groups are true —
 * zeroing any one unit group and compacting the network removes it without changing the outputs
 * (what structured pruners rely on); nothing leaks.
 */
import {
  conformanceCheck as check,
  compact,
  conformanceCheckConfig,
  createNetwork,
  type DefineFn,
  type JsonObject,
  type ModelContext,
  type Network,
  type NetworkSpec,
  registries,
} from '@moprune/core';

/** The test framework's `describe`/`it` shape every moprune conformance suite takes (`DefineFn` of `@moprune/core`). */
export type { DefineFn };

import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link checkModelConformance}. */
export interface ModelConformanceOptions {
  /** Name shown in the test report. */
  readonly name: string;
  /** The config to test (its `type` registered, e.g. by `defineModel`). */
  readonly config: JsonObject;
  /** The data shapes to build it for. @default MNIST's ([28, 28, 1], 10 classes) */
  readonly contexts?: readonly ModelContext[];
  /** Unit groups zeroed and compacted away, at most, per context. @default 6 */
  readonly groups?: number;
}

/** Options of {@link describeModelConformance}. */
export interface ModelConformanceSuiteOptions extends ModelConformanceOptions {
  /** The test framework's `describe`. */
  readonly describe: DefineFn;
  /** The test framework's `it`. */
  readonly it: DefineFn;
}

const MNIST: ModelContext = { inputShape: [28, 28, 1], classes: [10] };

function specOf(o: ModelConformanceOptions, ctx: ModelContext): NetworkSpec {
  const registry = registries().models;
  conformanceCheckConfig(registry, o.config, 'Model');
  return registry.create(o.config, ctx);
}

const values = (net: Network) => [...net.params.values()].map((v) => Array.from(v.dataSync()));

/** Outputs: one [n, classes] per task, finite; the same network from the same seed, another from another. */
function checkOutputs(spec: NetworkSpec, ctx: ModelContext): void {
  const before = tf.memory().numTensors;
  const net = createNetwork(spec, { seed: 1 });
  const same = createNetwork(spec, { seed: 1 });
  const other = createNetwork(spec, { seed: 2 });
  const where = `${spec.name} on ${JSON.stringify(ctx.inputShape)}`;
  try {
    check(
      JSON.stringify(values(net)) === JSON.stringify(values(same)),
      `${where}: seed 1 twice gave two initializations`,
    );
    check(
      JSON.stringify(values(net)) !== JSON.stringify(values(other)),
      `${where}: seeds 1 and 2 gave the same initialization`,
    );
    const x = tf.randomNormal([3, ...ctx.inputShape], 0, 1, 'float32', 5);
    const outs = net.apply(x);
    try {
      check(
        outs.length === ctx.classes.length,
        `${where}: ${outs.length} output(s) for ${ctx.classes.length} task(s)`,
      );
      outs.forEach((o, t) => {
        check(
          JSON.stringify(o.shape) === JSON.stringify([3, ctx.classes[t]]),
          `${where}: output ${t} has shape ${JSON.stringify(o.shape)}, expected [3, ${ctx.classes[t]}]`,
        );
        check(o.dataSync().every(Number.isFinite), `${where}: output ${t} is not finite`);
      });
    } finally {
      tf.dispose([x, ...outs]);
    }
  } finally {
    for (const n of [net, same, other]) n.dispose();
  }
  check(tf.memory().numTensors === before, `${where}: ${tf.memory().numTensors - before} tensor(s) left`);
}

/** Zeroing one unit group and compacting removes that unit and leaves the outputs as they were. */
function checkGroups(spec: NetworkSpec, ctx: ModelContext, most: number): void {
  const before = tf.memory().numTensors;
  const probe = createNetwork(spec, { seed: 3 });
  const groups = probe.groups.filter((g) => g.kind === 'unit');
  probe.dispose();
  const x = tf.randomNormal([2, ...ctx.inputShape], 0, 1, 'float32', 7);
  const step = Math.max(1, Math.floor(groups.length / most));
  for (let k = 0; k < groups.length; k += step) {
    const group = groups[k]!;
    const net = createNetwork(spec, { seed: 3 });
    for (const slice of net.groups.find((g) => g.id === group.id)!.slices) {
      const v = net.params.get(slice.param)!;
      const zeroed = tf.tidy(() => {
        const hit = tf.sum(tf.oneHot(tf.tensor1d([...slice.indices], 'int32'), v.shape[slice.axis]!), 0);
        return tf.mul(
          v,
          tf.sub(
            1,
            tf.reshape(
              hit,
              v.shape.map((d, a) => (a === slice.axis ? d : 1)),
            ),
          ),
        );
      });
      v.assign(zeroed);
      zeroed.dispose();
    }
    const small = compact(net);
    const [a] = net.apply(x);
    const [b] = small.apply(x);
    try {
      const where = `${spec.name}: group ${group.id}`;
      check(small.spec.nodes.length > 0, `${where}: compaction emptied the network`);
      const p = a!.dataSync();
      const q = b!.dataSync();
      for (let i = 0; i < p.length; i++) {
        check(
          Math.abs(p[i]! - q[i]!) <= 1e-4 * Math.max(1, Math.abs(p[i]!)),
          `${where}: zeroed and compacted, output ${i} moved from ${p[i]} to ${q[i]} (its structure group is not the unit's whole footprint)`,
        );
      }
    } finally {
      tf.dispose([a!, b!]);
      small.dispose();
      net.dispose();
    }
  }
  x.dispose();
  check(
    tf.memory().numTensors === before,
    `${spec.name}: ${tf.memory().numTensors - before} tensor(s) left by compaction`,
  );
}

/** Every check once; rejects with the first broken one (what {@link describeModelConformance} runs). */
export async function checkModelConformance(o: ModelConformanceOptions): Promise<void> {
  for (const ctx of o.contexts ?? [MNIST]) {
    const spec = specOf(o, ctx);
    checkOutputs(spec, ctx);
    checkGroups(spec, ctx, o.groups ?? 6);
  }
}

/** Registers the conformance tests of one model with the framework's `describe`/`it`. */
export function describeModelConformance(o: ModelConformanceSuiteOptions): void {
  o.describe(`model conformance: ${o.name}`, () => {
    for (const ctx of o.contexts ?? [MNIST]) {
      const shape = `${JSON.stringify(ctx.inputShape)}, classes ${JSON.stringify(ctx.classes)}`;
      o.it(
        `${shape}: builds through the registry; one finite [n, classes] output per task; init by seed; no leaks`,
        () => checkOutputs(specOf(o, ctx), ctx),
      );
      o.it(`${shape}: zeroing a unit group and compacting leaves the outputs unchanged`, () =>
        checkGroups(specOf(o, ctx), ctx, o.groups ?? 6),
      );
    }
  });
}
