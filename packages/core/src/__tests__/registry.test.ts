import { describe, expect, it } from 'vitest';
import { type Issue, isMopruneError, type MopruneError, Registry } from '../index.js';

interface Thing {
  size: number;
}

function makeRegistry() {
  const r = new Registry<Thing>('thing');
  r.register({
    type: 'box',
    description: 'a box',
    validate(c) {
      const issues: Issue[] = [];
      if (typeof c.size !== 'number' || c.size <= 0)
        issues.push({ path: 'size', message: 'must be a positive number' });
      if (typeof c.name !== 'string') issues.push({ path: 'name', message: 'must be a string' });
      return issues;
    },
    create: (c) => ({ size: c.size as number }),
  });
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
      r.register({ type: 'box', description: '', validate: () => [], create: () => ({ size: 1 }) }),
    ).toThrow(/already registered/);
  });
});
