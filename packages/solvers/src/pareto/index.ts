export { hypervolume, hypervolume2d } from './hypervolume.js';
export { type KneeByDistanceOptions, kneeByDistance, kneeByLambdaJump, type WeightedResult } from './knee.js';
export { checkPoints, dominates, nonDominated, nonDominatedIndices, type ObjectivePoint } from './points.js';
export {
  type AdaptiveSearchOptions,
  bisectionSearch,
  type DichotomicSearchOptions,
  dichotomicSearch,
  type GridSearchOptions,
  gridSearch,
  lambda2Grid,
  REINERS2020_LAMBDA2_GRID,
  runWeightSearch,
  type WeightSearch,
} from './weight-search.js';
