import {
  type Issue,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  joinPath,
  schema as s,
  showValue,
} from '@moprune/core';
import { jsonSha256 } from './canonical.js';
import { preferenceGrid } from './grid.js';

/**
 * One trial: a complete config for its runner (for the default runner, an
 * experiment config as `moprune train` takes it) and an id unique in its
 * sweep. The trial's run directory is `<store>/<sweep id>/<trial id>`.
 */
export interface TrialSpec {
  /** Unique in the sweep; letters, digits and `._=,+-` (it names a directory). */
  readonly id: string;
  /** The complete config the runner trains. */
  readonly config: JsonObject;
  /** A registered trial runner (see `defineTrialRunner`). @default 'experiment' */
  readonly runner?: string;
  /**
   * Threads the trial's training uses (its process gets `MOPRUNE_NATIVE_THREADS`
   * set to this); the local pool counts it against the machine's cores. @default 1
   */
  readonly threads?: number;
  /** What distinguishes this trial (the grid values that made it), for reports and strategies. */
  readonly labels?: JsonObject;
}

/**
 * A generated grid axis: preference vectors (weights on the simplex, e.g. the
 * weights of a weighted-sum or Chebyshev solver). See {@link preferenceGrid}.
 */
export interface SimplexAxis {
  readonly simplex: {
    /** Length of each vector (number of objectives, ≥ 2). */
    readonly dimensions: number;
    /** Steps along each edge of the simplex (≥ 1). */
    readonly divisions: number;
    /**
     * Fix the first weight to each of these values in turn and spread the rest
     * (1 − first) over the other weights on a lattice of `divisions` steps —
     * e.g. Hotegni et al.'s k0 ∈ {0, 1e-4, …} with (k1, k2) on a line.
     */
    readonly first?: readonly number[];
  };
}

/** The values of one grid axis: a list, or generated preference vectors. */
export type GridAxis = readonly JsonValue[] | SimplexAxis;

/** An explicit trial of a sweep file: a whole config, or field overrides of `base`. */
export interface TrialEntry {
  /** @default its index, zero-padded */
  readonly id?: string;
  /** A complete config (otherwise `base` with `set` applied). */
  readonly config?: JsonObject;
  /** Dotted paths (`training.seed`, `objectives[1].weight`) → values, applied to `base`. */
  readonly set?: Readonly<Record<string, JsonValue>>;
  readonly runner?: string;
  readonly threads?: number;
}

/**
 * A sweep as a JSON document (`moprune sweep sweep.json`). Its trials are the
 * explicit `trials`, or the product of `base` with every `grid` axis and every
 * seed in `seeds` (seeds vary slowest, the last grid axis fastest).
 *
 * ```json
 * { "id": "lenet-l1", "base": { …experiment config… },
 *   "grid": { "solver.weights": { "simplex": { "dimensions": 2, "divisions": 4 } } },
 *   "seeds": [1, 2, 3] }
 * ```
 */
export interface SweepDefinition {
  /** The sweep's name in the store and the queue: letters, digits, `._-`, at most 64. */
  readonly id: string;
  /** Modules every trial process imports first (contributors' components, trial runners). */
  readonly modules?: readonly string[];
  /** Default runner of the trials. @default 'experiment' */
  readonly runner?: string;
  /** Default threads per trial. @default 1 */
  readonly threads?: number;
  /** The config that `grid`, `seeds` and `set` modify. */
  readonly base?: JsonObject;
  /** Dotted path → the values it takes. */
  readonly grid?: Readonly<Record<string, GridAxis>>;
  /** Values of `training.seed`: one trial per seed and grid point. */
  readonly seeds?: readonly number[];
  readonly trials?: readonly TrialEntry[];
}

/** Sweep ids name a directory and prefix queue job ids. */
export const SWEEP_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Trial ids name a directory. */
export const TRIAL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._=,+-]{0,119}$/;

type PathPart = string | number;

/** `objectives[1].weight` → ['objectives', 1, 'weight']; undefined when malformed. */
function parsePath(path: string): PathPart[] | undefined {
  const parts: PathPart[] = [];
  for (const segment of path.split('.')) {
    const m = /^([A-Za-z_$][\w$-]*)((?:\[\d+\])*)$/.exec(segment);
    if (!m) return undefined;
    parts.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push(Number(idx[1]));
  }
  return parts;
}

/**
 * Sets `path` in a deep copy of `config`: missing objects on the way are
 * created, array indices must exist. Returns the copy, or a message.
 */
