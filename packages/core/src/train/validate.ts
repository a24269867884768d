import { CoreError, formatIssues, type Issue } from '../errors.js';

/** Constraints of a numeric config field. */
export interface NumberRule {
  /** Field may be absent. @default false */
  readonly optional?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound. */
  readonly gt?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
  /** Exclusive upper bound. */
  readonly lt?: number;
  /** Must be an integer. @default false */
  readonly integer?: boolean;
}

/** Joins a path prefix and a key the way {@link Issue.path} spells paths (`a.b`, `a[0].b`). */
export function joinPath(prefix: string, key: string | number): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  return prefix ? `${prefix}.${key}` : key;
}

/** True for a plain (non-array, non-null) object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one numeric field; pushes issues for a missing, non-numeric, non-finite or out-of-range value. */
export function checkNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  rule: NumberRule,
  issues: Issue[],
): void {
  const v = obj[key];
  const at = joinPath(path, key);
  if (v === undefined) {
    if (!rule.optional) issues.push({ path: at, message: 'is required (a number)' });
    return;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    issues.push({ path: at, message: `must be a finite number, got ${JSON.stringify(v)}` });
    return;
  }
  if (rule.integer && !Number.isInteger(v))
    issues.push({ path: at, message: `must be an integer, got ${v}` });
  if (rule.min !== undefined && v < rule.min)
    issues.push({ path: at, message: `must be ≥ ${rule.min}, got ${v}` });
  if (rule.gt !== undefined && v <= rule.gt)
    issues.push({ path: at, message: `must be > ${rule.gt}, got ${v}` });
  if (rule.max !== undefined && v > rule.max)
    issues.push({ path: at, message: `must be ≤ ${rule.max}, got ${v}` });
  if (rule.lt !== undefined && v >= rule.lt)
    issues.push({ path: at, message: `must be < ${rule.lt}, got ${v}` });
}

/** Checks that an optional field, when present, is one of `allowed`. */
export function checkEnum(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  allowed: readonly (string | boolean)[],
  issues: Issue[],
  optional = true,
): void {
  const v = obj[key];
  if (v === undefined) {
    if (!optional)
      issues.push({ path: joinPath(path, key), message: `is required; one of ${allowed.join(', ')}` });
    return;
  }
  if (!allowed.includes(v as string | boolean)) {
    issues.push({
      path: joinPath(path, key),
      message: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`,
    });
  }
}

/** Reports keys of `obj` that are not in `known` (typos in configs should not pass silently). */
export function checkKnownKeys(
  obj: Record<string, unknown>,
  known: readonly string[],
  path: string,
  issues: Issue[],
): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      issues.push({ path: joinPath(path, k), message: `unknown field; allowed: ${known.join(', ')}` });
    }
  }
}

/** Throws one `INVALID_CONFIG` error listing every issue, if there are any. */
export function throwIfIssues(what: string, issues: readonly Issue[]): void {
  if (issues.length > 0) {
    throw new CoreError('INVALID_CONFIG', `invalid ${what}:\n${formatIssues(issues)}`, { issues });
  }
}
