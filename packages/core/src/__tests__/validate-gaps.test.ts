// Every validation rule of `validateSpec` (network/validate.ts) at the places `pnpm test:mutation core`
// found untested (issue 17): for each invalid spec, the exact issue list (path and message, with the
// offending value); that a node which fails validation gets no shape, so its consumers are skipped
// instead of being checked against a guessed shape (a consumer `probe` with its own defect, units 0,
// reports nothing); the boundary values each rule accepts; and the parameter counts of useBias,
// positions and mix.
import { describe, expect, it } from 'vitest';
import { countParams, type NetworkSpec, validateSpec } from '../index.js';

type Json = Record<string, unknown>;

/** A raw object as a spec: the point of these tests is specs the types would refuse. */
const asSpec = (raw: unknown): NetworkSpec => raw as NetworkSpec;

/** A consumer of `x` with a defect of its own, reported only when `x` got a shape. */
const PROBE: Json = { id: 'probe', op: 'dense', inputs: ['x'], units: 0 };

/** input → `before` nodes → node `x` → probe. */
function around(inputShape: number[], node: Json, before: Json[] = []): NetworkSpec {
  return asSpec({
    name: 'gaps',
    inputShape,
    nodes: [...before, { id: 'x', inputs: ['input'], ...node }, PROBE],
    outputs: ['probe'],
  });
}

/** input → node `x` → flatten → dense 2: a network around one valid node. */
function valid(inputShape: number[], node: Json, before: Json[] = []): NetworkSpec {
  return asSpec({
    name: 'ok',
    inputShape,
    nodes: [
      ...before,
      { id: 'x', inputs: ['input'], ...node },
      { id: 'flat', op: 'flatten', inputs: ['x'] },
      { id: 'out', op: 'dense', inputs: ['flat'], units: 2 },
    ],
    outputs: ['out'],
  });
}

const IMG = [8, 8, 2];
const dense = (units: unknown, inputs: unknown = ['input']) => ({ op: 'dense', inputs, units });
const conv = (change: Json = {}) => ({ op: 'conv2d', filters: 4, kernelSize: [3, 3], ...change });
const pool = (change: Json = {}) => ({ op: 'maxPool', poolSize: [2, 2], ...change });
const embed = (change: Json = {}) => ({ op: 'embedding', vocab: 10, dim: 4, ...change });
const tokens = [{ id: 'e', op: 'embedding', inputs: ['input'], vocab: 10, dim: 4 }];
const attention = (change: Json = {}) => ({ op: 'selfAttention', inputs: ['e'], heads: 2, ...change });
const pair = 'must be a pair of positive integers';

describe('spec-level rules', () => {
  const base = { name: 'n', inputShape: [4], nodes: [{ id: 'x', ...dense(2) }], outputs: ['x'] };
  const cases: [string, unknown, string, string][] = [
    ['a null spec', null, '', 'spec must be an object'],
    ['a number as spec', 7, '', 'spec must be an object'],
    ['an empty name', { ...base, name: '' }, 'name', 'must be a non-empty string'],
    ['a missing name', { ...base, name: undefined }, 'name', 'must be a non-empty string'],
    [
      'an empty inputShape',
      { ...base, inputShape: [] },
      'inputShape',
      'must be a non-empty array of positive integers, got []',
    ],
    [
      'an inputShape with a 0',
      { ...base, inputShape: [8, 0, 2] },
      'inputShape',
      'must be a non-empty array of positive integers, got [8,0,2]',
    ],
    [
      'a missing inputShape',
      { ...base, inputShape: undefined },
      'inputShape',
      'must be a non-empty array of positive integers, got undefined',
    ],
    // The node list is not read further, so the unknown output is not reported.
    ['no nodes', { ...base, nodes: [], outputs: ['zz'] }, 'nodes', 'must be a non-empty array'],
    ['a missing node list', { ...base, nodes: undefined }, 'nodes', 'must be a non-empty array'],
    ['a null node', { ...base, nodes: [null, ...base.nodes] }, 'nodes[0]', 'must be an object'],
    ['a number as node', { ...base, nodes: [5, ...base.nodes] }, 'nodes[0]', 'must be an object'],
    ['no outputs', { ...base, outputs: [] }, 'outputs', 'must be a non-empty array of node ids'],
    [
      'a missing output list',
      { ...base, outputs: undefined },
      'outputs',
      'must be a non-empty array of node ids',
    ],
    ['an output named twice', { ...base, outputs: ['x', 'x'] }, 'outputs[1]', "duplicate output 'x'"],
    [
      'the network input as an output',
      { ...base, outputs: ['input'] },
      'outputs[0]',
      "'input' is the network input, not a node",
    ],
  ];
  it.each(cases)('%s is refused with exactly that issue', (_, raw, path, message) => {
    expect(validateSpec(asSpec(raw))).toEqual([{ path, message }]);
  });
});

