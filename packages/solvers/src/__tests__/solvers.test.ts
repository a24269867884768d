import { fc, test } from '@fast-check/vitest';
import {
  type ComponentState,
  isMopruneError,
  registries,
  type Solver,
  type StepProblem,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createChebyshevAlSolver,
  createMadamSolver,
  createSmgdSolver,
  createWeightedSumSolver,
  dominates,
  gradientScales,
  growingBatchSchedule,
  MIN_GRADIENT_SCALE,
  minNormWeights,
  nonDominated,
} from '../index.js';
import { quadraticProblem } from '../testing/index.js';
import { twoObjectives } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let baseline = 0;
beforeAll(() => {
  baseline = tf.memory().numTensors;
});
afterEach(() => {
  // Every test disposes what it creates.
  expect(tf.memory().numTensors).toBe(baseline);
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isMopruneError(e) ? `${(e as Error).name}:${e.code}` : `untyped:${String(e)}`;
  }
  return 'none';
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, k) => s + v * b[k]!, 0);
const gramOf = (g: readonly (readonly number[])[]) => g.map((a) => g.map((b) => dot(a, b)));

function train(
  solver: Solver,
  problem: { problem: StepProblem; advance(e?: boolean): void },
  steps: number,
  perEpoch = 0,
) {
  let last: ReturnType<Solver['step']> | undefined;
  for (let k = 0; k < steps; k++) {
    last = solver.step(problem.problem);
    const epochEnd = perEpoch > 0 && (k + 1) % perEpoch === 0;
    problem.advance(epochEnd);
    if (epochEnd) solver.endEpoch?.(problem.problem.epoch - 1);
  }
  return last!;
}

