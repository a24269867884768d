import { definePruner, type JsonObject, type ParamSelector, type Pruner, schema as s } from '@moprune/core';
import { throwIfIssues } from '../errors.js';
import { createValidationCutPruner } from '../internal/validation-cut.js';

/** Config of {@link createLobsterPruner}. */
export interface LobsterConfig {
  readonly type: 'lobster';
  /** Steps between validation checks. @default the run's steps per epoch */
  readonly every?: number;
  /** Checks without a relative improvement of the validation loss by `minDelta` before a plateau is declared. @default 2 */
  readonly patience?: number;
  /** @default 0.001 */
  readonly minDelta?: number;
  /** Tolerated worsening: the cut may raise the validation loss to (1 + twt)·L. @default 0.05 */
  readonly twt?: number;
  /** Bisection iterations over the cut size. @default 12 */
  readonly bisectionSteps?: number;
  /** Never prune beyond this fraction of the targets. @default 0.999 */
  readonly maxSparsity?: number;
  /** @default all kernels: `{ roles: ['kernel'] }` */
  readonly params?: ParamSelector;
}

/** The schema of a LOBSTER config (besides `type`). */
export const lobsterConfigSchema = s.object({
  every: s.integer({ min: 1 }).optional(),
  patience: s.integer({ min: 1 }).optional(),
  minDelta: s.number({ min: 0 }).optional(),
  twt: s.number({ min: 0 }).optional(),
  bisectionSteps: s.integer({ min: 1, max: 64 }).optional(),
  maxSparsity: s.number({ gt: 0, lt: 1 }).optional(),
  params: s.paramSelector().optional(),
});

/**
 * LOBSTER's pruning rule (Tartaglione et al. 2022): when the validation loss
 * plateaus, find by bisection the largest global magnitude cut that keeps the
 * validation loss within (1 + twt) of its current value, and apply it. The
 * loss-sensitivity decay w·ReLU(1 − |∂L/∂w|) is the `selectiveWeightDecay`
 * objective with `factor: 'lobster'` in @moprune/objectives.
 *
 * The bisection assumes the loss grows with the cut size (true for magnitude
 * cuts in practice); each probe masks a candidate cut, evaluates, and restores
 * the weights and masks exactly. The same machinery, with an accuracy budget
 * and no plateau wait, is the `sensitivity` pruner (Tartaglione et al. 2018).
 */
export function createLobsterPruner(config: Omit<LobsterConfig, 'type'> & { type?: 'lobster' } = {}): Pruner {
  const json: JsonObject = { type: 'lobster', ...(config as unknown as JsonObject) };
  throwIfIssues('lobster pruner', lobsterPruner.validate(json));
  return createValidationCutPruner({
    name: 'lobster',
    config: json,
    every: config.every,
    patience: config.patience ?? 2,
    minDelta: config.minDelta ?? 0.001,
    budget: { metric: 'loss', tolerance: config.twt ?? 0.05 },
    bisectionSteps: config.bisectionSteps ?? 12,
    maxSparsity: config.maxSparsity ?? 0.999,
    selector: config.params ?? { roles: ['kernel'] },
  });
}

/** The `lobster` pruner, registered: configs `{ "type": "lobster", … }` build it. */
export const lobsterPruner = definePruner({
  name: 'lobster',
  description:
    'LOBSTER: on a validation-loss plateau, the largest global magnitude cut within (1 + twt) of the loss',
  configSchema: lobsterConfigSchema,
  create: (c) => createLobsterPruner(c),
});
