import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { createNetwork, defineObjective, type ObjectiveContext, schema as s } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkObjectiveConformance,
  conformanceNetworks,
  describeObjectiveConformance,
} from '../testing/index.js';
import { createObjective } from './imports.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Built-in objectives pass the suite a contributor's objective runs.
describeObjectiveConformance({
  name: 'crossEntropy',
  create: (c) => createObjective(c),
  config: { type: 'crossEntropy' },
  describe,
  it,
});
describeObjectiveConformance({
  name: 'l1 of the kernels',
  create: (c) => createObjective(c),
  config: { type: 'l1', params: { roles: ['kernel'] } },
  describe,
  it,
});

// Broken objectives, each breaking one check: the suite must reject every one.
const empty = s.object({});
const leaky = defineObjective({
  name: 'test-leaky',
  description: 'leaves a tensor behind',
  configSchema: empty,
  create: (config) => ({
    name: 'leaky',
    config,
    value: (ctx) => {
      tf.keep(tf.scalar(1));
      return tf.mean(ctx.outputs[0]!) as tf.Scalar;
    },
  }),
});
let draws = 0;
const restless = defineObjective({
  name: 'test-restless',
  description: 'changes on every evaluation',
  configSchema: empty,
  create: (config) => ({
    name: 'restless',
    config,
    // A different value on every evaluation (a hidden counter, say unseeded sampling).
    value: (ctx) => tf.add(tf.mean(ctx.outputs[0]!), draws++) as tf.Scalar,
  }),
});
const flat = defineObjective({
  name: 'test-flat',
  description: 'a constant',
  configSchema: empty,
  create: (config) => ({ name: 'flat', config, value: () => tf.scalar(1) }),
});
const lost = defineObjective({
  name: 'test-lost-config',
  description: 'forgets its scale',
  configSchema: s.object({ scale: s.number() }),
  // Its config does not record `scale`: rebuilt from it, another objective.
  create: (config) => ({
    name: 'lost',
    config: { type: 'test-lost-config', scale: 1 },
    value: (ctx) => tf.mul(tf.mean(ctx.outputs[0]!), config.scale) as tf.Scalar,
  }),
});

describe('the objective conformance suite rejects broken objectives', () => {
  const rejects = async (
    definition: { create: (c: never, ctx: never) => unknown },
    config: object,
    why: RegExp,
  ) => {
    await expect(
      checkObjectiveConformance({
        name: 'broken',
        create: (c) => definition.create(c as never, undefined as never) as never,
        config: config as never,
        runs: 1,
      }),
    ).rejects.toThrow(why);
  };
  it('a tensor left behind by every evaluation', () =>
    rejects(leaky, { type: 'test-leaky' }, /left 1 tensor/));
  it('a value that changes between two evaluations', () =>
    rejects(restless, { type: 'test-restless' }, /evaluated twice/));
  it('no gradient while claimed differentiable', () =>
    rejects(flat, { type: 'test-flat' }, /gradient is zero/));
  it('a config that does not rebuild the same objective', () =>
    rejects(lost, { type: 'test-lost-config', scale: 3 }, /rebuilt from its config/));
  it('an unregistered type', () =>
    rejects(
      flat,
      { type: 'test-nobody' },
      /'test-nobody' is not registered \(define it with defineObjective\)/,
    ));
});

