import type { JsonObject, JsonValue } from '@moprune/core';
import type { CodedIssue } from '../errors.js';

/** Bounds for {@link checkNumber}. */
export interface NumberRule {
  readonly optional?: boolean;
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly gt?: number;
  readonly lt?: number;
}

/** Pushes an issue when `config[key]` is not a number within `rule`. */
export function checkNumber(config: JsonObject, key: string, rule: NumberRule, issues: CodedIssue[]): void {
  const v = config[key];
  if (v === undefined && rule.optional) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    issues.push({ path: key, message: `must be a finite number, got ${JSON.stringify(v)}` });
    return;
  }
  const bad = (what: string) => issues.push({ path: key, message: `must be ${what}, got ${v}` });
  if (rule.integer && !Number.isInteger(v)) bad('an integer');
  else if (rule.min !== undefined && v < rule.min) bad(`≥ ${rule.min}`);
  else if (rule.max !== undefined && v > rule.max) bad(`≤ ${rule.max}`);
  else if (rule.gt !== undefined && v <= rule.gt) bad(`> ${rule.gt}`);
  else if (rule.lt !== undefined && v >= rule.lt) bad(`< ${rule.lt}`);
}

/** Pushes an issue for every key of `config` not in `known`. */
export function checkKnownKeys(config: JsonObject, known: readonly string[], issues: CodedIssue[]): void {
  for (const k of Object.keys(config)) {
    if (!known.includes(k)) issues.push({ path: k, message: `unknown option; known: ${known.join(', ')}` });
  }
}

/** Pushes an issue when `config[key]` is set and not one of `values`. */
export function checkEnum(
  config: JsonObject,
  key: string,
  values: readonly JsonValue[],
  issues: CodedIssue[],
): void {
  const v = config[key];
  if (v !== undefined && !values.includes(v)) {
    issues.push({
      path: key,
      message: `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`,
    });
  }
}

/** A list of finite numbers, or undefined when `v` is not one. */
export function numberList(v: JsonValue | undefined): number[] | undefined {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  return v as number[];
}

/**
 * Pushes issues when `config[key]` is not a weight vector on the simplex
 * (finite, ≥ 0, summing to 1 within 1e-6), with code `WEIGHTS_OFF_SIMPLEX`.
 */
export function checkSimplex(config: JsonObject, key: string, issues: CodedIssue[], optional = false): void {
  const raw = config[key];
  if (raw === undefined && optional) return;
  const w = numberList(raw);
  if (!w) {
    issues.push({ path: key, message: `must be a list of finite numbers, got ${JSON.stringify(raw)}` });
    return;
  }
  if (w.length === 0) {
    issues.push({
      path: key,
      message: 'needs one weight per objective, got an empty list',
      code: 'EMPTY_OBJECTIVES',
    });
    return;
  }
  const negative = w.findIndex((x) => x < 0);
  if (negative >= 0) {
    issues.push({
      path: `${key}[${negative}]`,
      message: `weights must be ≥ 0 (on the simplex), got ${w[negative]}`,
      code: 'WEIGHTS_OFF_SIMPLEX',
    });
    return;
  }
  const sum = w.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) {
    issues.push({
      path: key,
      message: `weights must sum to 1 (on the simplex), got ${sum}`,
      code: 'WEIGHTS_OFF_SIMPLEX',
    });
  }
}

/** Prefixes issue paths with `prefix` (e.g. `optimizer`). */
export function prefixIssues<I extends CodedIssue>(prefix: string, issues: readonly I[]): CodedIssue[] {
  return issues.map((i) => ({ ...i, path: i.path ? `${prefix}.${i.path}` : prefix }));
}

/** Pushes an issue when `config.type` is not `type`. */
export function checkType(config: JsonObject, type: string, issues: CodedIssue[]): void {
  if (config.type !== type)
    issues.push({ path: 'type', message: `must be '${type}', got ${JSON.stringify(config.type)}` });
}

/** Config of the Frank–Wolfe min-norm solve (see `MinNormOptions`). */
export function checkFrankWolfe(config: JsonObject, issues: CodedIssue[]): void {
  const fw = config.frankWolfe;
  if (fw === undefined) return;
  if (typeof fw !== 'object' || fw === null || Array.isArray(fw)) {
    issues.push({ path: 'frankWolfe', message: 'must be an object { maxIterations?, tolerance? }' });
    return;
  }
  const inner: CodedIssue[] = [];
  checkKnownKeys(fw, ['maxIterations', 'tolerance'], inner);
  checkNumber(fw, 'maxIterations', { optional: true, integer: true, min: 1 }, inner);
  checkNumber(fw, 'tolerance', { optional: true, min: 0 }, inner);
  issues.push(...prefixIssues('frankWolfe', inner));
}
