/**
 * An example contributor pruner, written in one file against public entry
 * points only (`@moprune/core`, the mask helpers of `@moprune/pruners/kit`,
 * `@moprune/pruners/testing` in its test).
 * It prunes a seeded random fraction of the chosen parameters' live weights
 * every `every` steps — a baseline that any real criterion should beat.
 */
import { type ComponentState, definePruner, type Network, type Pruner, schema as s } from '@moprune/core';
import { maskSparsity, maskValues, requireTargets, setMaskValues } from '@moprune/pruners/kit';

/** Config of the random pruner. */
export interface RandomPrunerConfig {
  readonly type: 'random';
  /** Fraction of the live weights removed at each pruning step, in (0, 1). */
  readonly fraction: number;
  /** Steps between pruning steps. @default 1 */
  readonly every?: number;
}

/** The random pruner's config fields besides `type`: every problem is reported with its path. */
export const randomPrunerConfigSchema = s.object({
  fraction: s.number({ gt: 0, lt: 1 }),
  every: s.integer({ min: 1 }).optional(),
});

/** Builds the random pruner. */
export function createRandomPruner(config: RandomPrunerConfig): Pruner {
  const every = config.every ?? 1;
  let net: Network | undefined;
  let targets: string[] = [];

  return {
    name: 'random',
    config: { ...config },
    init(ctx) {
      net = ctx.net;
      targets = requireTargets(ctx.net, { roles: ['kernel'] }, 'random');
    },
    async afterStep(ctx) {
      net = ctx.net;
      if ((ctx.step + 1) % every === 0) {
        for (const name of targets) {
          const mask = Float32Array.from(await maskValues(ctx.net, name));
          for (let i = 0; i < mask.length; i++)
            if (mask[i] === 1 && ctx.rng.next() < config.fraction) mask[i] = 0;
          setMaskValues(ctx.net, name, mask);
        }
      }
      ctx.net.applyMasks();
      return undefined;
    },
    targets: () => targets,
    metrics() {
      return net ? { ...maskSparsity(net, targets) } : {};
    },
    state(): ComponentState {
      return { json: { targets }, arrays: {} };
    },
    load(state) {
      targets = state.json.targets as string[];
    },
  };
}

/** `{ "type": "random", … }` configs build it: defined, and so registered, when this module loads. */
export const randomPruner = definePruner({
  name: 'random',
  description: 'Example contributor pruner: removes a seeded random fraction of live kernel weights',
  configSchema: randomPrunerConfigSchema,
  create: (config) => createRandomPruner(config),
});
