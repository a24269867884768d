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
import { optimizerSchema } from './train/optimizers.js';

/**
 * A core optimizer config (`{ type: 'sgd' | 'adam' | …, lr, … }`), checked by
 * `optimizerSchema`; typed as plain JSON, which `createOptimizer` takes.
 */
export function optimizer() {
  return custom<import('./json.js').JsonObject>(
    optimizerSchema.description,
    (value, path) => optimizerSchema.issues(value, path),
    ['object'],
  );
}
