/**
 * The pruner conformance suite. Any pruner — ours or a contributor's — runs
 * every mask invariant with one call in a test file, handing it the test framework's `describe` and
 * `it` (vitest, jest; the checks are the suite's own, so any framework that runs async tests works):
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describePrunerConformance } from '@moprune/pruners/testing';
 * describePrunerConformance({ name: 'my-pruner', create: (c) => createMyPruner(c), config: { type: 'my-pruner' }, describe, it });
 * ```
 *
 * Properties (fast-check, fixed seed, several networks and seeds): after every
 * step masked weights are exactly zero; a non-regrowing pruner never revives
 * a weight; masks have their parameter's shape and hold only 0 and 1; the
 * reported sparsity equals the counted zeros; sparsity follows the schedule
 * within one weight per target; state → load → state round-trips; no tensor
 * leaks; for structured pruners, compaction preserves outputs.
 */
import {
  ConformanceFailure,
  conformanceCheck as check,
  compact,
  createNetwork,
  type DefineFn,
  type JsonObject,
  type Network,
  type NetworkSpec,
  type Pruner,
  Rng,
  registries,
} from '@moprune/core';

/** The test framework's `describe`/`it` shape every moprune conformance suite takes (`DefineFn` of `@moprune/core`). */
export type { DefineFn };

import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';

function fail(message: string): never {
  throw new ConformanceFailure(message);
}

function same(a: unknown, b: unknown, message: string): void {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  check(x === y, `${message}: ${y} instead of ${x}`);
}

/** Options of {@link describePrunerConformance}. */
export interface PrunerConformanceOptions {
  /** Name shown in the test report. */
  readonly name: string;
  /** Builds the pruner under test from its JSON config. */
  readonly create: (config: JsonObject) => Pruner;
  /** The config to test. */
  readonly config: JsonObject;
  /** Networks to run on. @default a small MLP and a small CNN ({@link conformanceNetworks}) */
  readonly networks?: readonly NetworkSpec[];
  /** Simulated optimizer steps per run. @default 12 */
  readonly steps?: number;
  /** Seeds tried per network (fast-check runs). @default 4 */
  readonly runs?: number;
  /** True when the pruner may bring a pruned weight back (e.g. ITP with `regrow: true`). @default false */
  readonly regrows?: boolean;
  /**
   * Scheduled sparsity of the targets after global step `step`, when the pruner follows
   * a schedule: the counted zeros must match within one weight per target parameter.
   */
  readonly expectedSparsity?: (step: number) => number | undefined;
  /**
   * The pruner removes something within `steps` steps on these networks: by the last step at
   * least one target weight is masked or exactly zero, or the network was compacted. A pruner
   * that never prunes fails; set false for a config that may rightly prune nothing in so few steps.
   * @default true
   */
  readonly prunes?: boolean;
  /** Structured pruners: check that `compact(net)` preserves outputs after the run. @default false */
  readonly structured?: boolean;
  /** Check the config round-trips through `registries().pruners`. @default true */
  readonly registered?: boolean;
  /** Validation metric the pruner sees through `ctx.evaluate()`. @default { accuracy: 1, loss: 0 } */
  readonly evaluate?: (net: Network) => { accuracy: number; loss: number };
  /** fast-check seed. @default 42 */
  readonly seed?: number;
}

/** Options of {@link describePrunerConformance}: the checks' options and the test framework's `describe`/`it`. */
export interface PrunerConformanceSuiteOptions extends PrunerConformanceOptions {
  /** vitest/jest `describe`. */
  readonly describe: DefineFn;
  /** vitest/jest `it`. */
  readonly it: DefineFn;
}

/** The default networks of the suite: a small MLP and a small CNN, both with structure groups. */
export const conformanceNetworks: readonly NetworkSpec[] = [
  {
    name: 'conformance-mlp',
    inputShape: [12],
    nodes: [
      { id: 'fc1', op: 'dense', inputs: ['input'], units: 16 },
      { id: 'relu1', op: 'activation', inputs: ['fc1'], fn: 'relu' },
      { id: 'fc2', op: 'dense', inputs: ['relu1'], units: 10 },
      { id: 'relu2', op: 'activation', inputs: ['fc2'], fn: 'relu' },
      { id: 'out', op: 'dense', inputs: ['relu2'], units: 4 },
    ],
    outputs: ['out'],
  },
  {
    name: 'conformance-cnn',
    inputShape: [6, 6, 2],
    nodes: [
      { id: 'conv1', op: 'conv2d', inputs: ['input'], filters: 4, kernelSize: [3, 3], padding: 'same' },
      { id: 'relu1', op: 'activation', inputs: ['conv1'], fn: 'relu' },
      { id: 'pool1', op: 'maxPool', inputs: ['relu1'], poolSize: [2, 2] },
      { id: 'flat', op: 'flatten', inputs: ['pool1'] },
      { id: 'fc1', op: 'dense', inputs: ['flat'], units: 8 },
      { id: 'relu2', op: 'activation', inputs: ['fc1'], fn: 'relu' },
      { id: 'out', op: 'dense', inputs: ['relu2'], units: 3 },
    ],
    outputs: ['out'],
  },
];

