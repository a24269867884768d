import {
  definePruner,
  type JsonObject,
  joinPath,
  type ParamSelector,
  type Pruner,
  schema as s,
} from '@moprune/core';
import { throwIfIssues } from '../errors.js';
import { createValidationCutPruner } from '../internal/validation-cut.js';

/** Config of {@link createSensitivityPruner}. */
export interface SensitivityConfig {
  readonly type: 'sensitivity';
  /** Steps between thresholding checks. @default the run's steps per epoch */
  readonly every?: number;
  /**
   * What "the validation performance holds" is measured on: `'accuracy'`
   * (the classification error the paper reports) or `'loss'`.
   * @default 'accuracy'
   */
  readonly metric?: 'accuracy' | 'loss';
  /**
   * Tolerated worsening of `metric` by a cut: accuracy may drop by at most
   * this much (absolute, 0–1); a loss may grow to (1 + tolerance)·L.
   * @default 0 (the threshold rises only as far as validation accuracy does not drop)
   */
  readonly tolerance?: number;
  /**
   * Checks without a relative validation-loss improvement of `minDelta`
   * before thresholding; 0 thresholds at every check.
   * @default 0
   */
  readonly patience?: number;
  /** @default 0.001 */
  readonly minDelta?: number;
  /** Bisection iterations over the threshold (as a cut size). @default 12 */
  readonly bisectionSteps?: number;
  /** Never prune beyond this fraction of the targets. @default 0.999 */
  readonly maxSparsity?: number;
  /** Parameters thresholded, by one global |w| ranking. @default all kernels: `{ roles: ['kernel'] }` */
  readonly params?: ParamSelector;
}

/** The schema of a sensitivity-pruner config (besides `type`); an accuracy tolerance is at most 1. */
export const sensitivityConfigSchema = s
  .object({
    every: s.integer({ min: 1 }).optional(),
    metric: s.oneOf(['accuracy', 'loss']).optional(),
    tolerance: s.number({ min: 0 }).optional(),
    patience: s.integer({ min: 0 }).optional(),
    minDelta: s.number({ min: 0 }).optional(),
    bisectionSteps: s.integer({ min: 1, max: 64 }).optional(),
    maxSparsity: s.number({ gt: 0, lt: 1 }).optional(),
    params: s.paramSelector().optional(),
  })
  .refine((c, path) =>
    c.metric !== 'loss' && c.tolerance !== undefined && c.tolerance > 1
      ? [{ path: joinPath(path, 'tolerance'), message: `must be ≤ 1 (an accuracy drop), got ${c.tolerance}` }]
      : undefined,
  );

/**
 * The thresholding rule of Tartaglione et al. 2018 ("Learning Sparse Neural
 * Networks via Sensitivity-Driven Regularization", NeurIPS 2018): the
 * sensitivity regularizer (the `sensitivityDecay` objective of
 * @moprune/objectives) drives weights the output is insensitive to towards
 * zero, and parameters whose magnitude is below a threshold T are set to
 * zero, with T raised as far as the performance on the validation set holds.
 *
 * Here, at every check (every `every` steps, by default each epoch) the
 * largest global T is found by bisection — as the number of live weights
 * below it, which is the same search since the cut ranks |w| globally — such
 * that validation accuracy does not drop by more than `tolerance` (default
 * 0); pruned weights stay pruned, so T only ratchets up over the live
 * weights. The last T is reported as the `threshold` metric. Choices the
 * paper leaves open and this rule fixes: one global T across layers (the
 * method decays every layer towards the same scale), validation accuracy as
 * the performance, and a check every epoch rather than only at the end;
 * `patience` > 0 waits for a validation-loss plateau first, which is
 * LOBSTER's (2022) trigger — with `metric: 'loss'` and `tolerance` = twt this
 * pruner is the `lobster` pruner.
 */
export function createSensitivityPruner(
  config: Omit<SensitivityConfig, 'type'> & { type?: 'sensitivity' } = {},
): Pruner {
  const json: JsonObject = { type: 'sensitivity', ...(config as unknown as JsonObject) };
  throwIfIssues('sensitivity pruner', sensitivityPruner.validate(json));
  return createValidationCutPruner({
    name: 'sensitivity',
    config: json,
    every: config.every,
    patience: config.patience ?? 0,
    minDelta: config.minDelta ?? 0.001,
    budget: { metric: config.metric ?? 'accuracy', tolerance: config.tolerance ?? 0 },
    bisectionSteps: config.bisectionSteps ?? 12,
    maxSparsity: config.maxSparsity ?? 0.999,
    selector: config.params ?? { roles: ['kernel'] },
  });
}

/** The `sensitivity` pruner, registered: configs `{ "type": "sensitivity", … }` build it. */
export const sensitivityPruner = definePruner({
  name: 'sensitivity',
  description:
    'Tartaglione et al. 2018: threshold |w| < T globally, T raised by bisection as far as validation accuracy holds',
  configSchema: sensitivityConfigSchema,
  create: (c) => createSensitivityPruner(c),
});
