import type { Issue, JsonObject, JsonValue } from '@moprune/core';

/** Small validators that push an issue and return whether the field was valid. */
export class ConfigChecker {
  readonly issues: Issue[] = [];

  constructor(
    private readonly config: JsonObject,
    readonly known: readonly string[],
  ) {
    for (const key of Object.keys(config)) {
      if (key !== 'type' && !known.includes(key)) {
        this.issues.push({ path: key, message: `unknown field; known fields: ${known.join(', ')}` });
      }
    }
  }

  private get(key: string): JsonValue | undefined {
    return this.config[key];
  }

  /** A finite number in [min, max] (either bound may be open), if present. */
  number(
    key: string,
    opts: {
      min?: number;
      max?: number;
      minOpen?: boolean;
      maxOpen?: boolean;
      integer?: boolean;
      required?: boolean;
    } = {},
  ): void {
    const v = this.get(key);
    if (v === undefined) {
      if (opts.required) this.issues.push({ path: key, message: 'is required' });
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.issues.push({ path: key, message: `must be a finite number, got ${JSON.stringify(v)}` });
      return;
    }
    if (opts.integer && !Number.isInteger(v))
      this.issues.push({ path: key, message: `must be an integer, got ${v}` });
    if (opts.min !== undefined && (opts.minOpen ? v <= opts.min : v < opts.min)) {
      this.issues.push({ path: key, message: `must be ${opts.minOpen ? '>' : '≥'} ${opts.min}, got ${v}` });
    }
    if (opts.max !== undefined && (opts.maxOpen ? v >= opts.max : v > opts.max)) {
      this.issues.push({ path: key, message: `must be ${opts.maxOpen ? '<' : '≤'} ${opts.max}, got ${v}` });
    }
  }

  /** A boolean, if present. */
  boolean(key: string): void {
    const v = this.get(key);
    if (v !== undefined && typeof v !== 'boolean')
      this.issues.push({ path: key, message: 'must be a boolean' });
  }

  /** One of the given strings, if present. */
  oneOf(key: string, values: readonly string[]): void {
    const v = this.get(key);
    if (v !== undefined && (typeof v !== 'string' || !values.includes(v))) {
      this.issues.push({
        path: key,
        message: `must be one of ${values.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(v)}`,
      });
    }
  }

  /** Adds issues found by another validator under `key`. */
  add(issues: readonly Issue[]): void {
    this.issues.push(...issues);
  }
}
