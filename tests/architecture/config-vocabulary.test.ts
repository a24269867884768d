/**
 * One config-schema vocabulary (issue 14): every component the packages register describes its config
 * with core's schema builders, so its fields are declared (listings, tools and error messages read
 * them) rather than hidden behind a package's own reader.
 */
import '@moprune/datasets';
import '@moprune/models';
import '@moprune/objectives';
import '@moprune/pruners';
import '@moprune/solvers';
import { registries } from '@moprune/core';
import { describe, expect, it } from 'vitest';

const KINDS = ['models', 'datasets', 'objectives', 'solvers', 'pruners'] as const;

describe('one config-schema vocabulary', () => {
  it.each(KINDS)('every registered %s declares its config fields, each with what it must be', (kind) => {
    const definitions = registries()[kind].list();
    expect(definitions.length).toBeGreaterThan(2);
    const opaque = definitions
      .filter((d) => Object.keys(d.configSchema.fields).length === 0)
      .map((d) => d.name);
    expect(opaque).toEqual([]);
    for (const d of definitions) {
      for (const [name, field] of Object.entries(d.configSchema.fields)) {
        expect(field.description, `${kind} '${d.name}' field '${name}'`).not.toBe('');
      }
      // An undeclared field is a problem at its path, in the vocabulary's words.
      const issues = d.validate({ type: d.name, notAField: 1 });
      expect(issues).toContainEqual({ path: 'notAField', message: expect.stringMatching(/^unknown field/) });
    }
  });
});
