import { describe, expect, it } from 'vitest';
import {
  componentDefinition,
  defineExperiment,
  type ExperimentSpec,
  isMopruneError,
  type MopruneError,
  Registry,
  registries,
  schema,
} from '../index.js';

interface Thing {
  size: number;
}

function makeRegistry() {
  const r = new Registry<Thing>('thing');
  r.register(
    componentDefinition('thing', {
      name: 'box',
      description: 'a box',
      configSchema: schema.object({ size: schema.number({ gt: 0 }), name: schema.string() }),
      create: (c: { size: number }) => ({ size: c.size }),
    }),
  );
  return r;
}

describe('Registry', () => {
  it('creates a registered component from JSON', () => {
    expect(makeRegistry().create({ type: 'box', size: 3, name: 'b' }, undefined)).toEqual({ size: 3 });
  });

  it('lists every problem at once, with paths', () => {
    try {
      makeRegistry().create({ type: 'box', size: -1 }, undefined);
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect((e as MopruneError).issues.map((i) => i.path)).toEqual(['size', 'name']);
    }
  });

  it('names the valid types when the type is unknown', () => {
    try {
      makeRegistry().create({ type: 'crate' }, undefined);
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'UNKNOWN_REGISTRY_NAME')).toBe(true);
      expect((e as Error).message).toContain('box');
    }
  });

  it('refuses a duplicate registration', () => {
    const r = makeRegistry();
    expect(() =>
      r.register(
        componentDefinition('thing', {
          name: 'box',
          description: '',
          configSchema: schema.object({}),
          create: () => ({ size: 1 }),
        }),
      ),
    ).toThrow(/already registered/);
  });
});

describe('defineExperiment', () => {
  const fake: ExperimentSpec = {
    name: 'fake2020',
    description: 'two tiny candidates',
    modes: { quick: '1 epoch each', full: '2 epochs each' },
    run: async () => ({ status: 'completed' }),
  };

  it('registration rejects malformed and duplicate definitions', () => {
    expect(() => defineExperiment({ ...fake, name: 'Bad Name' })).toThrow(
      expect.objectContaining({ name: 'CoreError', code: 'INVALID_DEFINITION' }),
    );
    const def = defineExperiment(fake);
    registries().experiments.register(def);
    expect(registries().experiments.get('fake2020')).toBe(def);
    expect(() => defineExperiment({ ...fake, description: 'another experiment' })).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_REGISTRATION' }),
    );
    registries().experiments.unregister('fake2020');
  });
});
