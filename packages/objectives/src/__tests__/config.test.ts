import type { Objective } from '@moprune/core';
import { type Issue, Registry } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import {
  createObjective,
  objectiveDefinitions,
  objectiveTypes,
  registerObjectives,
  validateObjectiveConfig,
} from './imports.js';

const paths = (issues: readonly Issue[]) => issues.map((i) => i.path).sort();

function thrown(f: () => unknown): { name?: string; code?: string; issues?: Issue[] } {
  try {
    f();
  } catch (e) {
    return e as { name?: string; code?: string; issues?: Issue[] };
  }
  throw new Error('expected a throw');
}

describe('config validation', () => {
  it('lists every problem of a config at once, with paths', () => {
    const issues = validateObjectiveConfig({
      type: 'l1',
      coefficient: -1,
      normalize: 'max',
      params: { roles: ['weights'], op: ['dense'] },
      extra: true,
    });
    expect(paths(issues)).toEqual(['coefficient', 'extra', 'normalize', 'params.op', 'params.roles[0]']);
  });

  it('throws one ObjectiveError INVALID_CONFIG naming each field', () => {
    const e = thrown(() =>
      createObjective({ type: 'growl', theta: { kind: 'step', beta1: -1 }, scope: 'x' }),
    );
    expect(e.name).toBe('ObjectiveError');
    expect(e.code).toBe('INVALID_CONFIG');
    expect(paths(e.issues!)).toEqual(['scope', 'theta.beta1', 'theta.beta2', 'theta.kind']);
  });

  it('checks every type', () => {
    expect(paths(validateObjectiveConfig({ type: 'nll' }))).toEqual(['task']);
    expect(paths(validateObjectiveConfig({ type: 'crossEntropy', output: -1, from: 'probs' }))).toEqual([
      'from',
      'output',
    ]);
    expect(
      paths(
        validateObjectiveConfig({
          type: 'groupL21',
          groups: { from: 'axis', kinds: ['unit'] },
          weighting: 1,
        }),
      ),
    ).toEqual(['groups.axis', 'groups.kinds', 'groups.params', 'weighting']);
    expect(
      paths(
        validateObjectiveConfig({
          type: 'expectedComplexity',
          alpha: 2,
          mode: 'joint',
          beta: 0.5,
          units: 1.5,
          reference: { params: 0, units: -1 },
        }),
      ),
    ).toEqual(['alpha', 'beta', 'reference.macs', 'reference.params', 'reference.units', 'units']);
    expect(
      paths(validateObjectiveConfig({ type: 'selectiveWeightDecay', alpha: 0, factor: 'inverse' })),
    ).toEqual(['alpha', 'factor']);
    expect(paths(validateObjectiveConfig({ type: 'nope' }))).toEqual(['type']);
    expect(paths(validateObjectiveConfig({}))).toEqual(['type']);
  });

  it('checks the terms of a sum recursively', () => {
    const issues = validateObjectiveConfig({
      type: 'sum',
      terms: [
        { weight: 'x', objective: { type: 'l1' } },
        { objective: { type: 'l2', coefficient: 'big' } },
        { objective: { type: 'unknown' } },
        { weight: 1, objective: { type: 'sum', terms: [] }, note: 1 },
      ],
    });
    expect(paths(issues)).toEqual([
      'terms[0].weight',
      'terms[1].objective.coefficient',
      'terms[2].objective.type',
      'terms[3].note',
      'terms[3].objective.terms',
    ]);
  });

  it('keeps the config and the name', () => {
    const config = { type: 'l1', name: 'f2', params: { ops: ['dense'], roles: ['kernel'] } };
    const o = createObjective(config);
    expect(o.name).toBe('f2');
    expect(o.config).toBe(config);
  });
});

