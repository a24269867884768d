// Tests use only what the package's public entry (src/index.ts) exports.
export * from '../index.js';

/** True when `e` looks like an ObjectiveError (checked by shape: `instanceof` fails across copies). */
export function isObjectiveErrorLike(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ObjectiveError';
}
