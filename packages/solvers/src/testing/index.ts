export { type DefineFn, runSolverConformance, type SolverConformanceOptions } from './conformance.js';
export { type QuadraticProblem, type QuadraticProblemOptions, quadraticProblem } from './problems.js';
