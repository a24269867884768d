import '@tensorflow/tfjs-layers';
import { initBackend, RELU_GRAD_KERNEL } from '@moprune/backend';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// x covers positive, zero, negative and NaN; dy covers finite, ±Infinity and NaN.
const X = [2, 0, -1, Number.NaN, 3, -0.5, 0, 4];
const DY = [1.5, 2, Number.POSITIVE_INFINITY, 1, Number.NaN, Number.NEGATIVE_INFINITY, Number.NaN, -3];
// dy · step(x) as tfjs's stock gradient computes it: 0·±Inf and 0·NaN are NaN.
const EXPECTED = [1.5, 0, Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN, -3];

let calls = 0;

function reluGrad(): number[] {
  return tf.tidy(() => {
    const dy = tf.tensor1d(DY);
    const [dx] = tf.grads((x: tf.Tensor) => tf.mul(tf.relu(x), dy))([tf.tensor1d(X)]);
    return Array.from(dx!.dataSync());
  });
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu', silent: true });
});

afterEach(() => {
  if (tf.getKernel(RELU_GRAD_KERNEL, 'cpu')) tf.unregisterKernel(RELU_GRAD_KERNEL, 'cpu');
});

describe('Relu gradient', () => {
  it("is tfjs's dy · step(x) on a backend without the one-pass kernel", () => {
    expect(tf.getKernel(RELU_GRAD_KERNEL, 'cpu')).toBeUndefined();
    expect(reluGrad()).toEqual(EXPECTED);
  });

  it('calls the one-pass kernel when the backend registers it, once per gradient', () => {
    tf.registerKernel({
      kernelName: RELU_GRAD_KERNEL,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend }) => {
        calls++;
        const b = backend as unknown as {
          readSync(id: object): Float32Array;
          makeTensorInfo(s: number[], d: 'float32', v: Float32Array): tf.TensorInfo;
        };
        const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
        const [dv, xv] = [b.readSync(dy.dataId), b.readSync(x.dataId)];
        const out = xv.map((v, i) => (Number.isNaN(v) ? Number.NaN : v > 0 ? dv[i]! : dv[i]! * 0));
        return b.makeTensorInfo([...x.shape], 'float32', out);
      },
    });
    const before = calls;
    const live = tf.memory().numTensors;
    expect(reluGrad()).toEqual(EXPECTED);
    expect(calls - before).toBe(1);
    expect(tf.memory().numTensors).toBe(live);
  });
});