// More broken objectives (issue 17: a broken contributor component must fail the suite).
const vector = defineObjective({
  name: 'test-vector',
  description: 'returns one value per class, not a scalar',
  configSchema: empty,
  create: (config) => ({
    name: 'vector',
    config,
    value: (ctx) => tf.mean(ctx.outputs[0]!, 0) as unknown as tf.Scalar,
  }),
});
const undefinedValue = defineObjective({
  name: 'test-nan',
  description: 'log of a negative number',
  configSchema: empty,
  create: (config) => ({
    name: 'nan',
    config,
    value: (ctx) => tf.log(tf.sub(-1, tf.square(tf.mean(ctx.outputs[0]!)))) as tf.Scalar,
  }),
});
/** Σ w² of the last layer's kernel plus √(w − w) of every other parameter: finite value, NaN gradient there. */
const nanGradient = defineObjective({
  name: 'test-nan-gradient',
  description: 'finite value, a NaN gradient',
  configSchema: empty,
  create: (config) => ({
    name: 'nan-gradient',
    config,
    value: (ctx) => {
      const [first, ...rest] = [...ctx.net.params.values()].filter((p) => p.trainable).reverse();
      let total = tf.sum(tf.square(first!));
      for (const p of rest) total = tf.add(total, tf.sum(tf.sqrt(tf.sub(p, p))));
      return total as tf.Scalar;
    },
  }),
});
/** Connected to every parameter, gradient exactly 0. */
const flatConnected = defineObjective({
  name: 'test-flat-connected',
  description: '0 · Σ w',
  configSchema: empty,
  create: (config) => ({
    name: 'flat-connected',
    config,
    value: (ctx) => tf.mul(tf.mean(ctx.outputs[0]!), 0) as tf.Scalar,
  }),
});
const held: tf.Tensor[] = [];
const hoarder = defineObjective({
  name: 'test-hoarder',
  description: 'keeps a tensor that dispose does not free',
  configSchema: empty,
  create: (config) => {
    held.push(tf.keep(tf.scalar(2)));
    return {
      name: 'hoarder',
      config,
      value: (ctx) => tf.mean(ctx.outputs[0]!) as tf.Scalar,
      dispose: () => {},
    };
  },
});
const impostor = defineObjective({
  name: 'test-impostor',
  description: 'builds a config of another type',
  configSchema: empty,
  create: () => ({
    name: 'impostor',
    config: { type: 'l1' },
    value: (ctx) => tf.mean(ctx.outputs[0]!) as tf.Scalar,
  }),
});

describe('the objective conformance suite rejects every broken objective, naming the network and seed', () => {
  const rejects = async (
    definition: { create: (c: never, ctx: never) => unknown },
    config: object,
    why: RegExp,
    extra: object = {},
  ) => {
    await expect(
      checkObjectiveConformance({
        name: 'broken',
        create: (c) => definition.create(c as never, undefined as never) as never,
        config: config as never,
        runs: 1,
        ...extra,
      }),
    ).rejects.toThrow(why);
  };
  it('a value that is not a scalar', () =>
    rejects(
      vector,
      { type: 'test-vector' },
      /^conformance-mlp, seed 1: the value has rank 1, not a scalar$/,
    ));
  it('a value that is not finite', () =>
    rejects(undefinedValue, { type: 'test-nan' }, /^conformance-mlp, seed 1: the value is NaN$/));
  it('a gradient that is not finite for some parameters', () =>
    rejects(
      nanGradient,
      { type: 'test-nan-gradient' },
      /^conformance-mlp, seed 1: a gradient is not finite$/,
    ));
  it('a gradient that is exactly zero though connected', () =>
    rejects(
      flatConnected,
      { type: 'test-flat-connected' },
      /^conformance-mlp, seed 1: the gradient is zero for every network parameter \(differentiable: false\?\)$/,
    ));
  it('a tensor that dispose does not free', async () => {
    await rejects(hoarder, { type: 'test-hoarder' }, /^conformance-mlp: 2 tensor\(s\) left after dispose$/);
    tf.dispose(held.splice(0));
  });
  it('a registry entry that builds another type', () =>
    rejects(impostor, { type: 'test-impostor' }, /^the registry built a 'l1', not a 'test-impostor'$/));
});

