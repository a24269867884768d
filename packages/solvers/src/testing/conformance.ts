import {
  type ComponentState,
  ConformanceFailure,
  conformanceCheck as check,
  type DefineFn,
  isMopruneError,
  type JsonObject,
  type Registry,
  registries,
  type Solver,
  type StepProblem,
} from '@moprune/core';

/** The test framework's `describe`/`it` shape every moprune conformance suite takes (`DefineFn` of `@moprune/core`). */
export type { DefineFn };

import * as tf from '@tensorflow/tfjs-core';
import { type QuadraticProblem, quadraticProblem } from './problems.js';

/** Options of {@link describeSolverConformance}. */
export interface SolverConformanceOptions {
  /** Shown in test names. */
  readonly name: string;
  /** Builds the solver from a config (usually the package's factory). */
  readonly create: (config: JsonObject) => Solver;
  /**
   * The config, or a function giving the config for a problem of m objectives
   * (weights, preferences … depend on m). With one object, set `objectives` to the m it fits.
   */
  readonly config: JsonObject | ((m: number) => JsonObject);
  /** Numbers of objectives to run on. @default [2, 3] */
  readonly objectives?: readonly number[];
  /**
   * First-order descent the solver guarantees for a small learning rate:
   * `'every-objective'` (multi-gradient methods: no objective increases),
   * `'weighted'` (Σ w_i f_i with the reported weights does not increase), or `false`.
   */
  readonly descent: 'every-objective' | 'weighted' | false;
  /** True when the step vanishes at a Pareto-stationary point (min-norm methods). */
  readonly stationary: boolean;
  /** True when the reported weights are a convex combination (on the simplex). */
  readonly simplexWeights: boolean;
  /** The registry the config round-trips through. @default registries().solvers */
  readonly registry?: Registry<Solver>;
  /** Learning rate used for the descent/stationarity checks. @default 1e-3 */
  readonly smallLearningRate?: number;
  /** vitest/jest `describe`. */
  readonly describe: DefineFn;
  /** vitest/jest `it`. */
  readonly it: DefineFn;
}

function close(a: readonly number[], b: readonly number[], tol: number, what: string): void {
  check(a.length === b.length, `${what}: lengths ${a.length} and ${b.length} differ`);
  a.forEach((x, i) => {
    const y = b[i]!;
    check(Math.abs(x - y) <= tol * Math.max(1, Math.abs(x), Math.abs(y)), `${what}[${i}]: ${x} vs ${y}`);
  });
}

/** Distinct centers for m objectives in 5 dimensions. */
function centersFor(m: number): number[][] {
  return Array.from({ length: m }, (_, i) =>
    Array.from({ length: 5 }, (_, j) => Math.cos(1.3 * i + 0.7 * j + 0.2 * i * j) * (1 + i)),
  );
}

/** m quadratics with unequal curvatures, started far from the Pareto set. */
function fixture(m: number): QuadraticProblem {
  const centers = centersFor(m);
  const scales = centers.map((row, i) => row.map((_, j) => 1 + 0.25 * ((i + j) % 3)));
  return quadraticProblem({ centers, scales, start: [3, -2, 2.5, 1.5, -3], split: [2, 3] });
}

/**
 * Unit-curvature quadratics started at a Pareto-stationary point: an
 * asymmetric convex combination of the centers (weights ∝ 1, 2, …, m), where
 * the gradients 2(x − c_i) cancel with those weights but differ in length, so
 * only a step along the min-norm direction vanishes there.
 */
function stationaryFixture(m: number): QuadraticProblem {
  const centers = centersFor(m);
  const total = (m * (m + 1)) / 2;
  const start = centers[0]!.map((_, j) => centers.reduce((s, c, i) => s + ((i + 1) / total) * c[j]!, 0));
  return quadraticProblem({ centers, start, split: [2, 3] });
}

/**
 * Unit-curvature quadratics started just off a Pareto-stationary point, in a
 * direction orthogonal to the centers' affine hull: not stationary (a common
 * descent direction exists), yet the gradients conflict — one objective's
 * gradient raises another — so a solver that ignores an objective raises it.
 */
