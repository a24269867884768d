import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { fc } from '@fast-check/vitest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  batchNormTraining,
  createNetwork,
  hasBatchNormTrainingKernels,
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

// A plain-loop implementation of the two kernels' contracts (core's TSDoc),
// registered on `cpu` for a test so that batchNormTraining takes its kernel
// path; the op's fallback (tf.moments + tf.batchNorm, differentiated by tfjs)
// is the reference it must match.
const calls = { forward: 0, backward: 0, fusedRelu: 0 };

function registerReferenceKernels(): void {
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      calls.forward++;
      const b = backend as unknown as CpuBackend;
      const { x, scale, offset } = inputs as Record<string, tf.TensorInfo>;
      const { epsilon: eps, relu } = attrs as { epsilon: number; relu?: boolean };
      if (relu) calls.fusedRelu++;
      const xv = values(b, x!);
      const c = x!.shape[x!.shape.length - 1]!;
      const n = xv.length / c;
      const mean = new Float32Array(c);
      const variance = new Float32Array(c);
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += xv[r * c + k]!;
        const mu = s / n;
        let q = 0;
        for (let r = 0; r < n; r++) q += (xv[r * c + k]! - mu) ** 2;
        mean[k] = mu;
        variance[k] = q / n;
      }
      const g = values(b, scale!);
      const o = values(b, offset!);
      const y = new Float32Array(xv.length);
      for (let i = 0; i < xv.length; i++) {
        const k = i % c;
        const pre = (g[k]! * (xv[i]! - mean[k]!)) / Math.sqrt(variance[k]! + eps) + o[k]!;
        y[i] = relu && pre < 0 ? 0 : pre;
      }
      return [
        b.makeTensorInfo(x!.shape, 'float32', y),
        b.makeTensorInfo([c], 'float32', mean),
        b.makeTensorInfo([c], 'float32', variance),
      ];
    },
  });
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING_GRAD_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      calls.backward++;
      const b = backend as unknown as CpuBackend;
      const { dy, x, scale, offset, mean, variance } = inputs as Record<string, tf.TensorInfo>;
      const { epsilon: eps, relu } = attrs as { epsilon: number; relu?: boolean };
      const [dyRaw, xv, g, o, mu, v] = [dy, x, scale, offset, mean, variance].map((t) =>
        values(b, t!),
      ) as Float32Array[];
      const c = x!.shape[x!.shape.length - 1]!;
      const n = xv!.length / c;
      // With the fused ReLU, dy flows only where the pre-activation was positive.
      const dyv = dyRaw!.map((d, i) => {
        const k = i % c;
        const pre = (g![k]! * (xv![i]! - mu![k]!)) / Math.sqrt(v![k]! + eps) + o![k]!;
        return !relu || pre > 0 ? d : 0;
      });
      const dscale = new Float32Array(c);
      const doffset = new Float32Array(c);
      for (let i = 0; i < xv!.length; i++) {
        const k = i % c;
        const r = 1 / Math.sqrt(v![k]! + eps);
        doffset[k]! += dyv![i]!;
        dscale[k]! += dyv![i]! * (xv![i]! - mu![k]!) * r;
      }
      const dx = new Float32Array(xv!.length);
      for (let i = 0; i < xv!.length; i++) {
        const k = i % c;
        const r = 1 / Math.sqrt(v![k]! + eps);
        const xhat = (xv![i]! - mu![k]!) * r;
        dx[i] = ((g![k]! * r) / n) * (n * dyv![i]! - doffset[k]! - xhat * dscale[k]!);
      }
      return [
        b.makeTensorInfo(x!.shape, 'float32', dx),
        b.makeTensorInfo([c], 'float32', dscale),
        b.makeTensorInfo([c], 'float32', doffset),
      ];
    },
  });
}

afterEach(() => unregisterCpuKernels([BATCH_NORM_TRAINING_KERNEL, BATCH_NORM_TRAINING_GRAD_KERNEL]));

function seeded(shape: number[], seed: number, shift = 0): tf.Tensor {
  return tf.tidy(() => tf.add(tf.randomNormal(shape, 0, 1.5, 'float32', seed), shift));
}

/** y, mean, variance and the gradients of Σ w⊙y (w fixed) for x, scale and offset. */
function run(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, w: tf.Tensor, eps: number, relu = false) {
  return tf.tidy(() => {
    const { y, mean, variance } = batchNormTraining(x, scale, offset, eps, { relu });
    const grads = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
      tf.sum(tf.mul(batchNormTraining(a, s, o, eps, { relu }).y, w)),
    )([x, scale, offset]);
    return [y, mean, variance, ...grads].map((t) => t.arraySync());
  });
}

