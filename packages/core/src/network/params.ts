import type { ParamInfo, ParamRole } from '../network-types.js';
import type { NodeSpec } from '../spec.js';

/** The parameters (role, shape, trainable) a node owns, in a fixed order. */
export function nodeParams(node: NodeSpec, inputShapes: readonly (readonly number[])[]): ParamInfo[] {
  const mk = (role: ParamRole, shape: number[], trainable = true): ParamInfo => ({
    name: `${node.id}/${role}`,
    node: node.id,
    op: node.op,
    role,
    shape,
    trainable,
  });
  const x = inputShapes[0]!;
  switch (node.op) {
    case 'dense': {
      const out = [mk('kernel', [x[x.length - 1]!, node.units])];
      if (node.useBias !== false) out.push(mk('bias', [node.units]));
      return out;
    }
    case 'conv2d': {
      const out = [mk('kernel', [node.kernelSize[0], node.kernelSize[1], x[2]!, node.filters])];
      if (node.useBias !== false) out.push(mk('bias', [node.filters]));
      return out;
    }
    case 'batchNorm': {
      const c = x[x.length - 1]!;
      return [
        mk('gamma', [c]),
        mk('beta', [c]),
        mk('movingMean', [c], false),
        mk('movingVariance', [c], false),
      ];
    }
    case 'mix':
      return [mk('alpha', [inputShapes.length])];
    case 'embedding': {
      const out = [mk('kernel', [node.vocab, node.dim])];
      if (node.positions !== false) out.push(mk('bias', [x[0]!, node.dim]));
      return out;
    }
    case 'layerNorm': {
      const c = x[x.length - 1]!;
      return [mk('gamma', [c]), mk('beta', [c])];
    }
    case 'selfAttention': {
      const d = x[x.length - 1]!;
      const out = [mk('kernel', [d, 3 * d])];
      if (node.useBias !== false) out.push(mk('bias', [3 * d]));
      return out;
    }
    default:
      return [];
  }
}
