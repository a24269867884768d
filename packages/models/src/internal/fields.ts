import type { InitializerName, Issue } from '@moprune/core';

/** Checks one field's value; returns the problems with paths relative to the config. */
export type FieldCheck = (value: unknown, path: string) => Issue[];

/** One known field of a model's options. */
export interface Field {
  readonly key: string;
  readonly check: FieldCheck;
  /** @default false */
  readonly required?: boolean;
}

/** The initializers a model option may name (every one core implements). */
export const INITIALIZERS: readonly InitializerName[] = [
  'glorotUniform',
  'heNormal',
  'torchDefault',
  'zeros',
];

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

/** Every problem with `options`: not an object, unknown or missing fields, bad values. */
export function checkFields(
  options: unknown,
  fields: readonly Field[],
  ignore: readonly string[] = [],
): Issue[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return [{ path: '', message: `must be an object, got ${show(options)}` }];
  }
  const record = options as Record<string, unknown>;
  const issues: Issue[] = [];
  const known = fields.map((f) => f.key);
  for (const key of Object.keys(record)) {
    if (!known.includes(key) && !ignore.includes(key)) {
      issues.push({ path: key, message: `unknown field; known fields: ${known.join(', ')}` });
    }
  }
  for (const field of fields) {
    const value = record[field.key];
    if (value === undefined) {
      if (field.required) issues.push({ path: field.key, message: 'is required' });
      continue;
    }
    issues.push(...field.check(value, field.key));
  }
  return issues;
}

/** A string from `values`. */
export function oneOf(values: readonly string[]): FieldCheck {
  return (v, path) =>
    typeof v === 'string' && values.includes(v)
      ? []
      : [{ path, message: `must be one of ${values.map((s) => `'${s}'`).join(', ')}, got ${show(v)}` }];
}

/** An integer ≥ `min`. */
export function integer(min: number): FieldCheck {
  return (v, path) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min
      ? []
      : [{ path, message: `must be an integer ≥ ${min}, got ${show(v)}` }];
}

/** A finite number in `[min, max)`. */
export function numberIn(min: number, maxExclusive: number): FieldCheck {
  return (v, path) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v < maxExclusive
      ? []
      : [{ path, message: `must be a number in [${min}, ${maxExclusive}), got ${show(v)}` }];
}

/** A finite number. */
export const finite: FieldCheck = (v, path) =>
  typeof v === 'number' && Number.isFinite(v)
    ? []
    : [{ path, message: `must be a finite number, got ${show(v)}` }];

/** An array whose length is in `[minLength, maxLength]` and whose every element passes `each`. */
export function arrayOf(each: FieldCheck, minLength = 0, maxLength = Number.POSITIVE_INFINITY): FieldCheck {
  return (v, path) => {
    if (!Array.isArray(v)) return [{ path, message: `must be an array, got ${show(v)}` }];
    const issues: Issue[] = [];
    if (v.length < minLength || v.length > maxLength) {
      const want =
        minLength === maxLength
          ? `exactly ${minLength}`
          : maxLength === Number.POSITIVE_INFINITY
            ? `at least ${minLength}`
            : `${minLength} to ${maxLength}`;
      issues.push({ path, message: `must have ${want} element(s), got ${v.length}` });
    }
    v.forEach((e, i) => {
      issues.push(...each(e, `${path}[${i}]`));
    });
    return issues;
  };
}

/** The `init` field every model has. */
export function initField(): Field {
  return { key: 'init', check: oneOf(INITIALIZERS) };
}

/** `inputShape`: positive integer dimensions. */
export const inputShapeField: Field = { key: 'inputShape', check: arrayOf(integer(1), 1) };

/** `classes` of a single-task model: an integer ≥ 2. */
export const classesField: Field = { key: 'classes', check: integer(2) };

/** `classes` of a multi-task model: one integer ≥ 2 per task. */
export const taskClassesField: Field = { key: 'classes', check: arrayOf(integer(2), 1) };