function setPath(config: JsonObject, path: string, value: JsonValue): JsonObject | string {
  const parts = parsePath(path);
  if (parts === undefined) return `'${path}' is not a dotted path like training.seed or objectives[1].weight`;
  const copy = structuredClone(config) as JsonObject;
  let node: JsonValue = copy;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i]!;
    const last = i === parts.length - 1;
    if (typeof key === 'number') {
      if (!Array.isArray(node) || key >= node.length)
        return `'${path}': index ${key} is not in an array of that length`;
      if (last) node[key] = value;
      else node = node[key]!;
    } else {
      if (!isJsonObject(node)) return `'${path}': '${key}' is not inside an object`;
      const obj = node as Record<string, JsonValue>;
      if (last) obj[key] = value;
      else {
        if (obj[key] === undefined) obj[key] = {};
        node = obj[key]!;
      }
    }
  }
  return copy;
}

function axisValues(axis: GridAxis): JsonValue[] {
  if (Array.isArray(axis)) return [...(axis as JsonValue[])];
  const s = (axis as SimplexAxis).simplex;
  return preferenceGrid({
    dimensions: s.dimensions,
    divisions: s.divisions,
    ...(s.first === undefined ? {} : { first: s.first }),
  });
}

function label(value: JsonValue): string {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean')
    return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'number' || typeof v === 'string'))
    return value.join(',');
  return jsonSha256(value).slice(0, 8);
}

const sanitize = (s: string) => s.replace(/[^A-Za-z0-9._=,+-]/g, '_');

/** The grid point's trial id: its index, then `name=value` per axis (last path segment). */
function gridTrialId(index: number, width: number, labels: readonly [string, JsonValue][]): string {
  const parts = [String(index).padStart(width, '0')];
  for (const [path, value] of labels) {
    const name = path
      .split('.')
      .pop()!
      .replace(/\[\d+\]/g, '');
    parts.push(`${name}=${label(value)}`);
  }
  return sanitize(parts.join('-')).slice(0, 120);
}

const threadsField = () => s.integer({ min: 1 }).optional();
const runnerField = () => s.string().describe('the name of a registered trial runner').optional();
const configObject = () =>
  s.custom<JsonObject>(
    'a config object',
    (v, path) => (isJsonObject(v) ? [] : [{ path, message: `must be a config object, got ${showValue(v)}` }]),
    ['object'],
  );

const simplexAxisSchema = s.object({
  simplex: s.object({
    dimensions: s.integer({ min: 2 }),
    divisions: s.integer({ min: 1 }),
    first: s.array(s.number({ min: 0, max: 1 }), { minLength: 1 }).optional(),
  }),
});

/** One grid axis: a non-empty list of values, or `{ simplex: { dimensions, divisions, first? } }`. */
const gridAxisSchema = s.anyOf(
  s.array(s.json()).refine((values) => (values.length === 0 ? 'needs at least one value' : undefined)),
  simplexAxisSchema,
);

/** `grid`: dotted paths (`training.seed`, `objectives[1].weight`) → axes. */
const gridSchema = s.custom<Record<string, GridAxis>>(
  'an object of dotted paths → value lists',
  (v, path) => {
    if (!isJsonObject(v)) return [{ path, message: 'must map dotted paths to value lists' }];
    return Object.entries(v).flatMap(([key, axis]) => {
      const at = joinPath(path, key);
      const bad =
        parsePath(key) === undefined
          ? [{ path: at, message: 'is not a dotted path like training.seed or objectives[1].weight' }]
          : [];
      return [...bad, ...gridAxisSchema.issues(axis, at)];
    });
  },
  ['object'],
);

/** An explicit trial; whether `set` can apply depends on the sweep having a `base`. */
const trialSchema = (hasBase: boolean) =>
  s
    .object({
      id: s.string({ pattern: { regex: TRIAL_ID_RE, message: `must match ${TRIAL_ID_RE}` } }).optional(),
      config: configObject().optional(),
      set: s.record(s.json()).describe('an object of dotted paths → values').optional(),
      runner: runnerField(),
      threads: threadsField(),
    })
    .refine((t, path): Issue[] | undefined => {
      if (t.config !== undefined && t.set !== undefined)
        return [{ path, message: 'give either config or set, not both' }];
      if (t.set !== undefined && !hasBase)
        return [{ path: joinPath(path, 'set'), message: 'needs a base config to modify' }];
      if (t.config === undefined && t.set === undefined && !hasBase)
        return [{ path, message: 'needs a config (or a base config and set)' }];
      return undefined;
    });

/**
 * The schema of a sweep document (see {@link SweepDefinition}); `hasBase`
 * says whether the document has a `base` config, which a trial's `set` needs.
 */