function expectClose(a: unknown, b: unknown, tol: number): void {
  const fa = [a].flat(5) as number[];
  const fb = [b].flat(5) as number[];
  expect(fa.length).toBe(fb.length);
  fa.forEach((v, i) => {
    expect(Math.abs(v - fb[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(fb[i]!)));
  });
}

describe('batchNormTraining', () => {
  it('takes the kernel path only when the backend registers both kernels, not one of them', () => {
    expectBothKernelsNeeded(hasBatchNormTrainingKernels, [
      BATCH_NORM_TRAINING_KERNEL,
      BATCH_NORM_TRAINING_GRAD_KERNEL,
    ]);
  });

  it('composes tfjs ops when the backend has no kernels for it', () => {
    expect(hasBatchNormTrainingKernels('cpu')).toBe(false);
    const before = { ...calls };
    const x = seeded([4, 3, 5], 1);
    const [g, o] = [tf.ones([5]), tf.zeros([5])];
    const { y, mean, variance } = batchNormTraining(x, g, o, 1e-3);
    expect(calls).toEqual(before);
    // Normalized: every channel has mean ≈ 0 and variance ≈ 1/(1 + ε/σ²).
    const m = tf.moments(y, [0, 1]);
    expectClose(m.mean.arraySync(), new Array(5).fill(0), 1e-5);
    const v = variance.dataSync();
    expectClose(
      m.variance.arraySync(),
      [...v].map((s) => s / (s + 1e-3)),
      1e-4,
    );
    expect(mean.shape).toEqual([5]);
    tf.dispose([x, g, o, y, mean, variance, m.mean, m.variance]);
  });

  it('runs the registered kernels, matching the composed ops and their gradients (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom(1e-5, 1e-3, 0.1),
        fc.boolean(),
        (lead, channels, seed, eps, relu) => {
          const shape = [...lead, channels];
          const x = seeded(shape, seed, 3);
          const scale = seeded([channels], seed + 1);
          const offset = seeded([channels], seed + 2);
          const w = seeded(shape, seed + 3);
          const composed = run(x, scale, offset, w, eps, relu);
          registerReferenceKernels();
          const before = { ...calls };
          const fused = run(x, scale, offset, w, eps, relu);
          // One forward for the values and one forward + one backward for the gradients.
          expect(calls.forward - before.forward).toBe(2);
          expect(calls.backward - before.backward).toBe(1);
          tf.unregisterKernel(BATCH_NORM_TRAINING_KERNEL, 'cpu');
          tf.unregisterKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, 'cpu');
          // A single value per channel has zero variance: x̂ = 0 and both paths give dx = 0.
          for (const [i, c] of composed.entries()) expectClose(fused[i], c, 2e-4);
          tf.dispose([x, scale, offset, w]);
        },
      ),
      { seed: 7, numRuns: 40 },
    );
  });

  it('trains a network with batch norm through the kernels without leaking tensors', () => {
    registerReferenceKernels();
    const spec: NetworkSpec = {
      name: 'bn-mlp',
      inputShape: [6],
      nodes: [
        { id: 'fc1', op: 'dense', inputs: ['input'], units: 4 },
        { id: 'bn', op: 'batchNorm', inputs: ['fc1'] },
        { id: 'out', op: 'dense', inputs: ['bn'], units: 2 },
      ],
      outputs: ['out'],
    };
    const net = createNetwork(spec, { seed: 3 });
    const x = seeded([5, 6], 11);
    const before = { ...calls };
    expect(tensorsLeakedByTraining(net, x, 3)).toBe(0);
    // The warm-up step and the three counted ones each ran the backward kernel.
    expect(calls.backward - before.backward).toBe(4);
    net.dispose();
    x.dispose();
  });

  it('fuses a relu into the batchNorm before it, with the values and gradients of the two nodes', () => {
    const spec = (bnIsOutput: boolean): NetworkSpec => ({
      name: 'bn-relu',
      inputShape: [5, 5, 2],
      nodes: [
        { id: 'conv', op: 'conv2d', inputs: ['input'], filters: 3, kernelSize: [3, 3], padding: 'same' },
        { id: 'bn', op: 'batchNorm', inputs: ['conv'] },
        { id: 'relu', op: 'activation', inputs: ['bn'], fn: 'relu' },
        { id: 'gap', op: 'globalAvgPool', inputs: ['relu'] },
        { id: 'out', op: 'dense', inputs: ['gap'], units: 2 },
      ],
      // A batchNorm that is also an output keeps its own value: no fusion.
      outputs: bnIsOutput ? ['out', 'bn'] : ['out'],
    });
    const x = seeded([4, 5, 5, 2], 12);
    const results = (bnIsOutput: boolean, training: boolean) => {
      const net = createNetwork(spec(bnIsOutput), { seed: 5 });
      if (bnIsOutput) {
        // The batchNorm output is the normalized value, not clamped by the relu after it.
        const bn = tf.tidy(() => tf.min(net.apply(x, { training })[1]!).dataSync()[0]!);
        expect(bn).toBeLessThan(0);
      }
      const out = tf.tidy(() => {
        const { grads, value } = tf.variableGrads(() => tf.sum(tf.square(net.apply(x, { training })[0]!)));
        return [
          value,
          ...Object.keys(grads)
            .sort()
            .map((k) => grads[k]!),
        ].map((t) => t.arraySync());
      });
      net.dispose();
      return out;
    };
    for (const kernels of [false, true]) {
      if (kernels) registerReferenceKernels();
      for (const training of [true, false]) {
        const before = calls.fusedRelu;
        const fused = results(false, training);
        if (kernels && training) expect(calls.fusedRelu - before).toBe(1);
        const plain = results(true, training);
        for (const [i, p] of plain.entries()) expectClose(fused[i], p, 1e-5);
      }
    }
    x.dispose();
  });
});
