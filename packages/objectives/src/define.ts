import { type ParamSelector, schema as s } from '@moprune/core';

/**
 * The fields every objective config may carry besides its own: `name`, the
 * objective's name in logs, metrics and results (each type has its default).
 */
export const commonFields = { name: s.string().optional() } as const;

/**
 * The three ways a network output can be given (see `CrossEntropyOptions.from`),
 * as a config field.
 */
export const outputKind = () => s.oneOf(['logits', 'logProbabilities', 'probabilities'] as const);

/** A selector as the objectives keep it: the given fields, `trainableOnly` defaulting to true. */
export function toSelector(config: ParamSelector | undefined, fallback: ParamSelector): ParamSelector {
  if (config === undefined) return fallback;
  const { ops, roles, nodes, names, exclude, trainableOnly } = config;
  return {
    ...(ops ? { ops } : {}),
    ...(roles ? { roles } : {}),
    ...(nodes ? { nodes } : {}),
    ...(names ? { names } : {}),
    ...(exclude ? { exclude } : {}),
    trainableOnly: trainableOnly ?? true,
  };
}
