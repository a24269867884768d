import type { InitializerName, NetworkSpec, NodeSpec } from '@moprune/core';
import { ModelError } from '../errors.js';

type Shape = readonly number[];

const outSize = (size: number, window: number, stride: number, padding: 'same' | 'valid'): number =>
  padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;

/**
 * Appends nodes to a {@link NetworkSpec} while tracking each node's
 * per-sample output shape, so a builder fails with INCOMPATIBLE_INPUT at the
 * node where an input is too small (or of the wrong rank) instead of
 * producing a spec that core rejects later with a less specific message.
 * Shape rules follow TensorFlow.js (`'same'` = ceil(n/s), `'valid'` =
 * floor((n − window)/s) + 1).
 */
export class SpecBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly shapes = new Map<string, Shape>();

  constructor(
    private readonly name: string,
    private readonly inputShape: Shape,
  ) {
    this.shapes.set('input', inputShape);
  }

  /** Per-sample output shape of node `id` (`'input'` for the network input). */
  shapeOf(id: string): Shape {
    const shape = this.shapes.get(id);
    if (!shape) throw new Error(`${this.name}: no node '${id}' yet`);
    return shape;
  }

  /** Appends `node` and returns its id. */
  add(node: NodeSpec): string {
    const inputs = node.inputs.map((i) => this.shapeOf(i));
    const shape = this.infer(node, inputs);
    if (shape.some((d) => !Number.isInteger(d) || d < 1))
      this.incompatible(node.id, `would output [${shape}]`);
    this.nodes.push(node);
    this.shapes.set(node.id, shape);
    return node.id;
  }

  /** Flattens `from` if it is not rank 1 already; returns the id of a rank-1 node. */
  flatten(id: string, from: string): string {
    return this.shapeOf(from).length === 1 ? from : this.add({ id, op: 'flatten', inputs: [from] });
  }

  /** Appends a dense layer. */
  dense(id: string, from: string, units: number, init: InitializerName): string {
    return this.add({ id, op: 'dense', inputs: [from], units, init });
  }

  /** Appends an activation. */
  act(id: string, from: string, fn: 'relu' | 'elu' | 'tanh' | 'sigmoid' | 'logSoftmax'): string {
    return this.add({ id, op: 'activation', inputs: [from], fn });
  }

  /** The finished spec. */
  build(outputs: readonly string[]): NetworkSpec {
    return {
      name: this.name,
      inputShape: [...this.inputShape],
      nodes: [...this.nodes],
      outputs: [...outputs],
    };
  }

  private incompatible(node: string, what: string): never {
    throw new ModelError(
      'INCOMPATIBLE_INPUT',
      `model '${this.name}' does not fit input shape [${this.inputShape}]: node '${node}' ${what}`,
      {
        issues: [{ path: 'inputShape', message: `node '${node}' ${what}` }],
        details: { model: this.name, node, inputShape: [...this.inputShape] },
      },
    );
  }

  private rank3(node: NodeSpec, shape: Shape): readonly [number, number, number] {
    if (shape.length !== 3) this.incompatible(node.id, `needs an [H, W, C] input, got [${shape}]`);
    return shape as readonly [number, number, number];
  }

  private infer(node: NodeSpec, inputs: readonly Shape[]): Shape {
    const x = inputs[0]!;
    switch (node.op) {
      case 'dense':
        if (x.length !== 1) this.incompatible(node.id, `needs a rank-1 input, got [${x}]`);
        return [node.units];
      case 'conv2d': {
        const [h, w] = this.rank3(node, x);
        const [kh, kw] = node.kernelSize;
        const [sh, sw] = node.strides ?? [1, 1];
        const [dh, dw] = node.dilation ?? [1, 1];
        const pad = node.padding ?? 'valid';
        return [outSize(h, dh * (kh - 1) + 1, sh, pad), outSize(w, dw * (kw - 1) + 1, sw, pad), node.filters];
      }
      case 'maxPool':
      case 'avgPool': {
        const [h, w, c] = this.rank3(node, x);
        const [ph, pw] = node.poolSize;
        const [sh, sw] = node.strides ?? node.poolSize;
        const pad = node.padding ?? 'valid';
        return [outSize(h, ph, sh, pad), outSize(w, pw, sw, pad), c];
      }
      case 'globalAvgPool':
        return [this.rank3(node, x)[2]];
      case 'flatten':
        return [x.reduce((a, b) => a * b, 1)];
      case 'padShortcut': {
        const [h, w, c] = this.rank3(node, x);
        if (node.channels < c)
          this.incompatible(node.id, `cannot pad ${c} channels down to ${node.channels}`);
        return [Math.ceil(h / node.stride), Math.ceil(w / node.stride), node.channels];
      }
      case 'add':
      case 'mix':
        for (const s of inputs) {
          if (s.length !== x.length || s.some((d, i) => d !== x[i])) {
            this.incompatible(node.id, `combines inputs of different shapes [${x}] and [${s}]`);
          }
        }
        return x;
      case 'activation':
      case 'batchNorm':
      case 'dropout':
      case 'gate':
        return x;
    }
  }
}