describe('node ids, ops and inputs: the node is reported once and not inferred further', () => {
  // Each bad node also has units 0 (or two inputs for a one-input op), an issue that shape inference would add.
  const ok = { id: 'y', ...dense(2) };
  const spec = (...nodes: Json[]) =>
    asSpec({ name: 'n', inputShape: [4], nodes: [...nodes, ok], outputs: ['y'] });
  const cases: [string, NetworkSpec, string, string][] = [
    ['an empty id', spec({ id: '', ...dense(0) }), 'nodes[0].id', 'must be a non-empty string'],
    ['a missing id', spec(dense(0)), 'nodes[0].id', 'must be a non-empty string'],
    [
      "the id 'input'",
      spec({ id: 'input', ...dense(0) }),
      'nodes[0].id',
      "'input' is reserved for the network input",
    ],
    [
      'a duplicate id',
      spec({ id: 'x', ...dense(2) }, { id: 'x', ...dense(0) }),
      'nodes[1].id',
      "duplicate id 'x'",
    ],
    [
      'an unknown op',
      spec({ id: 'x', op: 'frobnicate', inputs: ['input', 'input'] }),
      'nodes[0].op',
      "unknown op 'frobnicate'",
    ],
    [
      'empty inputs',
      spec({ id: 'x', ...dense(2, []) }),
      'nodes[0].inputs',
      'must be a non-empty array of node ids',
    ],
    [
      'missing inputs',
      spec({ id: 'x', op: 'dense', units: 2 }),
      'nodes[0].inputs',
      'must be a non-empty array of node ids',
    ],
    [
      'an unknown input',
      spec({ id: 'x', ...dense(2, ['zz']) }),
      'nodes[0].inputs[0]',
      "unknown node id 'zz'",
    ],
    [
      'an input defined later',
      spec({ id: 'x', ...dense(2, ['y']) }),
      'nodes[0].inputs[0]',
      "'y' comes later in the node list; nodes must be in topological order",
    ],
    [
      'a node reading itself',
      spec({ id: 'x', ...dense(0, ['x']) }),
      'nodes[0].inputs[0]',
      'a node cannot read its own output',
    ],
    [
      'useBias a string',
      spec({ id: 'x', ...dense(0), useBias: 'no' }),
      'nodes[0].useBias',
      'must be true or false',
    ],
    [
      'gated a string',
      spec({ id: 'x', ...dense(0), gated: 'yes' }),
      'nodes[0].gated',
      'must be true or false',
    ],
  ];
  it.each(cases)('%s: exactly that issue, and the node is not inferred', (_, s, path, message) => {
    expect(validateSpec(s)).toEqual([{ path, message }]);
  });
});

describe('input counts', () => {
  const cases: [string, Json, string][] = [
    // Without the arity stop, the init (2 numbers for 1 input) would be reported too.
    ['mix with one input', { op: 'mix', init: [1, 2] }, 'mix needs at least 2 inputs, got 1'],
    ['dense with two inputs', { ...dense(3), inputs: ['input', 'input'] }, 'dense takes 1 input(s), got 2'],
    ['add with one input', { op: 'add' }, 'add takes 2 input(s), got 1'],
    [
      'add with three inputs',
      { op: 'add', inputs: ['input', 'input', 'input'] },
      'add takes 2 input(s), got 3',
    ],
  ];
  it.each(cases)('%s is refused at the node inputs', (_, node, message) => {
    expect(validateSpec(around([4], node))).toEqual([{ path: 'nodes[0].inputs', message }]);
  });
});