describe('hand-computed first steps', () => {
  it('SMGD: c from the closed form, v = −lr·d, w ← w + v', () => {
    // f1 = (x−1)² + y², f2 = x² + (y−2)² at (0,0): g1 = (−2, 0), g2 = (0, −4).
    const q = quadraticProblem({
      centers: [
        [1, 0],
        [0, 2],
      ],
    });
    const solver = createSmgdSolver({ type: 'smgd', lr: 0.1, momentum: 0.9 });
    const r = solver.step(q.problem);
    // c1 = (g2−g1)·g2/‖g2−g1‖² = (2·0 + (−4)(−4))/(4 + 16) = 0.8.
    expect(r.weights[0]).toBeCloseTo(0.8, 6);
    expect(r.weights[1]).toBeCloseTo(0.2, 6);
    expect(r.values).toEqual([1, 4]);
    // d = 0.8·(−2,0) + 0.2·(0,−4) = (−1.6, −0.8); x1 = −0.1·d.
    const x1 = q.point();
    expect(x1[0]).toBeCloseTo(0.16, 6);
    expect(x1[1]).toBeCloseTo(0.08, 6);
    // Second step: v = 0.9·v − lr·d(x1).
    const g1 = [2 * (x1[0]! - 1), 2 * x1[1]!];
    const g2 = [2 * x1[0]!, 2 * (x1[1]! - 2)];
    const c = minNormWeights(gramOf([g1, g2])).weights;
    const d = [c[0]! * g1[0]! + c[1]! * g2[0]!, c[0]! * g1[1]! + c[1]! * g2[1]!];
    solver.step(q.problem);
    const x2 = q.point();
    expect(x2[0]).toBeCloseTo(x1[0]! + 0.9 * 0.16 - 0.1 * d[0]!, 5);
    expect(x2[1]).toBeCloseTo(x1[1]! + 0.9 * 0.08 - 0.1 * d[1]!, 5);
    solver.dispose();
    q.dispose();
  });

  it('SMGD with decay: the k-th update uses lr/(1 + decay·k)', () => {
    // Momentum 0: each step moves by exactly −lr_k·d_k, so the rate of every step can be read off.
    const q = quadraticProblem({
      centers: [
        [1, 0],
        [0, 2],
      ],
    });
    const lr = 0.1;
    const decay = 0.5;
    const solver = createSmgdSolver({ type: 'smgd', lr, momentum: 0, decay });
    for (let k = 0; k < 4; k++) {
      const x = q.point();
      const g1 = [2 * (x[0]! - 1), 2 * x[1]!];
      const g2 = [2 * x[0]!, 2 * (x[1]! - 2)];
      const c = minNormWeights(gramOf([g1, g2])).weights;
      const d = [c[0]! * g1[0]! + c[1]! * g2[0]!, c[0]! * g1[1]! + c[1]! * g2[1]!];
      solver.step(q.problem);
      const y = q.point();
      const rate = lr / (1 + decay * k);
      expect(y[0]).toBeCloseTo(x[0]! - rate * d[0]!, 6);
      expect(y[1]).toBeCloseTo(x[1]! - rate * d[1]!, 6);
    }
    solver.dispose();
    q.dispose();
  });

  it('SMGD normalize: the min-norm step on g_i/s_i, the direction Σ (c_i/s_i)·g_i', () => {
    // f1 = (x−1)² + y², f2 = x² + (y−2)² at (0,0): f = (1, 4), g1 = (−2, 0), g2 = (0, −4), ‖g‖ = (2, 4).
    const centers = [
      [1, 0],
      [0, 2],
    ];
    const cases = [
      // l2: unit vectors (−1, 0), (0, −1) → c = (½, ½), d = ½·g1/2 + ½·g2/4 = (−0.5, −0.5).
      { normalize: 'l2', c: [0.5, 0.5], scales: [2, 4], x: [0.05, 0.05] },
      // loss: (−2, 0), (0, −1) → c1 = ((2, −1)·(0, −1))/5 = 0.2, d = 0.2·(−2, 0) + 0.8·(0, −1) = (−0.4, −0.8).
      { normalize: 'loss', c: [0.2, 0.8], scales: [1, 4], x: [0.04, 0.08] },
      // loss+: g1/2, g2/16 = (−1, 0), (0, −¼) → c1 = ((1, −¼)·(0, −¼))/(17/16) = 1/17, d = c1·(−1, 0) + (16/17)·(0, −¼).
      { normalize: 'loss+', c: [1 / 17, 16 / 17], scales: [2, 16], x: [0.1 / 17, 0.4 / 17] },
      // none: the paper's SMGD (the closed form above): c = (0.8, 0.2), d = (−1.6, −0.8).
      { normalize: 'none', c: [0.8, 0.2], scales: [1, 1], x: [0.16, 0.08] },
    ] as const;
    for (const k of cases) {
      const q = quadraticProblem({ centers });
      const solver = createSmgdSolver({ type: 'smgd', lr: 0.1, momentum: 0.9, normalize: k.normalize });
      const r = solver.step(q.problem);
      expect(r.weights[0], k.normalize).toBeCloseTo(k.c[0], 6);
      expect(r.weights[1], k.normalize).toBeCloseTo(k.c[1], 6);
      // The unscaled Gram matrix of g1 = (−2, 0), g2 = (0, −4).
      expect([r.extra?.gram11, r.extra?.gram12, r.extra?.gram22]).toEqual([4, 0, 16]);
      if (k.normalize !== 'none') expect([r.extra?.scale0, r.extra?.scale1]).toEqual([...k.scales]);
      else expect(r.extra).not.toHaveProperty('scale0');
      const x = q.point();
      expect(x[0], k.normalize).toBeCloseTo(k.x[0], 6);
      expect(x[1], k.normalize).toBeCloseTo(k.x[1], 6);
      expect(solver.config.normalize).toBe(k.normalize === 'none' ? undefined : k.normalize);
      solver.dispose();
      q.dispose();
    }
    expect(codeOf(() => createSmgdSolver({ type: 'smgd', normalize: 'l1' as never }))).toBe(
      'SolverError:INVALID_CONFIG',
    );
    expect(registries().solvers.validate({ type: 'smgd', normalize: 'l1' })[0]?.path).toBe('normalize');
  });

  it('SMGD minNormOver: the min-norm weights from the shared variables only, the step over every variable', () => {
    // f1 = (a−1)² + (b−3)², f2 = (a+1)² + b² at a = b = 0: g1 = (−2, −6), g2 = (2, 0).
    // Over a alone (shared): −2 vs 2 → c = (½, ½); over both: c1 = (4 + 4)/(40 + 8 + 4) = 2/13.
    let made = 0;
    const problemOf = () => {
      const tag = `minnorm${made++}`;
      const a = tf.tidy(() => tf.variable(tf.scalar(0), true, `${tag}/shared.w`));
      const b = tf.tidy(() => tf.variable(tf.scalar(0), true, `${tag}/head.w`));
      const problem = twoObjectives([a, b]);
      return { a, b, problem };
    };
    const shared = problemOf();
    const mgda = createSmgdSolver({ type: 'smgd', lr: 0.1, momentum: 0, minNormOver: ['shared.'] });
    const r = mgda.step(shared.problem);
    expect(r.weights[0]).toBeCloseTo(0.5, 6);
    expect([r.extra?.gram11, r.extra?.gram12, r.extra?.gram22]).toEqual([4, -4, 4]);
    // d = ½·(−2, −6) + ½·(2, 0) = (0, −3): the head moves though only the shared variable chose c.
    expect(shared.a.dataSync()[0]).toBeCloseTo(0, 6);
    expect(shared.b.dataSync()[0]).toBeCloseTo(0.3, 6);
    expect(mgda.config.minNormOver).toEqual(['shared.']);
    const all = problemOf();
    const smgd = createSmgdSolver({ type: 'smgd', lr: 0.1, momentum: 0 });
    expect(smgd.step(all.problem).weights[0]).toBeCloseTo(2 / 13, 6);
    const none = problemOf();
    const wrong = createSmgdSolver({ type: 'smgd', minNormOver: ['trunk.'] });
    expect(codeOf(() => wrong.step(none.problem))).toBe('SolverError:INVALID_CONFIG');
    expect(registries().solvers.validate({ type: 'smgd', minNormOver: [] })[0]?.path).toBe('minNormOver');
    for (const s of [mgda, smgd, wrong]) s.dispose();
    for (const q of [shared, all, none]) tf.dispose([q.a, q.b]);
  });

  it('gradientScales: each mode, a scale at the floor kept, below it or not finite replaced by 1; no Gram log beyond two objectives', () => {
    const gram = [
      [9, 1],
      [1, 1e-26],
    ];
    // ‖g2‖ = 1e-13 is below the floor: its scale is 1 (and so is 5·1e-13 for loss+).
    expect(gradientScales('l2', [2, 5], gram)).toEqual([3, 1]);
    expect(gradientScales('loss', [2, 5], gram)).toEqual([2, 5]);
    expect(gradientScales('loss+', [2, 5], gram)).toEqual([6, 1]);
    expect(gradientScales('none', [2, 5], gram)).toEqual([1, 1]);
    // Exactly the floor is a usable scale; just below it, or NaN/∞, is not.
    expect(gradientScales('loss', [MIN_GRADIENT_SCALE, MIN_GRADIENT_SCALE / 2], gram)).toEqual([
      MIN_GRADIENT_SCALE,
      1,
    ]);
    expect(gradientScales('loss', [Number.NaN, Number.POSITIVE_INFINITY], gram)).toEqual([1, 1]);
    // SMGD on three objectives logs no two-objective Gram entries.
    const q = quadraticProblem({
      centers: [
        [1, 0],
        [0, 2],
        [-1, -1],
      ],
    });
    const solver = createSmgdSolver({ type: 'smgd', lr: 0.1 });
    expect(solver.step(q.problem).extra).not.toHaveProperty('gram11');
    solver.dispose();
    q.dispose();
  });

  it('MAdam: per-objective moments, w ← w − lr_t·Σ c_i m_i/(√v_i + ε)', () => {
    const q = quadraticProblem({
      centers: [
        [1, 0],
        [0, 2],
      ],
    });
    const lr = 0.01;
    const solver = createMadamSolver({ type: 'madam', lr, epsilon: 1e-7 });
    const r = solver.step(q.problem);
    expect(r.weights[0]).toBeCloseTo(0.8, 6);
    const g = [
      [-2, 0],
      [0, -4],
    ];
    const lrT = (lr * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    const expected = [0, 1].map(
      (j) =>
        -lrT *
        g.reduce(
          (s, gi, i) => s + r.weights[i]! * ((0.1 * gi[j]!) / (Math.sqrt(0.001 * gi[j]! ** 2) + 1e-7)),
          0,
        ),
    );
    const x = q.point();
    expect(x[0]).toBeCloseTo(expected[0]!, 6);
    expect(x[1]).toBeCloseTo(expected[1]!, 6);
    solver.dispose();
    q.dispose();
  });

  it('MAdam over ten steps against a float64 model: moments per objective and variable, bias correction per slot, lr/(1 + decay·k)', () => {
    // Three objectives on two variables (x and y are separate tf.Variables, each with its own slot).
    const centers = [
      [1, 0],
      [0, 2],
      [-1, -1],
    ];
    const q = quadraticProblem({ centers, start: [0.5, 0.5], split: [1, 1] });
    const o = { lr: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-3, decay: 0.3 };
    const solver = createMadamSolver({ type: 'madam', ...o });
    const m = centers.map(() => [0, 0]);
    const v = centers.map(() => [0, 0]);
    let x = [0.5, 0.5];
    for (let k = 0; k < 10; k++) {
      const g = q.gradients(x);
      const r = solver.step(q.problem);
      // The weights are the min-norm weights of this step's gradients.
      const c = minNormWeights(gramOf(g)).weights;
      for (const [i, ci] of c.entries()) expect(r.weights[i]).toBeCloseTo(ci, 5);
      const lr = o.lr / (1 + o.decay * k);
      const t = k + 1;
      const lrT = (lr * Math.sqrt(1 - o.beta2 ** t)) / (1 - o.beta1 ** t);
      x = x.map((xn, n) => {
        let step = 0;
        g.forEach((gi, i) => {
          m[i]![n] = o.beta1 * m[i]![n]! + (1 - o.beta1) * gi[n]!;
          v[i]![n] = o.beta2 * v[i]![n]! + (1 - o.beta2) * gi[n]! ** 2;
          step += r.weights[i]! * (m[i]![n]! / (Math.sqrt(v[i]![n]!) + o.epsilon));
        });
        return xn - lrT * step;
      });
      for (const [n, got] of q.point().entries()) expect(got).toBeCloseTo(x[n]!, 5);
      q.advance();
    }
    solver.dispose();
    q.dispose();
  });

  it('weighted sum: one backward pass of Σλf with SGD', () => {
    const q = quadraticProblem({
      centers: [
        [1, 0],
        [0, 2],
      ],
    });
    const solver = createWeightedSumSolver({
      type: 'weighted-sum',
      weights: [0.25, 0.75],
      optimizer: { type: 'sgd', lr: 0.1 },
    });
    const r = solver.step(q.problem);
    expect(r.weights).toEqual([0.25, 0.75]);
    // ∇ = 0.25·(−2,0) + 0.75·(0,−4) = (−0.5, −3).
    const x = q.point();
    expect(x[0]).toBeCloseTo(0.05, 6);
    expect(x[1]).toBeCloseTo(0.3, 6);
    expect(r.extra?.gradientNorm).toBeCloseTo(Math.hypot(0.5, 3), 5);
    solver.dispose();
    q.dispose();
  });
});

describe('min-norm on tensors', () => {
  const vec = (n: number) =>
    fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });
  test.prop(
    [
      fc
        .integer({ min: 2, max: 4 })
        .chain((m) => fc.tuple(fc.array(vec(4), { minLength: m, maxLength: m }), vec(4))),
    ],
    { seed: 31, numRuns: 25 },
  )(
    'SMGD weights satisfy the optimality conditions and no objective increases to first order',
    ([centers, start]) => {
      const q = quadraticProblem({ centers, start, split: [1, 3] });
      const grads = q.gradients();
      const before = q.values();
      const solver = createSmgdSolver({ type: 'smgd', lr: 1e-4, momentum: 0 });
      const r = solver.step(q.problem);
      const d = grads[0]!.map((_, k) => grads.reduce((s, g, i) => s + r.weights[i]! * g[k]!, 0));
      const d2 = dot(d, d);
      const scale = Math.max(1, ...grads.map((g) => dot(g, g)));
      grads.forEach((g, i) => {
        expect(dot(g, d)).toBeGreaterThanOrEqual(d2 - 1e-4 * scale);
        if (r.weights[i]! > 1e-4) expect(Math.abs(dot(g, d) - d2)).toBeLessThan(1e-4 * scale);
      });
      const after = q.values();
      after.forEach((f, i) => {
        expect(f).toBeLessThanOrEqual(before[i]! + 1e-5 * Math.max(1, before[i]!));
      });
      solver.dispose();
      q.dispose();
    },
  );
});

