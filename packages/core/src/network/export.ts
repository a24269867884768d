import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CoreError } from '../errors.js';
import type { Network } from '../network-types.js';
import { effectiveValues, type HostTensor } from './host.js';

/** A tfjs-layers-safe, unique layer name for node `id`. */
function layerName(id: string, used: Set<string>): string {
  let base = id.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z0-9]/.test(base)) base = `n${base}`;
  let name = base;
  for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
  used.add(name);
  return name;
}

/** Options of {@link toLayersModel} and {@link saveLayersModel}. */
export interface ExportOptions {
  /**
   * Per-sample input shape of the exported model: any shape with as many
   * values as the network's input, so a network fed flat `[n, 784]` batches
   * (`layout: 'flat'`) exports as a model that takes `[null, 784]`. A flat
   * shape whose only consumers are `flatten` nodes needs no extra layer;
   * otherwise the model starts with a `Reshape` to the network's shape.
   * @default the network's `spec.inputShape`
   */
  readonly inputShape?: readonly number[];
}

function exportInputShape(net: Network, options: ExportOptions): readonly number[] {
  const own = net.spec.inputShape;
  const shape = options.inputShape ?? own;
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0) || size(shape) !== size(own)) {
    throw new CoreError(
      'SHAPE_MISMATCH',
      `toLayersModel: inputShape [${shape.join(',')}] must be positive integers with ${size(own)} values in all, as network '${net.spec.name}''s input [${own.join(',')}]`,
      { details: { expected: own, got: shape } },
    );
  }
  return shape;
}

function toTensor(t: HostTensor): tf.Tensor {
  return tf.tensor(t.data, [...t.shape], 'float32');
}

function unsupported(id: string, op: string, why: string): CoreError {
  return new CoreError(
    'UNSUPPORTED_OP',
    `toLayersModel: node '${id}' (op '${op}') cannot be exported to a standard tf.LayersModel: ${why}; run the network with moprune's Network.apply instead`,
    { details: { node: id, op } },
  );
}

/**
 * Exports `net` as a standard `tf.LayersModel` (functional model, one input,
 * one output per spec output) with the effective (masked) weights copied, so
 * it runs and loads anywhere tfjs-layers does, without moprune.
 *
 * Mappings that are not one-to-one, chosen so the model uses built-in layers only:
 * - `gate` nodes are dropped (an absent gate is the identity), and a gated
 *   `add` exports as a plain `add` (gate 1): compact first to bake gates in.
 * - `padShortcut` exports as a frozen 1×1 conv with stride s whose kernel is
 *   the identity padded with zero columns (exact, but it costs MACs).
 * - `mix` exports as per-input scalings (a frozen dense layer α·I on vectors,
 *   a frozen 1×1 depthwise conv with α on images) followed by `add`.
 * - `logSoftmax` exports as `softmax` (tfjs-layers has no log-softmax
 *   activation, and a custom layer would not load without moprune): the
 *   exported output is exp of the network's.
 * - `select` (input features kept by compaction) exports as a frozen dense layer
 *   with a 0/1 kernel (exact; vectors only).
 * - `flatten` of an already flat tensor is dropped (tfjs-layers' Flatten
 *   requires rank ≥ 3).
 * - `layerNorm` exports as LayerNormalization, `embedding` without positions
 *   as Embedding, `dense` on a sequence as Dense (it acts on the last axis).
 *
 * The model's input is `[null, ...spec.inputShape]` unless `options.inputShape`
 * names another shape of the same size (e.g. `[784]` for a network trained on
 * flat batches).
 * @throws CoreError `SHAPE_MISMATCH` when `options.inputShape` has another size;
 *   `UNSUPPORTED_OP` naming the node and op for what has no built-in layer:
 *   `selfAttention`, and `embedding` with positions.
 */