interface Snapshot {
  readonly values: Map<string, Float32Array>;
  readonly masks: Map<string, Float32Array>;
}

function snapshot(net: Network): Snapshot {
  const values = new Map<string, Float32Array>();
  const masks = new Map<string, Float32Array>();
  for (const [name, v] of net.params) values.set(name, v.dataSync() as Float32Array);
  for (const name of net.maskedParams()) masks.set(name, net.getMask(name)!.dataSync() as Float32Array);
  return { values, masks };
}

/** One simulated optimizer step: every trainable weight (masked ones too) moves by seeded noise and shrinks a little. */
function perturb(vars: readonly tf.Variable[], rng: Rng): void {
  for (const v of vars) {
    const noise = rng.fill(v.size, (r) => r.normal() * 0.02);
    tf.tidy(() => {
      v.assign(tf.add(tf.mul(v, 0.9), tf.tensor(noise, v.shape)));
    });
  }
}

function checkMasks(net: Network, label: string): void {
  for (const name of net.maskedParams()) {
    const mask = net.getMask(name)!;
    const param = net.params.get(name)!;
    same(param.shape, mask.shape, `${label}: mask of ${name} has its parameter's shape`);
    const m = mask.dataSync();
    const w = param.dataSync();
    for (let i = 0; i < m.length; i++) {
      if (m[i] !== 0 && m[i] !== 1)
        fail(`${label}: mask of ${name} holds ${m[i]} at ${i} (only 0/1 allowed)`);
      if (m[i] === 0 && w[i] !== 0) fail(`${label}: ${name}[${i}] is masked but equals ${w[i]}`);
    }
  }
}

function countTargetZeros(net: Network, targets: readonly string[]): { zeros: number; total: number } {
  let zeros = 0;
  let total = 0;
  for (const name of targets) {
    const w = net.params.get(name)!.dataSync();
    total += w.length;
    for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
  }
  return { zeros, total };
}

function statesEqual(a: ReturnType<Pruner['state']>, b: ReturnType<Pruner['state']>, label: string): void {
  same(a.json, b.json, `${label}: state json round-trips`);
  same(Object.keys(a.arrays).sort(), Object.keys(b.arrays).sort(), `${label}: state arrays round-trip`);
  for (const [k, arr] of Object.entries(a.arrays)) {
    same(arr.shape, b.arrays[k]!.shape, `${label}: shape of state array ${k} round-trips`);
    same(Array.from(arr.data), Array.from(b.arrays[k]!.data), `${label}: state array ${k} round-trips`);
  }
}

