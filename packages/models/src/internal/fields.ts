import { type Fields, type InitializerName, schema as s } from '@moprune/core';

/** The initializers a model option may name (every one core implements). */
export const INITIALIZERS: readonly InitializerName[] = [
  'glorotUniform',
  'heNormal',
  'torchDefault',
  'zeros',
];

/** The `init` field every model has. */
export const initField = s.oneOf(INITIALIZERS).optional();

/** `gates` of the plain (non-residual) models. */
export const plainGatesField = s.oneOf(['none', 'units']).optional();

/** A dropout rate in [0, 1), optional. */
export const dropoutRate = s.number({ min: 0, lt: 1 }).optional();

/** `inputShape`: positive integer dimensions. */
const inputShape = s.array(s.integer({ min: 1 }), { minLength: 1 }).optional();

/** The shape fields of a single-task builder's options (a config gets them from the dataset). */
export const singleTaskShape = { inputShape, classes: s.integer({ min: 2 }).optional() } satisfies Fields;

/** The shape fields of a multi-task builder's options: one class count ≥ 2 per task. */
export const multiTaskShape = {
  inputShape,
  classes: s.array(s.integer({ min: 2 }), { minLength: 1 }).optional(),
} satisfies Fields;
