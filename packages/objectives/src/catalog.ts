import {
  type ObjectiveDefinition as CoreObjectiveDefinition,
  defineObjective,
  type Fields,
  type Issue,
  type JsonObject,
  type Objective,
  type ObjectiveContext,
  ObjectSchema,
  type PrepareContext,
  type Registry,
  registries,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { isJsonObject } from './config.js';
import { crossEntropyDefinition, nllDefinition } from './cross-entropy.js';
import { createFromDefinition, type ObjectiveDefinition, readName, validateDefinition } from './define.js';
import { throwIfIssues } from './errors.js';
import { expectedComplexityDefinition } from './expected-complexity.js';
import { groupL21Definition, growlDefinition } from './group-norms.js';
import { l1Definition, l2Definition } from './norms.js';
import { selectiveWeightDecayDefinition } from './selective-weight-decay.js';
import { sensitivityDecayDefinition } from './sensitivity-decay.js';

/** One weighted term of a {@link SumObjective}. */
export interface SumTerm {
  readonly weight: number;
  readonly objective: Objective;
}

/**
 * Σ_k weight_k·f_k: composes objectives into one, e.g. Reiners' f1 =
 * CE + 1e-4·‖conv kernels‖². `prepare` and `dispose` reach every term; the
 * terms stay reachable (e.g. to drive a nested selective weight decay's γ).
 */
export class SumObjective implements Objective {
  /**
   * Present only when some term has a `prepare` step: core's evaluation skips
   * objectives that need one, so a sum of plain terms must not claim it.
   */
  readonly prepare?: (ctx: PrepareContext) => void;

  constructor(
    readonly name: string,
    readonly config: JsonObject,
    readonly terms: readonly SumTerm[],
  ) {
    if (terms.some((t) => t.objective.prepare !== undefined)) {
      this.prepare = (ctx: PrepareContext) => {
        for (const t of this.terms) t.objective.prepare?.(ctx);
      };
    }
  }

  value(ctx: ObjectiveContext): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const t of this.terms) total = tf.add(total, tf.mul(t.objective.value(ctx), t.weight));
      return total;
    });
  }

  dispose(): void {
    for (const t of this.terms) t.objective.dispose?.();
  }
}

/** Validation of a child config: ours first, then anything else in the global registry. */
function validateChild(config: unknown, path: string): Issue[] {
  const type = isJsonObject(config) ? config.type : undefined;
  const own = typeof type === 'string' ? DEFINITIONS.get(type) : undefined;
  if (own) return validateDefinition(own, config, path);
  const global = registries().objectives;
  if (typeof type === 'string' && global.has(type)) return global.validate(config, path);
  const known = [...new Set([...objectiveTypes(), ...global.types()])].sort();
  return [
    {
      path: path ? `${path}.type` : 'type',
      message: `${typeof type === 'string' ? `unknown objective '${type}'` : "missing objective 'type'"}; one of: ${known.join(', ')}`,
    },
  ];
}

function createChild(config: JsonObject): Objective {
  const own = DEFINITIONS.get(config.type as string);
  return own ? createFromDefinition(own, config) : registries().objectives.create(config, undefined);
}

interface SumConfig {
  readonly name: string;
  readonly terms: readonly { readonly weight: number; readonly objective: JsonObject }[];
}

