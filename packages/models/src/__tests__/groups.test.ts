import { createNetwork, type GateSite, type NetworkSpec, type StructureGroup } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { hps, lenet5, lenet300100, mdmtn, type ResnetGates, resnet20, resnet56, vggLike } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function structure(spec: NetworkSpec): { groups: readonly StructureGroup[]; sites: readonly GateSite[] } {
  const net = createNetwork(spec, { seed: 1 });
  const out = { groups: net.groups, sites: net.gateSites };
  net.dispose();
  return out;
}

/** Group counts by `${kind}:${node}`. */
function tally(groups: readonly StructureGroup[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const g of groups) t[`${g.kind}:${g.node}`] = (t[`${g.kind}:${g.node}`] ?? 0) + 1;
  return t;
}

describe('structure groups exist where pruning is expected', () => {
  it('LeNet-300-100: 400 unit groups (300 + 100 hidden units), the output layer has none', () => {
    for (const gates of ['none', 'units'] as const) {
      expect(tally(structure(lenet300100({ gates })).groups)).toEqual({ 'unit:fc1': 300, 'unit:fc2': 100 });
    }
  });

  it('LeNet-300-100 with unit gates: one gate site per hidden layer, switching its unit groups', () => {
    const { groups, sites } = structure(lenet300100({ gates: 'units' }));
    expect(sites.map((s) => [s.id, s.kind, s.size, s.gatedNode, s.groups.length])).toEqual([
      ['fc1.gate', 'unit', 300, 'fc1', 300],
      ['fc2.gate', 'unit', 100, 'fc2', 100],
    ]);
    expect(groups.every((g) => g.gateSite === `${g.node}.gate`)).toBe(true);
    expect(structure(lenet300100()).sites).toEqual([]);
  });

  it("LeNet-300-100 with 'inputs+units': a gate on each of the 784 input features too, owning their rows in fc1", () => {
    const { groups, sites } = structure(lenet300100({ gates: 'inputs+units' }));
    expect(sites.map((s) => [s.id, s.kind, s.size, s.groups.length])).toEqual([
      ['input.gate', 'unit', 784, 784],
      ['fc1.gate', 'unit', 300, 300],
      ['fc2.gate', 'unit', 100, 100],
    ]);
    expect(tally(groups)).toEqual({ 'input:flatten': 784, 'unit:fc1': 300, 'unit:fc2': 100 });
    const g = groups.find((x) => x.kind === 'input' && x.index === 100)!;
    expect(g.slices).toEqual([{ param: 'fc1/kernel', axis: 0, indices: [100] }]);
  });

  it('LeNet-300-100 with dropout: the same gate sites and structure groups as without it', () => {
    const plain = structure(lenet300100({ gates: 'inputs+units' }));
    const dropped = structure(lenet300100({ gates: 'inputs+units', dropout: { input: 0.2, hidden: 0.5 } }));
    expect(dropped.sites.map((s) => [s.id, s.size, s.gatedNode])).toEqual(
      plain.sites.map((s) => [s.id, s.size, s.gatedNode]),
    );
    expect(dropped.groups.map((g) => [g.id, g.slices])).toEqual(plain.groups.map((g) => [g.id, g.slices]));
  });

  it.each([
    ['classic', { 'filter:conv1': 6, 'filter:conv2': 16, 'unit:fc1': 120, 'unit:fc2': 84 }],
    ['reiners', { 'filter:conv1': 6, 'filter:conv2': 16, 'unit:fc1': 120, 'unit:fc2': 84 }],
    ['caffe', { 'filter:conv1': 20, 'filter:conv2': 50, 'unit:fc1': 500 }],
  ] as const)('LeNet-5 %s: a group per hidden filter and unit', (variant, expected) => {
    expect(tally(structure(lenet5({ variant, gates: 'units' })).groups)).toEqual(expected);
  });

  it('VGG-like: a filter group per conv filter (448), each behind its gate', () => {
    const { groups, sites } = structure(vggLike({ gates: 'units' }));
    expect(groups.filter((g) => g.kind === 'filter')).toHaveLength(2 * (32 + 64 + 128));
    expect(groups.every((g) => g.gateSite === `${g.node}.gate`)).toBe(true);
    expect(sites).toHaveLength(6);
  });

  it.each([
    ['none', 0, 0],
    ['units', 0, 18],
    ['layers', 9, 0],
    ['units+layers', 9, 18],
  ] as const)(
    'ResNet-20, gates %s: %i layer groups, %i unit gate sites',
    (gates: ResnetGates, layers, units) => {
      const { groups, sites } = structure(resnet20({ gates }));
      const layerGroups = groups.filter((g) => g.kind === 'layer');
      expect(layerGroups).toHaveLength(layers);
      expect(sites.filter((s) => s.kind === 'unit')).toHaveLength(units);
      expect(sites.filter((s) => s.kind === 'layer').map((s) => s.id)).toEqual(
        layerGroups.map((g) => g.node),
      );
      if (layers > 0) {
        expect(layerGroups.map((g) => g.id)).toContain('stage2.block1:layer');
        expect(layerGroups.every((g) => g.gateSite === g.node && g.slices.length > 0)).toBe(true);
      }
      // The first conv of every block is a filter group (16·3 + 32·3 + 64·3 filters).
      expect(groups.filter((g) => g.kind === 'filter')).toHaveLength(336);
    },
  );

  it('ResNet-56 with layer gates: 27 block (layer) groups', () => {
    expect(structure(resnet56({ gates: 'layers' })).groups.filter((g) => g.kind === 'layer')).toHaveLength(
      27,
    );
  });

  it('HPS and MDMTN: the trunk’s (and monitors’) conv filters are groups; α is not prunable', () => {
    expect(tally(structure(hps()).groups)).toMatchObject({
      'filter:shared.conv1': 10,
      'filter:shared.conv2': 20,
    });
    const m = structure(mdmtn()).groups;
    expect(tally(m)).toMatchObject({ 'filter:monitor1.conv1': 20, 'filter:monitor2.conv1': 20 });
    expect(m.some((g) => g.slices.some((s) => s.param.endsWith('/alpha')))).toBe(false);
  });
});
