import {
  countMacs,
  countParams,
  createNetwork,
  type NetworkSpec,
  type NodeInfo,
  networkMetrics,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  hps,
  lenet5,
  lenet300100,
  mdmtn,
  mlp,
  resnet,
  resnet20,
  resnet32,
  resnet56,
  vggLike,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Counts {
  /** Trainable parameters by core's `countParams(spec)`. */
  readonly params: number;
  /** MACs per sample by core's `countMacs(spec)`. */
  readonly macs: number;
  /**
   * The same two figures reached three other ways, which must all agree: summed over
   * `net.nodes` (NodeInfo), over the created trainable variables' shapes (params only),
   * and `networkMetrics(net).dense`.
   */
  readonly crossChecks: readonly (readonly [string, number, number])[];
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** Trainable entries by op and role (`kernel`, `alpha` …). */
  readonly byRole: (op: string, role: string) => number;
}

function counts(spec: NetworkSpec): Counts {
  const params = countParams(spec);
  const macs = countMacs(spec);
  const net = createNetwork(spec, { seed: 1 });
  try {
    const infos = [...net.paramInfo.values()].filter((p) => p.trainable);
    const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
    const dense = networkMetrics(net).dense;
    return {
      params,
      macs,
      crossChecks: [
        ['nodes', net.nodes.reduce((a, n) => a + n.params, 0), net.nodes.reduce((a, n) => a + n.macs, 0)],
        ['variables', infos.reduce((a, p) => a + size(p.shape), 0), macs],
        ['networkMetrics', dense.params, dense.macs],
      ],
      nodes: new Map(net.nodes.map((n) => [n.id, n])),
      byRole: (op, role) =>
        infos.filter((p) => p.op === op && p.role === role).reduce((a, p) => a + size(p.shape), 0),
    };
  } finally {
    net.dispose();
  }
}

/** Asserts the counts, reached every way, equal `params` and `macs`. */
function expectCounts(c: Counts, params: number, macs: number): void {
  expect([c.params, c.macs]).toEqual([params, macs]);
  for (const [how, p, m] of c.crossChecks) expect([how, p, m]).toEqual([how, params, macs]);
}

describe('parameter counts and MACs (core NodeInfo rule: dense in·out, conv oH·oW·kh·kw·inC·outC)', () => {
  it.each([
    // name, params, MACs, spec — params/MACs worked out by hand layer by layer.
    ['LeNet-300-100', 235_500 + 30_100 + 1_010, 235_200 + 30_000 + 1_000, () => lenet300100()],
    // conv1 same 28×28: 156 params, 28·28·25·6; conv2 valid 10×10: 2,416, 10·10·25·6·16.
    ['LeNet-5 classic', 156 + 2_416 + 48_120 + 10_164 + 850, 117_600 + 240_000 + 58_920, () => lenet5()],
    [
      'LeNet-5 Reiners',
      60 + 880 + 48_120 + 10_164 + 850,
      36_504 + 104_544 + 58_920,
      () => lenet5({ variant: 'reiners' }),
    ],
    [
      'LeNet-5 Caffe',
      520 + 25_050 + 400_500 + 5_010,
      288_000 + 1_600_000 + 405_000,
      () => lenet5({ variant: 'caffe' }),
    ],
    ['VGG-like', 308_394, 38_653_952, () => vggLike()],
    ['ResNet-20', 269_722, 40_551_040, () => resnet20()],
    ['ResNet-32', 464_154, 68_862_592, () => resnet32()],
    ['HPS MultiMNIST', 22_351 - 1, 481_000, () => hps()],
    ['HPS Cifar10Mnist', 42_741 - 1, 1_205_056, () => hps({ variant: 'cifar10Mnist' })],
  ])('%s: %i params, %i MACs', (_, params, macs, build) => {
    expectCounts(counts(build()), params, macs);
  });

  test.prop(
    [
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 2, max: 12 }),
    ],
    { seed: 5 },
  )('mlp: Σ (in + 1)·out over layers, MACs Σ in·out', (hidden, inputShape, classes) => {
    const widths = [inputShape.reduce((a, b) => a * b, 1), ...hidden, classes];
    let params = 0;
    let macs = 0;
    for (let i = 1; i < widths.length; i++) {
      params += (widths[i - 1]! + 1) * widths[i]!;
      macs += widths[i - 1]! * widths[i]!;
    }
    const spec = mlp({ hidden, inputShape, classes });
    expect([countParams(spec), countMacs(spec)]).toEqual([params, macs]);
  });

  it('LeNet-300-100 ≈ 267k and Caffe LeNet-5 ≈ 431k (Bonetta 2023)', () => {
    expect(countParams(lenet300100())).toBe(266_610);
    expect(countParams(lenet5({ variant: 'caffe' }))).toBe(431_080);
  });

  it('Reiners LeNet-5: Flatten(400) and dense kernels 48,000 + 10,080 + 840 = 58,920', () => {
    const c = counts(lenet5({ variant: 'reiners' }));
    expect(c.nodes.get('flatten')?.outputShape).toEqual([400]);
    expect(c.byRole('dense', 'kernel')).toBe(58_920);
    expect(c.byRole('conv2d', 'kernel')).toBe(54 + 864);
  });

  it('VGG-like: Flatten(2048), 896 BatchNorm moving statistics not counted', () => {
    const c = counts(vggLike());
    expect(c.nodes.get('flatten')?.outputShape).toEqual([2048]);
    expect(c.byRole('batchNorm', 'gamma') + c.byRole('batchNorm', 'beta')).toBe(896);
  });

  it('ResNet-56 ≈ 0.85M params and ≈ 125M MACs; shapes by inference, no forward pass', () => {
    const spec = resnet56();
    expect([countParams(spec), countMacs(spec)]).toEqual([853_018, 125_485_696]);
    const c = counts(spec);
    expectCounts(c, 853_018, 125_485_696);
    expect(c.nodes.get('stage1.block9.relu')?.outputShape).toEqual([32, 32, 16]);
    expect(c.nodes.get('stage2.block1.shortcut')?.outputShape).toEqual([16, 16, 32]);
    expect(c.nodes.get('stage3.block9.relu')?.outputShape).toEqual([8, 8, 64]);
    expect(c.nodes.get('pool')?.outputShape).toEqual([64]);
    expect(c.nodes.get('fc')?.outputShape).toEqual([10]);
  });

  it('ResNet-(6n+2) matches the closed-form count for n = 1 … 9', () => {
    // Per stage s (width c = 16·2^(s−1)): n blocks of two 3×3 convs without bias + 2 BN (4c);
    // the first block of stages 2 and 3 takes c/2 input channels at stride 2.
    const conv = (inC: number, outC: number) => 9 * inC * outC;
    for (const n of [1, 3, 5, 9]) {
      let params = conv(3, 16) + 32 + 650;
      let macs = 32 * 32 * conv(3, 16) + 640;
      [16, 32, 64].forEach((c, s) => {
        const hw = (32 >> s) ** 2;
        const inC = s === 0 ? 16 : c / 2;
        params += conv(inC, c) + conv(c, c) + 4 * c + (n - 1) * (2 * conv(c, c) + 4 * c);
        macs += hw * (conv(inC, c) + conv(c, c) + (n - 1) * 2 * conv(c, c));
      });
      expectCounts(counts(resnet({ depth: 6 * n + 2 })), params, macs);
    }
  });

  it('gates add no parameters or MACs', () => {
    expectCounts(counts(resnet20({ gates: 'units+layers' })), 269_722, 40_551_040);
  });

  describe('Hotegni 2023 multi-task nets (the paper counts also include the scalarization variable t)', () => {
    it('MDMTN MultiMNIST: 311,491 − t + 4 α; monitors hold ≈ 93% of the weights', () => {
      const c = counts(mdmtn());
      expect(c.byRole('mix', 'alpha')).toBe(4);
      expectCounts(c, 311_491 - 1 + 4, 1_345_000);
      const monitors = [...c.nodes.values()]
        .filter((n) => n.id.startsWith('monitor'))
        .reduce((a, n) => a + n.params, 0);
      expect(monitors).toBe(2 * (520 + 144_050));
      expect(monitors / (c.params - 4)).toBeCloseTo(0.928, 3);
      expect(c.nodes.get('monitor1.flatten')?.outputShape).toEqual([2880]);
      expect(c.nodes.get('shared.flatten')?.outputShape).toEqual([320]);
    });

    it('MDMTN Cifar10Mnist: 505,525 − t + 4 α; Flatten(1152) and Flatten(7200)', () => {
      const c = counts(mdmtn({ variant: 'cifar10Mnist' }));
      expectCounts(c, 505_525 - 1 + 4, 3_221_056);
      expect(c.nodes.get('shared.flatten')?.outputShape).toEqual([1152]);
      expect(c.nodes.get('monitor2.flatten')?.outputShape).toEqual([7200]);
    });

    it('MDMTN MultiMNIST MACs', () => {
      // trunk 24·24·25·10 + 8·8·250·20 + 320·50; monitor 24·24·25·20 + 2880·50; heads 2·500.
      expect(countMacs(mdmtn())).toBe(144_000 + 320_000 + 16_000 + 2 * (288_000 + 144_000) + 1_000);
    });
  });
});
