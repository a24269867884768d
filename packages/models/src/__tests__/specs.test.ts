import { fc, test } from '@fast-check/vitest';
import { type NetworkSpec, type NodeSpec, validateSpec } from '@moprune/core';
import { describe, expect, it } from 'vitest';
import {
  hps,
  lenet5,
  lenet300100,
  mdmtn,
  mlp,
  type ResnetGates,
  resnet,
  resnet20,
  resnet56,
  transformerClassifier,
  vggLike,
} from '../index.js';

const byId = (spec: NetworkSpec) => new Map(spec.nodes.map((n) => [n.id, n]));
const ofOp = <O extends NodeSpec['op']>(spec: NetworkSpec, op: O) =>
  spec.nodes.filter((n): n is Extract<NodeSpec, { op: O }> => n.op === op);
const inits = (spec: NetworkSpec) =>
  new Set(spec.nodes.flatMap((n) => (n.op === 'dense' || n.op === 'conv2d' ? [n.init] : [])));

describe('every builder', () => {
  const all: [string, NetworkSpec][] = [
    ['mlp', mlp({ hidden: [16, 8], inputShape: [4, 4, 1], classes: 3 })],
    ['lenet-300-100', lenet300100({ gates: 'units' })],
    ['lenet5 classic', lenet5({ gates: 'units' })],
    ['lenet5 reiners', lenet5({ variant: 'reiners' })],
    ['lenet5 caffe', lenet5({ variant: 'caffe' })],
    ['vgg-like', vggLike({ gates: 'units' })],
    ['resnet56 gated', resnet56({ gates: 'units+layers' })],
    ['hps', hps()],
    ['mdmtn', mdmtn()],
    ['hps cifar10Mnist', hps({ variant: 'cifar10Mnist' })],
    ['mdmtn cifar10Mnist', mdmtn({ variant: 'cifar10Mnist', classes: [10, 10, 5] })],
    ['transformer', transformerClassifier({ vocab: 12, inputShape: [10, 1, 1], blocks: 2 })],
  ];
  it.each(all)('%s: a spec core accepts, with unique ids and JSON-only data', (_, spec) => {
    expect(validateSpec(spec)).toEqual([]);
    expect(new Set(spec.nodes.map((n) => n.id)).size).toBe(spec.nodes.length);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });
});

describe('initializer defaults follow each net’s origin and are overridable', () => {
  it.each([
    [lenet300100(), 'glorotUniform'],
    [lenet5(), 'glorotUniform'],
    [lenet5({ variant: 'reiners' }), 'glorotUniform'],
    [lenet5({ variant: 'caffe' }), 'torchDefault'],
    [vggLike(), 'glorotUniform'],
    [resnet20(), 'heNormal'],
    [hps(), 'torchDefault'],
    [mdmtn({ variant: 'cifar10Mnist' }), 'torchDefault'],
  ] as const)('%#: %s', (spec, init) => {
    expect(inits(spec)).toEqual(new Set([init]));
  });
  it('`init` applies to every conv and dense layer', () => {
    expect(inits(resnet20({ init: 'torchDefault' }))).toEqual(new Set(['torchDefault']));
    expect(inits(mdmtn({ init: 'glorotUniform' }))).toEqual(new Set(['glorotUniform']));
  });
});

