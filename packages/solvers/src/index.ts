// Importing the package defines (and so registers) every solver: `{ "type": "smgd" | "madam" | … }` configs build them.
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
  type KneeByDistanceOptions,
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
export { type GrowingBatchOptions, growingBatchSchedule } from './schedule.js';
export {
  CHEBYSHEV_AL,
  type ChebyshevAlConfig,
  chebyshevAlConfigSchema,
  chebyshevAlSolver,
  createChebyshevAlSolver,
} from './solvers/chebyshev-al.js';
export {
  createMadamSolver,
  MADAM,
  type MadamConfig,
  madamConfigSchema,
  madamSolver,
} from './solvers/madam.js';
export {
  createSmgdSolver,
  GRADIENT_NORMALIZATIONS,
  type GradientNormalization,
  gradientScales,
  MIN_GRADIENT_SCALE,
  SMGD,
  type SmgdConfig,
  smgdConfigSchema,
  smgdSolver,
} from './solvers/smgd.js';
export {
  createWeightedSumSolver,
  WEIGHTED_SUM,
  type WeightedSumConfig,
  weightedSumConfigSchema,
  weightedSumSolver,
} from './solvers/weighted-sum.js';
