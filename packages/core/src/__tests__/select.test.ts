import { describe, expect, it } from 'vitest';
import { type Network, type ParamInfo, selectParams, validateParamSelector } from '../index.js';

function fakeNet(infos: ParamInfo[]): Network {
  return { paramInfo: new Map(infos.map((i) => [i.name, i])) } as unknown as Network;
}

const p = (node: string, op: string, role: ParamInfo['role'], trainable = true): ParamInfo => ({
  name: `${node}/${role}`,
  node,
  op,
  role,
  shape: [1],
  trainable,
});

const net = fakeNet([
  p('conv1', 'conv2d', 'kernel'),
  p('conv1', 'conv2d', 'bias'),
  p('bn1', 'batchNorm', 'gamma'),
  p('bn1', 'batchNorm', 'movingMean', false),
  p('fc1', 'dense', 'kernel'),
  p('fc1', 'dense', 'bias'),
  p('out', 'dense', 'kernel'),
]);

describe('selectParams', () => {
  it('selects dense kernels only', () => {
    expect(selectParams(net, { ops: ['dense'], roles: ['kernel'] })).toEqual(['fc1/kernel', 'out/kernel']);
  });
  it('excludes by node and leaves out non-trainable state by default', () => {
    expect(selectParams(net, { exclude: ['out', 'conv1/bias'] })).toEqual([
      'conv1/kernel',
      'bn1/gamma',
      'fc1/kernel',
      'fc1/bias',
    ]);
    expect(selectParams(net, { roles: ['movingMean'], trainableOnly: false })).toEqual(['bn1/movingMean']);
  });
  it('validates JSON selectors, listing every problem', () => {
    expect(validateParamSelector({ ops: ['dense'], roles: ['kernel'] }, 'params')).toEqual([]);
    const issues = validateParamSelector({ ops: 'dense', roles: ['weights'], colour: 1 }, 'params');
    expect(issues.map((i) => i.path).sort()).toEqual(['params.colour', 'params.ops', 'params.roles[0]']);
  });
});
