import { type InitializerName, type NetworkSpec, type NodeSpec, validateSpec } from '@moprune/core';
import { ModelError } from '../errors.js';

/**
 * Collects the nodes of a {@link NetworkSpec}. `build` checks the finished
 * spec with core's `validateSpec` — the one place shape rules live — so an
 * input the architecture cannot take (wrong rank, spatial size shrinking to
 * nothing) fails with INCOMPATIBLE_INPUT naming the node, before any tensor
 * is made.
 */
export class SpecBuilder {
  private readonly nodes: NodeSpec[] = [];

  constructor(
    private readonly name: string,
    private readonly inputShape: readonly number[],
  ) {}

  /** Appends `node` and returns its id. */
  add(node: NodeSpec): string {
    this.nodes.push(node);
    return node.id;
  }

  /** Flattens the network input when it is not rank 1 already; returns the id of a rank-1 node. */
  flattenInput(id: string): string {
    return this.inputShape.length === 1 ? 'input' : this.add({ id, op: 'flatten', inputs: ['input'] });
  }

  /** Appends a dense layer. */
  dense(id: string, from: string, units: number, init: InitializerName): string {
    return this.add({ id, op: 'dense', inputs: [from], units, init });
  }

  /** Appends an activation. */
  act(id: string, from: string, fn: 'relu' | 'elu' | 'tanh' | 'sigmoid' | 'logSoftmax'): string {
    return this.add({ id, op: 'activation', inputs: [from], fn });
  }

  /** The finished spec; throws INCOMPATIBLE_INPUT when core rejects it for this input shape. */
  build(outputs: readonly string[]): NetworkSpec {
    const spec: NetworkSpec = {
      name: this.name,
      inputShape: [...this.inputShape],
      nodes: [...this.nodes],
      outputs: [...outputs],
    };
    const problems = validateSpec(spec);
    if (problems.length > 0) {
      const nodeOf = (path: string) =>
        this.nodes[Number(/^nodes\[(\d+)\]/.exec(path)?.[1] ?? Number.NaN)]?.id;
      const issues = problems.map((p) => {
        const node = nodeOf(p.path);
        return {
          path: 'inputShape',
          message: node ? `node '${node}': ${p.message}` : `${p.path}: ${p.message}`,
        };
      });
      const first = nodeOf(problems[0]!.path);
      throw new ModelError(
        'INCOMPATIBLE_INPUT',
        `model '${this.name}' does not fit input shape [${this.inputShape}]: ${issues[0]!.message}`,
        {
          issues,
          details: { model: this.name, inputShape: [...this.inputShape], ...(first ? { node: first } : {}) },
        },
      );
    }
    return spec;
  }
}
