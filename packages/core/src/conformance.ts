import type { Issue } from './errors.js';
import type { JsonObject } from './json.js';

/**
 * What every moprune conformance suite (pruners, solvers, objectives, datasets, models — and a
 * contributor's own) is made of: the test framework's `describe`/`it` handed in, and the suite's
 * own assertions, so vitest and jest both run it.
 */

/** A test-definition function with vitest's / jest's `describe` and `it` shape. */
export type DefineFn = (name: string, fn: () => void | Promise<void>) => void;

/** A broken invariant found by a conformance suite. `name` is always `'ConformanceFailure'`. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

/** Throws a {@link ConformanceFailure} with `message` unless `condition` holds. */
export function conformanceCheck(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

/**
 * The registration checks every suite starts with: `config.type` is registered in `registry`
 * (defined with `define<Kind>`), the config passes its schema, and an unknown key is refused by its path.
 * @param kind the component kind, for the message (`'Dataset'` → "define it with defineDataset").
 */
export function conformanceCheckConfig(
  registry: { has(name: string): boolean; validate(config: unknown): readonly Issue[] },
  config: JsonObject,
  kind: string,
): void {
  const type = config.type;
  conformanceCheck(
    typeof type === 'string' && registry.has(type),
    `'${String(type)}' is not registered (define it with define${kind})`,
  );
  const issues = registry.validate(config);
  conformanceCheck(issues.length === 0, `its config is refused: ${JSON.stringify(issues)}`);
  const unknown = registry.validate({ ...config, notAField: 1 });
  conformanceCheck(
    unknown.some((i) => i.path === 'notAField'),
    `an unknown key is not refused by its path: ${JSON.stringify(unknown)}`,
  );
}
