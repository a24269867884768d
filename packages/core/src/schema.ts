/**
 * The one config-schema vocabulary of moprune. Every component kind (and the
 * experiment config itself) describes its JSON config with these builders;
 * a schema reports *every* problem of a value at once, each with its path
 * (`schedule.finalSparsity`, `terms[1].objective.type`), including fields
 * nobody declared (a typo such as `targetSparsty` is an unknown field, not a
 * silently ignored one).
 *
 * ```ts
 * import { schema as s } from '@moprune/core';
 * const config = s.object({
 *   fraction: s.number({ gt: 0, lt: 1 }),
 *   every: s.integer({ min: 1 }).optional(),
 *   params: s.paramSelector().optional(),
 * });
 * config.issues({ fraction: 2, evry: 3 });
 * // [{ path: 'fraction', message: 'must be < 1, got 2' },
 * //  { path: 'evry', message: 'unknown field; known fields: fraction, every, params' }]
 * ```
 *
 * Schemas only check; they never rewrite a config (defaults stay with the
 * factory that applies them), so a config that passes is stored and
 * checkpointed exactly as written.
 */
import type { Issue } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import type { ParamRole } from './network-types.js';

/** The JSON kinds a schema accepts, used to explain unions. */
type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

/** Thrown inside a guarded object rule when it reads a field that already has a problem. */
const SKIP_RULE = Symbol('skip rule');

/** Checks a present value; returns its problems (paths under `path`). */
type Check = (value: unknown, path: string) => Issue[];

/**
 * A checker of one JSON value. `T` is the type a value has once it passes
 * (what {@link Infer} gives); `O` records whether the field may be absent.
 */
export class Schema<T, O extends boolean = false> {
  /** Phantom: the type of a value that passes. */
  declare readonly _type: T;

  constructor(
    /** What a value must be, in words (`an integer ≥ 1`); used in messages and listings. */
    readonly description: string,
    /** JSON kinds this schema can accept at all (`undefined`: any). */
    readonly kinds: readonly JsonKind[] | undefined,
    private readonly check: Check,
    /** True when an object field of this schema may be absent. */
    readonly isOptional: O,
  ) {}

  /**
   * Every problem with `value`, paths prefixed with `path` (`''` = the root).
   * `undefined` counts as absent: no problem for an optional schema, `is required` otherwise.
   */
  issues(value: unknown, path = ''): Issue[] {
    if (value === undefined) return this.isOptional ? [] : [{ path, message: 'is required' }];
    return this.check(value, path);
  }

  /** True when `value` has no problem (narrows it to `T`). */
  accepts(value: unknown): value is T {
    return this.issues(value).length === 0;
  }

  /** The same schema, for a field that may be absent. */
  optional(): Schema<T, true> {
    return new Schema(this.description, this.kinds, this.check, true);
  }

  /** The same schema with another description (shown by listings and in union messages). */
  describe(description: string): Schema<T, O> {
    return new Schema(description, this.kinds, this.check, this.isOptional);
  }

  /**
   * Adds a check that runs only when the value passed every other check
   * (cross-field rules such as `begin < end`); it returns problems as issues
   * (paths absolute, e.g. built with {@link joinPath}) or one message for the value itself.
   */
  refine(rule: (value: T, path: string) => readonly Issue[] | string | undefined): Schema<T, O> {
    const inner = this.check;
    return new Schema(
      this.description,
      this.kinds,
      (value, path) => {
        const issues = inner(value, path);
        if (issues.length > 0) return issues;
        const extra = rule(value as T, path);
        if (extra === undefined) return [];
        return typeof extra === 'string' ? [{ path, message: extra }] : [...extra];
      },
      this.isOptional,
    );
  }
}

/** Any schema, optional or not. */
// biome-ignore lint/suspicious/noExplicitAny: the widest schema type, for constraints.
export type AnySchema = Schema<any, boolean>;

/** The type of a value that passes schema `S`. */
export type Infer<S extends AnySchema> = S['_type'];

/** The fields of an object schema. */
export type Fields = Readonly<Record<string, AnySchema>>;

type RequiredKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Schema<unknown, true> ? never : K;
}[keyof F];
type OptionalKeys<F extends Fields> = Exclude<keyof F, RequiredKeys<F>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The object type an object schema with fields `F` accepts. */
export type ObjectOf<F extends Fields> = Simplify<
  { [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

/** An object schema: its fields stay readable so schemas can be extended. */
export class ObjectSchema<F extends Fields, O extends boolean = false> extends Schema<ObjectOf<F>, O> {
  constructor(
    /** The declared fields. */
    readonly fields: F,
    description: string,
    check: Check,
    isOptional: O,
  ) {
    super(description, ['object'], check, isOptional);
  }

  /** An object schema with these fields added (or replaced). */
  extend<G extends Fields>(more: G): ObjectSchema<Simplify<Omit<F, keyof G> & G>> {
    return object({ ...this.fields, ...more } as Simplify<Omit<F, keyof G> & G>);
  }

  /** An object schema without these fields. */
  omit<K extends keyof F & string>(...keys: K[]): ObjectSchema<Simplify<Omit<F, K>>> {
    const rest: Record<string, AnySchema> = { ...this.fields };
    for (const k of keys) delete rest[k];
    return object(rest as Simplify<Omit<F, K>>);
  }

  override optional(): ObjectSchema<F, true> {
    return new ObjectSchema(this.fields, this.description, (v, p) => this.issues(v, p), true);
  }

  override describe(description: string): ObjectSchema<F, O> {
    return new ObjectSchema(this.fields, description, (v, p) => this.issues(v, p), this.isOptional);
  }

  /**
   * Adds a cross-field rule. Unlike {@link Schema.refine} it also runs when
   * other fields have problems: it is skipped only when it reads a field that
   * has one (so `endStep > beginStep` is still reported beside a bad
   * `finalSparsity`). Give independent rules their own `refine`.
   */
  override refine(
    rule: (value: ObjectOf<F>, path: string) => readonly Issue[] | string | undefined,
  ): ObjectSchema<F, O> {
    const check = (v: unknown, path: string): Issue[] => {
      const issues = this.issues(v, path);
      if (!isJsonObject(v)) return issues;
      // A field has a problem when an issue sits at its path or below it — also a required field
      // that is missing, which is not among the object's keys.
      const bad = (k: string): boolean => {
        const at = joinPath(path, k);
        return issues.some(
          (i) => i.path === at || i.path.startsWith(`${at}.`) || i.path.startsWith(`${at}[`),
        );
      };
      const guarded = new Proxy(v, {
        get(target, key) {
          if (typeof key === 'string' && bad(key)) throw SKIP_RULE;
          return target[key as string];
        },
      });
      let extra: readonly Issue[] | string | undefined;
      try {
        extra = rule(guarded as ObjectOf<F>, path);
      } catch (e) {
        if (e === SKIP_RULE) return issues;
        throw e;
      }
      if (extra === undefined) return issues;
      return [...issues, ...(typeof extra === 'string' ? [{ path, message: extra }] : extra)];
    };
    return new ObjectSchema(this.fields, this.description, check, this.isOptional);
  }
}

/** Joins a path prefix and a key the way {@link Issue.path} spells paths (`a.b`, `a[0].b`). */
export function joinPath(prefix: string, key: string | number): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  return prefix ? `${prefix}.${key}` : key;
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as it appears in messages. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const quote = (v: unknown) => (typeof v === 'string' ? `'${v}'` : showValue(v));

function kindOf(value: unknown): JsonKind | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'boolean' || t === 'number' || t === 'string' || t === 'object' ? t : undefined;
}

/** Bounds of {@link number}. */
export interface NumberBounds {
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

function boundsText(b: NumberBounds): string {
  const parts: string[] = [];
  if (b.min !== undefined) parts.push(`≥ ${b.min}`);
  if (b.gt !== undefined) parts.push(`> ${b.gt}`);
  if (b.max !== undefined) parts.push(`≤ ${b.max}`);
  if (b.lt !== undefined) parts.push(`< ${b.lt}`);
  return parts.join(' and ');
}

/** A finite number within `bounds`; a value that breaks any of them gets one issue naming them all. */
export function number(bounds: NumberBounds = {}): Schema<number> {
  const what = bounds.integer ? 'an integer' : 'a number';
  const range = boundsText(bounds);
  const description = range ? `${what} ${range}` : what;
  return new Schema(
    description,
    ['number'],
    (v, path) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        return [{ path, message: `must be a finite number, got ${showValue(v)}` }];
      }
      const ok =
        (!bounds.integer || Number.isInteger(v)) &&
        (bounds.min === undefined || v >= bounds.min) &&
        (bounds.gt === undefined || v > bounds.gt) &&
        (bounds.max === undefined || v <= bounds.max) &&
        (bounds.lt === undefined || v < bounds.lt);
      return ok ? [] : [{ path, message: `must be ${description}, got ${v}` }];
    },
    false,
  );
}

/** An integer within `bounds` (a safe integer unless `max` says otherwise). */
export function integer(bounds: Omit<NumberBounds, 'integer'> = {}): Schema<number> {
  return number({ ...bounds, integer: true });
}

