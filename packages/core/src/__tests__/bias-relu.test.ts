import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { fc } from '@fast-check/vitest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIAS_ADD_RELU_GRAD_KERNEL,
  BIAS_ADD_RELU_KERNEL,
  biasAddRelu,
  createNetwork,
  hasBiasAddReluKernels,
  type NetworkSpec,
} from '../index.js';
import {
  type CpuBackend,
  expectBothKernelsNeeded,
  unregisterCpuKernels,
  values,
} from './fixtures/cpu-kernels.js';
import { tensorsLeakedByTraining } from './fixtures/leak-check.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Plain-loop implementations of the two kernels' contracts (core's TSDoc),
// registered on `cpu` for a test so that biasAddRelu takes its kernel path;
// the op's fallback (tf.relu(tf.add(...)), differentiated by tfjs) is the
// reference it must match.
const calls = { forward: 0, backward: 0 };

function registerReferenceKernels(): void {
  tf.registerKernel({
    kernelName: BIAS_ADD_RELU_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      calls.forward++;
      const b = backend as unknown as CpuBackend;
      const { x, bias } = inputs as Record<string, tf.TensorInfo>;
      const xv = values(b, x!);
      const bv = values(b, bias!);
      const y = xv.map((v, i) => {
        const s = v + bv[i % bv.length]!;
        return Math.max(s, 0);
      });
      return b.makeTensorInfo(x!.shape, 'float32', y);
    },
  });
  tf.registerKernel({
    kernelName: BIAS_ADD_RELU_GRAD_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      calls.backward++;
      const b = backend as unknown as CpuBackend;
      const { dy, y } = inputs as Record<string, tf.TensorInfo>;
      const [dyv, yv] = [values(b, dy!), values(b, y!)];
      const c = y!.shape[y!.shape.length - 1]!;
      // dy·step(y): step is 1 above 0, 0 at or below, NaN for NaN.
      const dx = dyv.map((d, i) => d * (Number.isNaN(yv[i]!) ? Number.NaN : yv[i]! > 0 ? 1 : 0));
      const dbias = new Float32Array(c);
      dx.forEach((v, i) => {
        dbias[i % c]! += v;
      });
      return [b.makeTensorInfo(y!.shape, 'float32', dx), b.makeTensorInfo([c], 'float32', dbias)];
    },
  });
}

afterEach(() => unregisterCpuKernels([BIAS_ADD_RELU_KERNEL, BIAS_ADD_RELU_GRAD_KERNEL]));

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1.5, 'float32', seed);
}

/** y and the gradients of Σ w⊙y (w fixed) for x and bias. */
function run(x: tf.Tensor, bias: tf.Tensor, w: tf.Tensor) {
  return tf.tidy(() => {
    const y = biasAddRelu(x, bias);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(biasAddRelu(a, b), w)))([x, bias]);
    return [y, ...grads].map((t) => Array.from(t.dataSync()));
  });
}

function expectClose(a: number[], b: number[], tol: number): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    if (Number.isNaN(b[i]!)) expect(v).toBeNaN();
    else if (!Number.isFinite(b[i]!)) expect(v).toBe(b[i]);
    else expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]!)));
  });
}

