import { type JsonObject, type Registration, registries, type Solver } from '@moprune/core';
import { CHEBYSHEV_AL, createChebyshevAlSolver, validateChebyshevAlConfig } from './solvers/chebyshev-al.js';
import { createMadamSolver, MADAM, validateMadamConfig } from './solvers/madam.js';
import { createSmgdSolver, SMGD, validateSmgdConfig } from './solvers/smgd.js';
import { createWeightedSumSolver, validateWeightedSumConfig, WEIGHTED_SUM } from './solvers/weighted-sum.js';

const strip = (issues: { path: string; message: string }[]) =>
  issues.map(({ path, message }) => ({ path, message }));

/** The solver registrations this package provides. */
export const SOLVER_REGISTRATIONS: readonly Registration<Solver>[] = [
  {
    type: WEIGHTED_SUM,
    description: 'Weighted sum Σλ_i f_i (λ on the simplex), one backward pass, any core optimizer',
    validate: (c: JsonObject) => strip(validateWeightedSumConfig(c)),
    create: (c: JsonObject) => createWeightedSumSolver(c),
  },
  {
    type: SMGD,
    description:
      'Stochastic multi-gradient descent: min-norm convex combination + momentum (Reiners et al. 2020)',
    validate: (c: JsonObject) => strip(validateSmgdConfig(c)),
    create: (c: JsonObject) => createSmgdSolver(c),
  },
  {
    type: MADAM,
    description: 'MAdam: min-norm weights with per-objective Adam moments (Reiners et al. 2020)',
    validate: (c: JsonObject) => strip(validateMadamConfig(c)),
    create: (c: JsonObject) => createMadamSolver(c),
  },
  {
    type: CHEBYSHEV_AL,
    description: 'Weighted Chebyshev scalarization via augmented Lagrangian (Hotegni et al. 2023)',
    validate: (c: JsonObject) => strip(validateChebyshevAlConfig(c)),
    create: (c: JsonObject) => createChebyshevAlSolver(c),
  },
];

/**
 * Registers this package's solvers in `registries().solvers`. Idempotent, so
 * two copies of the package (ESM and CJS, or source and build) can both load.
 */
export function registerSolvers(): void {
  const registry = registries().solvers;
  for (const r of SOLVER_REGISTRATIONS) if (!registry.has(r.type)) registry.register(r);
}

registerSolvers();