/** `true` or `false`. */
export function boolean(): Schema<boolean> {
  return new Schema(
    'true or false',
    ['boolean'],
    (v, path) =>
      typeof v === 'boolean' ? [] : [{ path, message: `must be true or false, got ${showValue(v)}` }],
    false,
  );
}

/** Options of {@link string}. */
export interface StringOptions {
  /** The empty string is allowed. @default false */
  readonly allowEmpty?: boolean;
  /** A pattern the string must match, with the words that explain it. */
  readonly pattern?: { readonly regex: RegExp; readonly message: string };
}

/** A string (non-empty unless `allowEmpty`). */
export function string(options: StringOptions = {}): Schema<string> {
  return new Schema(
    options.allowEmpty ? 'a string' : 'a non-empty string',
    ['string'],
    (v, path) => {
      if (typeof v !== 'string' || (v === '' && !options.allowEmpty)) {
        return [{ path, message: `must be a non-empty string, got ${showValue(v)}` }];
      }
      if (options.pattern && !options.pattern.regex.test(v)) {
        return [{ path, message: `${options.pattern.message}, got ${showValue(v)}` }];
      }
      return [];
    },
    false,
  );
}

/** Exactly one of `values` (strings, numbers, booleans or null). */
export function oneOf<const V extends readonly (string | number | boolean | null)[]>(
  values: V,
): Schema<V[number]> {
  const list = values.map(quote).join(', ');
  return new Schema(
    values.length === 1 ? list : `one of ${list}`,
    [...new Set(values.map((v) => kindOf(v)!))],
    (v, path) =>
      (values as readonly unknown[]).includes(v)
        ? []
        : [
            {
              path,
              message:
                values.length === 1
                  ? `must be ${list}, got ${showValue(v)}`
                  : `must be one of ${list}, got ${showValue(v)}`,
            },
          ],
    false,
  );
}

/** Exactly `value`. */
export function literal<const V extends string | number | boolean | null>(value: V): Schema<V> {
  return oneOf([value]) as Schema<V>;
}

/** Length bounds of {@link array}. */
export interface ArrayOptions {
  /** @default 0 */
  readonly minLength?: number;
  /** @default no limit */
  readonly maxLength?: number;
}

/** An array whose every element passes `item` (each element's problems under `path[i]`). */
export function array<S extends AnySchema>(item: S, options: ArrayOptions = {}): Schema<Infer<S>[]> {
  const min = options.minLength ?? 0;
  const max = options.maxLength ?? Number.POSITIVE_INFINITY;
  const want =
    min === max
      ? `exactly ${min}`
      : max === Number.POSITIVE_INFINITY
        ? `at least ${min}`
        : min === 0
          ? `at most ${max}`
          : `${min} to ${max}`;
  const sized = min > 0 || max < Number.POSITIVE_INFINITY;
  return new Schema(
    min === 1 && max === Number.POSITIVE_INFINITY
      ? `a non-empty array of ${item.description}`
      : sized
        ? `an array of ${want} ${item.description}`
        : `an array of ${item.description}`,
    ['array'],
    (v, path) => {
      if (!Array.isArray(v)) return [{ path, message: `must be an array, got ${showValue(v)}` }];
      const issues: Issue[] = [];
      if (v.length < min || v.length > max) {
        issues.push({ path, message: `must have ${want} element(s), got ${v.length}` });
      }
      v.forEach((e, i) => {
        issues.push(...item.issues(e, joinPath(path, i)));
      });
      return issues;
    },
    false,
  );
}

/** Options of {@link object}. */
export interface ObjectOptions {
  /** Keys that may appear without being checked (e.g. a `type` tag handled elsewhere). @default none */
  readonly ignore?: readonly string[];
}

/**
 * A JSON object with these fields: a missing required field is reported as
 * `is required`, a field nobody declared as `unknown field; known fields: …`.
 */
export function object<F extends Fields>(fields: F, options: ObjectOptions = {}): ObjectSchema<F> {
  const keys = Object.keys(fields);
  const ignore = options.ignore ?? [];
  const description =
    keys.length === 0
      ? 'an object with no fields'
      : `an object { ${keys.map((k) => (fields[k]!.isOptional ? `${k}?` : k)).join(', ')} }`;
  return new ObjectSchema(
    fields,
    description,
    (v, path) => {
      if (!isJsonObject(v)) return [{ path, message: `must be an object, got ${showValue(v)}` }];
      const issues = unknownFields(v, [...keys, ...ignore], path, keys);
      for (const key of keys) issues.push(...fields[key]!.issues(v[key], joinPath(path, key)));
      return issues;
    },
    false,
  );
}

