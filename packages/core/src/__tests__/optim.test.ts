import { fc, test } from '@fast-check/vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createOptimizer,
  isMopruneError,
  type LrScheduleConfig,
  learningRateAt,
  type OptimizerConfig,
  validateLrSchedule,
  validateOptimizerConfig,
} from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const close = (a: number, b: number, tol = 1e-6) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

/** Runs `steps` updates with gradient sequence gs on a 2-vector starting at w0; returns trajectory. */
function run(config: OptimizerConfig, w0: number[], gs: number[][], lrs?: number[]): number[][] {
  const v = tf.variable(tf.tensor1d(w0));
  const opt = createOptimizer(config);
  const out: number[][] = [];
  gs.forEach((g, i) => {
    if (lrs) opt.learningRate = lrs[i]!;
    const gt = tf.tensor1d(g);
    opt.applyGradients(new Map([[v, gt]]));
    gt.dispose();
    out.push([...v.dataSync()]);
  });
  opt.dispose();
  v.dispose();
  return out;
}

describe('optimizers: hand-computed steps', () => {
  it('plain SGD: w − lr·g', () => {
    const traj = run(
      { type: 'sgd', lr: 0.1 },
      [1, -2],
      [
        [0.5, 1],
        [-1, 2],
      ],
    );
    expect(traj[0]![0]).toBeCloseTo(0.95, 6);
    expect(traj[0]![1]).toBeCloseTo(-2.1, 6);
    expect(traj[1]![0]).toBeCloseTo(1.05, 6);
    expect(traj[1]![1]).toBeCloseTo(-2.3, 6);
  });

  it('SGD momentum: PyTorch and Keras forms agree at constant lr and differ when lr changes', () => {
    const gs = [
      [1, 0],
      [1, 0],
      [1, 0],
    ];
    const pt = run({ type: 'sgd', lr: 0.1, momentum: 0.9 }, [0, 0], gs);
    // b1 = 1, w = −0.1; b2 = 1.9, w = −0.29; b3 = 2.71, w = −0.561
    expect(pt.map((w) => w[0])).toEqual([
      expect.closeTo(-0.1, 6),
      expect.closeTo(-0.29, 6),
      expect.closeTo(-0.561, 6),
    ]);
    const ke = run({ type: 'sgd', lr: 0.1, momentum: 0.9, momentumStyle: 'keras' }, [0, 0], gs);
    for (const [i, w] of ke.entries()) expect(close(w[0]!, pt[i]![0]!)).toBe(true);
    // lr 0.1 then 0.2: PyTorch scales the whole buffer by the new lr, Keras only the new gradient.
    const pt2 = run({ type: 'sgd', lr: 0.1, momentum: 0.9 }, [0, 0], gs.slice(0, 2), [0.1, 0.2]);
    const ke2 = run(
      { type: 'sgd', lr: 0.1, momentum: 0.9, momentumStyle: 'keras' },
      [0, 0],
      gs.slice(0, 2),
      [0.1, 0.2],
    );
    expect(pt2[1]![0]).toBeCloseTo(-0.1 - 0.2 * 1.9, 6); // −0.48
    expect(ke2[1]![0]).toBeCloseTo(-0.1 + (0.9 * -0.1 - 0.2), 6); // −0.39
  });

  it('SGD Nesterov (both styles) on hand-computed values', () => {
    const gs = [
      [1, 0],
      [1, 0],
    ];
    // PyTorch: b1 = 1, d = g + μb = 1.9, w = −0.19; b2 = 1.9, d = 1 + 1.71 = 2.71, w = −0.19 − 0.271
    const pt = run({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }, [0, 0], gs);
    expect(pt[0]![0]).toBeCloseTo(-0.19, 6);
    expect(pt[1]![0]).toBeCloseTo(-0.461, 6);
    // Keras: v1 = −0.1, w = 0 + 0.9·(−0.1) − 0.1 = −0.19; v2 = −0.19, w = −0.19 − 0.171 − 0.1
    const ke = run(
      { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, momentumStyle: 'keras' },
      [0, 0],
      gs,
    );
    expect(ke[0]![0]).toBeCloseTo(-0.19, 6);
    expect(ke[1]![0]).toBeCloseTo(-0.461, 6);
  });

  it('Adam (PyTorch ε placement): first step is −lr·sign(g)·|g|/(|g|+ε) and second step by hand', () => {
    const lr = 0.01;
    const traj = run(
      { type: 'adam', lr },
      [1, 1],
      [
        [0.5, -2],
        [0.1, -2],
      ],
    );
    // t=1: m̂ = g, v̂ = g² → step = lr·g/(|g|+ε) ≈ lr·sign(g)
    expect(traj[0]![0]).toBeCloseTo(1 - lr, 6);
    expect(traj[0]![1]).toBeCloseTo(1 + lr, 6);
    // t=2 by hand in float64
    const b1 = 0.9;
    const b2 = 0.999;
    const m = (1 - b1) * 0.5 * b1 + (1 - b1) * 0.1;
    const v = (1 - b2) * 0.25 * b2 + (1 - b2) * 0.01;
    const step = (lr * (m / (1 - b1 ** 2))) / (Math.sqrt(v / (1 - b2 ** 2)) + 1e-8);
    expect(close(traj[1]![0]!, 1 - lr - step, 1e-6)).toBe(true);
  });

  it("Adam 'raw' (Keras) ε placement differs from 'corrected' only through ε", () => {
    const gs = [[1e-6, 1]];
    const c = run({ type: 'adam', lr: 1, epsilon: 1e-6 }, [0, 0], gs);
    const r = run({ type: 'adam', lr: 1, epsilon: 1e-6, epsilonPlacement: 'raw' }, [0, 0], gs);
    // corrected: 1e-6/(1e-6 + 1e-6) = 0.5; raw: lr_t = √(0.001)/0.1, m = 1e-7, √v = √(0.001)·1e-6
    expect(c[0]![0]).toBeCloseTo(-0.5, 5);
    const lrT = Math.sqrt(1 - 0.999) / (1 - 0.9);
    const raw = (lrT * 1e-7) / (Math.sqrt(0.001) * 1e-6 + 1e-6);
    expect(close(r[0]![0]!, -raw, 1e-5)).toBe(true);
  });

  it('RMSprop (uncentered, centered, momentum) by hand', () => {
    const g = [[2, 0]];
    const plain = run({ type: 'rmsprop', lr: 0.1, rho: 0.9, epsilon: 1e-7 }, [0, 0], g);
    // s = 0.1·4 = 0.4 → w = −0.1·2/(√0.4 + ε)
    expect(close(plain[0]![0]!, (-0.1 * 2) / (Math.sqrt(0.4) + 1e-7), 1e-6)).toBe(true);
    const centered = run({ type: 'rmsprop', lr: 0.1, rho: 0.9, epsilon: 1e-7, centered: true }, [0, 0], g);
    // a = 0.2, d = √(0.4 − 0.04)
    expect(close(centered[0]![0]!, (-0.1 * 2) / (Math.sqrt(0.36) + 1e-7), 1e-6)).toBe(true);
    const mom = run(
      { type: 'rmsprop', lr: 0.1, rho: 0.9, momentum: 0.5 },
      [0, 0],
      [
        [2, 0],
        [2, 0],
      ],
    );
    const d1 = 2 / (Math.sqrt(0.4) + 1e-8);
    const s2 = 0.9 * 0.4 + 0.1 * 4;
    const b2 = 0.5 * d1 + 2 / (Math.sqrt(s2) + 1e-8);
    expect(close(mom[1]![0]!, -0.1 * d1 - 0.1 * b2, 1e-6)).toBe(true);
  });

  it('accepts gradients keyed by variable name (tf.variableGrads output) and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const v = tf.tidy(() => tf.variable(tf.tensor1d([3, 4])));
    const opt = createOptimizer({ type: 'adam', lr: 0.1 });
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(v)) as tf.Scalar, [v]);
      opt.applyGradients(grads);
      value.dispose();
      tf.dispose(grads);
    }
    expect(opt.iterations).toBe(3);
    expect(opt.variables).toEqual([v]);
    opt.dispose();
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a gradient of the wrong shape with SHAPE_MISMATCH', () => {
    const v = tf.variable(tf.zeros([2]));
    const opt = createOptimizer({ type: 'sgd', lr: 1 });
    const g = tf.zeros([3]);
    expect(() => opt.applyGradients(new Map([[v, g]]))).toThrow(
      expect.objectContaining({ code: 'SHAPE_MISMATCH' }),
    );
    tf.dispose([v, g]);
    opt.dispose();
  });
});

