import { type Network, type ParamSelector, selectParams } from '@moprune/core';
import { PrunerError } from '../errors.js';

/** The parameters `selector` picks on `net`; an empty selection is a config error naming the pruner. */
export function requireTargets(net: Network, selector: ParamSelector, pruner: string): string[] {
  const targets = selectParams(net, selector);
  if (targets.length === 0) {
    throw new PrunerError(
      'INVALID_CONFIG',
      `${pruner} pruner: the selector ${JSON.stringify(selector)} matches no parameter`,
      {
        issues: [{ path: 'params', message: 'matches no parameter of the network' }],
      },
    );
  }
  return targets;
}
