import {
  type ComponentState,
  definePruner,
  type JsonObject,
  type Network,
  type ParamSelector,
  type Pruner,
  schema as s,
} from '@moprune/core';
import { PrunerError, throwIfIssues } from '../errors.js';
import { countZeros, keepLargest, maskSparsity, maskValues, setMaskValues } from '../internal/masks.js';
import { requireTargets } from '../internal/targets.js';
import { type SparsitySchedule, scheduleAt, sparsityScheduleSchema } from './schedules.js';

/** Config of {@link createMagnitudePruner}. */
export interface MagnitudeConfig {
  readonly type: 'magnitude';
  readonly schedule: SparsitySchedule;
  /**
   * `'layer'`: every target parameter reaches the scheduled sparsity on its
   * own (TF-MOT's behaviour). `'global'`: one magnitude threshold across all
   * targets, so the total reaches the scheduled sparsity while layers differ.
   * @default 'layer'
   */
  readonly scope?: 'layer' | 'global';
  /** Which parameters to prune. @default all kernels: `{ roles: ['kernel'] }` */
  readonly params?: ParamSelector;
}

/** The schema of a magnitude-pruner config (besides `type`). */
export const magnitudeConfigSchema = s.object({
  schedule: sparsityScheduleSchema,
  scope: s.oneOf(['layer', 'global']).optional(),
  params: s.paramSelector().optional(),
});

/**
 * Magnitude pruning on a sparsity schedule. At each pruning step the live
 * weights with the smallest |w| are masked until the scheduled fraction of
 * the targets is zero — exactly, to the weight (ties broken by position).
 * Masked weights never come back: ranking is over live weights only.
 */
export function createMagnitudePruner(
  config: Omit<MagnitudeConfig, 'type'> & { type?: 'magnitude' },
): Pruner {
  const json: JsonObject = { type: 'magnitude', ...(config as unknown as JsonObject) };
  throwIfIssues('magnitude pruner', magnitudePruner.validate(json));
  const scope = config.scope ?? 'layer';
  const selector = config.params ?? { roles: ['kernel'] };
  let net: Network | undefined;
  let targets: string[] = [];
  let lastPruneStep = -1;
  let scheduled = 0;

  const pruneTo = async (n: Network, target: number): Promise<void> => {
    const mags: Float32Array[] = [];
    const live: Float32Array[] = [];
    for (const name of targets) {
      mags.push((await n.params.get(name)!.data()) as Float32Array);
      live.push(await maskValues(n, name));
    }
    const groups = scope === 'global' ? [targets.map((_, i) => i)] : targets.map((_, i) => [i]);
    for (const group of groups) {
      const size = group.reduce((s, i) => s + live[i]!.length, 0);
      const zeros = group.reduce((s, i) => s + countZeros(live[i]!), 0);
      const want = Math.round(target * size);
      if (want <= zeros) continue;
      const keep = keepLargest(
        group.map((i) => mags[i]!),
        group.map((i) => live[i]!),
        want - zeros,
      );
      group.forEach((i, j) => {
        live[i] = keep[j]!;
      });
    }
    for (const [i, name] of targets.entries()) setMaskValues(n, name, live[i]!);
    n.applyMasks();
  };

  return {
    name: 'magnitude',
    config: json,
    init(ctx) {
      net = ctx.net;
      targets = requireTargets(ctx.net, selector, 'magnitude');
    },
    async afterStep(ctx) {
      net = ctx.net;
      const at = scheduleAt(config.schedule, ctx.step);
      if (at.prune && at.sparsity > 0) {
        await pruneTo(ctx.net, at.sparsity);
        lastPruneStep = ctx.step;
        scheduled = at.sparsity;
      } else if (net.maskedParams().length > 0) {
        // Optimizer updates may have moved masked weights; masks still hold.
        ctx.net.applyMasks();
      }
      return undefined;
    },
    targets: () => targets,
    metrics() {
      if (!net) return {};
      const { sparsity, zeros, total } = maskSparsity(net, targets);
      return { sparsity, zeros, total, scheduledSparsity: scheduled };
    },
    state(): ComponentState {
      return { json: { targets, lastPruneStep, sparsity: scheduled }, arrays: {} };
    },
    load(state) {
      const s = state.json;
      if (
        !Array.isArray(s.targets) ||
        typeof s.lastPruneStep !== 'number' ||
        typeof s.sparsity !== 'number'
      ) {
        throw new PrunerError(
          'STATE_MISMATCH',
          'magnitude pruner: state lacks targets/lastPruneStep/sparsity',
        );
      }
      targets = s.targets as string[];
      lastPruneStep = s.lastPruneStep;
      scheduled = s.sparsity;
    },
  };
}

/** The `magnitude` pruner, registered: configs `{ "type": "magnitude", … }` build it. */
export const magnitudePruner = definePruner({
  name: 'magnitude',
  description:
    'Magnitude pruning on a TF-MOT-style sparsity schedule (polynomial decay / constant), layer-wise or global',
  configSchema: magnitudeConfigSchema,
  create: (c) => createMagnitudePruner(c),
});