describe('hyper-parameters and shapes: one issue, and the consumer of the bad node is skipped', () => {
  const cases: [string, number[], Json, string, string][] = [
    // dense
    [
      'dense on an image',
      IMG,
      dense(3),
      'inputs',
      'dense needs a per-sample input [in] or a sequence [T, in], got shape [8,8,2]',
    ],
    ['dense units 0', [4], dense(0), 'units', 'must be a positive integer, got 0'],
    ['dense units 1.5', [4], dense(1.5), 'units', 'must be a positive integer, got 1.5'],
    ['dense init unknown', [4], { ...dense(3), init: 'weird' }, 'init', "unknown initializer 'weird'"],
    // conv2d
    [
      'conv2d on a rank-2 input',
      [8, 8],
      conv(),
      'inputs',
      'conv2d needs a rank-3 per-sample input, got shape [8,8]',
    ],
    ['conv2d filters 0', IMG, conv({ filters: 0 }), 'filters', 'must be a positive integer, got 0'],
    ['conv2d kernelSize a number', IMG, conv({ kernelSize: 3 }), 'kernelSize', pair],
    ['conv2d kernelSize of length 3', IMG, conv({ kernelSize: [3, 3, 3] }), 'kernelSize', pair],
    ['conv2d kernelSize [0,3]', IMG, conv({ kernelSize: [0, 3] }), 'kernelSize', pair],
    ['conv2d kernelSize [1.5,2]', IMG, conv({ kernelSize: [1.5, 2] }), 'kernelSize', pair],
    ['conv2d strides [0,1]', IMG, conv({ strides: [0, 1] }), 'strides', pair],
    ['conv2d dilation [1,0]', IMG, conv({ dilation: [1, 0] }), 'dilation', pair],
    [
      'conv2d padding full',
      IMG,
      conv({ padding: 'full' }),
      'padding',
      "must be 'same' or 'valid', got 'full'",
    ],
    [
      'conv2d strides [2,1] with dilation [1,2]',
      IMG,
      conv({ strides: [2, 1], dilation: [1, 2] }),
      'dilation',
      'strides and dilation cannot both exceed 1',
    ],
    [
      'conv2d strides [1,2] with dilation [2,1]',
      IMG,
      conv({ strides: [1, 2], dilation: [2, 1] }),
      'dilation',
      'strides and dilation cannot both exceed 1',
    ],
    [
      'conv2d kernel taller than the input',
      IMG,
      conv({ kernelSize: [9, 3] }),
      'kernelSize',
      "kernel does not fit the input [8,8,2] with 'valid' padding",
    ],
    [
      'conv2d kernel wider than the input',
      IMG,
      conv({ kernelSize: [3, 9] }),
      'kernelSize',
      "kernel does not fit the input [8,8,2] with 'valid' padding",
    ],
    // pools (explicit strides, since the default strides are the pool size)
    ['maxPool poolSize [0,2]', IMG, pool({ poolSize: [0, 2], strides: [2, 2] }), 'poolSize', pair],
    ['maxPool poolSize a number', IMG, pool({ poolSize: 2, strides: [2, 2] }), 'poolSize', pair],
    // Without strides (they default to the pool size) the bad pool size is reported once, as itself.
    ['maxPool poolSize [0,2], default strides', IMG, pool({ poolSize: [0, 2] }), 'poolSize', pair],
    ['avgPool strides [2,0]', IMG, pool({ op: 'avgPool', strides: [2, 0] }), 'strides', pair],
    [
      'maxPool padding full',
      IMG,
      pool({ padding: 'full' }),
      'padding',
      "must be 'same' or 'valid', got 'full'",
    ],
    ['maxPool on a vector', [8], pool(), 'inputs', 'maxPool needs a rank-3 per-sample input, got shape [8]'],
    [
      'maxPool window taller than the input',
      IMG,
      pool({ poolSize: [9, 2] }),
      'poolSize',
      'pool window does not fit the input [8,8,2]',
    ],
    [
      'maxPool window wider than the input',
      IMG,
      pool({ poolSize: [2, 9] }),
      'poolSize',
      'pool window does not fit the input [8,8,2]',
    ],
    // globalAvgPool, select, activation
    [
      'globalAvgPool on a vector',
      [4],
      { op: 'globalAvgPool' },
      'inputs',
      'globalAvgPool needs an image [H, W, C] or a sequence [T, C], got shape [4]',
    ],
    [
      'globalAvgPool on a rank-4 input',
      [2, 2, 2, 2],
      { op: 'globalAvgPool' },
      'inputs',
      'globalAvgPool needs an image [H, W, C] or a sequence [T, C], got shape [2,2,2,2]',
    ],
    [
      'select with decreasing indices',
      [4],
      { op: 'select', indices: [3, 1] },
      'indices',
      'must be strictly increasing integers in [0, 4), at least one',
    ],
    ['activation swish', [4], { op: 'activation', fn: 'swish' }, 'fn', "unknown activation 'swish'"],
    // batchNorm, dropout
    ['batchNorm epsilon 0', [4], { op: 'batchNorm', epsilon: 0 }, 'epsilon', 'must be > 0'],
    ['batchNorm epsilon -1', [4], { op: 'batchNorm', epsilon: -1 }, 'epsilon', 'must be > 0'],
    ['batchNorm momentum -0.1', [4], { op: 'batchNorm', momentum: -0.1 }, 'momentum', 'must be in [0, 1]'],
    ['batchNorm momentum 1.5', [4], { op: 'batchNorm', momentum: 1.5 }, 'momentum', 'must be in [0, 1]'],
    ['batchNorm epsilon a string', [4], { op: 'batchNorm', epsilon: '0.1' }, 'epsilon', 'must be > 0'],
    ['batchNorm epsilon true', [4], { op: 'batchNorm', epsilon: true }, 'epsilon', 'must be > 0'],
    [
      'batchNorm momentum a string',
      [4],
      { op: 'batchNorm', momentum: '0.5' },
      'momentum',
      'must be in [0, 1]',
    ],
    ['dropout rate 1', [4], { op: 'dropout', rate: 1 }, 'rate', 'must be in [0, 1), got 1'],
    ['dropout rate -0.1', [4], { op: 'dropout', rate: -0.1 }, 'rate', 'must be in [0, 1), got -0.1'],
    ['dropout rate a string', [4], { op: 'dropout', rate: '0.5' }, 'rate', 'must be in [0, 1), got 0.5'],
    // mix
    [
      'mix init of the wrong length',
      [4],
      { op: 'mix', inputs: ['input', 'input'], init: [1] },
      'init',
      'must be 2 finite numbers (one per input)',
    ],
    [
      'mix init with NaN',
      [4],
      { op: 'mix', inputs: ['input', 'input'], init: [1, Number.NaN] },
      'init',
      'must be 2 finite numbers (one per input)',
    ],
    [
      'mix init not an array',
      [4],
      { op: 'mix', inputs: ['input', 'input'], init: 0.5 },
      'init',
      'must be 2 finite numbers (one per input)',
    ],
    // embedding (per-sample input: T token ids)
    ['embedding vocab 1', [5], embed({ vocab: 1 }), 'vocab', 'must be an integer ≥ 2, got 1'],
    ['embedding dim 0', [5], embed({ dim: 0 }), 'dim', 'must be a positive integer, got 0'],
    ['embedding positions "yes"', [5], embed({ positions: 'yes' }), 'positions', 'must be true or false'],
    ['embedding init unknown', [5], embed({ init: 'weird' }), 'init', "unknown initializer 'weird'"],
    [
      'embedding on an image',
      IMG,
      embed(),
      'inputs',
      'embedding needs a rank-1 per-sample input, got shape [8,8,2]',
    ],
    // layerNorm
    ['layerNorm epsilon 0', [4], { op: 'layerNorm', epsilon: 0 }, 'epsilon', 'must be > 0'],
    ['layerNorm epsilon a string', [4], { op: 'layerNorm', epsilon: '0.1' }, 'epsilon', 'must be > 0'],
    // padShortcut
    [
      'padShortcut on a vector',
      [4],
      { op: 'padShortcut', stride: 1, channels: 4 },
      'inputs',
      'padShortcut needs a rank-3 per-sample input, got shape [4]',
    ],
    [
      'padShortcut stride 0',
      IMG,
      { op: 'padShortcut', stride: 0, channels: 4 },
      'stride',
      'must be a positive integer',
    ],
    [
      'padShortcut with fewer channels than its input',
      IMG,
      { op: 'padShortcut', stride: 2, channels: 1 },
      'channels',
      "must be an integer ≥ the input's 2 channels",
    ],
    [
      'padShortcut channels 0',
      IMG,
      { op: 'padShortcut', stride: 2, channels: 0 },
      'channels',
      "must be an integer ≥ the input's 2 channels",
    ],
  ];
  it.each(cases)(
    '%s: exactly that issue, and no shape for the consumer',
    (_, inputShape, node, field, message) => {
      expect(validateSpec(around(inputShape, node))).toEqual([{ path: `nodes[0].${field}`, message }]);
    },
  );

  // selfAttention reads a sequence [T, d]: an embedding of 3 tokens into 4 features comes first.
  const attentionCases: [string, Json, string, string][] = [
    ['heads 0', attention({ heads: 0 }), 'heads', 'must be a positive integer, got 0'],
    [
      'heads 3 for 4 features',
      attention({ heads: 3 }),
      'heads',
      '3 heads do not divide the 4 features of the input',
    ],
    ['causal "yes"', attention({ causal: 'yes' }), 'causal', 'must be true or false'],
    ['init unknown', attention({ init: 'weird' }), 'init', "unknown initializer 'weird'"],
    [
      'on a vector',
      attention({ inputs: ['input'] }),
      'inputs',
      'selfAttention needs a rank-2 per-sample input, got shape [3]',
    ],
  ];
  it.each(attentionCases)(
    'selfAttention %s: exactly that issue, and no shape for the consumer',
    (_, node, field, message) => {
      expect(validateSpec(around([3], node, tokens))).toEqual([{ path: `nodes[1].${field}`, message }]);
    },
  );

  it('add refuses inputs of different shapes, naming both (same rank, or one a prefix of the other)', () => {
    // input [4, 2] vs a dense of it [4, 3]; input [4, 4] vs its globalAvgPool [4].
    const d = [{ id: 'a', ...dense(3) }];
    expect(validateSpec(around([4, 2], { op: 'add', inputs: ['input', 'a'] }, d))).toEqual([
      { path: 'nodes[1].inputs', message: 'add needs inputs of equal shape, got [4,2] and [4,3]' },
    ]);
    const g = [{ id: 'a', op: 'globalAvgPool', inputs: ['input'] }];
    expect(validateSpec(around([4, 4], { op: 'mix', inputs: ['input', 'a'] }, g))).toEqual([
      { path: 'nodes[1].inputs', message: 'mix needs inputs of equal shape, got [4,4] and [4]' },
    ]);
  });
});