function sweepSchema(hasBase: boolean) {
  return s.object({
    id: s.string({
      pattern: {
        regex: SWEEP_ID_RE,
        message: `must match ${SWEEP_ID_RE} (it names a directory and queue jobs)`,
      },
    }),
    modules: s.array(s.string().describe('a module specifier or path')).optional(),
    runner: runnerField(),
    threads: threadsField(),
    base: configObject().optional(),
    grid: gridSchema.optional(),
    seeds: s
      .array(
        s.integer({ min: 0 }).refine((v) => (Number.isSafeInteger(v) ? undefined : 'must be a safe integer')),
        { minLength: 1 },
      )
      .optional(),
    trials: s.array(trialSchema(hasBase), { minLength: 1 }).optional(),
    description: s.json().optional(),
  });
}

/** The schema of a sweep document's fields (a `set` in a trial is checked as if there were a `base`). */
export const sweepDefinitionSchema = sweepSchema(true);

/**
 * Every problem with a sweep document's shape (not yet its trial configs:
 * those are checked by their runners, see `planSweep`), each with its path.
 */
export function validateSweepDefinition(doc: unknown): Issue[] {
  if (!isJsonObject(doc)) return [{ path: '', message: 'a sweep must be a JSON object' }];
  const hasBase = isJsonObject(doc.base);
  const generated = doc.grid !== undefined || doc.seeds !== undefined;
  const issues: Issue[] = [];
  if (doc.trials !== undefined && generated)
    issues.push({ path: 'trials', message: 'give either trials or grid/seeds, not both' });
  issues.push(...sweepSchema(hasBase).issues(doc));
  if (doc.trials === undefined && !generated)
    issues.push({ path: '', message: 'a sweep needs trials, or a base config with grid and/or seeds' });
  else if (doc.trials === undefined && !hasBase && doc.base === undefined)
    issues.push({ path: 'base', message: 'is required with grid/seeds: the config they modify' });
  return issues;
}

/**
 * The trials of a valid sweep document, in order, plus the problems found
 * while making them (a `set` path that does not fit, duplicate ids).
 */
export function expandTrials(def: SweepDefinition): { trials: TrialSpec[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const trials: TrialSpec[] = [];
  const common = (runner: string | undefined, threads: number | undefined) => ({
    ...(runner === undefined ? {} : { runner }),
    ...(threads === undefined ? {} : { threads }),
  });
  if (def.trials !== undefined) {
    const width = String(def.trials.length - 1).length;
    def.trials.forEach((t, i) => {
      let config: JsonObject | string = t.config ?? def.base!;
      for (const [path, value] of Object.entries(t.set ?? {})) {
        if (typeof config === 'string') break;
        config = setPath(config, path, value);
        if (typeof config === 'string') issues.push({ path: `trials[${i}].set`, message: config });
      }
      if (typeof config === 'string') return;
      trials.push({
        id: t.id ?? String(i).padStart(width, '0'),
        config,
        ...common(t.runner ?? def.runner, t.threads ?? def.threads),
        ...(t.set === undefined ? {} : { labels: { ...t.set } as JsonObject }),
      });
    });
  } else {
    const axes: [string, JsonValue[]][] = [];
    if (def.seeds !== undefined) axes.push(['training.seed', [...def.seeds]]);
    for (const [path, axis] of Object.entries(def.grid ?? {})) axes.push([path, axisValues(axis)]);
    const total = axes.reduce((n, [, v]) => n * v.length, 1);
    const width = String(total - 1).length;
    for (let index = 0; index < total; index++) {
      let rest = index;
      const point: [string, JsonValue][] = [];
      for (let a = axes.length - 1; a >= 0; a--) {
        const [path, values] = axes[a]!;
        point.unshift([path, values[rest % values.length]!]);
        rest = Math.floor(rest / values.length);
      }
      let config: JsonObject | string = def.base!;
      for (const [path, value] of point) {
        if (typeof config === 'string') break;
        config = setPath(config, path, value);
      }
      if (typeof config === 'string') {
        if (index === 0) issues.push({ path: 'grid', message: config });
        continue;
      }
      trials.push({
        id: gridTrialId(index, width, point),
        config,
        ...common(def.runner, def.threads),
        labels: Object.fromEntries(point) as JsonObject,
      });
    }
  }
  const seen = new Set<string>();
  for (const t of trials) {
    if (seen.has(t.id)) issues.push({ path: `trials[${t.id}]`, message: `duplicate trial id '${t.id}'` });
    seen.add(t.id);
  }
  return { trials, issues };
}

/** The identity of a trial's work: its runner and config (the id and labels do not change the result). */
export function trialConfigSha256(trial: TrialSpec): string {
  return jsonSha256({ runner: trial.runner ?? 'experiment', config: trial.config });
}

/** The identity of a list of trials (ids and configs), e.g. of a static sweep. */
export function trialsSha256(trials: readonly TrialSpec[]): string {
  return jsonSha256(trials.map((t) => [t.id, trialConfigSha256(t)]));
}
