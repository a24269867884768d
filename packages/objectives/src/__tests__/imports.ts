// Tests import the package through its public entry point only.
export * from '@moprune/objectives';

/** True when `e` looks like an ObjectiveError (checked by shape: `instanceof` fails across copies). */
export function isObjectiveErrorLike(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ObjectiveError';
}