/** `{ type: 'sum', terms: [{ weight?, objective: {…} }, …], name? }` (weight defaults to 1). */
export const sumDefinition: ObjectiveDefinition<SumConfig> = {
  type: 'sum',
  description: 'weighted sum of other objectives (e.g. cross-entropy + 1e-4·conv kernel ℓ2)',
  parse(r) {
    const raw = r.raw('terms');
    const terms: { weight: number; objective: JsonObject }[] = [];
    if (!Array.isArray(raw) || raw.length === 0) {
      r.fail('terms', 'must be a non-empty array of { weight?, objective }');
    } else {
      raw.forEach((term, i) => {
        const path = r.at(`terms[${i}]`);
        if (!isJsonObject(term)) {
          r.issues.push({ path, message: 'must be an object { weight?, objective }' });
          return;
        }
        for (const key of Object.keys(term)) {
          if (key !== 'weight' && key !== 'objective') {
            r.issues.push({ path: `${path}.${key}`, message: 'is not a known field' });
          }
        }
        const weight = term.weight ?? 1;
        if (typeof weight !== 'number' || !Number.isFinite(weight)) {
          r.issues.push({
            path: `${path}.weight`,
            message: `must be a finite number, got ${JSON.stringify(weight)}`,
          });
        }
        const child = term.objective;
        if (!isJsonObject(child)) {
          r.issues.push({ path: `${path}.objective`, message: 'must be an objective config { type, … }' });
          return;
        }
        r.issues.push(...validateChild(child, `${path}.objective`));
        terms.push({ weight: typeof weight === 'number' ? weight : 1, objective: child });
      });
    }
    return { terms, name: readName(r, 'sum') };
  },
  build(o, config) {
    const built: SumTerm[] = [];
    try {
      for (const t of o.terms) built.push({ weight: t.weight, objective: createChild(t.objective) });
    } catch (error) {
      for (const t of built) t.objective.dispose?.();
      throw error;
    }
    return new SumObjective(o.name, config, built);
  },
};

/** Every objective type this package provides, by `type`. */
const DEFINITIONS: ReadonlyMap<string, ObjectiveDefinition> = new Map(
  (
    [
      crossEntropyDefinition,
      nllDefinition,
      l1Definition,
      l2Definition,
      groupL21Definition,
      growlDefinition,
      expectedComplexityDefinition,
      selectiveWeightDecayDefinition,
      sensitivityDecayDefinition,
      sumDefinition,
    ] as ObjectiveDefinition[]
  ).map((d) => [d.type, d]),
);

/** The objective types this package provides, sorted. */
export function objectiveTypes(): string[] {
  return [...DEFINITIONS.keys()].sort();
}

/**
 * Every problem with an objective config (an empty list when it is valid).
 * Types of this package are checked here; other types through the global registry.
 */
export function validateObjectiveConfig(config: unknown, path = ''): Issue[] {
  if (!isJsonObject(config) || typeof config.type !== 'string') {
    return [
      {
        path: path ? `${path}.type` : 'type',
        message: `missing objective 'type'; one of: ${objectiveTypes().join(', ')}`,
      },
    ];
  }
  return validateChild(config, path);
}

/**
 * Builds an objective from its JSON config. Throws one ObjectiveError
 * (`INVALID_CONFIG`) listing every problem before anything is built.
 */
export function createObjective(config: JsonObject): Objective {
  const type = config.type;
  const def = typeof type === 'string' ? DEFINITIONS.get(type) : undefined;
  if (!def) {
    throwIfIssues('objective', [
      {
        path: 'type',
        message: `unknown objective ${JSON.stringify(type)}; one of: ${objectiveTypes().join(', ')}`,
      },
    ]);
  }
  return createFromDefinition(def!, config);
}

/**
 * The schema of one definition's config, checked by its `parse` (the
 * objectives' own reader, until they are written in the schema vocabulary).
 */
function definitionSchema(def: ObjectiveDefinition): ObjectSchema<Fields> {
  return new ObjectSchema(
    {},
    `a '${def.type}' objective config`,
    (value, path) => validateDefinition(def, { ...(value as JsonObject), type: def.type }, path),
    false,
  );
}

/** Every objective type of this package, defined (and so registered) when this module loads. */
export const objectiveDefinitions: readonly CoreObjectiveDefinition[] = [...DEFINITIONS.values()].map((def) =>
  defineObjective({
    name: def.type,
    description: def.description,
    configSchema: definitionSchema(def),
    create: (config) => createFromDefinition(def, config as JsonObject),
  }),
);

/**
 * Registers every objective type of this package in `registry` (the
 * process-wide one has them already). Idempotent.
 */
export function registerObjectives(registry: Registry<Objective> = registries().objectives): void {
  for (const def of objectiveDefinitions) registry.register(def);
}