describe('SMGD with normalized gradients (property)', () => {
  const vec = (n: number) =>
    fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });
  test.prop(
    [
      fc.tuple(
        fc.array(vec(4), { minLength: 2, maxLength: 3 }),
        vec(4),
        fc.constantFrom('l2', 'loss', 'loss+'),
      ),
      fc.double({ min: 1, max: 1e4, noNaN: true }),
    ],
    { seed: 37, numRuns: 25 },
  )(
    'whatever the objectives’ scales, the direction is common descent: g_i·d ≥ s_i·‖d‖² − tol, and no objective increases to first order',
    ([centers, start, normalize], k) => {
      // The last objective is k times steeper: unscaled, its gradient would dominate the min-norm step.
      const scales = centers.map((row, i) => row.map(() => (i === centers.length - 1 ? k : 1)));
      const q = quadraticProblem({ centers, start, scales, split: [1, 3] });
      const grads = q.gradients();
      const before = q.values();
      const solver = createSmgdSolver({ type: 'smgd', lr: 1e-6, momentum: 0, normalize });
      const r = solver.step(q.problem);
      const s = grads.map((_, i) => (r.extra?.[`scale${i}`] as number | undefined) ?? Number.NaN);
      const d = grads[0]!.map((_, j) =>
        grads.reduce((acc, g, i) => acc + (r.weights[i]! / s[i]!) * g[j]!, 0),
      );
      const d2 = dot(d, d);
      grads.forEach((g, i) => {
        expect(s[i]).toBeGreaterThan(0);
        expect(dot(g, d)).toBeGreaterThanOrEqual(s[i]! * d2 - 1e-6 * Math.max(1, dot(g, g)));
      });
      q.values().forEach((f, i) => {
        expect(f).toBeLessThanOrEqual(before[i]! + 1e-6 * Math.max(1, before[i]!));
      });
      solver.dispose();
      q.dispose();
    },
  );
});

