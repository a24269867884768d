/**
 * `@moprune/pruners/kit`: the helpers the built-in pruners are made of, for contributors' pruners —
 * reading and writing 0/1 masks, counting them, exact global magnitude cuts, choosing targets
 * with core's `ParamSelector` (an empty selection is a typed config error), and kernels as rows
 * (input neurons of a dense kernel, input channels of a conv kernel: the groups of GrOWL).
 *
 * ```ts
 * import { keepLargest, maskSparsity, maskValues, requireTargets, setMaskValues } from '@moprune/pruners/kit';
 * ```
 */
export { countZeros, keepLargest, maskSparsity, maskValues, setMaskValues } from './internal/masks.js';
export { fromRows, type RowLayout, rowLayout, toRows } from './internal/rows.js';
export { requireTargets } from './internal/targets.js';