const configs: OptimizerConfig[] = [
  { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true },
  { type: 'sgd', lr: 0.05, momentum: 0.8, momentumStyle: 'keras' },
  { type: 'adam', lr: 0.01 },
  { type: 'adam', lr: 0.01, epsilonPlacement: 'raw', epsilon: 1e-7 },
  { type: 'rmsprop', lr: 0.01, centered: true, momentum: 0.5 },
];

describe('optimizer state', () => {
  test.prop([fc.constantFrom(...configs), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 4 })], {
    seed: 7,
    numRuns: 15,
  })('state() → load() into a fresh optimizer continues bit-identically', (config, before, after) => {
    const grads = (i: number) => [
      tf.tensor2d([
        [Math.sin(i), Math.cos(i)],
        [i / 7, -1],
      ]),
      tf.tensor1d([i, -i / 3]),
    ];
    const w0 = (): tf.Variable[] => [
      tf.variable(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
      ),
      tf.variable(tf.tensor1d([0.5, -0.5])),
    ];
    const stepAll = (opt: ReturnType<typeof createOptimizer>, vs: tf.Variable[], i: number) => {
      const gs = grads(i);
      opt.applyGradients(new Map(vs.map((v, k) => [v, gs[k]!])));
      tf.dispose(gs);
    };
    // Uninterrupted.
    const a = w0();
    const optA = createOptimizer(config);
    for (let i = 0; i < before + after; i++) stepAll(optA, a, i);
    // Interrupted: save weights + state, rebuild everything, continue.
    const b = w0();
    const optB = createOptimizer(config);
    for (let i = 0; i < before; i++) stepAll(optB, b, i);
    const saved = optB.state();
    const weights = b.map((v) => v.dataSync().slice());
    optB.dispose();
    tf.dispose(b);
    const c = w0();
    for (const [k, v] of c.entries()) tf.tidy(() => v.assign(tf.tensor(weights[k]!, v.shape)));
    const optC = createOptimizer(config);
    optC.load(saved);
    for (let i = before; i < before + after; i++) stepAll(optC, c, i);
    for (const [k, v] of a.entries()) {
      expect(Buffer.from(c[k]!.dataSync().buffer)).toEqual(Buffer.from(v.dataSync().buffer));
    }
    expect(optC.iterations).toBe(before + after);
    optA.dispose();
    optC.dispose();
    tf.dispose([...a, ...c]);
  });

  it('resetVariables keeps state for unchanged shapes and re-initializes changed ones', () => {
    const k1 = tf.variable(tf.ones([2, 3]));
    const b1 = tf.variable(tf.ones([3]));
    const opt = createOptimizer({ type: 'adam', lr: 0.1 });
    const g1 = tf.ones([2, 3]);
    const g2 = tf.ones([3]);
    opt.applyGradients(
      new Map<tf.Variable, tf.Tensor>([
        [k1, g1],
        [b1, g2],
      ]),
    );
    // "Compaction": the kernel loses a unit (new shape), the bias is a new object of the same shape.
    const k2 = tf.variable(tf.ones([2, 2]));
    const b2 = tf.variable(tf.ones([3]));
    opt.resetVariables([k2, b2], [k1, b1]);
    const st = opt.state();
    const entries = (st.json as { entries: { t: number }[] }).entries;
    expect(entries.map((e) => e.t)).toEqual([0, 1]);
    expect([...st.arrays['0/m']!.data]).toEqual([0, 0, 0, 0]);
    expect(st.arrays['1/m']!.data[0]).toBeCloseTo(0.1, 6);
    expect(opt.variables).toEqual([k2, b2]);
    opt.dispose();
    tf.dispose([k1, b1, k2, b2, g1, g2]);
  });

  it('a state loaded before its variables exist is held as a copy: changing the given state later changes nothing', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const src = createOptimizer({ type: 'adam', lr: 0.1 });
    const g = tf.tensor1d([0.5, -1]);
    src.applyGradients(new Map([[v, g]]));
    const saved = src.state();
    const expected = Array.from(saved.arrays['0/m']!.data);
    const opt = createOptimizer({ type: 'adam', lr: 0.1 });
    opt.load(saved); // no variable yet: entry 0 waits for one
    saved.arrays['0/m']!.data[0] = 99;
    (saved.json.entries as { shape: number[] }[])[0]!.shape[0] = 5;
    expect(Array.from(opt.state().arrays['0/m']!.data)).toEqual(expected);
    // the first variable to get a gradient binds entry 0 and steps on exactly as the source does
    const w = tf.variable(tf.tensor1d(Array.from(v.dataSync())));
    src.applyGradients(new Map([[v, g]]));
    opt.applyGradients(new Map([[w, g]]));
    expect(Array.from(w.dataSync())).toEqual(Array.from(v.dataSync()));
    src.dispose();
    opt.dispose();
    tf.dispose([v, w, g]);
  });

  it('load refuses a state of another optimizer type', () => {
    const opt = createOptimizer({ type: 'adam', lr: 0.1 });
    const other = createOptimizer({ type: 'sgd', lr: 0.1 });
    expect(() => opt.load(other.state())).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    opt.dispose();
    other.dispose();
  });
});