describe('convergence on convex problems', () => {
  it('SMGD converges to a Pareto-stationary point of two quadratics', () => {
    // Unit curvatures: the Pareto set is the segment between the centers.
    const a = [1, -1, 0.5];
    const b = [-1, 2, 0];
    const q = quadraticProblem({ centers: [a, b], start: [3, 3, -3], split: [1, 2] });
    const solver = createSmgdSolver({ type: 'smgd', lr: 0.05, momentum: 0.9 });
    train(solver, q, 300);
    const x = q.point();
    const g = q.gradients(x);
    const r = minNormWeights(gramOf(g));
    expect(Math.sqrt(r.normSquared)).toBeLessThan(1e-3);
    // x = a + s(b − a) for some s ∈ [0, 1].
    const ab = a.map((v, i) => b[i]! - v);
    const s =
      dot(
        x.map((v, i) => v - a[i]!),
        ab,
      ) / dot(ab, ab);
    expect(s).toBeGreaterThanOrEqual(-1e-3);
    expect(s).toBeLessThanOrEqual(1 + 1e-3);
    x.forEach((v, i) => {
      expect(v).toBeCloseTo(a[i]! + s * ab[i]!, 3);
    });
    solver.dispose();
    q.dispose();
  });

  it('weighted-sum solutions match the closed form and are mutually non-dominated', () => {
    const centers = [
      [1, 0],
      [0, 1],
    ];
    const scales = [
      [1, 3],
      [2, 0.5],
    ];
    const points: number[][] = [];
    for (const l1 of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const w = [l1, 1 - l1];
      const q = quadraticProblem({ centers, scales, start: [2, -2] });
      const solver = createWeightedSumSolver({
        type: 'weighted-sum',
        weights: w,
        optimizer: { type: 'adam', lr: 0.05 },
      });
      train(solver, q, 600);
      const x = q.point();
      // Separable: x_j* = Σ_i w_i s_ij c_ij / Σ_i w_i s_ij.
      x.forEach((v, j) => {
        const num = w.reduce((s, wi, i) => s + wi * scales[i]![j]! * centers[i]![j]!, 0);
        const den = w.reduce((s, wi, i) => s + wi * scales[i]![j]!, 0);
        expect(v).toBeCloseTo(num / den, 2);
      });
      points.push(q.values(x));
      solver.dispose();
      q.dispose();
    }
    expect(nonDominated(points)).toHaveLength(points.length);
  });
});

/**
 * Fonseca–Fleming in 2-D: f1 = 1 − exp(−Σ(x_i − 1/√2)²), f2 = 1 − exp(−Σ(x_i + 1/√2)²).
 * Its Pareto set is x1 = x2 = s ∈ [−1/√2, 1/√2] and its front is concave, so a
 * weighted sum only reaches the two ends while a Chebyshev scalarization reaches every point.
 */
function fonsecaFleming(start: readonly number[]) {
  const t = tf.tensor1d([...start]);
  const x = tf.variable(t, true);
  t.dispose();
  const r = 1 / Math.SQRT2;
  const problem: StepProblem = {
    variables: [x],
    m: 2,
    step: 0,
    epoch: 0,
    evaluate: () => [
      tf.sub(1, tf.exp(tf.neg(tf.sum(tf.square(tf.sub(x, r)))))) as tf.Scalar,
      tf.sub(1, tf.exp(tf.neg(tf.sum(tf.square(tf.add(x, r)))))) as tf.Scalar,
    ],
  };
  const values = () => {
    const [a, b] = Array.from(x.dataSync());
    return [1 - Math.exp(-((a! - r) ** 2 + (b! - r) ** 2)), 1 - Math.exp(-((a! + r) ** 2 + (b! + r) ** 2))];
  };
  return { problem, x, values, advance: () => {}, dispose: () => x.dispose() };
}

