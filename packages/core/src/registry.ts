/**
 * The one extension shape of moprune. Every component kind — objectives,
 * solvers, pruners, datasets, models — and every experiment is a
 * *definition*: a `name`, a one-line `description`, and what the kind needs
 * (a config schema and a factory for components, modes and `run` for
 * experiments). `defineX({...})` checks the definition, registers it in the
 * process-wide registry of its kind and returns it, so a module that defines
 * components at its top level registers them by being imported (as
 * tfjs' `registerKernel` does).
 */
import { CoreError, formatIssues, type Issue } from './errors.js';
import type { ExperimentDefinition, ExperimentSpec } from './experiments.js';
import type { Dataset, Objective, Pruner, Solver } from './interfaces.js';
import type { JsonObject } from './json.js';
import {
  custom,
  type Fields,
  isJsonObject,
  joinPath,
  type ObjectOf,
  type ObjectSchema,
  showValue,
} from './schema.js';
import type { NetworkSpec } from './spec.js';

/** A component config: a JSON object with a `type` naming a registered definition. */
export interface ComponentConfig extends JsonObject {
  type: string;
}

/** The component kinds, each with its own registry. */
export type ComponentKind = 'objective' | 'solver' | 'pruner' | 'dataset' | 'model';

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

/**
 * What a contributor writes to define a component: the `type` name configs
 * use, one line for `moprune list`, the schema of the config's other fields,
 * and the factory. `create` is only ever called with a config that passed
 * `configSchema`, typed accordingly (with its `type`).
 */
export interface ComponentSpec<T, Ctx, F extends Fields, N extends string = string> {
  /** The `type` string configs use (`{ "type": "random", … }`). */
  readonly name: N;
  /** One line, shown by `moprune list`. */
  readonly description: string;
  /** The config's fields besides `type`; unknown fields are reported. */
  readonly configSchema: ObjectSchema<F>;
  /** Builds the component from a valid config. */
  create(config: ObjectOf<F> & { readonly type: N }, ctx: Ctx): T;
}

/**
 * A registered component kind: {@link ComponentSpec} plus `validate` and a
 * `create` that validates first (so `def.create(json)` is safe to call directly).
 */
export interface ComponentDefinition<T, Ctx = undefined> {
  /** Which registry it belongs to. */
  readonly kind: ComponentKind | (string & {});
  /** The `type` string configs use. */
  readonly name: string;
  /** One line, shown by `moprune list`. */
  readonly description: string;
  /** The schema of the config's fields besides `type`. */
  readonly configSchema: ObjectSchema<Fields>;
  /** Every problem with a config of this type (paths prefixed by `path`), `type` included. */
  validate(config: unknown, path?: string): Issue[];
  /**
   * Validates `config` (throwing one `INVALID_CONFIG` CoreError listing every
   * problem) and builds the component.
   */
  create(config: JsonObject, ctx: Ctx): T;
}

/** An objective definition (see {@link defineObjective}). */
export type ObjectiveDefinition = ComponentDefinition<Objective>;
/** A solver definition (see {@link defineSolver}). */
export type SolverDefinition = ComponentDefinition<Solver>;
/** A pruner definition (see {@link definePruner}). */
export type PrunerDefinition = ComponentDefinition<Pruner>;
/** A dataset definition (see {@link defineDataset}). */
export type DatasetDefinition = ComponentDefinition<Dataset | Promise<Dataset>, DatasetContext>;
/** A model definition (see {@link defineModel}). */
export type ModelDefinition = ComponentDefinition<NetworkSpec, ModelContext>;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function checkSpec(kind: string, spec: { name?: unknown; description?: unknown }): void {
  if (typeof spec.name !== 'string' || !NAME_RE.test(spec.name)) {
    throw new CoreError(
      'INVALID_DEFINITION',
      `a ${kind} definition needs a name of letters, digits, '-', '_' or '.', got ${showValue(spec.name)}`,
    );
  }
  if (typeof spec.description !== 'string') {
    throw new CoreError('INVALID_DEFINITION', `${kind} '${spec.name}' needs a one-line description`);
  }
}

/**
 * Turns a {@link ComponentSpec} into a definition of `kind` without
 * registering it (the `defineX` functions register what this returns).
 * @throws CoreError `INVALID_DEFINITION` for a malformed spec.
 */
