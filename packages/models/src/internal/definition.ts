import type { Issue, JsonObject, ModelContext, NetworkSpec, Registration } from '@moprune/core';
import { ModelError } from '../errors.js';
import { checkFields, type Field } from './fields.js';

/** What a registered model is made of: its config fields and its builder. */
export interface ModelDefinition {
  /** The registry `type`. */
  readonly type: string;
  /** One line for `moprune list`. */
  readonly description: string;
  /** Config fields besides `type`; `inputShape` and `classes` come from the {@link ModelContext}. */
  readonly fields: readonly Field[];
  /** Single-task builders take `classes: number`, multi-task ones `classes: number[]`. */
  readonly tasks: 'single' | 'multi';
  /** The exported builder function (validates its options itself). */
  readonly build: (options: never) => NetworkSpec;
}

/** Turns a definition into a registry entry whose `create` passes the context's shapes to the builder. */
export function registrationOf(def: ModelDefinition): Registration<NetworkSpec, ModelContext> {
  return {
    type: def.type,
    description: def.description,
    validate: (config) => checkConfig(def, config),
    create: (config, ctx) => {
      const { type: _type, ...rest } = config;
      let classes: number | readonly number[] = ctx.classes;
      if (def.tasks === 'single') {
        if (ctx.classes.length !== 1) {
          const message = `'${def.type}' is a single-task model; the dataset has ${ctx.classes.length} tasks`;
          throw new ModelError('INCOMPATIBLE_INPUT', message, {
            issues: [{ path: 'classes', message }],
            details: { model: def.type, classes: [...ctx.classes] },
          });
        }
        classes = ctx.classes[0]!;
      }
      const build = def.build as (options: object) => NetworkSpec;
      return build({ ...rest, inputShape: ctx.inputShape, classes });
    },
  };
}

function checkConfig(def: ModelDefinition, config: JsonObject): Issue[] {
  const issues: Issue[] = [];
  for (const key of ['inputShape', 'classes']) {
    if (key in config) {
      issues.push({
        path: key,
        message: 'comes from the dataset (the model context); remove it from the config',
      });
    }
  }
  const { inputShape: _i, classes: _c, ...rest } = config;
  issues.push(...checkFields(rest, def.fields, ['type']));
  return issues;
}