describe('weighted Chebyshev + augmented Lagrangian: KKT at the optimum of random convex problems', () => {
  // f_i(x) = ‖x − a_i‖² in 2-D: the Pareto set is the segment [a1, a2], and with ε = 0 the Chebyshev
  // problem min t s.t. k_i·f_i(x) ≤ t has its optimum at x* = a1 + s(a2 − a1), s = √k2/(√k1 + √k2),
  // where both constraints are active with multipliers λ* = (s', 1 − s') ≥ 0, Σλ* = 1 and
  // λ1*·k1·∇f1 + λ2*·k2·∇f2 = 0 (stationarity in x).
  test.prop(
    [
      fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })),
      fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })),
      fc.double({ min: 0.2, max: 0.8, noNaN: true }),
    ],
    { seed: 20, numRuns: 8, endOnFailure: true },
  )(
    'the textbook form converges to x* with feasible, complementary, non-negative multipliers',
    (a1, a2, k1) => {
      const d2 = (a2[0] - a1[0]) ** 2 + (a2[1] - a1[1]) ** 2;
      fc.pre(d2 > 0.25);
      const k = [k1, 1 - k1];
      const start = tf.tensor1d([0.5 * (a1[0] + a2[0]) + 0.3, 0.5 * (a1[1] + a2[1]) - 0.2]);
      const x = tf.variable(start, true);
      start.dispose();
      const problem: StepProblem = {
        variables: [x],
        m: 2,
        step: 0,
        epoch: 0,
        evaluate: () => [a1, a2].map((a) => tf.sum(tf.square(tf.sub(x, tf.tensor1d(a)))) as tf.Scalar),
      };
      const solver = createChebyshevAlSolver({
        type: 'chebyshev-al',
        preference: k,
        epsilon: 0,
        mu0: 1,
        rho: 2,
        outerEvery: 1,
        form: 'textbook',
        optimizer: { type: 'adam', lr: 0.01 },
      });
      let last: ReturnType<Solver['step']> | undefined;
      /** dL/df of the last 100 steps: the multipliers the steps used, ψ'(c_i)·k_i. */
      const tail: (readonly number[])[] = [];
      let xs: number[];
      try {
        for (let epoch = 0; epoch < 8; epoch++) {
          for (let step = 0; step < 200; step++) {
            last = solver.step(problem);
            if (epoch === 7 && step >= 100) tail.push(last.weights);
          }
          solver.endEpoch?.(epoch);
        }
        xs = Array.from(x.dataSync());
      } finally {
        solver.dispose();
        x.dispose();
      }
      const s = Math.sqrt(k[1]!) / (Math.sqrt(k[0]!) + Math.sqrt(k[1]!));
      const star = [a1[0] + s * (a2[0] - a1[0]), a1[1] + s * (a2[1] - a1[1])];
      expect(Math.hypot(xs[0]! - star[0]!, xs[1]! - star[1]!)).toBeLessThan(0.03 * Math.sqrt(d2));
      const f = [a1, a2].map((a) => (xs[0]! - a[0]) ** 2 + (xs[1]! - a[1]) ** 2);
      const t = last!.extra!.t!;
      const c = f.map((fi, i) => k[i]! * fi - t);
      // Feasible, both active (the optimum's constraints are tight).
      for (const ci of c) expect(Math.abs(ci)).toBeLessThan(0.02 * Math.max(t, 0.05));
      // The multipliers the steps used, ψ'(c_i) = max(0, λ_i + μc_i) = (dL/df_i)/k_i, averaged over the
      // last 100 steps: non-negative, summing to 1 (∂L/∂t = 0), near λ* = (s, 1 − s) (stationarity in
      // x; complementary slackness holds as both constraints are active).
      const psi = [0, 1].map((i) => tail.reduce((a, w) => a + w[i]!, 0) / tail.length / k[i]!);
      for (const p of psi) expect(p).toBeGreaterThanOrEqual(0);
      expect(Math.abs(psi[0]! + psi[1]! - 1)).toBeLessThan(0.05);
      expect(Math.abs(psi[0]! - s)).toBeLessThan(0.05);
      const grad = [0, 1].map((j) =>
        psi.reduce((g, p, i) => g + p * k[i]! * 2 * (xs[j]! - [a1, a2][i]![j]!), 0),
      );
      expect(Math.hypot(grad[0]!, grad[1]!)).toBeLessThan(0.05 * Math.sqrt(t));
    },
  );
});