export function componentDefinition<T, Ctx, F extends Fields, N extends string>(
  kind: string,
  spec: ComponentSpec<T, Ctx, F, N>,
): ComponentDefinition<T, Ctx> {
  checkSpec(kind, spec);
  if (typeof spec.create !== 'function' || typeof spec.configSchema?.issues !== 'function') {
    throw new CoreError(
      'INVALID_DEFINITION',
      `${kind} '${spec.name}' needs a configSchema (schema.object({...})) and a create function`,
    );
  }
  const validate = (config: unknown, path = ''): Issue[] => {
    if (!isJsonObject(config)) {
      return [
        { path, message: `a ${kind} config must be an object with a 'type', got ${showValue(config)}` },
      ];
    }
    const { type, ...rest } = config;
    const issues: Issue[] =
      type === spec.name
        ? []
        : [{ path: joinPath(path, 'type'), message: `must be '${spec.name}', got ${showValue(type)}` }];
    issues.push(...spec.configSchema.issues(rest, path));
    return issues;
  };
  return Object.freeze({
    kind,
    name: spec.name,
    description: spec.description,
    configSchema: spec.configSchema as unknown as ObjectSchema<Fields>,
    validate,
    create(config: JsonObject, ctx: Ctx): T {
      throwIfIssues(`${kind} '${spec.name}' config`, validate(config));
      return spec.create(config as ObjectOf<F> & { type: N }, ctx);
    },
  });
}

/** Throws one `INVALID_CONFIG` CoreError listing every issue, if there are any. */
export function throwIfIssues(what: string, issues: readonly Issue[]): void {
  if (issues.length > 0) {
    throw new CoreError('INVALID_CONFIG', `invalid ${what}:\n${formatIssues(issues)}`, { issues });
  }
}

/** Anything a registry can hold: a kind, a name and a description. */
export interface Definition {
  readonly kind: string;
  readonly name: string;
  readonly description: string;
}

/**
 * Definitions of one kind, by name. Registering the same definition twice is a
 * no-op; a second definition under a taken name is taken as another copy of the
 * same module (ESM and CJS, source and build) when its description is the same,
 * and refused otherwise.
 */
export class DefinitionTable<D extends Definition> {
  private readonly entries = new Map<string, D>();

  constructor(
    /** What the table holds, for messages (`'pruner'`, `'experiment'` …). */
    readonly kind: string,
  ) {}

  /**
   * Adds a definition.
   * @throws CoreError `DUPLICATE_REGISTRATION` when another definition has the name,
   *   `INVALID_DEFINITION` when the definition is of another kind.
   */
  register(definition: D): void {
    if (definition.kind !== this.kind) {
      throw new CoreError(
        'INVALID_DEFINITION',
        `'${definition.name}' is a ${definition.kind} definition; the ${this.kind} registry takes ${this.kind}s`,
      );
    }
    const existing = this.entries.get(definition.name);
    if (existing === undefined) {
      this.entries.set(definition.name, definition);
      return;
    }
    if (existing === definition || existing.description === definition.description) return;
    throw new CoreError(
      'DUPLICATE_REGISTRATION',
      `a ${this.kind} named '${definition.name}' is already registered ("${existing.description}")`,
    );
  }

  /** True when `name` is registered. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The registered names, sorted. */
  types(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The registered definitions, sorted by name. */
  list(): D[] {
    return this.types().map((t) => this.entries.get(t)!);
  }

  /** The definition registered as `name`, or undefined. */
  get(name: string): D | undefined {
    return this.entries.get(name);
  }

  /** Removes a registration (tests); true when there was one. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }
}

/** The components of one kind, keyed by the `type` their configs name. */
export class Registry<T, Ctx = undefined> extends DefinitionTable<ComponentDefinition<T, Ctx>> {
  /** Every problem with a config (unknown type included, naming the registered ones), paths prefixed by `path`. */
  validate(config: unknown, path = ''): Issue[] {
    if (!isJsonObject(config)) {
      return [
        { path, message: `a ${this.kind} config must be an object with a 'type', got ${showValue(config)}` },
      ];
    }
    const type = config.type;
    const at = joinPath(path, 'type');
    if (typeof type !== 'string') {
      return [{ path: at, message: `missing ${this.kind} 'type'; ${this.known()}` }];
    }
    const def = this.get(type);
    if (!def) return [{ path: at, message: `unknown ${this.kind} '${type}'; ${this.known()}` }];
    return def.validate(config, path);
  }

  /**
   * Validates `config` (throwing one CoreError listing every problem:
   * `UNKNOWN_REGISTRY_NAME` for an unknown type, `INVALID_CONFIG` otherwise) and builds it.
   */
  create(config: JsonObject, ctx: Ctx): T {
    const issues = this.validate(config);
    if (issues.length > 0) {
      const unknown =
        issues.length === 1 && issues[0]?.path === 'type' && issues[0].message.startsWith('unknown');
      throw new CoreError(
        unknown ? 'UNKNOWN_REGISTRY_NAME' : 'INVALID_CONFIG',
        `invalid ${this.kind} config:\n${formatIssues(issues)}`,
        { issues, ...(unknown ? { details: { kind: this.kind, registered: this.types() } } : {}) },
      );
    }
    return this.get(config.type as string)!.create(config, ctx);
  }

  private known(): string {
    const names = this.types();
    return names.length === 0
      ? `no ${this.kind} is registered`
      : `registered ${this.kind}s: ${names.join(', ')}`;
  }
}

/** The process-wide registries. */
export interface Registries {
  readonly objectives: Registry<Objective>;
  readonly solvers: Registry<Solver>;
  readonly pruners: Registry<Pruner>;
  readonly datasets: Registry<Dataset | Promise<Dataset>, DatasetContext>;
  readonly models: Registry<NetworkSpec, ModelContext>;
  readonly experiments: DefinitionTable<ExperimentDefinition>;
}

const KEY = Symbol.for('@moprune/core/registries/v2');

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
    experiments: new DefinitionTable<ExperimentDefinition>('experiment'),
  };
  return g[KEY];
}

