import {
  defineModel,
  type Fields,
  type JsonObject,
  type ModelDefinition,
  type NetworkSpec,
  schema as s,
} from '@moprune/core';
import { ModelError } from '../errors.js';

/** What a registered model is made of: its config fields and its builder. */
export interface ModelParts {
  /** The registry `type`. */
  readonly name: string;
  /** One line for `moprune list`. */
  readonly description: string;
  /** Config fields besides `type`; `inputShape` and `classes` come from the model context (the dataset). */
  readonly fields: Fields;
  /** Single-task builders take `classes: number`, multi-task ones `classes: number[]`. */
  readonly tasks: 'single' | 'multi';
  /** The exported builder function (validates its options itself). */
  readonly build: (options: never) => NetworkSpec;
}

const fromDataset = s
  .custom('set by the dataset', (_value, path) => [
    { path, message: 'comes from the dataset (the model context); remove it from the config' },
  ])
  .optional();

/**
 * Defines (and so registers) a model whose `create` passes the context's
 * shapes to the builder; a config that sets `inputShape` or `classes` itself
 * is told they come from the dataset.
 */
export function defineBuiltModel(parts: ModelParts): ModelDefinition {
  return defineModel({
    name: parts.name,
    description: parts.description,
    configSchema: s.object({ ...parts.fields, inputShape: fromDataset, classes: fromDataset }),
    create: (config, ctx) => {
      const { type: _type, ...rest } = config as JsonObject;
      let classes: number | readonly number[] = ctx.classes;
      if (parts.tasks === 'single') {
        if (ctx.classes.length !== 1) {
          const message = `'${parts.name}' is a single-task model; the dataset has ${ctx.classes.length} tasks`;
          throw new ModelError('INCOMPATIBLE_INPUT', message, {
            issues: [{ path: 'classes', message }],
            details: { model: parts.name, classes: [...ctx.classes] },
          });
        }
        classes = ctx.classes[0]!;
      }
      const build = parts.build as (options: object) => NetworkSpec;
      return build({ ...rest, inputShape: ctx.inputShape, classes });
    },
  });
}