describe('optimizer config validation', () => {
  it('lists every problem with paths', () => {
    const issues = validateOptimizerConfig(
      { type: 'adam', lr: -1, beta1: 1, epsilon: 0, bogus: 3 },
      'solver.optimizer',
    );
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'solver.optimizer.beta1',
        'solver.optimizer.bogus',
        'solver.optimizer.epsilon',
        'solver.optimizer.lr',
      ].sort(),
    );
    expect(validateOptimizerConfig({ type: 'nadam', lr: 1 })[0]!.path).toBe('type');
    expect(validateOptimizerConfig({ type: 'sgd', lr: 0.1, nesterov: true })[0]!.path).toBe('nesterov');
  });

  it('createOptimizer throws one INVALID_CONFIG error', () => {
    try {
      createOptimizer({ type: 'sgd', lr: Number.NaN, momentum: 2 });
      expect.unreachable();
    } catch (e) {
      expect(isMopruneError(e, 'INVALID_CONFIG')).toBe(true);
      expect((e as { issues: unknown[] }).issues).toHaveLength(2);
    }
  });
});

describe('learning-rate schedules', () => {
  const at = (step: number, epoch: number) => ({ step, epoch, totalSteps: 100, epochs: 10 });

  it('computes the documented formulas', () => {
    expect(learningRateAt({ type: 'constant' }, 0.1, at(50, 5))).toBe(0.1);
    expect(learningRateAt({ type: 'step', every: 3, gamma: 0.5 }, 0.1, at(0, 5))).toBeCloseTo(0.05, 12);
    expect(learningRateAt({ type: 'step', every: 3, gamma: 0.5 }, 0.1, at(0, 6))).toBeCloseTo(0.025, 12);
    expect(learningRateAt({ type: 'step', every: 10, gamma: 0.1, unit: 'step' }, 1, at(25, 0))).toBeCloseTo(
      0.01,
      12,
    );
    expect(learningRateAt({ type: 'exponential', gamma: 0.98 }, 1e-4, at(0, 2))).toBeCloseTo(
      1e-4 * 0.98 ** 2,
      15,
    );
    expect(learningRateAt({ type: 'inverseTime', decay: 0.01 }, 0.1, at(10, 1))).toBeCloseTo(0.1 / 1.1, 12);
    expect(learningRateAt({ type: 'inverseTime', decay: 0.01, unit: 'epoch' }, 0.1, at(10, 1))).toBeCloseTo(
      0.1 / 1.01,
      12,
    );
    // Reiners: decay = lr/epochs = 0.01 for lr 0.1 over 10 epochs.
    expect(learningRateAt({ type: 'inverseTime', decay: 'lrOverEpochs' }, 0.1, at(10, 1))).toBeCloseTo(
      0.1 / 1.1,
      12,
    );
    expect(learningRateAt({ type: 'cosine' }, 1, at(0, 0))).toBe(1);
    expect(learningRateAt({ type: 'cosine' }, 1, at(50, 0))).toBeCloseTo(0.5, 12);
    expect(learningRateAt({ type: 'cosine', minLr: 0.1 }, 1, at(100, 0))).toBeCloseTo(0.1, 12);
    expect(learningRateAt({ type: 'cosine', warmup: 4 }, 1, at(1, 0))).toBeCloseTo(0.4, 12);
  });

  test.prop([fc.integer({ min: 0, max: 99 })], { seed: 3 })('decaying schedules never increase', (k) => {
    const schedules: LrScheduleConfig[] = [
      { type: 'step', every: 7, gamma: 0.5, unit: 'step' },
      { type: 'exponential', gamma: 0.9, unit: 'step' },
      { type: 'inverseTime', decay: 0.3 },
      { type: 'cosine', minLr: 0.01 },
    ];
    for (const s of schedules) {
      expect(learningRateAt(s, 1, at(k + 1, 0))).toBeLessThanOrEqual(learningRateAt(s, 1, at(k, 0)));
    }
  });

  it('validates with paths', () => {
    expect(
      validateLrSchedule({ type: 'step', every: 0, gamma: -1, unit: 'batch' }, 'training.lrSchedule'),
    ).toEqual([
      { path: 'training.lrSchedule.unit', message: expect.any(String) },
      { path: 'training.lrSchedule.every', message: expect.any(String) },
      { path: 'training.lrSchedule.gamma', message: expect.any(String) },
    ]);
    expect(validateLrSchedule({ type: 'poly' })[0]!.path).toBe('type');
    expect(validateLrSchedule({ type: 'inverseTime', decay: 'lots' })[0]!.path).toBe('decay');
  });
});

