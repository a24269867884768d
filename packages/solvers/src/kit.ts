/**
 * `@moprune/solvers/kit`: the helpers the built-in solvers are made of, for contributors' solvers —
 * one forward + backward pass per combination of the objectives (`gradientsOf`), Gram matrices and
 * norms of gradient lists, the checks every solver makes (problem shape, finite values, finite
 * gradients: the error codes the conformance suite expects), core's optimizer bound to the problem's
 * variable order (`BoundOptimizer`), and nested, checked solver states.
 *
 * ```ts
 * import { BoundOptimizer, checkProblem, gradientsOf } from '@moprune/solvers/kit';
 * ```
 */
export { BoundOptimizer } from './internal/bound-optimizer.js';
export {
  checkGradientNorm,
  checkProblem,
  checkValues,
  disposeGradients,
  gradientsOf,
  gramMatrix,
  squaredNorm,
  type VariableGradients,
} from './internal/gradients.js';
export { checkStateType, nestState, stateNumber, stateNumbers, unnestState } from './internal/state.js';