describe('boundary values that are accepted', () => {
  const cases: [string, number[], Json, Json[]?][] = [
    ['conv2d with strides [2,2] and no dilation', IMG, conv({ strides: [2, 2] })],
    ['conv2d with dilation [2,2] and strides 1', IMG, conv({ dilation: [2, 2] })],
    [
      'conv2d with a kernel larger than the input and same padding',
      IMG,
      conv({ kernelSize: [9, 9], padding: 'same' }),
    ],
    ['maxPool with a window as large as the input', IMG, pool({ poolSize: [8, 8] })],
    ['select with increasing indices', [4], { op: 'select', indices: [0, 3] }],
    ['batchNorm momentum 0', [4], { op: 'batchNorm', momentum: 0 }],
    ['batchNorm momentum 1 and a small epsilon', [4], { op: 'batchNorm', momentum: 1, epsilon: 1e-5 }],
    ['dropout rate 0', [4], { op: 'dropout', rate: 0 }],
    ['mix with finite init', [4], { op: 'mix', inputs: ['input', 'input'], init: [0.5, -2] }],
    ['embedding vocab 2', [5], embed({ vocab: 2, positions: false })],
    ['layerNorm epsilon 1e-5', [4], { op: 'layerNorm', epsilon: 1e-5 }],
    ['selfAttention without causal', [3], attention(), tokens],
    ['selfAttention causal', [3], attention({ causal: true, init: 'heNormal' }), tokens],
    ['padShortcut to as many channels', IMG, { op: 'padShortcut', stride: 2, channels: 2 }],
  ];
  it.each(cases)('%s is accepted', (_, inputShape, node, before) => {
    expect(validateSpec(valid(inputShape, node, before))).toEqual([]);
  });
});