/**
 * An issue for every key of `value` not in `known` (typos in configs must not
 * pass silently); the message lists `shown` (@default known).
 */
export function unknownFields(
  value: Readonly<Record<string, unknown>>,
  known: readonly string[],
  path: string,
  shown: readonly string[] = known,
): Issue[] {
  const issues: Issue[] = [];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      issues.push({
        path: joinPath(path, key),
        message:
          shown.length === 0
            ? 'unknown field; this object takes no fields'
            : `unknown field; known fields: ${shown.join(', ')}`,
      });
    }
  }
  return issues;
}

/** A JSON object mapping any keys to values that pass `value` (e.g. per-layer settings). */
export function record<S extends AnySchema>(value: S): Schema<Record<string, Infer<S>>> {
  return new Schema(
    `an object of ${value.description}`,
    ['object'],
    (v, path) => {
      if (!isJsonObject(v)) return [{ path, message: `must be an object, got ${showValue(v)}` }];
      return Object.entries(v).flatMap(([k, x]) => value.issues(x, joinPath(path, k)));
    },
    false,
  );
}

/**
 * One of several object shapes told apart by a tag field (`{ type: 'constant', … }`
 * or `{ type: 'polynomialDecay', … }`). The variants' schemas do not declare the tag.
 */
export function tagged<K extends string, V extends Readonly<Record<string, ObjectSchema<Fields>>>>(
  key: K,
  variants: V,
): Schema<{ [T in keyof V & string]: Simplify<{ [P in K]: T } & Infer<V[T]>> }[keyof V & string]> {
  const names = Object.keys(variants);
  const list = names.map((n) => `'${n}'`).join(', ');
  return new Schema(
    `an object with ${key} ${list}`,
    ['object'],
    (v, path) => {
      if (!isJsonObject(v))
        return [{ path, message: `must be an object with a '${key}', got ${showValue(v)}` }];
      const tag = v[key];
      const at = joinPath(path, key);
      if (tag === undefined) return [{ path: at, message: `is required; one of ${list}` }];
      const variant = typeof tag === 'string' ? variants[tag] : undefined;
      if (!variant) return [{ path: at, message: `must be one of ${list}, got ${showValue(tag)}` }];
      const { [key]: _tag, ...rest } = v;
      return variant.issues(rest, path);
    },
    false,
  );
}

/**
 * A value that passes one of `alternatives` (e.g. `false` or an options
 * object). The alternative of the value's JSON kind explains the problems;
 * a value of no accepted kind gets `must be A or B`.
 */
export function anyOf<S extends readonly AnySchema[]>(...alternatives: S): Schema<Infer<S[number]>> {
  const description = alternatives.map((a) => a.description).join(' or ');
  return new Schema(
    description,
    alternatives.some((a) => a.kinds === undefined)
      ? undefined
      : [...new Set(alternatives.flatMap((a) => a.kinds!))],
    (v, path) => {
      const fitting = alternatives.filter((a) => a.kinds === undefined || a.kinds.includes(kindOf(v)!));
      let first: Issue[] | undefined;
      for (const a of fitting) {
        const issues = a.issues(v, path);
        if (issues.length === 0) return [];
        first ??= issues;
      }
      return fitting.length === 1 && first
        ? first
        : [{ path, message: `must be ${description}, got ${showValue(v)}` }];
    },
    false,
  );
}

/** Any JSON value (for fields a component passes through unchecked, e.g. free-form notes). */
export function json(): Schema<JsonValue> {
  return new Schema('any JSON value', undefined, () => [], false);
}

/**
 * A schema from a check function, for rules the builders do not express
 * (a config of another registry, a network spec). `check` gets a present value.
 */
export function custom<T>(
  description: string,
  check: (value: unknown, path: string) => Issue[],
  kinds?: readonly JsonKind[],
): Schema<T> {
  return new Schema<T>(description, kinds, check, false);
}

/** Every {@link ParamRole}. */
export const PARAM_ROLES: readonly ParamRole[] = [
  'kernel',
  'bias',
  'gamma',
  'beta',
  'movingMean',
  'movingVariance',
  'alpha',
];

const names = () => array(string()).optional();

/** The schema of a `ParamSelector` (see `selectParams`): every field optional, unknown fields reported. */
export function paramSelector() {
  return object({
    ops: names(),
    roles: array(oneOf(PARAM_ROLES)).optional(),
    nodes: names(),
    names: names(),
    exclude: names(),
    trainableOnly: boolean().optional(),
  }).describe('a parameter selector like { "ops": ["dense"], "roles": ["kernel"] }');
}