export function toLayersModel(net: Network, options: ExportOptions = {}): tfl.LayersModel {
  const spec = net.spec;
  const inputShape = exportInputShape(net, options);
  const values = effectiveValues(net);
  const used = new Set<string>();
  const input = tfl.input({ shape: [...inputShape], name: layerName('input', used) });
  const sameShape =
    inputShape.length === spec.inputShape.length && inputShape.every((d, i) => d === spec.inputShape[i]);
  // A flat input needs no reshape when only `flatten` nodes read it (they become no-ops).
  const flattenedOnly =
    inputShape.length === 1 && spec.nodes.every((n) => !n.inputs.includes('input') || n.op === 'flatten');
  const keepShape = sameShape || flattenedOnly;
  const start = keepShape
    ? input
    : (tfl.layers
        .reshape({ targetShape: [...spec.inputShape], name: layerName('input_reshape', used) })
        .apply(input) as tfl.SymbolicTensor);
  const sym = new Map<string, tfl.SymbolicTensor>([['input', start]]);
  const weights: [tfl.layers.Layer, HostTensor[]][] = [];
  const get = (id: string) => sym.get(id)!;
  const param = (id: string, role: string) => values.get(`${id}/${role}`);
  const apply = (layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(inputs) as tfl.SymbolicTensor;
  const shapeOf = (id: string) =>
    id === 'input'
      ? keepShape
        ? inputShape
        : spec.inputShape
      : net.nodes.find((n) => n.id === id)!.outputShape;

  for (const node of spec.nodes) {
    const name = layerName(node.id, used);
    const x = get(node.inputs[0]!);
    let out: tfl.SymbolicTensor;
    switch (node.op) {
      case 'dense': {
        const layer = tfl.layers.dense({ units: node.units, useBias: node.useBias !== false, name });
        out = apply(layer, x);
        weights.push([
          layer,
          [param(node.id, 'kernel')!, ...(node.useBias === false ? [] : [param(node.id, 'bias')!])],
        ]);
        break;
      }
      case 'conv2d': {
        const layer = tfl.layers.conv2d({
          filters: node.filters,
          kernelSize: [...node.kernelSize],
          strides: [...(node.strides ?? [1, 1])],
          padding: node.padding ?? 'valid',
          dilationRate: [...(node.dilation ?? [1, 1])] as [number, number],
          useBias: node.useBias !== false,
          name,
        });
        out = apply(layer, x);
        weights.push([
          layer,
          [param(node.id, 'kernel')!, ...(node.useBias === false ? [] : [param(node.id, 'bias')!])],
        ]);
        break;
      }
      case 'maxPool':
      case 'avgPool': {
        const cfg = {
          poolSize: [...node.poolSize] as [number, number],
          strides: [...(node.strides ?? node.poolSize)] as [number, number],
          padding: node.padding ?? 'valid',
          name,
        };
        out = apply(
          node.op === 'maxPool' ? tfl.layers.maxPooling2d(cfg) : tfl.layers.averagePooling2d(cfg),
          x,
        );
        break;
      }
      case 'globalAvgPool':
        out = apply(
          shapeOf(node.inputs[0]!).length === 2
            ? tfl.layers.globalAveragePooling1d({ name })
            : tfl.layers.globalAveragePooling2d({ name }),
          x,
        );
        break;
      case 'layerNorm': {
        const layer = tfl.layers.layerNormalization({ axis: -1, epsilon: node.epsilon ?? 1e-5, name });
        out = apply(layer, x);
        weights.push([layer, [param(node.id, 'gamma')!, param(node.id, 'beta')!]]);
        break;
      }
      case 'embedding': {
        if (node.positions !== false) {
          throw unsupported(node.id, node.op, 'its learned positional embedding has no built-in layer');
        }
        const layer = tfl.layers.embedding({ inputDim: node.vocab, outputDim: node.dim, name });
        out = apply(layer, x);
        weights.push([layer, [param(node.id, 'kernel')!]]);
        break;
      }
      case 'selfAttention':
        throw unsupported(node.id, node.op, 'tfjs-layers has no attention layer');
      case 'flatten':
        out = shapeOf(node.inputs[0]!).length === 1 ? x : apply(tfl.layers.flatten({ name }), x);
        break;
      case 'select': {
        const shape = shapeOf(node.inputs[0]!);
        if (shape.length !== 1) {
          throw new CoreError(
            'INVALID_ARGUMENT',
            `toLayersModel: select node '${node.id}' reads a rank-${shape.length} tensor; only vectors export`,
          );
        }
        // A frozen dense layer with a 0/1 kernel: column j picks entry indices[j] (exact).
        const n = shape[0]!;
        const k = node.indices.length;
        const kernel = new Float32Array(n * k);
        node.indices.forEach((i, j) => {
          kernel[i * k + j] = 1;
        });
        const layer = tfl.layers.dense({ units: k, useBias: false, trainable: false, name });
        out = apply(layer, x);
        weights.push([layer, [{ shape: [n, k], data: kernel }]]);
        break;
      }
      case 'activation': {
        const fn = node.fn === 'logSoftmax' ? 'softmax' : node.fn;
        out = apply(tfl.layers.activation({ activation: fn, name }), x);
        break;
      }
      case 'batchNorm': {
        const layer = tfl.layers.batchNormalization({
          axis: -1,
          epsilon: node.epsilon ?? 1e-3,
          momentum: node.momentum ?? 0.99,
          name,
        });
        out = apply(layer, x);
        weights.push([
          layer,
          ['gamma', 'beta', 'movingMean', 'movingVariance'].map((r) => param(node.id, r)!),
        ]);
        break;
      }
      case 'dropout':
        out = apply(tfl.layers.dropout({ rate: node.rate, name }), x);
        break;
      case 'gate':
        out = x;
        break;
      case 'add':
        out = apply(tfl.layers.add({ name }), [x, get(node.inputs[1]!)]);
        break;
      case 'padShortcut': {
        const cin = shapeOf(node.inputs[0]!)[2]!;
        const kernel = new Float32Array(cin * node.channels);
        for (let c = 0; c < cin; c++) kernel[c * node.channels + c] = 1;
        const layer = tfl.layers.conv2d({
          filters: node.channels,
          kernelSize: 1,
          strides: node.stride,
          padding: 'same',
          useBias: false,
          trainable: false,
          name,
        });
        out = apply(layer, x);
        weights.push([layer, [{ shape: [1, 1, cin, node.channels], data: kernel }]]);
        break;
      }
      case 'mix': {
        const alpha = param(node.id, 'alpha')!.data;
        const shape = shapeOf(node.inputs[0]!);
        const scaled = node.inputs.map((inp, i) => {
          const a = alpha[i]!;
          const c = shape[shape.length - 1]!;
          const sub = layerName(`${node.id}.scale${i}`, used);
          if (shape.length === 1) {
            const layer = tfl.layers.dense({ units: c, useBias: false, trainable: false, name: sub });
            const k = new Float32Array(c * c);
            for (let j = 0; j < c; j++) k[j * c + j] = a;
            weights.push([layer, [{ shape: [c, c], data: k }]]);
            return apply(layer, get(inp));
          }
          if (shape.length === 3) {
            const layer = tfl.layers.depthwiseConv2d({
              kernelSize: 1,
              useBias: false,
              trainable: false,
              name: sub,
            });
            weights.push([layer, [{ shape: [1, 1, c, 1], data: new Float32Array(c).fill(a) }]]);
            return apply(layer, get(inp));
          }
          throw new CoreError(
            'INVALID_ARGUMENT',
            `toLayersModel: mix node '${node.id}' has rank-${shape.length} inputs; only vectors and images export`,
          );
        });
        out = apply(tfl.layers.add({ name }), scaled);
        break;
      }
    }
    sym.set(node.id, out);
  }
  const model = tfl.model({
    inputs: input,
    outputs: spec.outputs.map(get),
    name: spec.name.replace(/[^A-Za-z0-9_.-]/g, '_'),
  });
  for (const [layer, ws] of weights) {
    const ts = ws.map(toTensor);
    layer.setWeights(ts);
    tf.dispose(ts);
  }
  return model;
}
