import type { Issue, JsonObject, JsonValue } from '@moprune/core';

/**
 * Reads one JSON config object field by field, collecting every problem
 * instead of stopping at the first, so a user sees all mistakes at once.
 * Each reader returns the parsed value, or the default when the field is
 * absent or invalid (invalid fields are recorded in `issues`).
 */
export class ConfigReader {
  private readonly seen = new Set<string>();

  constructor(
    readonly config: JsonObject,
    readonly issues: Issue[],
    /** Path of `config` inside the document, prefixed to every issue. */
    readonly path = '',
  ) {}

  /** Path of a field of this object. */
  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Records a problem with a field. */
  fail(key: string, message: string): void {
    this.issues.push({ path: this.at(key), message });
  }

  /** The raw value of a field (marks it as known). */
  raw(key: string): JsonValue | undefined {
    this.seen.add(key);
    return this.config[key];
  }

  /** A finite number, optionally bounded; `fallback` when absent. */
  number(
    key: string,
    fallback: number,
    bounds: { min?: number; max?: number; minExclusive?: number; integer?: boolean } = {},
  ): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.fail(key, `must be a finite number, got ${JSON.stringify(v)}`);
      return fallback;
    }
    if (bounds.integer === true && !Number.isInteger(v)) {
      this.fail(key, `must be an integer, got ${v}`);
      return fallback;
    }
    if (bounds.min !== undefined && v < bounds.min) {
      this.fail(key, `must be ≥ ${bounds.min}, got ${v}`);
      return fallback;
    }
    if (bounds.max !== undefined && v > bounds.max) {
      this.fail(key, `must be ≤ ${bounds.max}, got ${v}`);
      return fallback;
    }
    if (bounds.minExclusive !== undefined && v <= bounds.minExclusive) {
      this.fail(key, `must be > ${bounds.minExclusive}, got ${v}`);
      return fallback;
    }
    return v;
  }

  /** A required finite number (an issue when absent). */
  requiredNumber(key: string, bounds: Parameters<ConfigReader['number']>[2] = {}): number {
    if (this.config[key] === undefined) {
      this.seen.add(key);
      this.fail(key, 'is required');
      return Number.NaN;
    }
    return this.number(key, Number.NaN, bounds);
  }

  /** One of a fixed set of strings; `fallback` when absent. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${values.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v as T;
  }

  /** A boolean; `fallback` when absent. */
  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v;
  }

  /** A non-empty string, or undefined when absent. */
  optionalString(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.fail(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  /** A nested object, or undefined when absent (an issue when present but not an object). */
  object(key: string): JsonObject | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) {
      this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  /**
   * A non-empty array of strings, each optionally restricted to `allowed`;
   * undefined when absent.
   */
  stringArray(key: string, allowed?: readonly string[]): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) {
      this.fail(key, `must be a non-empty array of strings, got ${JSON.stringify(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item.length === 0) {
        this.fail(`${key}[${i}]`, `must be a non-empty string, got ${JSON.stringify(item)}`);
      } else if (allowed && !allowed.includes(item)) {
        this.fail(`${key}[${i}]`, `must be one of ${allowed.map((x) => `'${x}'`).join(', ')}, got '${item}'`);
      } else {
        out.push(item);
      }
    });
    return out;
  }

  /** Records an issue for every field that no reader asked for (typos surface instead of being ignored). */
  rejectUnknown(): void {
    for (const key of Object.keys(this.config)) {
      if (!this.seen.has(key)) this.fail(key, 'is not a known field');
    }
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
