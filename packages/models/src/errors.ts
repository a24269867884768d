import { formatIssues, type Issue, MopruneError, type MopruneErrorOptions } from '@moprune/core';

/** Codes thrown by @moprune/models. */
export type ModelErrorCode =
  /** Builder options or a model config are invalid; `issues` lists every problem. */
  | 'INVALID_CONFIG'
  /**
   * The input shape or class counts do not fit the architecture (wrong rank,
   * spatial size shrinking to nothing, a single-task net given several tasks);
   * `issues` names the field and `details` the node where it failed.
   */
  | 'INCOMPATIBLE_INPUT';

/** An error thrown by @moprune/models. `name` is always `'ModelError'`. */
export class ModelError extends MopruneError<ModelErrorCode> {
  constructor(code: ModelErrorCode, message: string, options: MopruneErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ModelError';
  }
}

/** Throws one INVALID_CONFIG error listing every issue, if there are any. */
export function throwIfInvalid(model: string, issues: readonly Issue[]): void {
  if (issues.length === 0) return;
  throw new ModelError('INVALID_CONFIG', `invalid options for model '${model}':\n${formatIssues(issues)}`, {
    issues,
    details: { model },
  });
}