describe('weighted Chebyshev + augmented Lagrangian', () => {
  it('traces the concave Fonseca–Fleming front, satisfying the constraints, where a weighted sum cannot', () => {
    const results: { k: number; f: number[]; x: number[] }[] = [];
    for (const k1 of [0.25, 0.5, 0.75]) {
      const k = [k1, 1 - k1];
      const ff = fonsecaFleming([0.3, -0.2]);
      const solver = createChebyshevAlSolver({
        type: 'chebyshev-al',
        preference: k,
        epsilon: 1e-4,
        mu0: 1,
        rho: 2,
        outerEvery: 1,
        optimizer: { type: 'adam', lr: 0.01 },
      });
      let last: ReturnType<Solver['step']> | undefined;
      for (let epoch = 0; epoch < 8; epoch++) {
        for (let s = 0; s < 100; s++) last = solver.step(ff.problem);
        solver.endEpoch?.(epoch);
      }
      const f = ff.values();
      const x = Array.from(ff.x.dataSync());
      const t = last!.extra!.t!;
      // Constraints k_i·[f_i + ε(f1 + f2)] − t ≤ 0 hold to tolerance, and t is tight.
      const scaled = f.map((fi, i) => k[i]! * (fi + 1e-4 * (f[0]! + f[1]!)));
      for (const c of scaled) expect(c - t).toBeLessThan(2e-3);
      expect(Math.max(...scaled) - t).toBeGreaterThan(-2e-3);
      // On the Pareto set (x1 = x2) at the Chebyshev point (k1·f1 = k2·f2).
      expect(Math.abs(x[0]! - x[1]!)).toBeLessThan(2e-2);
      expect(Math.abs(scaled[0]! - scaled[1]!)).toBeLessThan(5e-3);
      // The effective multipliers the solver used in its last step, ψ'(c_i) =
      // (dL/df_i)/k_i (ε = 1e-4 neglected), satisfy the KKT conditions of
      // min t s.t. k_i·f̃_i(x) ≤ t at the point found: both constraints are
      // active, so ψ'_i > 0; ∂L/∂t = 1 − Σψ'_i = 0; ∇ₓL = Σ (dL/df_i)·∇f_i = 0,
      // with ∇f_i in closed form here. (The old check, λ ≥ 0, held by the
      // max(0, ·) projection whatever the updates computed.)
      const psi = last!.weights.map((w, i) => w / k[i]!);
      for (const p of psi) expect(p).toBeGreaterThan(0.05);
      expect(Math.abs(psi[0]! + psi[1]! - 1)).toBeLessThan(0.05);
      const r = 1 / Math.SQRT2;
      const gradF = (sign: number) => {
        const e = Math.exp(-x.reduce((acc, xj) => acc + (xj - sign * r) ** 2, 0));
        return x.map((xj) => 2 * (xj - sign * r) * e);
      };
      const terms = [gradF(1), gradF(-1)].map((g, i) => g.map((gj) => last!.weights[i]! * gj));
      x.forEach((_, j) => {
        const [a, b] = [terms[0]![j]!, terms[1]![j]!];
        expect(Math.abs(a + b)).toBeLessThan(0.1 * (Math.abs(a) + Math.abs(b)));
      });
      results.push({ k: k1, f, x });
      solver.dispose();
      ff.dispose();
    }
    // Larger k1 buys a smaller f1: the points move along the front.
    expect(results[0]!.f[0]!).toBeGreaterThan(results[1]!.f[0]!);
    expect(results[1]!.f[0]!).toBeGreaterThan(results[2]!.f[0]!);
    expect(nonDominated(results.map((r) => r.f))).toHaveLength(3);
    // The middle point is interior: both objectives well away from the front's ends (0 and 1 − e^{−2}).
    expect(results[1]!.f[0]!).toBeGreaterThan(0.3);
    expect(results[1]!.f[1]!).toBeGreaterThan(0.3);

    // A weighted sum with λ = (½, ½) from the same start slides to an end of the front.
    const ff = fonsecaFleming([0.3, -0.2]);
    const ws = createWeightedSumSolver({
      type: 'weighted-sum',
      weights: [0.5, 0.5],
      optimizer: { type: 'adam', lr: 0.01 },
    });
    for (let s = 0; s < 800; s++) ws.step(ff.problem);
    const f = ff.values();
    expect(Math.min(f[0]!, f[1]!)).toBeLessThan(0.05);
    // … which the balanced Chebyshev point dominates in neither direction, but differs from.
    expect(dominates(f, results[1]!.f) || dominates(results[1]!.f, f)).toBe(false);
    ws.dispose();
    ff.dispose();
  });

  it('an inactive constraint gets a zero multiplier (complementary slackness)', () => {
    // f = (x² + 2, (x − 1)²), k = (½, ½): min over x of max(k1·f1, k2·f2) is at
    // x = 0, where k1·f1 = 1 > k2·f2 = ½, so only the first constraint is
    // active: KKT asks λ = (1, 0). The textbook updates must reach λ2 = 0 and
    // keep it there (the reference form's λ2 would go negative).
    const t0 = tf.tensor1d([0.5]);
    const x = tf.variable(t0, true);
    t0.dispose();
    const problem: StepProblem = {
      variables: [x],
      m: 2,
      step: 0,
      epoch: 0,
      evaluate: () => [
        tf.add(tf.sum(tf.square(x)), 2) as tf.Scalar,
        tf.sum(tf.square(tf.sub(x, 1))) as tf.Scalar,
      ],
    };
    const solver = createChebyshevAlSolver({
      type: 'chebyshev-al',
      preference: [0.5, 0.5],
      epsilon: 0,
      mu0: 1,
      rho: 2,
      outerEvery: 1,
      optimizer: { type: 'adam', lr: 0.01 },
    });
    let last: ReturnType<Solver['step']> | undefined;
    for (let epoch = 0; epoch < 6; epoch++) {
      for (let s = 0; s < 100; s++) last = solver.step(problem);
      solver.endEpoch?.(epoch);
    }
    expect(Math.abs(x.dataSync()[0]!)).toBeLessThan(0.02);
    const lambda = solver.state().json.lambda as number[];
    expect(lambda[0]).toBeCloseTo(1, 1);
    expect(lambda[1]).toBe(0);
    expect(last!.weights[1]).toBe(0);
    solver.dispose();
    x.dispose();
  });

  it('outer updates: textbook projects λ at 0, the reference form does not', () => {
    // One objective pair with known values: f = (x², (x − 1)²) at x = 0 → f = (0, 1).
    for (const form of ['textbook', 'reference'] as const) {
      const q = quadraticProblem({ centers: [[0], [1]], start: [0] });
      const solver = createChebyshevAlSolver({
        type: 'chebyshev-al',
        preference: [0.5, 0.5],
        form,
        epsilon: 0,
        t0: 0.5,
        lambda0: [0.2, 0.8],
        mu0: 4,
        rho: 3,
        outerEvery: 1,
        optimizer: { type: 'sgd', lr: 0 },
      });
      solver.step(q.problem);
      // c = k·f − t = (0 − 0.5, 0.5 − 0.5) = (−0.5, 0); λ + μc = (0.2 − 2, 0.8) = (−1.8, 0.8).
      solver.endEpoch?.(0);
      const json = solver.state().json;
      expect(json.mu).toBe(12);
      const lambda = json.lambda as number[];
      expect(lambda[0]).toBeCloseTo(form === 'textbook' ? 0 : -1.8, 6);
      expect(lambda[1]).toBeCloseTo(0.8, 6);
      solver.dispose();
      q.dispose();
    }
  });

  it('logs the effective weights dL/df and initializes t on the first batch', () => {
    const q = quadraticProblem({ centers: [[0], [1]], start: [0] });
    const solver = createChebyshevAlSolver({
      type: 'chebyshev-al',
      preference: [0.5, 0.5],
      epsilon: 0,
      lambda0: [0.2, 0.8],
      mu0: 1,
      optimizer: { type: 'sgd', lr: 0 },
    });
    const r = solver.step(q.problem);
    // t starts at max_i k_i f_i = 0.5, so c = (−0.5, 0) and ψ' = max(0, λ + μc) = (0, 0.8).
    expect(r.extra?.t).toBeCloseTo(0.5, 6);
    expect(r.weights[0]).toBeCloseTo(0, 6);
    expect(r.weights[1]).toBeCloseTo(0.4, 6);
    solver.dispose();
    q.dispose();
  });
});

/**
 * The weighted Chebyshev + augmented Lagrangian method written out in float64, independently of the
 * solver: the epigraph variable t, the constraints c_i = k_i·[(f_i − a_i) + ε·Σ_j (f_j − a_j)] − t, the
 * multipliers' slopes ψ'(c_i) (clipped at 0 in the textbook form), one plain SGD step on (x, t) with the
 * lr factor, and the outer update every `outerEvery` epochs (λ from the mean constraint, μ ← ρμ, the lr
 * factor × lrDecay).
 */