describe('LeNets', () => {
  it('LeNet-300-100 flattens image inputs, not flat ones, and gates only hidden units', () => {
    const spec = lenet300100({ gates: 'units' });
    expect(spec.nodes[0]).toEqual({ id: 'flatten', op: 'flatten', inputs: ['input'] });
    expect(ofOp(spec, 'dense').map((n) => n.units)).toEqual([300, 100, 10]);
    expect(ofOp(spec, 'gate').map((g) => g.inputs[0])).toEqual(['fc1.relu', 'fc2.relu']);
    expect(spec.outputs).toEqual(['fc3']);
    const flat = lenet300100({ inputShape: [784] });
    expect(flat.nodes[0]?.op).toBe('dense');
    expect(ofOp(flat, 'gate')).toEqual([]);
  });

  it('LeNet-300-100 dropout sits after the input gates and after each hidden gate; rate 0 adds no node', () => {
    const spec = lenet300100({ gates: 'inputs+units', dropout: { input: 0.2, hidden: 0.5 } });
    expect(spec.nodes.map((n) => n.id)).toEqual([
      'flatten',
      'input.gate',
      'input.dropout',
      'fc1',
      'fc1.relu',
      'fc1.gate',
      'fc1.dropout',
      'fc2',
      'fc2.relu',
      'fc2.gate',
      'fc2.dropout',
      'fc3',
    ]);
    expect(ofOp(spec, 'dropout').map((n) => [n.id, n.rate])).toEqual([
      ['input.dropout', 0.2],
      ['fc1.dropout', 0.5],
      ['fc2.dropout', 0.5],
    ]);
    expect(validateSpec(spec)).toEqual([]);
    expect(ofOp(lenet300100({ dropout: { input: 0, hidden: 0.3 } }), 'dropout').map((n) => n.id)).toEqual([
      'fc1.dropout',
      'fc2.dropout',
    ]);
    expect(ofOp(lenet300100({ dropout: {} }), 'dropout')).toEqual([]);
    expect(ofOp(mlp({ hidden: [8], dropout: { hidden: 0.1 } }), 'dropout').map((n) => n.id)).toEqual([
      'fc1.dropout',
    ]);
  });

  it('dropout rates outside [0, 1) are typed errors naming the field', () => {
    for (const dropout of [{ hidden: 1 }, { input: -0.1 }, { hidden: Number.NaN }]) {
      expect(() => lenet300100({ dropout })).toThrow(
        expect.objectContaining({ name: 'ModelError', code: 'INVALID_CONFIG' }),
      );
    }
    expect(() => lenet300100({ dropout: { hidden: 1 } })).toThrow(/dropout\.hidden/);
  });

  it('LeNet-5 dropout sits after each hidden dense activation (after its gate), never on the convolutions', () => {
    const spec = lenet5({ variant: 'caffe', gates: 'units', dropout: { hidden: 0.2 } });
    expect(spec.nodes.map((n) => n.id).slice(-5)).toEqual(
      ['flatten', 'fc1', 'fc1.relu', 'fc1.gate', 'fc1.dropout', 'fc2'].slice(1),
    );
    expect(ofOp(spec, 'dropout').map((n) => [n.id, n.inputs[0], n.rate])).toEqual([
      ['fc1.dropout', 'fc1.gate', 0.2],
    ]);
    expect(validateSpec(spec)).toEqual([]);
    expect(ofOp(lenet5({ dropout: { hidden: 0.5 } }), 'dropout').map((n) => n.id)).toEqual([
      'fc1.dropout',
      'fc2.dropout',
    ]);
    expect(ofOp(lenet5({ dropout: { hidden: 0 } }), 'dropout')).toEqual([]);
    for (const dropout of [{ hidden: 1 }, { hidden: -0.1 }, { input: 0.2 }]) {
      expect(() => lenet5({ dropout } as never)).toThrow(
        expect.objectContaining({ name: 'ModelError', code: 'INVALID_CONFIG' }),
      );
    }
  });

  it('the three LeNet-5 variants have the papers’ layers', () => {
    const conv = (s: NetworkSpec) => ofOp(s, 'conv2d').map((c) => [c.filters, c.kernelSize[0], c.padding]);
    expect(conv(lenet5())).toEqual([
      [6, 5, 'same'],
      [16, 5, 'valid'],
    ]);
    expect(conv(lenet5({ variant: 'reiners' }))).toEqual([
      [6, 3, 'valid'],
      [16, 3, 'valid'],
    ]);
    expect(conv(lenet5({ variant: 'caffe' }))).toEqual([
      [20, 5, 'valid'],
      [50, 5, 'valid'],
    ]);
    expect(ofOp(lenet5({ variant: 'reiners' }), 'avgPool')).toHaveLength(2);
    expect(ofOp(lenet5(), 'maxPool')).toHaveLength(2);
    expect(ofOp(lenet5({ variant: 'caffe' }), 'dense').map((d) => d.units)).toEqual([500, 10]);
  });

  it('unit gates sit after the activation and before pooling', () => {
    const nodes = byId(lenet5({ gates: 'units' }));
    expect(nodes.get('conv1.gate')?.inputs).toEqual(['conv1.relu']);
    expect(nodes.get('pool1')?.inputs).toEqual(['conv1.gate']);
    expect(nodes.get('fc2.gate')?.inputs).toEqual(['fc2.relu']);
    expect(nodes.has('fc3.gate')).toBe(false);
  });
});

describe('VGG-like', () => {
  it('orders conv → ELU → BN (→ gate), with dropout .2/.3/.4 after each pool', () => {
    const spec = vggLike({ gates: 'units' });
    const nodes = byId(spec);
    expect(nodes.get('conv1.bn')?.inputs).toEqual(['conv1.elu']);
    expect(nodes.get('conv1.gate')?.inputs).toEqual(['conv1.bn']);
    expect(ofOp(spec, 'conv2d').map((c) => c.filters)).toEqual([32, 32, 64, 64, 128, 128]);
    expect(ofOp(spec, 'dropout').map((d) => d.rate)).toEqual([0.2, 0.3, 0.4]);
    expect(ofOp(spec, 'gate')).toHaveLength(6);
  });
});

