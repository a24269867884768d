import { CoreError, formatIssues, type Issue } from './errors.js';
import type { Dataset, Objective, Pruner, Solver } from './interfaces.js';
import type { JsonObject } from './json.js';
import type { NetworkSpec } from './spec.js';

/** A component config: a JSON object with a `type` naming a registered factory. */
export interface ComponentConfig extends JsonObject {
  type: string;
}

/**
 * One registered component kind. `validate` returns every problem with the
 * config (empty when valid); `create` is only called with a valid config.
 */
export interface Registration<T, Ctx = unknown> {
  /** The `type` string configs use. */
  readonly type: string;
  /** One-line description, shown by `moprune list`. */
  readonly description: string;
  /** Problems with `config` (paths relative to the config object). */
  validate(config: JsonObject): Issue[];
  /** Builds the component. */
  create(config: JsonObject, ctx: Ctx): T;
}

/** A registry of components of one kind, keyed by `type`. */
export class Registry<T, Ctx = unknown> {
  private readonly entries = new Map<string, Registration<T, Ctx>>();

  constructor(
    /** What the registry holds, for messages (`'pruner'`, `'solver'` …). */
    readonly kind: string,
  ) {}

  /** Adds a registration; a second one with the same `type` is an error. */
  register(registration: Registration<T, Ctx>): void {
    if (this.entries.has(registration.type)) {
      throw new CoreError(
        'DUPLICATE_REGISTRATION',
        `a ${this.kind} named '${registration.type}' is already registered`,
      );
    }
    this.entries.set(registration.type, registration);
  }

  /** True when `type` is registered. */
  has(type: string): boolean {
    return this.entries.has(type);
  }

  /** The registered types, sorted. */
  types(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The registration of `type`, or undefined. */
  get(type: string): Registration<T, Ctx> | undefined {
    return this.entries.get(type);
  }

  /** Every problem with a config (unknown type included), with paths prefixed by `path`. */
  validate(config: unknown, path = ''): Issue[] {
    const at = (p: string) => (path ? (p ? `${path}.${p}` : path) : p);
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      return [{ path: at(''), message: `a ${this.kind} config must be an object with a 'type'` }];
    }
    const type = (config as { type?: unknown }).type;
    if (typeof type !== 'string') {
      return [
        { path: at('type'), message: `missing ${this.kind} 'type'; one of: ${this.types().join(', ')}` },
      ];
    }
    const reg = this.entries.get(type);
    if (!reg) {
      return [
        { path: at('type'), message: `unknown ${this.kind} '${type}'; one of: ${this.types().join(', ')}` },
      ];
    }
    return reg.validate(config as JsonObject).map((i) => ({ path: at(i.path), message: i.message }));
  }

  /** Validates `config` (throwing one INVALID_CONFIG error listing every problem) and builds it. */
  create(config: JsonObject, ctx: Ctx): T {
    const issues = this.validate(config);
    if (issues.length > 0) {
      const unknown =
        issues.length === 1 && issues[0]?.path === 'type' && issues[0].message.startsWith('unknown');
      throw new CoreError(
        unknown ? 'UNKNOWN_REGISTRY_NAME' : 'INVALID_CONFIG',
        `invalid ${this.kind} config:\n${formatIssues(issues)}`,
        { issues },
      );
    }
    const reg = this.entries.get(config.type as string)!;
    return reg.create(config, ctx);
  }
}

/** What a model factory gets besides its config. */
export interface ModelContext {
  /** Input shape `[H, W, C]` of the dataset. */
  readonly inputShape: readonly number[];
  /** Classes per task. */
  readonly classes: readonly number[];
}

/** What a dataset factory gets besides its config. */
export interface DatasetContext {
  /** Directory for user-supplied data (`--data-dir` / `MOPRUNE_DATA_DIR`). */
  readonly dataDir?: string;
  /** Directory for built caches (MultiMNIST …). */
  readonly cacheDir?: string;
}

/** The process-wide registries. */
export interface Registries {
  readonly objectives: Registry<Objective>;
  readonly solvers: Registry<Solver>;
  readonly pruners: Registry<Pruner>;
  readonly datasets: Registry<Dataset | Promise<Dataset>, DatasetContext>;
  readonly models: Registry<NetworkSpec, ModelContext>;
}

const KEY = Symbol.for('@moprune/core/registries');

/**
 * The process-wide registries. Kept on `globalThis` under a `Symbol.for` key
 * so that two copies of @moprune/core in one app still share one set.
 */
export function registries(): Registries {
  const g = globalThis as { [KEY]?: Registries };
  g[KEY] ??= {
    objectives: new Registry<Objective>('objective'),
    solvers: new Registry<Solver>('solver'),
    pruners: new Registry<Pruner>('pruner'),
    datasets: new Registry<Dataset | Promise<Dataset>, DatasetContext>('dataset'),
    models: new Registry<NetworkSpec, ModelContext>('model'),
  };
  return g[KEY];
}