function conflictFixture(m: number): QuadraticProblem {
  const centers = centersFor(m);
  const total = (m * (m + 1)) / 2;
  const start = centers[0]!.map((_, j) => centers.reduce((s, c, i) => s + ((i + 1) / total) * c[j]!, 0));
  // u ⟂ every center difference (Gram–Schmidt), scaled to length 0.1.
  const basis: number[][] = [];
  for (const c of centers.slice(1)) {
    const d = c.map((v, j) => v - centers[0]![j]!);
    for (const b of basis) {
      const dot = d.reduce((s, v, j) => s + v * b[j]!, 0);
      for (let j = 0; j < d.length; j++) d[j]! -= dot * b[j]!;
    }
    const n = Math.hypot(...d);
    if (n > 1e-9) basis.push(d.map((v) => v / n));
  }
  const u = start.map((_, j) => (j % 2 === 0 ? 1 : -0.5) + 0.1 * j);
  for (const b of basis) {
    const dot = u.reduce((s, v, j) => s + v * b[j]!, 0);
    for (let j = 0; j < u.length; j++) u[j]! -= dot * b[j]!;
  }
  const n = Math.hypot(...u);
  return quadraticProblem({ centers, start: start.map((v, j) => v + (0.1 * u[j]!) / n), split: [2, 3] });
}

function run(solver: Solver, q: QuadraticProblem, steps: number): void {
  for (let k = 0; k < steps; k++) {
    solver.step(q.problem);
    q.advance(k % 2 === 1);
    if (k % 2 === 1) solver.endEpoch?.(q.problem.epoch - 1);
  }
}

function sameState(a: ComponentState, b: ComponentState, what: string): void {
  check(
    JSON.stringify(a.json) === JSON.stringify(b.json),
    `${what}: json differs:\n${JSON.stringify(a.json)}\n${JSON.stringify(b.json)}`,
  );
  const ka = Object.keys(a.arrays).sort();
  const kb = Object.keys(b.arrays).sort();
  check(
    JSON.stringify(ka) === JSON.stringify(kb),
    `${what}: array keys differ: ${ka.join(',')} vs ${kb.join(',')}`,
  );
  for (const k of ka) {
    const x = a.arrays[k]!;
    const y = b.arrays[k]!;
    check(JSON.stringify(x.shape) === JSON.stringify(y.shape), `${what}: shape of '${k}' differs`);
    check(
      x.data.length === y.data.length && x.data.every((v, i) => Object.is(v, y.data[i])),
      `${what}: values of '${k}' differ`,
    );
  }
}

function expectSolverError(fn: () => unknown, codes: readonly string[], what: string): void {
  try {
    fn();
  } catch (e) {
    check(
      isMopruneError(e) && codes.includes(e.code),
      `${what}: expected a typed error ${codes.join('/')}, got ${String(e)}`,
    );
    return;
  }
  throw new ConformanceFailure(`${what}: expected a typed error ${codes.join('/')}, got none`);
}

/** A problem whose objectives are finite but whose gradients are NaN (√|x| at x = 0). */
function nanGradientProblem(m: number): { problem: StepProblem; variable: tf.Variable } {
  const variable = tf.variable(tf.zeros([3]), true);
  return {
    variable,
    problem: {
      variables: [variable],
      m,
      step: 0,
      epoch: 0,
      evaluate: () =>
        Array.from({ length: m }, (_, i) => tf.sum(tf.mul(tf.sqrt(tf.abs(variable)), i + 1)) as tf.Scalar),
    },
  };
}

/**
 * Defines the conformance tests every moprune solver passes, with the
 * caller's `describe`/`it` (one call per solver):
 * - the config is JSON, is valid for the registry, and `registry.create(solver.config)`
 *   behaves identically (same trajectory);
 * - `state()` → `load()` → `state()` round-trips exactly, before and after
 *   stepping, and a loaded solver continues exactly like the original;
 * - no tensor leaks: the tensor count is constant across steps, `state`/`load`
 *   and `endEpoch`, and `dispose()` frees everything the solver allocated;
 * - reported values equal the objectives at the start of the step; weights are finite
 *   (and on the simplex when `simplexWeights`);
 * - first-order descent (`descent`) and a vanishing step at a Pareto-stationary point (`stationary`);
 * - `resetVariables` (when implemented) rebuilds state for new shapes;
 * - bad input: no objectives, NaN gradients (variables untouched) → typed errors.
 */
