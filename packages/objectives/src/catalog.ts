import {
  defineObjective,
  type Issue,
  isJsonObject,
  type JsonObject,
  type Objective,
  type ObjectiveContext,
  type ObjectiveDefinition,
  type PrepareContext,
  type Registry,
  registries,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyDefinition, nllDefinition } from './cross-entropy.js';
import { commonFields } from './define.js';
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

/**
 * `{ type: 'sum', terms: [{ weight?, objective: {…} }, …], name? }` (weight
 * defaults to 1). A term's objective may be of any registered type; its
 * problems are reported under `terms[i].objective`.
 */
export const sumDefinition = defineObjective({
  name: 'sum',
  description: 'weighted sum of other objectives (e.g. cross-entropy + 1e-4·conv kernel ℓ2)',
  configSchema: s.object({
    terms: s.array(s.object({ weight: s.number().optional(), objective: s.component('objective') }), {
      minLength: 1,
    }),
    ...commonFields,
  }),
  create(c) {
    const built: SumTerm[] = [];
    try {
      for (const t of c.terms) {
        built.push({
          weight: t.weight ?? 1,
          objective: registries().objectives.create(t.objective, undefined),
        });
      }
    } catch (error) {
      for (const t of built) t.objective.dispose?.();
      throw error;
    }
    return new SumObjective(c.name ?? 'sum', c, built);
  },
});

/** Every objective type this package provides, by `type`. */
const DEFINITIONS: ReadonlyMap<string, ObjectiveDefinition> = new Map(
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
  ].map((d) => [d.name, d]),
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
  const type = isJsonObject(config) ? config.type : undefined;
  const at = path ? `${path}.type` : 'type';
  if (typeof type !== 'string') {
    return [{ path: at, message: `missing objective 'type'; one of: ${objectiveTypes().join(', ')}` }];
  }
  const own = DEFINITIONS.get(type);
  if (own) return own.validate(config, path);
  const global = registries().objectives;
  if (global.has(type)) return global.validate(config, path);
  const known = [...new Set([...objectiveTypes(), ...global.types()])].sort();
  return [{ path: at, message: `unknown objective '${type}'; one of: ${known.join(', ')}` }];
}

/**
 * Builds an objective of this package from its JSON config. Throws one
 * ObjectiveError (`INVALID_CONFIG`) listing every problem before anything is built.
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
  throwIfIssues(`'${def!.name}' objective`, def!.validate(config));
  return def!.create(config, undefined);
}

/** Every objective type of this package, defined (and so registered) when this module loads. */
export const objectiveDefinitions: readonly ObjectiveDefinition[] = [...DEFINITIONS.values()];

/**
 * Registers every objective type of this package in `registry` (the
 * process-wide one has them already). Idempotent.
 */
export function registerObjectives(registry: Registry<Objective> = registries().objectives): void {
  for (const def of objectiveDefinitions) registry.register(def);
}
