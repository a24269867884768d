import { fc, test } from '@fast-check/vitest';
import { isMopruneError, type JsonObject, type JsonValue, registries, validateSpec } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import {
  hps,
  lenet5,
  lenet300100,
  ModelError,
  mdmtn,
  mlp,
  modelDefinitions,
  resnet,
  vggLike,
} from '../index.js';

const mnist = { inputShape: [28, 28, 1], classes: [10] };
const cifar = { inputShape: [32, 32, 3], classes: [10] };

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('registry', () => {
  it('registers every model once, by type, on import', () => {
    const models = registries().models;
    expect(models.types()).toEqual(
      expect.arrayContaining(['hps', 'lenet-300-100', 'lenet5', 'mdmtn', 'mlp', 'resnet', 'vgg-like']),
    );
    expect(modelDefinitions.map((r) => r.name)).toEqual([
      'mlp',
      'lenet-300-100',
      'lenet5',
      'vgg-like',
      'resnet',
      'hps',
      'mdmtn',
    ]);
    // A second registration (e.g. a second copy of the package) is a no-op, not a duplicate error.
    expect(() => {
      for (const d of modelDefinitions) models.register(d);
    }).not.toThrow();
  });

  it.each([
    [{ type: 'mlp', hidden: [8, 4] }, mnist, () => mlp({ hidden: [8, 4], ...single(mnist) })],
    [
      { type: 'lenet-300-100', gates: 'units' },
      mnist,
      () => lenet300100({ gates: 'units', ...single(mnist) }),
    ],
    [{ type: 'lenet5', variant: 'reiners' }, mnist, () => lenet5({ variant: 'reiners', ...single(mnist) })],
    [
      { type: 'lenet5', variant: 'caffe', init: 'heNormal' },
      mnist,
      () => lenet5({ variant: 'caffe', init: 'heNormal', ...single(mnist) }),
    ],
    [
      { type: 'vgg-like', dropout: [0.1, 0.2, 0.3] },
      cifar,
      () => vggLike({ dropout: [0.1, 0.2, 0.3], ...single(cifar) }),
    ],
    [
      { type: 'resnet', depth: 20, gates: 'units+layers' },
      cifar,
      () => resnet({ depth: 20, gates: 'units+layers', ...single(cifar) }),
    ],
    [{ type: 'hps' }, { inputShape: [28, 28, 1], classes: [10, 10] }, () => hps()],
    [
      { type: 'mdmtn', variant: 'cifar10Mnist', alphaInit: [0.5, 0.5] },
      { inputShape: [32, 32, 3], classes: [10, 10] },
      () => mdmtn({ variant: 'cifar10Mnist', alphaInit: [0.5, 0.5] }),
    ],
  ] as const)('config %j → the builder’s spec, and the spec survives JSON', (config, ctx, direct) => {
    const spec = registries().models.create(config as unknown as JsonObject, ctx);
    expect(spec).toEqual(direct());
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('a bad config is one INVALID_CONFIG error listing every problem', () => {
    const config = { type: 'resnet', depth: 21, gates: 'unit', init: 'kaiming', widht: 2, classes: [10] };
    const e = thrown(() => registries().models.create(config, cifar));
    expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
    const issues = (e as ModelError).issues;
    expect(issues.map((i) => i.path).sort()).toEqual(['classes', 'depth', 'gates', 'init', 'widht']);
    expect(issues.find((i) => i.path === 'depth')?.message).toMatch(/6n \+ 2/);
    expect(issues.find((i) => i.path === 'widht')?.message).toMatch(/unknown field/);
    expect(registries().models.validate({ type: 'resnet' })).toEqual([
      { path: 'depth', message: 'is required' },
    ]);
  });

  it('a single-task model given a multi-task dataset is INCOMPATIBLE_INPUT', () => {
    const e = thrown(() =>
      registries().models.create({ type: 'lenet5' }, { inputShape: [28, 28, 1], classes: [10, 10] }),
    );
    expect(e).toBeInstanceOf(ModelError);
    expect((e as ModelError).name).toBe('ModelError');
    expect((e as ModelError).code).toBe('INCOMPATIBLE_INPUT');
    expect((e as ModelError).issues[0]?.path).toBe('classes');
  });
});

describe('builder options', () => {
  it('bad options throw ModelError INVALID_CONFIG naming every field', () => {
    const bad = { variant: 'lenet', classes: 1, inputShape: [28, 0, 1], gates: true, extra: 1 };
    const e = thrown(() => lenet5(bad as never));
    expect(e).toBeInstanceOf(ModelError);
    expect((e as ModelError).name).toBe('ModelError');
    expect((e as ModelError).code).toBe('INVALID_CONFIG');
    expect((e as ModelError).issues.map((i) => i.path).sort()).toEqual([
      'classes',
      'extra',
      'gates',
      'inputShape[1]',
      'variant',
    ]);
    expect((e as ModelError).message).toContain("invalid options for model 'lenet5'");
  });

  it('checks arrays element by element and by length', () => {
    const e = thrown(() =>
      mdmtn({ alphaInit: [1, Number.NaN, 0], classes: [10, 1.5] } as never),
    ) as ModelError;
    expect(e.issues.map((i) => i.path).sort()).toEqual(['alphaInit', 'alphaInit[1]', 'classes[1]']);
    const d = thrown(() => vggLike({ dropout: [0.2, 1, -0.1] } as never)) as ModelError;
    expect(d.issues.map((i) => i.path)).toEqual(['dropout[1]', 'dropout[2]']);
    expect((thrown(() => mlp({} as never)) as ModelError).issues).toEqual([
      { path: 'hidden', message: 'is required' },
    ]);
    expect((thrown(() => mlp(null as never)) as ModelError).issues[0]?.path).toBe('');
  });

  it('rejects the fixed hidden sizes and depth of the named variants', () => {
    expect((thrown(() => lenet300100({ hidden: [3] } as never)) as ModelError).issues[0]?.path).toBe(
      'hidden',
    );
  });

  it('an input too small for the architecture is INCOMPATIBLE_INPUT naming the node', () => {
    const e = thrown(() => lenet5({ variant: 'caffe', inputShape: [12, 12, 1] })) as ModelError;
    expect(e.code).toBe('INCOMPATIBLE_INPUT');
    expect(e.details.node).toBe('conv2');
    expect(e.issues[0]?.path).toBe('inputShape');
    expect(e.issues[0]?.message).toMatch(/^node 'conv2': /);
    const flat = thrown(() => resnet({ depth: 20, inputShape: [3072] })) as ModelError;
    expect(flat.code).toBe('INCOMPATIBLE_INPUT');
    expect(flat.details.node).toBe('conv1');
  });
});

function single(ctx: { inputShape: number[]; classes: number[] }) {
  return { inputShape: ctx.inputShape, classes: ctx.classes[0]! };
}

describe('validate and create agree (property)', () => {
  // A valid base config per type, then up to two random overrides, so both outcomes occur often.
  const bases: Record<string, JsonObject> = {
    mlp: { type: 'mlp', hidden: [4] },
    'lenet-300-100': { type: 'lenet-300-100' },
    lenet5: { type: 'lenet5', variant: 'caffe' },
    'vgg-like': { type: 'vgg-like' },
    resnet: { type: 'resnet', depth: 8 },
    hps: { type: 'hps' },
    mdmtn: { type: 'mdmtn', alphaInit: [0.5, 0.5] },
  };
  const keys = ['variant', 'init', 'gates', 'depth', 'hidden', 'dropout', 'alphaInit', 'activation', 'typo'];
  const plausible: JsonValue[] = [
    'none',
    'units',
    'layers',
    'units+layers',
    'classic',
    'reiners',
    'caffe',
    'multiMnist',
    'cifar10Mnist',
    'glorotUniform',
    'heNormal',
    'torchDefault',
    'relu',
    'tanh',
    8,
    14,
    26,
    1202,
    1208,
    [3],
    [4, 2],
    [],
    [0, 0.5, 0.9],
    [0.2, 0.3],
    [1, 0],
    [0.5, -2],
  ];
  const overrides = fc.dictionary(
    fc.constantFrom(...keys),
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...plausible) }, fc.jsonValue({ maxDepth: 1 })),
    { maxKeys: 2 },
  );
  const ctxOf = (type: string) =>
    type === 'hps' || type === 'mdmtn'
      ? { inputShape: [28, 28, 1], classes: [10, 10] }
      : type === 'vgg-like' || type === 'resnet'
        ? cifar
        : mnist;

  test.prop([fc.constantFrom(...Object.keys(bases)), overrides], { seed: 7, numRuns: 300 })(
    'no issues ⇒ create returns a spec core accepts; issues ⇒ create throws INVALID_CONFIG with exactly them',
    (type, fields) => {
      const cfg = { ...bases[type], ...fields, type } as JsonObject;
      const models = registries().models;
      const issues = models.validate(cfg);
      if (issues.length === 0) {
        expect(validateSpec(models.create(cfg, ctxOf(type)))).toEqual([]);
      } else {
        const e = thrown(() => models.create(cfg, ctxOf(type))) as ModelError;
        expect(e.code).toBe('INVALID_CONFIG');
        expect(e.issues).toEqual(issues);
      }
    },
  );
});