describe('config schemas', () => {
  it("every type declares its fields in core's schema vocabulary (what listings and tools read)", () => {
    const fields = Object.fromEntries(
      objectiveDefinitions.map((d) => [d.name, Object.keys(d.configSchema.fields).sort()]),
    );
    expect(fields).toEqual({
      crossEntropy: ['checkLabels', 'from', 'label', 'name', 'output', 'reduction'],
      expectedComplexity: ['alpha', 'beta', 'coefficient', 'mode', 'name', 'reference', 'units'],
      groupL21: ['coefficient', 'differentiable', 'groups', 'name', 'weighting'],
      growl: ['coefficient', 'differentiable', 'groups', 'name', 'scope', 'theta'],
      l1: ['coefficient', 'name', 'normalize', 'params'],
      l2: ['coefficient', 'name', 'normalize', 'params'],
      nll: ['checkLabels', 'from', 'name', 'reduction', 'task'],
      selectiveWeightDecay: ['alpha', 'decoupled', 'factor', 'gamma', 'name', 'params'],
      sensitivityDecay: [
        'alpha',
        'decoupled',
        'from',
        'gamma',
        'name',
        'of',
        'outputsPerStep',
        'params',
        'seed',
      ],
      sum: ['name', 'terms'],
    });
    // Only `nll.task`, `sum.terms` and (inside `reference`/`theta`) their own numbers are required.
    const required = objectiveDefinitions.flatMap((d) =>
      Object.entries(d.configSchema.fields)
        .filter(([, f]) => !f.isOptional)
        .map(([k]) => `${d.name}.${k}`),
    );
    expect(required.sort()).toEqual(['nll.task', 'sum.terms']);
  });

  it('applies the documented defaults to what a config leaves out', () => {
    const growl = createObjective({ type: 'growl' }) as unknown as { name: string };
    expect(growl.name).toBe('growl');
    expect(createObjective({ type: 'nll', task: 2 }).name).toBe('nll[2]');
    const swd = createObjective({ type: 'selectiveWeightDecay' }) as unknown as {
      alpha: number;
      gamma: number;
      factor: string;
      params: unknown;
      decoupled: boolean;
    };
    expect([swd.alpha, swd.gamma, swd.factor, swd.decoupled]).toEqual([1, 1e-3, 'exponential', false]);
    expect(swd.params).toEqual({ roles: ['kernel', 'bias', 'gamma', 'beta'], trainableOnly: true });
    const given = createObjective({
      type: 'selectiveWeightDecay',
      params: { ops: ['dense'] },
    }) as unknown as { params: unknown };
    expect(given.params).toEqual({ ops: ['dense'], trainableOnly: true });
  });

  it("checks a group source by its 'from'", () => {
    expect(
      validateObjectiveConfig({ type: 'groupL21', groups: { from: 'axis', params: {}, axis: 0 } }),
    ).toEqual([]);
    expect(paths(validateObjectiveConfig({ type: 'growl', groups: { axis: 0, from: 'rows' } }))).toEqual([
      'groups.axis',
      'groups.from',
    ]);
    expect(paths(validateObjectiveConfig({ type: 'growl', groups: { kinds: [], nodes: ['a', 3] } }))).toEqual(
      ['groups.kinds', 'groups.nodes[1]'],
    );
  });
});

describe('registerObjectives', () => {
  it('registers every type once; validation and creation go through the registry', () => {
    const registry = new Registry<Objective>('objective');
    registerObjectives(registry);
    registerObjectives(registry);
    expect(registry.types()).toEqual(objectiveTypes());
    expect(objectiveTypes()).toEqual([
      'crossEntropy',
      'expectedComplexity',
      'groupL21',
      'growl',
      'l1',
      'l2',
      'nll',
      'selectiveWeightDecay',
      'sensitivityDecay',
      'sum',
    ]);
    expect(paths(registry.validate({ type: 'l2', coefficient: -1 }))).toEqual(['coefficient']);
    expect(registry.create({ type: 'nll', task: 0 }, undefined).name).toBe('nll[0]');
  });

  it("'@moprune/objectives/register' fills the process-wide registry", async () => {
    await import('../register.js');
    const { registries } = await import('@moprune/core');
    for (const type of objectiveTypes()) expect(registries().objectives.has(type)).toBe(true);
  });
});