/** The registry of each component kind. */
function registryOf(kind: ComponentKind): Registry<unknown, unknown> {
  const r = registries();
  const table = {
    objective: r.objectives,
    solver: r.solvers,
    pruner: r.pruners,
    dataset: r.datasets,
    model: r.models,
  } as const;
  return table[kind] as unknown as Registry<unknown, unknown>;
}

function defineComponent<T, Ctx, F extends Fields, N extends string>(
  kind: ComponentKind,
  spec: ComponentSpec<T, Ctx, F, N>,
): ComponentDefinition<T, Ctx> {
  const def = componentDefinition(kind, spec);
  registryOf(kind).register(def as ComponentDefinition<unknown, unknown>);
  return def;
}

/**
 * Defines and registers an objective: `{ "type": name, … }` configs build it.
 * @example
 * ```ts
 * export const hinge = defineObjective({
 *   name: 'hinge', description: 'multi-class hinge loss',
 *   configSchema: schema.object({ margin: schema.number({ gt: 0 }).optional() }),
 *   create: (config) => createHinge(config.margin ?? 1),
 * });
 * ```
 */
export function defineObjective<F extends Fields, N extends string>(
  spec: ComponentSpec<Objective, undefined, F, N>,
): ObjectiveDefinition {
  return defineComponent('objective', spec);
}

/** Defines and registers a solver (see {@link defineObjective} for the shape). */
export function defineSolver<F extends Fields, N extends string>(
  spec: ComponentSpec<Solver, undefined, F, N>,
): SolverDefinition {
  return defineComponent('solver', spec);
}

/** Defines and registers a pruner (see {@link defineObjective} for the shape). */
export function definePruner<F extends Fields, N extends string>(
  spec: ComponentSpec<Pruner, undefined, F, N>,
): PrunerDefinition {
  return defineComponent('pruner', spec);
}

/** Defines and registers a dataset; `create` gets the run's data and cache directories. */
export function defineDataset<F extends Fields, N extends string>(
  spec: ComponentSpec<Dataset | Promise<Dataset>, DatasetContext, F, N>,
): DatasetDefinition {
  return defineComponent('dataset', spec);
}

/** Defines and registers a model; `create` gets the dataset's input shape and classes and returns a spec. */
export function defineModel<F extends Fields, N extends string>(
  spec: ComponentSpec<NetworkSpec, ModelContext, F, N>,
): ModelDefinition {
  return defineComponent('model', spec);
}

const EXPERIMENT_NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Defines and registers a paper reproduction that `moprune reproduce <name>`
 * runs. An experiment package calls it at its top level (so importing the
 * package, or naming it in the workspace's `moprune.modules`, registers it).
 * @throws CoreError `INVALID_DEFINITION` for a malformed definition,
 *   `DUPLICATE_REGISTRATION` for a taken name.
 */
export function defineExperiment(spec: ExperimentSpec): ExperimentDefinition {
  checkSpec('experiment', spec);
  if (!EXPERIMENT_NAME_RE.test(spec.name)) {
    throw new CoreError(
      'INVALID_DEFINITION',
      `an experiment name must match ${EXPERIMENT_NAME_RE} (it is a command-line word), got '${spec.name}'`,
    );
  }
  for (const mode of ['quick', 'full'] as const) {
    if (typeof spec.modes?.[mode] !== 'string') {
      throw new CoreError(
        'INVALID_DEFINITION',
        `experiment '${spec.name}' does not describe its '${mode}' mode`,
      );
    }
  }
  if (typeof spec.run !== 'function') {
    throw new CoreError('INVALID_DEFINITION', `experiment '${spec.name}' needs a run function`);
  }
  const def: ExperimentDefinition = Object.freeze({ ...spec, kind: 'experiment' as const });
  registries().experiments.register(def);
  return def;
}

/** True when `value` is a definition made by one of the `defineX` functions (any copy of core). */
export function isDefinition(
  value: unknown,
): value is ComponentDefinition<unknown, unknown> | ExperimentDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Definition>;
  return (
    typeof v.kind === 'string' &&
    typeof v.name === 'string' &&
    typeof v.description === 'string' &&
    ['objective', 'solver', 'pruner', 'dataset', 'model', 'experiment'].includes(v.kind)
  );
}

/**
 * A field holding the config of another registered component (`{ type, … }`),
 * checked by that kind's registry at validation time, so nested configs report
 * their problems with full paths (`terms[1].objective.type`).
 */
export function component(kind: ComponentKind) {
  return custom<ComponentConfig>(
    `a ${kind} config { type, … }`,
    (value, path) => registryOf(kind).validate(value, path),
    ['object'],
  );
}
