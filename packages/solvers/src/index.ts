export { type CodedIssue, SolverError, type SolverErrorCode } from './errors.js';
export {
  frankWolfeMinNorm,
  type GramMatrix,
  type MinNormOptions,
  type MinNormResult,
  minNormTwo,
  minNormWeights,
} from './min-norm.js';
export {
  type AdaptiveSearchOptions,
  bisectionSearch,
  checkPoints,
  type DichotomicSearchOptions,
  dichotomicSearch,
  dominates,
  type GridSearchOptions,
  gridSearch,
  hypervolume,
  hypervolume2d,
  kneeByDistance,
  kneeByLambdaJump,
  lambda2Grid,
  nonDominated,
  nonDominatedIndices,
  type ObjectivePoint,
  REINERS2020_LAMBDA2_GRID,
  runWeightSearch,
  type WeightedResult,
  type WeightSearch,
} from './pareto/index.js';
export { registerSolvers, SOLVER_REGISTRATIONS } from './register.js';
export { type GrowingBatchOptions, growingBatchSchedule } from './schedule.js';
export {
  CHEBYSHEV_AL,
  type ChebyshevAlConfig,
  createChebyshevAlSolver,
  validateChebyshevAlConfig,
} from './solvers/chebyshev-al.js';
export { createMadamSolver, MADAM, type MadamConfig, validateMadamConfig } from './solvers/madam.js';
export { createSmgdSolver, SMGD, type SmgdConfig, validateSmgdConfig } from './solvers/smgd.js';
export {
  createWeightedSumSolver,
  validateWeightedSumConfig,
  WEIGHTED_SUM,
  type WeightedSumConfig,
} from './solvers/weighted-sum.js';