function chebyshevAlModel(o: {
  k: number[];
  a: number[];
  eps: number;
  lambda: number[];
  mu: number;
  rho: number;
  outerEvery: number;
  lrDecay: number;
  lr: number;
  textbook: boolean;
}) {
  let t: number | undefined;
  let lambda = [...o.lambda];
  let mu = o.mu;
  let factor = 1;
  let sum = o.k.map(() => 0);
  let count = 0;
  let epochs = 0;
  let clipped = 0;
  const scaled = (f: number[]) => {
    const d = f.map((v, i) => v - o.a[i]!);
    const total = d.reduce((x, y) => x + y, 0);
    return d.map((v, i) => o.k[i]! * (v + o.eps * total));
  };
  return {
    get clipped() {
      return clipped;
    },
    /** One step at x: the expected logs and the new (x, t). */
    step(x: number[], f: number[], g: number[][]) {
      t ??= Math.max(...scaled(f));
      const tBefore = t;
      const c = scaled(f).map((v) => v - tBefore);
      const slope = c.map((ci, i) => {
        const v = lambda[i]! + mu * ci;
        if (o.textbook && v < 0) clipped++;
        return o.textbook ? Math.max(0, v) : v;
      });
      const weights = f.map((_, j) =>
        slope.reduce((acc, p, i) => acc + p * o.k[i]! * ((i === j ? 1 : 0) + o.eps), 0),
      );
      const gx = x.map((_, n) => weights.reduce((acc, w, j) => acc + w * g[j]![n]!, 0));
      const gt = 1 - slope.reduce((acc, p) => acc + p, 0);
      const logs = { t: tBefore, mu, lambda: [...lambda], weights, maxConstraint: Math.max(...c) };
      t = tBefore - o.lr * factor * gt;
      sum = sum.map((v, i) => v + c[i]!);
      count++;
      return { logs, x: x.map((v, n) => v - o.lr * factor * gx[n]!) };
    },
    endEpoch() {
      epochs++;
      if (epochs < o.outerEvery || count === 0) return;
      lambda = lambda.map((l, i) => {
        const next = l + (mu * sum[i]!) / count;
        return o.textbook ? Math.max(0, next) : next;
      });
      mu *= o.rho;
      factor *= o.lrDecay;
      epochs = 0;
      sum = sum.map(() => 0);
      count = 0;
    },
  };
}

describe('weighted Chebyshev + augmented Lagrangian against a float64 model of the method', () => {
  for (const form of ['textbook', 'reference'] as const) {
    it(`${form} form: t, constraints, multipliers, penalty, effective weights and SGD iterates over three outer iterations`, () => {
      // Three objectives on R² with a non-zero reference point and ε, so every term of the
      // modified Chebyshev constraint and of dL/df matters.
      const centers = [
        [1, 0],
        [0, 1],
        [-1, -0.5],
      ];
      const start = [0.3, -0.2];
      const settings = {
        k: [0.5, 0.3, 0.2],
        a: [0.1, -0.05, 0.2],
        eps: 0.05,
        lambda: [0.05, 0.7, 0.25],
        mu: 2,
        rho: 3,
        outerEvery: 2,
        lrDecay: 0.5,
        lr: 0.05,
      };
      const q = quadraticProblem({ centers, start });
      const solver = createChebyshevAlSolver({
        type: 'chebyshev-al',
        preference: settings.k,
        reference: settings.a,
        epsilon: settings.eps,
        lambda0: settings.lambda,
        mu0: settings.mu,
        rho: settings.rho,
        outerEvery: settings.outerEvery,
        lrDecay: settings.lrDecay,
        form,
        optimizer: { type: 'sgd', lr: settings.lr },
      });
      const model = chebyshevAlModel({ ...settings, textbook: form === 'textbook' });
      let x = [...start];
      const stepsPerEpoch = 2;
      for (let k = 0; k < 6 * stepsPerEpoch; k++) {
        const want = model.step(x, q.values(x), q.gradients(x));
        const r = solver.step(q.problem);
        const near = (got: number | undefined, exp: number) => expect(got).toBeCloseTo(exp, 4);
        near(r.extra?.t, want.logs.t);
        near(r.extra?.mu, want.logs.mu);
        near(r.extra?.maxConstraint, want.logs.maxConstraint);
        for (const [i, l] of want.logs.lambda.entries()) near(r.extra?.[`lambda_${i}`], l);
        for (const [j, w] of want.logs.weights.entries()) near(r.weights[j], w);
        x = want.x;
        for (const [n, v] of q.point().entries()) near(v, x[n]!);
        const epochEnd = (k + 1) % stepsPerEpoch === 0;
        q.advance(epochEnd);
        if (epochEnd) {
          solver.endEpoch?.(q.problem.epoch - 1);
          model.endEpoch();
        }
      }
      // The textbook form's clipping (an inactive constraint's slope is 0) was exercised.
      if (form === 'textbook') expect(model.clipped).toBeGreaterThan(0);
      solver.dispose();
      q.dispose();
    });
  }
});

