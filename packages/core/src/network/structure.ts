import type { GateSite, NodeInfo, StructureGroup } from '../network-types.js';
import type { NetworkSpec } from '../spec.js';

/** Structure groups and gate sites of a spec. */
export interface Structure {
  readonly groups: StructureGroup[];
  readonly gateSites: GateSite[];
}

export function deriveStructure(_spec: NetworkSpec, _infos: readonly NodeInfo[]): Structure {
  return { groups: [], gateSites: [] };
}
