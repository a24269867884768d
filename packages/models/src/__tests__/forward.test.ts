import { createNetwork, type NetworkSpec } from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { hps, lenet5, lenet300100, mdmtn, mlp, resnet20, vggLike } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `fn` on a fresh network of `spec` and a seeded batch of 2, checking nothing leaks. */
async function withNet<T>(
  spec: NetworkSpec,
  fn: (net: ReturnType<typeof createNetwork>, x: tf.Tensor) => Promise<T> | T,
): Promise<T> {
  const before = tf.memory().numTensors;
  const net = createNetwork(spec, { seed: 7 });
  const x = tf.randomUniform([2, ...spec.inputShape], 0, 1, 'float32', 3);
  try {
    return await fn(net, x);
  } finally {
    x.dispose();
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

async function forward(spec: NetworkSpec, gates?: Record<string, tf.Tensor>): Promise<number[][]> {
  return withNet(spec, async (net, x) => {
    const outs = net.apply(x, gates ? { gates } : {});
    const values = await Promise.all(outs.map(async (o) => [...o.shape, ...(await o.data())]));
    tf.dispose(outs);
    return values;
  });
}

describe('forward pass on a batch of 2 (cpu)', () => {
  it.each([
    ['mlp', 3, mlp({ hidden: [5], inputShape: [6], classes: 3 })],
    ['LeNet-300-100', 10, lenet300100()],
    ['LeNet-5 classic', 10, lenet5({ gates: 'units' })],
    ['LeNet-5 Reiners', 10, lenet5({ variant: 'reiners' })],
    ['LeNet-5 Caffe', 10, lenet5({ variant: 'caffe' })],
    ['VGG-like', 10, vggLike()],
    ['ResNet-20', 10, resnet20({ gates: 'units+layers' })],
  ] as const)('%s → one [2, %i] tensor of finite logits', async (_, classes, spec) => {
    const [out, ...rest] = await forward(spec);
    expect(rest).toEqual([]);
    expect(out!.slice(0, 2)).toEqual([2, classes]);
    expect(out!.slice(2).every(Number.isFinite)).toBe(true);
  });

  it.each([
    ['HPS MultiMNIST', hps()],
    ['MDMTN MultiMNIST', mdmtn()],
    ['HPS Cifar10Mnist', hps({ variant: 'cifar10Mnist' })],
    ['MDMTN Cifar10Mnist', mdmtn({ variant: 'cifar10Mnist' })],
  ] as const)('%s → per task a [2, 10] tensor of log-probabilities', async (_, spec) => {
    const outs = await forward(spec);
    expect(outs).toHaveLength(2);
    for (const out of outs) {
      expect(out.slice(0, 2)).toEqual([2, 10]);
      for (const row of [out.slice(2, 12), out.slice(12, 22)]) {
        expect(row.every((v) => v <= 0)).toBe(true);
        expect(row.reduce((a, v) => a + Math.exp(v), 0)).toBeCloseTo(1, 5);
      }
    }
  });
});

describe('ResNet gate sites are wired to the branch, not the skip', () => {
  const spec = resnet20({ gates: 'units+layers' });
  const gateIds = spec.nodes.filter((n) => n.op === 'gate').map((n) => n.id);
  const blockIds = spec.nodes.filter((n) => n.op === 'add').map((n) => n.id);

  /**
   * Output before and after adding noise to filter `filter` of conv `node` (every filter
   * when omitted), with gate values from `gates(siteId, channel)`.
   */
  async function sensitivity(node: string, gates: (id: string, channel: number) => number, filter?: number) {
    return withNet(spec, async (net, x) => {
      const values: Record<string, tf.Tensor> = {};
      for (const id of gateIds) {
        const channels = net.nodes.find((n) => n.id === id)!.outputShape[2]!;
        values[id] = tf.tensor1d(Array.from({ length: channels }, (_, c) => gates(id, c)));
      }
      for (const id of blockIds) values[id] = tf.scalar(gates(id, 0));
      const run = async () => {
        const [y] = net.apply(x, { gates: values });
        const data = await y!.data();
        y!.dispose();
        return data;
      };
      const a = await run();
      const v = net.params.get(`${node}/kernel`)!;
      const outC = v.shape[3]!;
      tf.tidy(() => {
        const hit = tf.tensor1d(
          Array.from({ length: outC }, (_, c) => (filter === undefined || c === filter ? 1 : 0)),
        );
        v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 11), hit)));
      });
      const b = await run();
      tf.dispose(Object.values(values));
      return { a, b };
    });
  }

  it('all gates open equals the ungated network', async () => {
    const open: Record<string, tf.Tensor> = {};
    for (const id of blockIds) open[id] = tf.scalar(1);
    const [gated] = await forward(spec, open);
    const [plain] = await forward(resnet20());
    tf.dispose(Object.values(open));
    expect(gated).toEqual(plain);
  });

  it('a closed block gate makes the output independent of that block’s branch', async () => {
    const closed = await sensitivity('stage2.block1.conv1', (id) => (id === 'stage2.block1' ? 0 : 1));
    expect(closed.b).toEqual(closed.a);
    const open = await sensitivity('stage2.block1.conv1', () => 1);
    expect(open.b).not.toEqual(open.a);
  });

  it('a closed unit gate cuts exactly its own filter off', async () => {
    const gates = (id: string, c: number) => (id === 'stage1.block1.gate1' && c === 5 ? 0 : 1);
    const own = await sensitivity('stage1.block1.conv1', gates, 5);
    expect(own.b).toEqual(own.a);
    const other = await sensitivity('stage1.block1.conv1', gates, 4);
    expect(other.b).not.toEqual(other.a);
    const second = await sensitivity(
      'stage3.block2.conv2',
      (id, c) => (id === 'stage3.block2.gate2' && c === 60 ? 0 : 1),
      60,
    );
    expect(second.b).toEqual(second.a);
  });
});