/** Runs one pruner on one network for `steps` simulated steps, checking every invariant after each. */
async function runOnce(opts: PrunerConformanceOptions, spec: NetworkSpec, seed: number): Promise<void> {
  const label = `${opts.name} on ${spec.name} (seed ${seed})`;
  const rng = Rng.fromSeed(seed);
  let net = createNetwork(spec, { seed });
  const pruner = opts.create(opts.config);
  const steps = opts.steps ?? 12;
  const evaluate = opts.evaluate ?? (() => ({ accuracy: 1, loss: 0 }));
  const stepsPerEpoch = Math.max(1, Math.floor(steps / 3));
  pruner.init({ net, rng: rng.fork('pruner'), totalSteps: steps, stepsPerEpoch });
  checkMasks(net, `${label} after init`);
  let before = snapshot(net);
  let tensorsAtStep1 = -1;
  let replacedSince1 = false;
  for (let step = 0; step < steps; step++) {
    perturb([...net.trainableVariables(), ...(pruner.variables?.() ?? [])], rng);
    const ctx = {
      net,
      step,
      epoch: Math.floor(step / stepsPerEpoch),
      batch: step % stepsPerEpoch,
      batchesPerEpoch: stepsPerEpoch,
      rng: rng.fork(`step${step}`),
      evaluate: async () => evaluate(net),
      log: () => {},
    };
    const result = await pruner.afterStep(ctx);
    if (result?.replaceNetwork) {
      net.dispose();
      net = result.replaceNetwork;
      replacedSince1 = true;
      before = snapshot(net);
    }
    if ((step + 1) % stepsPerEpoch === 0 && pruner.afterEpoch) {
      const r = await pruner.afterEpoch({ ...ctx, net });
      if (r?.replaceNetwork) {
        net.dispose();
        net = r.replaceNetwork;
        replacedSince1 = true;
        before = snapshot(net);
      }
    }
    const at = `${label} after step ${step}`;
    checkMasks(net, at);
    const now = snapshot(net);
    if (!opts.regrows && !result?.replaceNetwork) {
      for (const [name, mask] of before.masks) {
        const m = now.masks.get(name);
        if (!m) fail(`${at}: the mask of ${name} disappeared`);
        for (let i = 0; i < mask.length; i++) {
          if (mask[i] === 0 && m[i] !== 0) fail(`${at}: ${name}[${i}] was pruned and came back`);
        }
      }
    }
    const targets = pruner.targets?.() ?? net.maskedParams();
    const metrics = pruner.metrics?.();
    if (metrics && typeof metrics.sparsity === 'number' && targets.length > 0) {
      const { zeros, total } = countTargetZeros(net, targets);
      check(
        Math.abs(metrics.sparsity - zeros / total) < 5e-10,
        `${at}: reported sparsity ${metrics.sparsity} equals the counted zeros (${zeros}/${total})`,
      );
    }
    const expected = opts.expectedSparsity?.(step);
    if (expected !== undefined) {
      const { zeros, total } = countTargetZeros(net, targets);
      check(
        Math.abs(zeros - expected * total) <= targets.length,
        `${at}: sparsity follows the schedule (${zeros}/${total} zeros, scheduled ${expected})`,
      );
    }
    // Masks appear when a pruner first prunes a parameter; everything else must stay flat.
    const live = tf.memory().numTensors - net.maskedParams().length;
    if (step === 1) tensorsAtStep1 = live;
    else if (step > 1 && !replacedSince1) {
      check(
        live === tensorsAtStep1,
        `${at}: no tensor leaks (tensors besides masks stay flat from step 1: ${live} vs ${tensorsAtStep1})`,
      );
    }
    before = now;
  }

  if (opts.prunes ?? true) {
    const targets = pruner.targets?.() ?? net.maskedParams();
    const { zeros } = countTargetZeros(net, targets);
    const masked = net.maskedParams().some((name) =>
      net
        .getMask(name)!
        .dataSync()
        .some((v) => v === 0),
    );
    if (!(replacedSince1 || masked || zeros > 0)) {
      fail(
        `${label}: prunes nothing in ${steps} steps (no target weight masked or zero, no compaction); if this config rightly prunes nothing this early, pass prunes: false`,
      );
    }
  }

  // state → load → state
  const saved = pruner.state();
  const copy = opts.create(opts.config);
  copy.init({ net, rng: Rng.fromSeed(seed).fork('pruner'), totalSteps: steps, stepsPerEpoch: 4 });
  copy.load(saved);
  statesEqual(saved, copy.state(), label);
  copy.dispose?.();

  if (opts.structured) {
    const x = tf.tensor(
      Rng.fromSeed(seed + 1).fill(3 * spec.inputShape.reduce((a, b) => a * b, 1), (r) => r.normal()),
      [3, ...spec.inputShape],
    );
    const gates = pruner.gates?.(false, Rng.fromSeed(0));
    const small = compact(net, gates ? { gates } : {});
    const [yBig] = net.apply(x, gates ? { gates } : {});
    const [ySmall] = small.apply(x);
    const a = yBig!.dataSync();
    const b = ySmall!.dataSync();
    check(b.length === a.length, `${label}: compacted output has ${b.length} values, dense ${a.length}`);
    for (let i = 0; i < a.length; i++) {
      const tol = 1e-4 * Math.max(1, Math.abs(a[i]!), Math.abs(b[i]!));
      if (!(Math.abs(a[i]! - b[i]!) <= tol))
        fail(`${label}: compacted output ${i} is ${b[i]}, dense is ${a[i]}`);
    }
    tf.dispose([x, yBig!, ySmall!, ...(gates ? Object.values(gates) : [])]);
    small.dispose();
  }
  pruner.dispose?.();
  net.dispose();
}

/**
 * One run of the conformance checks on one network and seed (what each
 * fast-check case of {@link describePrunerConformance} runs): rejects with the
 * first broken invariant, also when the run leaks a tensor.
 */
export async function checkPrunerConformance(
  opts: PrunerConformanceOptions,
  spec: NetworkSpec = conformanceNetworks[0]!,
  seed = 1,
): Promise<void> {
  const start = tf.memory().numTensors;
  await runOnce(opts, spec, seed);
  const end = tf.memory().numTensors;
  check(end === start, `${opts.name}: every tensor of the run was disposed (${end - start} left)`);
}

/**
 * Registers a `describe` block (the framework's, from `opts`) that runs the whole conformance suite on
 * one pruner config — the convention of every conformance suite (`describeSolverConformance` too).
 */
export function describePrunerConformance(opts: PrunerConformanceSuiteOptions): void {
  const { describe, it } = opts;
  const networks = opts.networks ?? conformanceNetworks;
  describe(`pruner conformance: ${opts.name}`, () => {
    for (const spec of networks) {
      it(`keeps every mask invariant on ${spec.name}`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) =>
            checkPrunerConformance(opts, spec, seed),
          ),
          { seed: opts.seed ?? 42, numRuns: opts.runs ?? 4 },
        );
      });
    }
    if (opts.registered ?? true) {
      it('round-trips its JSON config through the pruner registry', () => {
        const pruner = opts.create(opts.config);
        const again = registries().pruners.create(JSON.parse(JSON.stringify(pruner.config)), undefined);
        same(pruner.config, again.config, `${opts.name}: the config round-trips through the registry`);
        check(
          again.name === pruner.name,
          `${opts.name}: the registry builds '${again.name}', not '${pruner.name}'`,
        );
      });
    }
  });
}