export function describeSolverConformance(options: SolverConformanceOptions): void {
  const { describe, it, create } = options;
  const objectives = options.objectives ?? [2, 3];
  const registry = options.registry ?? registries().solvers;
  const lr = options.smallLearningRate ?? 1e-3;

  describe(`solver conformance: ${options.name}`, () => {
    for (const m of objectives) {
      const given = options.config;
      const config = (): JsonObject =>
        typeof given === 'function' ? given(m) : (JSON.parse(JSON.stringify(given)) as JsonObject);

      it(`[m=${m}] config is JSON and round-trips through the registry`, () => {
        const solver = create(config());
        const twin = registry.create(JSON.parse(JSON.stringify(solver.config)) as JsonObject, undefined);
        try {
          check(
            JSON.stringify(JSON.parse(JSON.stringify(solver.config))) === JSON.stringify(solver.config),
            'solver.config is not plain JSON',
          );
          check(
            registry.validate(solver.config).length === 0,
            'solver.config does not validate in the registry',
          );
          check(
            JSON.stringify(twin.config) === JSON.stringify(solver.config),
            'registry-made solver has another config',
          );
          const a = fixture(m);
          const b = fixture(m);
          try {
            for (let k = 0; k < 4; k++) {
              const ra = solver.step(a.problem);
              const rb = twin.step(b.problem);
              close(ra.weights, rb.weights, 0, `step ${k} weights`);
              close(a.point(), b.point(), 0, `step ${k} point`);
              a.advance(k % 2 === 1);
              b.advance(k % 2 === 1);
              if (k % 2 === 1) {
                solver.endEpoch?.(k >> 1);
                twin.endEpoch?.(k >> 1);
              }
            }
          } finally {
            a.dispose();
            b.dispose();
          }
        } finally {
          solver.dispose();
          twin.dispose();
        }
      });

      it(`[m=${m}] state → load → state round-trips and resumes exactly`, () => {
        const a = fixture(m);
        const b = fixture(m);
        const solver = create(config());
        const fresh = create(config());
        const resumed = create(config());
        try {
          const another = create(config());
          sameState(fresh.state(), another.state(), 'two fresh states');
          another.dispose();
          const empty = fresh.state();
          fresh.load(empty);
          sameState(fresh.state(), empty, 'fresh state after load');
          run(solver, a, 5);
          const saved = solver.state();
          check(
            JSON.stringify(JSON.parse(JSON.stringify(saved.json))) === JSON.stringify(saved.json),
            'state.json is not plain JSON',
          );
          resumed.load(saved);
          sameState(resumed.state(), saved, 'state after load');
          b.setPoint(a.point());
          for (let k = 0; k < 5; k++) b.advance(k % 2 === 1);
          for (let k = 0; k < 3; k++) {
            const ra = solver.step(a.problem);
            const rb = resumed.step(b.problem);
            close(ra.values, rb.values, 0, `resumed step ${k} values`);
            close(a.point(), b.point(), 0, `resumed step ${k} point`);
          }
          sameState(resumed.state(), solver.state(), 'state after resuming');
        } finally {
          for (const s of [solver, fresh, resumed]) s.dispose();
          a.dispose();
          b.dispose();
        }
      });

      it(`[m=${m}] allocates nothing per step and frees everything on dispose`, () => {
        const baseline = tf.memory().numTensors;
        const q = fixture(m);
        const withProblem = tf.memory().numTensors;
        const solver = create(config());
        solver.step(q.problem);
        q.advance();
        const settled = tf.memory().numTensors;
        run(solver, q, 6);
        check(tf.memory().numTensors === settled, `steps leaked ${tf.memory().numTensors - settled} tensors`);
        solver.load(solver.state());
        check(
          tf.memory().numTensors === settled,
          `state/load leaked ${tf.memory().numTensors - settled} tensors`,
        );
        solver.dispose();
        check(
          tf.memory().numTensors === withProblem,
          `dispose left ${tf.memory().numTensors - withProblem} tensors of the solver alive`,
        );
        q.dispose();
        check(tf.memory().numTensors === baseline, 'the fixture leaked');
      });

      it(`[m=${m}] reports the start-of-step values and finite weights`, () => {
        const q = fixture(m);
        const solver = create(config());
        try {
          for (let k = 0; k < 3; k++) {
            const expected = q.values();
            const r = solver.step(q.problem);
            q.advance();
            close(r.values, expected, 1e-5, `step ${k} values`);
            check(r.weights.length === m, `step ${k}: ${r.weights.length} weights for ${m} objectives`);
            check(r.weights.every(Number.isFinite), `step ${k}: non-finite weights ${r.weights.join(',')}`);
            if (options.simplexWeights) {
              check(
                r.weights.every((w) => w >= 0),
                `step ${k}: negative weight`,
              );
              close([r.weights.reduce((s, w) => s + w, 0)], [1], 1e-9, `step ${k} weight sum`);
            }
            for (const [key, v] of Object.entries(r.extra ?? {}))
              check(Number.isFinite(v), `extra.${key} = ${v}`);
          }
        } finally {
          solver.dispose();
          q.dispose();
        }
      });

      if (options.descent) {
        const mode = options.descent;
        it(`[m=${m}] one small step does not increase ${mode === 'every-objective' ? 'any objective' : 'the weighted objective'}`, () => {
          const q = fixture(m);
          const solver = create(config());
          solver.learningRate = lr;
          try {
            const before = q.values();
            const r = solver.step(q.problem);
            const after = q.values();
            if (mode === 'every-objective') {
              // The fixture's gradients do not oppose each other: a multi-gradient step lowers every
              // objective strictly. One that rises — or only stays level, as an objective the solver
              // ignores does to first order — fails.
              for (const [i, f] of after.entries()) {
                check(
                  f < before[i]!,
                  `objective ${i} did not decrease (${before[i]} → ${f}): is it ignored?`,
                );
              }
            } else {
              const wsum = (f: number[]) => f.reduce((s, v, i) => s + v * r.weights[i]!, 0);
              check(wsum(after) < wsum(before), `Σw·f rose from ${wsum(before)} to ${wsum(after)}`);
            }
            check(
              after.some((f, i) => f < before[i]!),
              'the step changed nothing',
            );
          } finally {
            solver.dispose();
            q.dispose();
          }
        });
      }

      if (options.descent === 'every-objective') {
        it(`[m=${m}] near the Pareto set, where the gradients conflict, one small step lowers every objective (none is ignored)`, () => {
          const q = conflictFixture(m);
          const solver = create(config());
          solver.learningRate = lr;
          try {
            const before = q.values();
            solver.step(q.problem);
            const after = q.values();
            for (const [i, f] of after.entries()) {
              check(f < before[i]!, `objective ${i} did not decrease (${before[i]} → ${f}): is it ignored?`);
            }
          } finally {
            solver.dispose();
            q.dispose();
          }
        });
      }

      if (options.stationary) {
        it(`[m=${m}] the step vanishes at a Pareto-stationary point`, () => {
          const q = stationaryFixture(m);
          const solver = create(config());
          solver.learningRate = lr;
          try {
            const x = q.point();
            for (let k = 0; k < 3; k++) solver.step(q.problem);
            close(q.point(), x, 1e-5, 'point after steps at a stationary point');
          } finally {
            solver.dispose();
            q.dispose();
          }
        });
      }

      it(`[m=${m}] resetVariables (when implemented) rebuilds state for new shapes`, () => {
        const solver = create(config());
        if (!solver.resetVariables) {
          solver.dispose();
          return;
        }
        const q = fixture(m);
        const small = quadraticProblem({
          centers: Array.from({ length: m }, (_, i) => [i, -i, 1]),
          start: [2, 2, 2],
          split: [1, 2],
        });
        try {
          run(solver, q, 3);
          solver.resetVariables!(small.variables);
          const before = tf.memory().numTensors;
          run(solver, small, 3);
          check(tf.memory().numTensors === before, 'steps after resetVariables leaked');
          check(small.point().every(Number.isFinite), 'non-finite point after resetVariables');
          const saved = solver.state();
          const other = create(config());
          other.load(saved);
          sameState(other.state(), saved, 'state after resetVariables');
          other.dispose();
        } finally {
          solver.dispose();
          q.dispose();
          small.dispose();
        }
      });

      it(`[m=${m}] rejects bad input with typed errors and leaves variables untouched`, () => {
        const solver = create(config());
        const q = fixture(m);
        const { problem, variable } = nanGradientProblem(m);
        try {
          expectSolverError(
            () => solver.step({ ...q.problem, m: 0, evaluate: () => [] }),
            ['EMPTY_OBJECTIVES', 'OBJECTIVE_COUNT_MISMATCH'],
            'a problem with no objectives',
          );
          // The first attempt may allocate the solver's state for the new variable; a second must allocate nothing.
          expectSolverError(() => solver.step(problem), ['NON_FINITE_GRADIENT'], 'NaN gradients');
          const before = tf.memory().numTensors;
          expectSolverError(() => solver.step(problem), ['NON_FINITE_GRADIENT'], 'NaN gradients (again)');
          check(
            Array.from(variable.dataSync()).every((v) => v === 0),
            'a failed step changed the variables',
          );
          check(
            tf.memory().numTensors === before,
            `a failed step leaked ${tf.memory().numTensors - before} tensors`,
          );
        } finally {
          solver.dispose();
          q.dispose();
          variable.dispose();
        }
      });
    }
  });
}
