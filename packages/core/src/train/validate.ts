/**
 * Field-by-field checks for the training options, written with the schema
 * vocabulary (`../schema.ts`), so their messages are the ones every config gets.
 */
import type { Issue } from '../errors.js';
import { isJsonObject, joinPath, type NumberBounds, number, oneOf, unknownFields } from '../schema.js';

export { throwIfIssues } from '../registry.js';
export { joinPath };

/** Constraints of a numeric config field. */
export interface NumberRule extends NumberBounds {
  /** Field may be absent. @default false */
  readonly optional?: boolean;
}

/** True for a plain (non-array, non-null) object. */
export const isPlainObject: (v: unknown) => v is Record<string, unknown> = isJsonObject;

/** Checks one numeric field; pushes issues for a missing, non-numeric, non-finite or out-of-range value. */
export function checkNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  rule: NumberRule,
  issues: Issue[],
): void {
  const { optional, ...bounds } = rule;
  const schema = optional ? number(bounds).optional() : number(bounds);
  issues.push(...schema.issues(obj[key], joinPath(path, key)));
}

/** Checks that a field (optional unless `optional` is false) is one of `allowed`. */
export function checkEnum(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  allowed: readonly (string | boolean)[],
  issues: Issue[],
  optional = true,
): void {
  const schema = optional ? oneOf(allowed).optional() : oneOf(allowed);
  issues.push(...schema.issues(obj[key], joinPath(path, key)));
}

/** Reports keys of `obj` that are not in `known` (typos in configs should not pass silently). */
export function checkKnownKeys(
  obj: Record<string, unknown>,
  known: readonly string[],
  path: string,
  issues: Issue[],
): void {
  issues.push(...unknownFields(obj, known, path));
}