describe('biasAddRelu', () => {
  it('takes the kernel path only when the backend registers both kernels, not one of them', () => {
    expectBothKernelsNeeded(hasBiasAddReluKernels, [BIAS_ADD_RELU_KERNEL, BIAS_ADD_RELU_GRAD_KERNEL]);
  });

  it('composes tf.add and tf.relu when the backend has no kernels for it', () => {
    expect(hasBiasAddReluKernels('cpu')).toBe(false);
    const before = { ...calls };
    const x = tf.tensor2d([
      [-1, 2, 0.5],
      [3, -4, -0.25],
    ]);
    const bias = tf.tensor1d([0.5, 1, 0]);
    const y = biasAddRelu(x, bias);
    expect(calls).toEqual(before);
    expect(y.arraySync()).toEqual([
      [0, 3, 0.5],
      [3.5, 0, 0],
    ]);
    tf.dispose([x, bias, y]);
  });

  it('runs the registered kernels, matching the composed ops and their gradients (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 1000 }),
        (lead, channels, seed) => {
          const shape = [...lead, channels];
          const x = seeded(shape, seed);
          const bias = seeded([channels], seed + 1);
          const w = seeded(shape, seed + 2);
          const composed = run(x, bias, w);
          registerReferenceKernels();
          const before = { ...calls };
          const fused = run(x, bias, w);
          // One forward for the value, one forward + one backward for the gradients.
          expect(calls.forward - before.forward).toBe(2);
          expect(calls.backward - before.backward).toBe(1);
          tf.unregisterKernel(BIAS_ADD_RELU_KERNEL, 'cpu');
          tf.unregisterKernel(BIAS_ADD_RELU_GRAD_KERNEL, 'cpu');
          for (const [i, c] of composed.entries()) expectClose(fused[i]!, c, 1e-5);
          tf.dispose([x, bias, w]);
        },
      ),
      { seed: 11, numRuns: 40 },
    );
  });

  it('propagates NaN and infinities as the composed ops do', () => {
    const x = tf.tensor2d([
      [Number.NaN, -1, 2],
      [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0],
    ]);
    const bias = tf.tensor1d([0, 0.5, -2]);
    const w = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const composed = run(x, bias, w);
    registerReferenceKernels();
    const fused = run(x, bias, w);
    for (const [i, c] of composed.entries()) expectClose(fused[i]!, c, 0);
    // The NaN pre-activation stays NaN forward and gives a NaN gradient, as tfjs's relu does.
    expect(composed[0]![0]).toBeNaN();
    expect(composed[1]![0]).toBeNaN();
    tf.dispose([x, bias, w]);
  });

  it('fuses a relu into the dense or conv2d layer before it, with the values and gradients of the two nodes', () => {
    const spec = (variant: 'fused' | 'output' | 'noBias'): NetworkSpec => ({
      name: 'bias-relu',
      inputShape: [6, 6, 2],
      nodes: [
        {
          id: 'conv',
          op: 'conv2d',
          inputs: ['input'],
          filters: 3,
          kernelSize: [3, 3],
          padding: 'same',
          ...(variant === 'noBias' ? { useBias: false } : {}),
        },
        { id: 'relu1', op: 'activation', inputs: ['conv'], fn: 'relu' },
        { id: 'pool', op: 'maxPool', inputs: ['relu1'], poolSize: [2, 2] },
        { id: 'flat', op: 'flatten', inputs: ['pool'] },
        { id: 'fc', op: 'dense', inputs: ['flat'], units: 4 },
        { id: 'relu2', op: 'activation', inputs: ['fc'], fn: 'relu' },
        { id: 'out', op: 'dense', inputs: ['relu2'], units: 2 },
      ],
      // A layer that is also an output keeps its own (pre-activation) value: no fusion.
      outputs: variant === 'output' ? ['out', 'conv', 'fc'] : ['out'],
    });
    const x = seeded([3, 6, 6, 2], 21);
    const results = (variant: 'fused' | 'output' | 'noBias') => {
      const net = createNetwork(spec(variant), { seed: 5 });
      if (variant === 'output') {
        // The conv output is the pre-activation, negative somewhere.
        const conv = tf.tidy(() => tf.min(net.apply(x)[1]!).dataSync()[0]!);
        expect(conv).toBeLessThan(0);
      }
      const out = tf.tidy(() => {
        const { grads, value } = tf.variableGrads(() =>
          tf.sum(tf.square(net.apply(x, { training: true })[0]!)),
        );
        return [
          value,
          ...Object.keys(grads)
            .sort()
            .map((k) => grads[k]!),
        ].map((t) => Array.from(t.dataSync()));
      });
      net.dispose();
      return out;
    };
    const plain = results('output');
    for (const kernels of [false, true]) {
      if (kernels) registerReferenceKernels();
      const before = { ...calls };
      const fused = results('fused');
      // conv and fc each: one forward, one backward.
      if (kernels) {
        expect(calls.forward - before.forward).toBe(2);
        expect(calls.backward - before.backward).toBe(2);
      }
      expect(fused.length).toBe(plain.length);
      for (const [i, p] of plain.entries()) expectClose(fused[i]!, p, 1e-5);
      // Without a bias only the dense layer fuses; the conv's relu stays a node.
      const mid = { ...calls };
      results('noBias');
      if (kernels) expect(calls.forward - mid.forward).toBe(1);
    }
    x.dispose();
  });

  it('trains through the kernels without leaking tensors', () => {
    registerReferenceKernels();
    const spec: NetworkSpec = {
      name: 'mlp',
      inputShape: [6],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 5 },
        { id: 'act', op: 'activation', inputs: ['fc1'], fn: 'relu' },
        { id: 'out', op: 'dense', inputs: ['act'], units: 2 },
      ],
      outputs: ['out'],
    };
    const net = createNetwork(spec, { seed: 3 });
    const x = seeded([5, 6], 31);
    const before = { ...calls };
    expect(tensorsLeakedByTraining(net, x, 3)).toBe(0);
    // The warm-up step and the three counted ones each ran the backward kernel.
    expect(calls.backward - before.backward).toBe(4);
    net.dispose();
    x.dispose();
  });
});
