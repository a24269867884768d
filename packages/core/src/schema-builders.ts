/**
 * The schema builders as one namespace (`import { schema } from '@moprune/core'`,
 * then `schema.object({ … })`); see `schema.ts` for what each checks.
 */
export { component } from './registry.js';
export {
  anyOf,
  array,
  boolean,
  custom,
  integer,
  json,
  literal,
  number,
  object,
  oneOf,
  paramSelector,
  record,
  string,
  tagged,
} from './schema.js';

import { custom } from './schema.js';
import { validateOptimizerConfig } from './train/optimizers.js';

/** A core optimizer config (`{ type: 'sgd' | 'adam' | …, lr, … }`), checked by `validateOptimizerConfig`. */
export function optimizer() {
  return custom<import('./json.js').JsonObject>(
    'an optimizer config { type, lr, … }',
    (value, path) => validateOptimizerConfig(value, path),
    ['object'],
  );
}