describe('registry and bad input', () => {
  it('registers every solver with config validation', () => {
    const reg = registries().solvers;
    for (const type of ['weighted-sum', 'smgd', 'madam', 'chebyshev-al']) expect(reg.has(type)).toBe(true);
    expect(reg.validate({ type: 'weighted-sum', weights: [0.5, 0.6] })[0]?.path).toBe('weights');
    expect(reg.validate({ type: 'smgd', momentum: 1 })[0]?.path).toBe('momentum');
    expect(reg.validate({ type: 'madam', frankWolfe: { maxIterations: 0 } })[0]?.path).toBe(
      'frankWolfe.maxIterations',
    );
    expect(reg.validate({ type: 'chebyshev-al', preference: [1], form: 'other' })[0]?.path).toBe('form');
    expect(reg.validate({ type: 'weighted-sum', weights: [1], optimizer: { type: 'lbfgs' } })[0]?.path).toBe(
      'optimizer.type',
    );
  });

  it('names the problem with a typed SolverError', () => {
    expect(codeOf(() => createWeightedSumSolver({ type: 'weighted-sum', weights: [0.5, 0.6] }))).toBe(
      'SolverError:WEIGHTS_OFF_SIMPLEX',
    );
    expect(codeOf(() => createWeightedSumSolver({ type: 'weighted-sum', weights: [-0.5, 1.5] }))).toBe(
      'SolverError:WEIGHTS_OFF_SIMPLEX',
    );
    expect(codeOf(() => createWeightedSumSolver({ type: 'weighted-sum', weights: [] }))).toBe(
      'SolverError:EMPTY_OBJECTIVES',
    );
    expect(codeOf(() => createChebyshevAlSolver({ type: 'chebyshev-al', preference: [0.2, 0.2] }))).toBe(
      'SolverError:WEIGHTS_OFF_SIMPLEX',
    );
    expect(codeOf(() => createSmgdSolver({ type: 'smgd', lr: -1 }))).toBe('SolverError:INVALID_CONFIG');
    expect(codeOf(() => registries().solvers.create({ type: 'smgd', lr: -1 }, undefined))).toBe(
      'CoreError:INVALID_CONFIG',
    );

    const q = quadraticProblem({ centers: [[0], [1], [2]], start: [0] });
    const ws = createWeightedSumSolver({ type: 'weighted-sum', weights: [0.5, 0.5] });
    expect(codeOf(() => ws.step(q.problem))).toBe('SolverError:OBJECTIVE_COUNT_MISMATCH');
    ws.dispose();
    const smgd = createSmgdSolver();
    const nanValue: StepProblem = {
      ...q.problem,
      evaluate: () => q.problem.evaluate().map((v) => tf.mul(v, Number.NaN)) as tf.Scalar[],
    };
    expect(codeOf(() => smgd.step(nanValue))).toBe('SolverError:NON_FINITE_VALUE');
    expect(q.point()).toEqual([0]);
    const constant: StepProblem = {
      ...q.problem,
      evaluate: () => [...q.problem.evaluate().slice(0, 2), tf.scalar(1)],
    };
    expect(codeOf(() => smgd.step(constant))).toBe('SolverError:NO_GRADIENT');
    expect(q.point()).toEqual([0]);
    const bad: ComponentState = { json: { type: 'madam' }, arrays: {} };
    expect(codeOf(() => smgd.load(bad))).toBe('SolverError:STATE_MISMATCH');
    smgd.dispose();
    q.dispose();
  });

  it('fails loudly when the variables change shape without resetVariables', () => {
    const a = quadraticProblem({
      centers: [
        [0, 0],
        [1, 1],
      ],
    });
    const b = quadraticProblem({ centers: [[0], [1]] });
    for (const solver of [createSmgdSolver(), createMadamSolver()]) {
      solver.step(a.problem);
      expect(codeOf(() => solver.step(b.problem))).toBe('SolverError:STATE_MISMATCH');
      solver.resetVariables?.(b.variables);
      expect(() => solver.step(b.problem)).not.toThrow();
      solver.dispose();
    }
    a.dispose();
    b.dispose();
  });
});

describe('physical removal', () => {
  it('resetVariables keeps the state of unchanged variables (through previous) and restarts the rest', () => {
    for (const make of [
      () => createSmgdSolver({ type: 'smgd', lr: 0.1 }),
      () => createMadamSolver({ type: 'madam', lr: 0.1 }),
      () => createWeightedSumSolver({ type: 'weighted-sum', weights: [0.5, 0.5] }),
    ]) {
      const big = quadraticProblem({
        centers: [
          [1, 2, 3, 4, 5],
          [0, 1, 0, 1, 0],
        ],
        start: [3, 3, 3, 3, 3],
        split: [2, 3],
      });
      const small = quadraticProblem({
        centers: [
          [1, 2, 3, 4],
          [0, 1, 0, 1],
        ],
        start: [3, 3, 3, 3],
        split: [2, 2],
      });
      const solver = make();
      train(solver, big, 3);
      const before = solver.state();
      solver.resetVariables?.(small.variables, big.variables);
      const after = solver.state();
      // Variable 0 has the same shape [2] in both: its state carries over; variable 1 shrank: zeros.
      const kept = (st: ComponentState) =>
        Object.entries(st.arrays).filter(([k]) => /(^|\/)0\/[a-z]+$|^[mv]\/\d+\/0$/.test(k));
      expect(kept(after).map(([k, a]) => [k, Array.from(a.data)])).toEqual(
        kept(before).map(([k, a]) => [k, Array.from(a.data)]),
      );
      const restarted = Object.entries(after.arrays).filter(([k]) =>
        /(^|\/)1\/[a-z]+$|^[mv]\/\d+\/1$/.test(k),
      );
      expect(restarted.length).toBeGreaterThan(0);
      for (const [, a] of restarted) {
        expect(a.shape).toEqual([2, 1]);
        expect(Array.from(a.data).every((v) => v === 0)).toBe(true);
      }
      expect(kept(after).length).toBeGreaterThan(0);
      expect(Object.keys(after.arrays).length).toBe(Object.keys(before.arrays).length);
      train(solver, small, 2);
      solver.dispose();
      big.dispose();
      small.dispose();
    }
  });
});

describe('growing batch schedule', () => {
  it('grows geometrically or linearly per stage, capped', () => {
    const geo = growingBatchSchedule({ initial: 32, factor: 2, every: 2, max: 200 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(geo)).toEqual([32, 32, 64, 64, 128, 128, 200, 200]);
    const lin = growingBatchSchedule({ initial: 10, mode: 'linear', increment: 5 });
    expect([0, 1, 2].map(lin)).toEqual([10, 15, 20]);
    const fixed = growingBatchSchedule({ initial: 7, factor: 1 });
    expect(fixed(100)).toBe(7);
    expect(codeOf(() => growingBatchSchedule({ initial: 0 }))).toBe('SolverError:INVALID_CONFIG');
    expect(codeOf(() => growingBatchSchedule({ initial: 8, factor: 0.5 }))).toBe(
      'SolverError:INVALID_CONFIG',
    );
  });
});