describe('parameter counts', () => {
  const one = (inputShape: number[], nodes: Json[]) =>
    asSpec({ name: 'p', inputShape, nodes, outputs: [nodes[nodes.length - 1]!.id] });

  it('conv2d: kernel 3·3·2·4 plus 4 biases, without them when useBias is false', () => {
    const c = { id: 'c', inputs: ['input'], ...conv() };
    expect(countParams(one(IMG, [c]))).toBe(76);
    expect(countParams(one(IMG, [{ ...c, useBias: false }]))).toBe(72);
  });

  it('selfAttention: 3·d² projections plus 3·d biases, without them when useBias is false', () => {
    const e = { ...tokens[0], positions: false };
    const a = { id: 'a', ...attention() };
    expect(countParams(one([3], [e, a]))).toBe(40 + 48 + 12);
    expect(countParams(one([3], [e, { ...a, useBias: false }]))).toBe(40 + 48);
  });

  it('embedding: the vocab·dim table plus T·dim positions, without them when positions is false', () => {
    expect(countParams(one([3], tokens))).toBe(40 + 12);
    expect(countParams(one([3], [{ ...tokens[0], positions: false }]))).toBe(40);
  });

  it('mix: one weight per input', () => {
    expect(countParams(one([4], [{ id: 'm', op: 'mix', inputs: ['input', 'input', 'input'] }]))).toBe(3);
  });
});
