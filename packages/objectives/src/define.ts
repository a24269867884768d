import type { Issue, JsonObject, Objective } from '@moprune/core';
import { ConfigReader, isJsonObject } from './config.js';
import { throwIfIssues } from './errors.js';

/**
 * One objective type: how to read its JSON config (collecting every problem)
 * and how to build it. `validate` and `create` share `parse`, so the checks
 * a config passes are exactly the ones the factory relies on.
 */
export interface ObjectiveDefinition<O = unknown> {
  /** The `type` string of configs. */
  readonly type: string;
  /** One line for `moprune list`. */
  readonly description: string;
  /** Reads the config; problems go to `reader.issues`. Must read every known field. */
  parse(reader: ConfigReader): O;
  /** Builds the objective from parsed options (only called when parsing found no issue). */
  build(options: O, config: JsonObject): Objective;
}

/** Every problem with `config` for `def`, with paths prefixed by `path`. */
export function validateDefinition(def: ObjectiveDefinition, config: unknown, path = ''): Issue[] {
  const issues: Issue[] = [];
  if (!isJsonObject(config)) {
    issues.push({ path, message: 'an objective config must be an object' });
    return issues;
  }
  const reader = new ConfigReader(config, issues, path);
  reader.raw('type');
  def.parse(reader);
  reader.rejectUnknown();
  return issues;
}

/** Validates (throwing one ObjectiveError listing every problem) and builds. */
export function createFromDefinition(def: ObjectiveDefinition, config: JsonObject): Objective {
  const issues: Issue[] = [];
  const reader = new ConfigReader(config, issues);
  reader.raw('type');
  const options = def.parse(reader);
  reader.rejectUnknown();
  throwIfIssues(`'${def.type}' objective`, issues);
  return def.build(options, config);
}

/** Reads the optional `name` every objective config may carry. */
export function readName(reader: ConfigReader, fallback: string): string {
  return reader.optionalString('name') ?? fallback;
}