describe('the objective conformance suite accepts what is legal', () => {
  it('a gradient that is zero for some parameters (a penalty on the kernels only; the biases get exactly 0)', async () => {
    const kernels = defineObjective({
      name: 'test-kernels-plus-zero-bias',
      description: 'Σ kernel² + 0·Σ bias',
      configSchema: empty,
      create: (config) => ({
        name: 'kernels',
        config,
        value: (ctx) =>
          tf.tidy(() => {
            let total = tf.scalar(0);
            for (const [name, p] of ctx.net.params) {
              total = tf.add(total, name.endsWith('/kernel') ? tf.sum(tf.square(p)) : tf.mul(tf.sum(p), 0));
            }
            return total as tf.Scalar;
          }),
      }),
    });
    await checkObjectiveConformance({
      name: 'kernels',
      create: (c) => kernels.create(c as never, undefined as never),
      config: { type: 'test-kernels-plus-zero-bias' },
      runs: 1,
    });
  });

  it('a constant declared with differentiable: false; rebuilt values equal within 1e-6 relative', async () => {
    await checkObjectiveConformance({
      name: 'flat',
      create: (c) => flat.create(c as never, undefined as never),
      config: { type: 'test-flat' },
      differentiable: false,
      runs: 1,
    });
    // 100000 then 100000.0078125 (one float32 ulp apart, as a rebuilt objective summing in another
    // order may give): within 1e-6 of |a|, not within 1e-6 absolute.
    let instances = 0;
    const large = defineObjective({
      name: 'test-large',
      description: 'a large value, one ulp apart when rebuilt',
      configSchema: empty,
      create: (config) => {
        const offset = instances++ % 2 === 0 ? 0 : 0.0078125;
        return {
          name: 'large',
          config,
          value: (ctx) => tf.add(tf.mul(tf.mean(ctx.outputs[0]!), 1e-9), 100000 + offset) as tf.Scalar,
        };
      },
    });
    await checkObjectiveConformance({
      name: 'large',
      create: (c) => large.create(c as never, undefined as never),
      config: { type: 'test-large' },
      runs: 1,
    });
  });

  it('evaluates as the training loop does (ctx.training true), every default network, every seed', () => {
    const seen: boolean[] = [];
    let created = 0;
    const spy = defineObjective({
      name: 'test-spy',
      description: 'records what it is evaluated with',
      configSchema: empty,
      create: (config) => {
        created++;
        return {
          name: 'spy',
          config,
          value: (ctx: ObjectiveContext) => {
            seen.push(ctx.training);
            return tf.mean(ctx.outputs[0]!) as tf.Scalar;
          },
        };
      },
    });
    const tests: { name: string; run: () => unknown }[] = [];
    const suites: string[] = [];
    describeObjectiveConformance({
      name: 'spy',
      create: (c) => spy.create(c as never, undefined as never),
      config: { type: 'test-spy' },
      runs: 2,
      describe: (name, body) => {
        suites.push(name);
        body();
      },
      it: (name, body) => tests.push({ name, run: body }),
    });
    expect(tests.map((t) => t.name)).toEqual([
      'builds through the registry from its JSON config; an unknown key is refused by its path',
      'conformance-mlp: a finite scalar, deterministic, the same rebuilt from its config, no leaks, a finite non-zero gradient',
      'conformance-cnn: a finite scalar, deterministic, the same rebuilt from its config, no leaks, a finite non-zero gradient',
    ]);
    expect(suites).toEqual(['objective conformance: spy']);
    for (const t of tests) t.run();
    // The registry builds one; each network and seed builds two (the objective and its rebuild) and
    // evaluates four times (twice, the rebuild, the gradient).
    expect(created).toBe(1 + 2 * 2 * 2);
    expect(seen).toHaveLength(2 * 2 * 4);
    expect(seen.every((t) => t === true)).toBe(true);
    const names: string[] = [];
    describeObjectiveConformance({
      name: 'flat',
      create: (c) => flat.create(c as never, undefined as never),
      config: { type: 'test-flat' },
      differentiable: false,
      describe: (_name, body) => body(),
      it: (name) => names.push(name),
    });
    expect(names[1]).toBe(
      'conformance-mlp: a finite scalar, deterministic, the same rebuilt from its config, no leaks',
    );
  });

  it('a network with dropout (training mode, the same draws for every evaluation)', async () => {
    await checkObjectiveConformance({
      name: 'crossEntropy on a dropout MLP',
      create: (c) => createObjective(c),
      config: { type: 'crossEntropy' },
      networks: [
        {
          name: 'dropout-mlp',
          inputShape: [8],
          nodes: [
            { id: 'fc1', op: 'dense', inputs: ['input'], units: 6 },
            { id: 'drop', op: 'dropout', inputs: ['fc1'], rate: 0.5 },
            { id: 'fc2', op: 'dense', inputs: ['drop'], units: 3 },
          ],
          outputs: ['fc2'],
        },
      ],
      runs: 2,
    });
  });

  it('its default networks: an MLP on 8 features and a CNN on 6×6×2 images, 3 classes each', () => {
    const specs = conformanceNetworks();
    expect(specs.map((spec) => [spec.name, spec.inputShape])).toEqual([
      ['conformance-mlp', [8]],
      ['conformance-cnn', [6, 6, 2]],
    ]);
    for (const spec of specs) {
      const net = createNetwork(spec, { seed: 1 });
      const x = tf.ones([5, ...spec.inputShape]);
      const [y] = net.apply(x, { training: false });
      expect(y!.shape, spec.name).toEqual([5, 3]);
      tf.dispose([x, y!]);
      net.dispose();
    }
    expect(specs[1]!.nodes.map((n) => n.op)).toEqual(['conv2d', 'activation', 'flatten', 'dense']);
  });
});