describe('optimizer state across a physical removal (resetVariables with takes)', () => {
  const configs: OptimizerConfig[] = [
    { type: 'sgd', lr: 0.05, momentum: 0.9 },
    { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, momentumStyle: 'keras' },
    { type: 'adam', lr: 0.01 },
    { type: 'rmsprop', lr: 0.01, momentum: 0.5 },
  ];
  // Random [rows, cols] variables, random survivors along each axis, a few steps before and after.
  const cases = fc.record({
    config: fc.integer({ min: 0, max: configs.length - 1 }),
    rows: fc.integer({ min: 2, max: 5 }),
    cols: fc.integer({ min: 2, max: 5 }),
    keepRows: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    keepCols: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    steps: fc.integer({ min: 1, max: 4 }),
    seed: fc.integer({ min: 0, max: 1000 }),
  });

  test.prop([cases], { seed: 20261204, numRuns: 40 })(
    'the survivors continue exactly as without the removal: slots sliced, step count kept',
    (c) => {
      const before = tf.memory().numTensors;
      const rows = [...Array(c.rows).keys()].filter((i) => c.keepRows[i]);
      const cols = [...Array(c.cols).keys()].filter((j) => c.keepCols[j]);
      if (rows.length === 0) rows.push(0);
      if (cols.length === 0) cols.push(c.cols - 1);
      const takes = [
        { axis: 0, indices: rows },
        { axis: 1, indices: cols },
      ];
      // (tfjs treats seed 0 as no seed: every seed here is ≥ 1.)
      const grad = (k: number, shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', c.seed + 2 + k);
      const cut = (t: tf.Tensor) =>
        tf.tidy(() => tf.gather(tf.gather(t, tf.tensor1d(rows, 'int32'), 0), tf.tensor1d(cols, 'int32'), 1));
      const full = tf.tidy(() => tf.variable(tf.randomNormal([c.rows, c.cols], 0, 1, 'float32', c.seed + 1)));
      const opt = createOptimizer(configs[c.config]!);
      for (let k = 0; k < c.steps; k++) {
        const g = grad(k, [c.rows, c.cols]);
        opt.applyGradients(new Map([[full, g]]));
        g.dispose();
      }
      // Removal: the survivors as a new variable, the optimizer told which entries they are.
      const small = tf.tidy(() => tf.variable(cut(full)));
      opt.resetVariables([small], [full], [takes]);
      expect((opt.state().json.entries as { t: number }[])[0]!.t).toBe(c.steps);
      const g = grad(99, [c.rows, c.cols]);
      const gSmall = cut(g);
      opt.applyGradients(new Map([[small, gSmall]]));
      // The same step on the full variable (a second optimizer replaying the history).
      const reference = tf.tidy(() =>
        tf.variable(tf.randomNormal([c.rows, c.cols], 0, 1, 'float32', c.seed + 1)),
      );
      const replay = createOptimizer(configs[c.config]!);
      for (let k = 0; k < c.steps; k++) {
        const gk = grad(k, [c.rows, c.cols]);
        replay.applyGradients(new Map([[reference, gk]]));
        gk.dispose();
      }
      replay.applyGradients(new Map([[reference, g]]));
      const want = cut(reference);
      const got = small.dataSync();
      want.dataSync().forEach((x, i) => {
        expect(got[i]).toBeCloseTo(x, 5);
      });
      tf.dispose([g, gSmall, want, full, small, reference]);
      opt.dispose();
      replay.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('without takes (or with takes that do not give the new shape) the state restarts', () => {
    const full = tf.tidy(() => tf.variable(tf.ones([3, 2])));
    const opt = createOptimizer({ type: 'adam', lr: 0.01 });
    const g = tf.ones([3, 2]);
    opt.applyGradients(new Map([[full, g]]));
    const small = tf.tidy(() => tf.variable(tf.ones([2, 2])));
    opt.resetVariables([small], [full]);
    expect((opt.state().json.entries as { t: number }[])[0]!.t).toBe(0);
    const other = tf.tidy(() => tf.variable(tf.ones([2, 2])));
    opt.resetVariables([other], [small], [[{ axis: 0, indices: [0] }]]);
    expect((opt.state().json.entries as { t: number }[])[0]!.t).toBe(0);
    tf.dispose([full, small, other, g]);
    opt.dispose();
  });
});
