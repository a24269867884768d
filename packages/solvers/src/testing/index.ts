export { type DefineFn, describeSolverConformance, type SolverConformanceOptions } from './conformance.js';
export { type QuadraticProblem, type QuadraticProblemOptions, quadraticProblem } from './problems.js';