describe('ResNets', () => {
  const gatesArb = fc.constantFrom<ResnetGates>('none', 'units', 'layers', 'units+layers');
  test.prop([fc.integer({ min: 1, max: 9 }), gatesArb], { seed: 42 })(
    'depth 6n+2: 6n+1 convs, 3n blocks, gates exactly where asked',
    (n, gates) => {
      const spec = resnet({ depth: 6 * n + 2, gates });
      const nodes = byId(spec);
      const convs = ofOp(spec, 'conv2d');
      expect(convs).toHaveLength(6 * n + 1);
      expect(convs.every((c) => c.useBias === false && c.kernelSize[0] === 3 && c.padding === 'same')).toBe(
        true,
      );
      const adds = ofOp(spec, 'add');
      expect(adds).toHaveLength(3 * n);
      const units = gates === 'units' || gates === 'units+layers';
      const layers = gates === 'layers' || gates === 'units+layers';
      expect(adds.every((a) => (a.gated ?? false) === layers)).toBe(true);
      const gateNodes = ofOp(spec, 'gate');
      expect(gateNodes).toHaveLength(units ? 6 * n : 0);
      for (const g of gateNodes) {
        const bn = nodes.get(g.inputs[0]!);
        expect(bn?.op).toBe('batchNorm');
        expect(nodes.get(bn!.inputs[0]!)?.op).toBe('conv2d');
      }
      // Branch is inputs[1]; the skip is the block input or its option-A shortcut.
      const shortcuts = ofOp(spec, 'padShortcut');
      expect(shortcuts.map((s) => [s.id, s.stride, s.channels])).toEqual([
        ['stage2.block1.shortcut', 2, 32],
        ['stage3.block1.shortcut', 2, 64],
      ]);
      for (const a of adds) expect(a.inputs[1]).toBe(units ? `${a.id}.gate2` : `${a.id}.bn2`);
      expect(spec.outputs).toEqual(['fc']);
      expect(nodes.get('fc')?.inputs).toEqual(['pool']);
    },
  );
});

describe('multi-task nets', () => {
  it('MDMTN mixes the shared trunk with each task’s monitor, α from (1, 0), log-softmax heads', () => {
    const spec = mdmtn();
    const nodes = byId(spec);
    expect(spec.outputs).toEqual(['task1.logSoftmax', 'task2.logSoftmax']);
    for (const t of [1, 2]) {
      expect(nodes.get(`task${t}.mix`)).toEqual({
        id: `task${t}.mix`,
        op: 'mix',
        inputs: ['shared.fc.relu', `monitor${t}.fc.relu`],
        init: [1, 0],
      });
      expect(nodes.get(`task${t}.logSoftmax`)).toMatchObject({ op: 'activation', fn: 'logSoftmax' });
    }
    // Reference order: conv → maxpool → ReLU.
    expect(nodes.get('shared.relu1')?.inputs).toEqual(['shared.pool1']);
    expect(nodes.get('shared.pool1')?.inputs).toEqual(['shared.conv1']);
  });

  it('Cifar10Mnist variant puts BatchNorm between pool and ReLU, and is picked by a 3-channel input', () => {
    const spec = mdmtn({ inputShape: [32, 32, 3] });
    expect(spec.name).toBe('mdmtn-cifar10Mnist');
    const nodes = byId(spec);
    expect(nodes.get('monitor1.bn1')?.inputs).toEqual(['monitor1.pool1']);
    expect(nodes.get('monitor1.relu1')?.inputs).toEqual(['monitor1.bn1']);
  });

  it('HPS has no monitors or mixes; one head per task', () => {
    const spec = hps({ classes: [10, 10, 4] });
    expect(ofOp(spec, 'mix')).toEqual([]);
    expect(spec.nodes.some((n) => n.id.startsWith('monitor'))).toBe(false);
    expect(ofOp(spec, 'dense').map((d) => [d.id, d.units])).toEqual([
      ['shared.fc', 50],
      ['task1.fc', 10],
      ['task2.fc', 10],
      ['task3.fc', 4],
    ]);
  });
});

describe('transformerClassifier', () => {
  it('builds pre-norm encoder blocks on a flattened token sequence', () => {
    const spec = transformerClassifier({
      vocab: 12,
      dim: 8,
      heads: 4,
      ffDim: 16,
      inputShape: [10, 1, 1],
      classes: 5,
    });
    expect(spec.inputShape).toEqual([10]);
    const nodes = byId(spec);
    expect(nodes.get('embed')).toMatchObject({ op: 'embedding', vocab: 12, dim: 8 });
    expect(nodes.get('block1.attention')).toMatchObject({
      op: 'selfAttention',
      heads: 4,
      inputs: ['block1.ln1'],
    });
    expect(nodes.get('block1.attend')).toMatchObject({ op: 'add', inputs: ['embed', 'block1.projection'] });
    expect(nodes.get('block1.ff1')).toMatchObject({ op: 'dense', units: 16 });
    expect(nodes.get('head')).toMatchObject({ op: 'dense', units: 5, inputs: ['pool'] });
    expect(spec.outputs).toEqual(['head']);
  });

  it('rejects heads that do not divide dim, and a vocabulary below 2', () => {
    expect(() => transformerClassifier({ vocab: 12, dim: 10, heads: 4 })).toThrow(
      expect.objectContaining({ name: 'ModelError', code: 'INVALID_CONFIG' }),
    );
    expect(() => transformerClassifier({ vocab: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
