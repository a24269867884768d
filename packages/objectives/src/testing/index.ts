/**
 * The objective conformance suite. Any objective — ours or a contributor's — runs every check with
 * one call in a test file, handing it the test framework's `describe` and `it` (as the pruner and
 * solver suites take them; the checks are the suite's own, so vitest and jest both run it):
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeObjectiveConformance } from '@moprune/objectives/testing';
 * describeObjectiveConformance({ name: 'max-norm', create: createMaxNorm, config: { type: 'max-norm' }, describe, it });
 * ```
 *
 * Checks, on a small MLP and a small CNN (or the networks given) over several seeds: the config
 * builds through the registry and an unknown key is refused naming it; the value is a finite
 * scalar, the same when evaluated twice and when rebuilt from its own `config` (JSON round trip);
 * evaluating leaves no tensor behind; a differentiable objective has a finite gradient, non-zero
 * for some network parameter; `dispose` frees whatever the objective holds. Evaluation is in training
 * mode, as the loop evaluates objectives; dropout in a given network draws from a fixed seed.
 */
import {
  type Batch,
  ConformanceFailure,
  conformanceCheck as check,
  conformanceCheckConfig,
  createNetwork,
  type DefineFn,
  type JsonObject,
  type Network,
  type NetworkSpec,
  type Objective,
  type ObjectiveContext,
  Rng,
  registries,
} from '@moprune/core';

/** The test framework's `describe`/`it` shape every moprune conformance suite takes (`DefineFn` of `@moprune/core`). */
export type { DefineFn };

import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link checkObjectiveConformance}. */
export interface ObjectiveConformanceOptions {
  /** Name shown in the test report. */
  readonly name: string;
  /** Builds the objective under test from its JSON config. */
  readonly create: (config: JsonObject) => Objective;
  /** The config to test (its `type` registered, e.g. by `defineObjective`). */
  readonly config: JsonObject;
  /** Networks to evaluate on (one output of 3 classes each). @default a small MLP and a small CNN ({@link conformanceNetworks}) */
  readonly networks?: readonly NetworkSpec[];
  /** Seeds (network init and batch) per network. @default 3 */
  readonly runs?: number;
  /**
   * The objective has a gradient w.r.t. the network's parameters (false for one that is valued
   * but not differentiated, such as GrOWL held constant). @default true
   */
  readonly differentiable?: boolean;
}

/** Options of {@link describeObjectiveConformance}. */
export interface ObjectiveConformanceSuiteOptions extends ObjectiveConformanceOptions {
  /** The test framework's `describe`. */
  readonly describe: DefineFn;
  /** The test framework's `it`. */
  readonly it: DefineFn;
}

/** The suite's default networks: a two-layer MLP on 8 features and a one-conv CNN on 6×6×2 images, 3 classes each. */
export function conformanceNetworks(): NetworkSpec[] {
  return [
    {
      name: 'conformance-mlp',
      inputShape: [8],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 6 },
        { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'fc2', op: 'dense', inputs: ['relu1'], units: 3 },
      ],
      outputs: ['fc2'],
    },
    {
      name: 'conformance-cnn',
      inputShape: [6, 6, 2],
      nodes: [
        { id: 'conv1', op: 'conv2d', inputs: ['input'], filters: 4, kernelSize: [3, 3], padding: 'same' },
        { id: 'relu1', op: 'activation', inputs: ['conv1'], fn: 'relu' },
        { id: 'flatten', op: 'flatten', inputs: ['relu1'] },
        { id: 'fc1', op: 'dense', inputs: ['flatten'], units: 3 },
      ],
      outputs: ['fc1'],
    },
  ];
}

/** A batch of 5 seeded samples for `spec` (sparse labels of 3 classes). */
function batchFor(spec: NetworkSpec, seed: number): Batch {
  const x = tf.randomNormal([5, ...spec.inputShape], 0, 1, 'float32', seed + 1);
  const y = tf.tensor1d(
    [0, 1, 2, 1, 0].map((c) => (c + seed) % 3),
    'int32',
  );
  return { x, y: [y], size: 5, dispose: () => tf.dispose([x, y]) };
}

/**
 * The objective's value on the batch with the network in training mode, as the training loop
 * evaluates it. Dropout draws from a generator of a fixed seed made afresh for each evaluation, so
 * a network with dropout gives the same outputs each time and the determinism check stays fair.
 */
