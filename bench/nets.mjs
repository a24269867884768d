// The benchmark networks, written directly with tf ops and variables, plus
// the two fused ops of @moprune/core that moprune's networks run: its
// training-mode batch norm (one kernel pair on backends that register it,
// tf.moments + tf.batchNorm elsewhere; PyTorch's side runs nn.BatchNorm2d) and
// its bias + ReLU (createNetwork applies it to a dense or conv2d layer's bias
// when a relu follows; tf.relu(tf.add(...)) elsewhere).
// bench/train_step.py defines the same networks in PyTorch: keep them in step.
import { batchNormTraining, biasAddRelu } from '@moprune/core';

/** Deterministic pseudo-random numbers (mulberry32) so every run trains the same weights. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(tf, shape, scale, next) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (next() * 2 - 1) * scale;
  return tf.tensor(data, shape);
}

/** He-uniform weights (fan-in from all but the last axis), zero biases. */
function makeParams(tf, specs, seed) {
  const next = rng(seed);
  const params = {};
  for (const [name, shape] of Object.entries(specs)) {
    const isBias = shape.length === 1;
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const init = name.endsWith('.gamma')
      ? tf.ones(shape)
      : isBias
        ? tf.zeros(shape)
        : uniform(tf, shape, Math.sqrt(6 / fanIn), next);
    params[name] = tf.variable(init, true, name);
    init.dispose();
  }
  return params;
}

function lenet5(tf, seed) {
  const p = makeParams(
    tf,
    {
      c1: [5, 5, 1, 6],
      c1b: [6],
      c2: [5, 5, 6, 16],
      c2b: [16],
      f1: [400, 120],
      f1b: [120],
      f2: [120, 84],
      f2b: [84],
      f3: [84, 10],
      f3b: [10],
    },
    seed,
  );
  const apply = (x) => {
    let h = biasAddRelu(tf.conv2d(x, p.c1, 1, 'same'), p.c1b);
    h = tf.maxPool(h, 2, 2, 'valid');
    h = biasAddRelu(tf.conv2d(h, p.c2, 1, 'valid'), p.c2b);
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.reshape(h, [h.shape[0], 400]);
    h = biasAddRelu(tf.matMul(h, p.f1), p.f1b);
    h = biasAddRelu(tf.matMul(h, p.f2), p.f2b);
    return tf.add(tf.matMul(h, p.f3), p.f3b);
  };
  return { params: p, apply, inputShape: [28, 28, 1] };
}

function lenet300(tf, seed) {
  const p = makeParams(
    tf,
    { f1: [784, 300], f1b: [300], f2: [300, 100], f2b: [100], f3: [100, 10], f3b: [10] },
    seed,
  );
  const apply = (x) => {
    let h = tf.reshape(x, [x.shape[0], 784]);
    h = biasAddRelu(tf.matMul(h, p.f1), p.f1b);
    h = biasAddRelu(tf.matMul(h, p.f2), p.f2b);
    return tf.add(tf.matMul(h, p.f3), p.f3b);
  };
  return { params: p, apply, inputShape: [784] };
}

/** ResNet-20 for 32×32×3 (He et al. 2016, CIFAR variant): 3 stages × 3 basic blocks, option-A shortcuts. */
function resnet20(tf, seed) {
  const specs = { stem: [3, 3, 3, 16], 'stem.gamma': [16], 'stem.beta': [16] };
  const blocks = [];
  let cin = 16;
  for (const [stage, cout] of [16, 32, 64].entries()) {
    for (let b = 0; b < 3; b++) {
      const name = `s${stage}b${b}`;
      const stride = stage > 0 && b === 0 ? 2 : 1;
      specs[`${name}.c1`] = [3, 3, cin, cout];
      specs[`${name}.c1.gamma`] = [cout];
      specs[`${name}.c1.beta`] = [cout];
      specs[`${name}.c2`] = [3, 3, cout, cout];
      specs[`${name}.c2.gamma`] = [cout];
      specs[`${name}.c2.beta`] = [cout];
      blocks.push({ name, stride, cin, cout });
      cin = cout;
    }
  }
  specs.fc = [64, 10];
  specs.fcb = [10];
  const p = makeParams(tf, specs, seed);
  // Training-mode batch norm: normalize with the batch's own moments.
  // relu: true fuses the ReLU after a batch norm, as @moprune/core does for a batchNorm node followed by a relu.
  const bn = (h, key, relu = false) =>
    batchNormTraining(h, p[`${key}.gamma`], p[`${key}.beta`], 1e-5, { relu }).y;
  const apply = (x) => {
    let h = bn(tf.conv2d(x, p.stem, 1, 'same'), 'stem', true);
    for (const { name, stride, cin: ci, cout } of blocks) {
      let r = bn(tf.conv2d(h, p[`${name}.c1`], stride, 'same'), `${name}.c1`, true);
      r = bn(tf.conv2d(r, p[`${name}.c2`], 1, 'same'), `${name}.c2`);
      let s = h;
      if (stride !== 1 || ci !== cout) {
        // Option A: subsample by 2 and zero-pad the new channels equally on both sides.
        const [n, hh, ww] = h.shape;
        s = tf.stridedSlice(h, [0, 0, 0, 0], [n, hh, ww, ci], [1, 2, 2, 1]);
        const extra = (cout - ci) / 2;
        s = tf.pad(s, [
          [0, 0],
          [0, 0],
          [0, 0],
          [extra, extra],
        ]);
      }
      h = tf.relu(tf.add(r, s));
    }
    h = tf.mean(h, [1, 2]);
    return tf.add(tf.matMul(h, p.fc), p.fcb);
  };
  return { params: p, apply, inputShape: [32, 32, 3] };
}

/**
 * Warm-up shared by the benchmarks: untimed calls of `step` until `seconds`
 * have passed since `start` (`done` steps already ran since then; at least
 * one step in all, at most `max`). Returns the number of warm-up steps.
 */
export function warmUp(step, seconds, { start = performance.now(), done = 0, max = 200 } = {}) {
  let steps = done;
  while (steps < 1 || (steps < max && performance.now() - start < seconds * 1000)) {
    step();
    steps++;
  }
  return steps;
}

/** The benchmark networks by name. */
export const NETWORKS = { lenet5, lenet300, resnet20 };

/**
 * One benchmark case: the network, a fixed random batch, and a function that
 * runs one SGD training step (forward, backward, update) and waits for it.
 */
export function makeTrainStep(tf, network, batch, seed = 1) {
  const net = NETWORKS[network](tf, seed);
  const next = rng(seed + 1);
  const x = uniform(tf, [batch, ...net.inputShape], 1, next);
  const labels = new Int32Array(batch).map(() => Math.floor(next() * 10));
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
  const optimizer = tf.train.sgd(0.01);
  const vars = Object.values(net.params);
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.apply(x)), true, vars);
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const dispose = () => {
    tf.dispose([x, y, ...vars]);
    optimizer.dispose();
  };
  return { step, dispose };
}
