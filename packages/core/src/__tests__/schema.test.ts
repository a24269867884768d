import { fc, test } from '@fast-check/vitest';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { definePruner, type Infer, registries, schema as s } from '../index.js';

const paths = (issues: readonly { path: string }[]) => issues.map((i) => i.path);

describe('schema vocabulary', () => {
  const schedule = s.object({
    targetSparsity: s.number({ min: 0, lt: 1 }),
    beginStep: s.integer({ min: 0 }).optional(),
  });

  it('reports a typo as an unknown field beside the missing one it was meant to be', () => {
    expect(schedule.issues({ targetSparsty: 0.5 })).toEqual([
      { path: 'targetSparsty', message: 'unknown field; known fields: targetSparsity, beginStep' },
      { path: 'targetSparsity', message: 'is required' },
    ]);
  });

  it('reports every problem with its path, nested in arrays and objects', () => {
    const sch = s.object({
      layers: s.array(s.object({ units: s.integer({ min: 1 }), act: s.oneOf(['relu', 'tanh']).optional() })),
      name: s.string(),
    });
    expect(sch.issues({ layers: [{ units: 3 }, { units: 0.5, act: 'elu' }, 7], name: '' }, 'model')).toEqual([
      { path: 'model.layers[1].units', message: 'must be an integer ≥ 1, got 0.5' },
      { path: 'model.layers[1].act', message: "must be one of 'relu', 'tanh', got \"elu\"" },
      { path: 'model.layers[2]', message: 'must be an object, got 7' },
      { path: 'model.name', message: 'must be a non-empty string, got ""' },
    ]);
  });

  it('tells tagged variants apart by their tag', () => {
    const sch = s.tagged('type', {
      constant: s.object({ target: s.number() }),
      linear: s.object({ from: s.number(), to: s.number() }),
    });
    expect(sch.issues({ type: 'linear', from: 0, to: 1 })).toEqual([]);
    expect(paths(sch.issues({ from: 0 }))).toEqual(['type']);
    expect(sch.issues({ type: 'cubic' })[0]?.message).toBe(
      "must be one of 'constant', 'linear', got \"cubic\"",
    );
    expect(paths(sch.issues({ type: 'constant', target: 'x', to: 1 }, 's'))).toEqual(['s.to', 's.target']);
  });

  it('explains a union by the alternative of the value’s kind', () => {
    const every = s.anyOf(s.literal('epoch'), s.integer({ min: 1 }));
    expect(every.issues('epoch')).toEqual([]);
    expect(every.issues(0)).toEqual([{ path: '', message: 'must be an integer ≥ 1, got 0' }]);
    expect(every.issues(true)).toEqual([
      { path: '', message: "must be 'epoch' or an integer ≥ 1, got true" },
    ]);
  });

  it('runs a cross-field rule unless it reads a field that already has a problem', () => {
    const range = s
      .object({ begin: s.integer({ min: 0 }), end: s.integer({ min: 0 }), label: s.string().optional() })
      .refine((v) => (v.end <= v.begin ? 'end must come after begin' : undefined));
    expect(range.issues({ begin: 5, end: 2, label: 7 })).toEqual([
      { path: 'label', message: 'must be a non-empty string, got 7' },
      { path: '', message: 'end must come after begin' },
    ]);
    expect(paths(range.issues({ begin: 5, end: -2 }))).toEqual(['end']);
    expect(range.issues({ begin: 1, end: 2 })).toEqual([]);
  });

  it('skips a cross-field rule that reads a required field that is missing (no TypeError from the rule)', () => {
    const lists = s
      .object({ names: s.array(s.string()), values: s.array(s.number()).optional() })
      .refine((v) =>
        v.values !== undefined && v.values.length !== v.names.length ? 'one value per name' : undefined,
      );
    expect(lists.issues({ values: [1, 2] })).toEqual([{ path: 'names', message: 'is required' }]);
    expect(lists.issues({ names: ['a'], values: [1, 2] })).toEqual([
      { path: '', message: 'one value per name' },
    ]);
  });

  it('infers the type a valid config has', () => {
    expectTypeOf<Infer<typeof schedule>>().toEqualTypeOf<{ targetSparsity: number; beginStep?: number }>();
    const v: unknown = { targetSparsity: 0.2 };
    if (schedule.accepts(v)) expectTypeOf(v.targetSparsity).toBeNumber();
  });

  test.prop(
    [
      fc.double(),
      fc.double({ min: -10, max: 10, noNaN: true }),
      fc.double({ min: -10, max: 10, noNaN: true }),
    ],
    {
      seed: 14,
      numRuns: 300,
    },
  )('a number passes exactly when it is finite and within its bounds', (x, a, b) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const ok = Number.isFinite(x) && x >= lo && x < hi;
    expect(s.number({ min: lo, lt: hi }).issues(x).length === 0).toBe(ok);
  });

  test.prop([fc.jsonValue()], { seed: 14, numRuns: 300 })(
    'never throws on any JSON, and every issue lies under the given path',
    (value) => {
      const sch = s.object({
        a: s.array(s.integer()).optional(),
        b: s.tagged('kind', { x: s.object({ y: s.boolean() }) }).optional(),
        c: s.record(s.string()).optional(),
        d: s.paramSelector().optional(),
      });
      for (const issue of sch.issues(value, 'root')) expect(issue.path.startsWith('root')).toBe(true);
    },
  );
});

describe('the registration shape', () => {
  it('a definition validates the config against its schema (typos included) and builds typed configs', () => {
    const made: number[] = [];
    const def = definePruner({
      name: 'schema-test-noop',
      description: 'does nothing (schema tests)',
      configSchema: s.object({ targetSparsity: s.number({ min: 0, lt: 1 }) }),
      create: (config) => {
        expectTypeOf(config.targetSparsity).toBeNumber();
        made.push(config.targetSparsity);
        return {
          name: 'noop',
          config,
          init() {},
          afterStep: () => undefined,
          state: () => ({ json: {}, arrays: {} }),
          load() {},
        };
      },
    });
    expect(registries().pruners.get('schema-test-noop')).toBe(def);
    expect(
      registries().pruners.validate({ type: 'schema-test-noop', targetSparsty: 0.5 }, 'pruners[0]'),
    ).toEqual([
      { path: 'pruners[0].targetSparsty', message: 'unknown field; known fields: targetSparsity' },
      { path: 'pruners[0].targetSparsity', message: 'is required' },
    ]);
    expect(() => def.create({ type: 'schema-test-noop', targetSparsity: 2 }, undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    registries().pruners.create({ type: 'schema-test-noop', targetSparsity: 0.25 }, undefined);
    expect(made).toEqual([0.25]);
  });

  it('an unknown type names the registered ones of its kind', () => {
    const [issue] = registries().pruners.validate({ type: 'schema-test-nope' });
    expect(issue?.path).toBe('type');
    expect(issue?.message).toMatch(
      /^unknown pruner 'schema-test-nope'; registered pruners: .*schema-test-noop/,
    );
  });

  it('refuses a malformed definition before registering it', () => {
    expect(() =>
      definePruner({
        name: 'has space',
        description: '',
        configSchema: s.object({}),
        create: () => {
          throw new Error('unreachable');
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_DEFINITION' }));
  });
});