function evaluate(objective: Objective, net: Network, batch: Batch, seed: number): tf.Scalar {
  return tf.tidy(() => {
    const ctx: ObjectiveContext = {
      net,
      outputs: net.apply(batch.x, { training: true, rng: Rng.fromSeed(seed) }),
      batch,
      gateProbabilities: {},
      training: true,
    };
    return objective.value(ctx);
  });
}

/** The checks of the registry and the config. */
function checkRegistry(o: ObjectiveConformanceOptions): void {
  const registry = registries().objectives;
  conformanceCheckConfig(registry, o.config, 'Objective');
  const type = o.config.type;
  const built = registry.create(o.config, undefined);
  try {
    check(built.config.type === type, `the registry built a '${String(built.config.type)}', not a '${type}'`);
  } finally {
    built.dispose?.();
  }
}

/** Value, determinism, JSON round trip, leaks and gradient on one network and seed. */
function checkValue(o: ObjectiveConformanceOptions, spec: NetworkSpec, seed: number): void {
  const before = tf.memory().numTensors;
  const net = createNetwork(spec, { seed });
  const batch = batchFor(spec, seed);
  const objective = o.create(o.config);
  const again = o.create(JSON.parse(JSON.stringify(objective.config)) as JsonObject);
  try {
    const where = `${spec.name}, seed ${seed}`;
    const counted = tf.memory().numTensors;
    const v = evaluate(objective, net, batch, seed);
    check(v.rank === 0, `${where}: the value has rank ${v.rank}, not a scalar`);
    const a = v.dataSync()[0]!;
    v.dispose();
    check(Number.isFinite(a), `${where}: the value is ${a}`);
    check(
      tf.memory().numTensors === counted,
      `${where}: evaluating left ${tf.memory().numTensors - counted} tensor(s)`,
    );
    const w = evaluate(objective, net, batch, seed);
    const b = w.dataSync()[0]!;
    w.dispose();
    check(a === b, `${where}: evaluated twice, ${a} then ${b}`);
    const r = evaluate(again, net, batch, seed);
    const c = r.dataSync()[0]!;
    r.dispose();
    check(
      Math.abs(a - c) <= 1e-6 * Math.max(1, Math.abs(a)),
      `${where}: rebuilt from its config, ${c} instead of ${a}`,
    );
    if (o.differentiable ?? true) {
      const params = [...net.params.values()].filter((p) => p.trainable);
      let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
      try {
        result = tf.variableGrads(() => evaluate(objective, net, batch, seed), params);
      } catch (e) {
        // tfjs: "Cannot find a connection between any variable and the result of the loss function".
        throw new ConformanceFailure(
          `${where}: the gradient is zero for every network parameter (differentiable: false?): ${(e as Error).message}`,
        );
      }
      const { value, grads } = result;
      const norms = Object.values(grads).map((g) => tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0]!));
      tf.dispose([value, ...Object.values(grads)]);
      check(norms.every(Number.isFinite), `${where}: a gradient is not finite`);
      check(
        norms.some((n) => n > 0),
        `${where}: the gradient is zero for every network parameter (differentiable: false?)`,
      );
    }
  } finally {
    objective.dispose?.();
    again.dispose?.();
    batch.dispose();
    net.dispose();
  }
  check(
    tf.memory().numTensors === before,
    `${spec.name}: ${tf.memory().numTensors - before} tensor(s) left after dispose`,
  );
}

/**
 * Runs every check once and rejects with the first broken one (what {@link describeObjectiveConformance}
 * runs as tests; the suite's own tests run it on broken objectives).
 */
export async function checkObjectiveConformance(o: ObjectiveConformanceOptions): Promise<void> {
  checkRegistry(o);
  for (const spec of o.networks ?? conformanceNetworks())
    for (let seed = 1; seed <= (o.runs ?? 3); seed++) checkValue(o, spec, seed);
}

/** Registers the conformance tests of one objective with the framework's `describe`/`it`. */
export function describeObjectiveConformance(o: ObjectiveConformanceSuiteOptions): void {
  o.describe(`objective conformance: ${o.name}`, () => {
    o.it('builds through the registry from its JSON config; an unknown key is refused by its path', () =>
      checkRegistry(o),
    );
    for (const spec of o.networks ?? conformanceNetworks()) {
      o.it(
        `${spec.name}: a finite scalar, deterministic, the same rebuilt from its config, no leaks${(o.differentiable ?? true) ? ', a finite non-zero gradient' : ''}`,
        () => {
          for (let seed = 1; seed <= (o.runs ?? 3); seed++) checkValue(o, spec, seed);
        },
      );
    }
  });
}
