import type { Issue } from '../errors.js';
import type { NodeInfo } from '../network-types.js';
import type { NetworkSpec, NodeSpec } from '../spec.js';

/** The id that names the network input in `NodeBase.inputs`. */
export const INPUT_ID = 'input';

const OPS = new Set([
  'dense',
  'conv2d',
  'maxPool',
  'avgPool',
  'globalAvgPool',
  'flatten',
  'select',
  'activation',
  'batchNorm',
  'dropout',
  'gate',
  'add',
  'padShortcut',
  'mix',
  'embedding',
  'layerNorm',
  'selfAttention',
]);

const ACTIVATIONS = new Set(['relu', 'elu', 'tanh', 'sigmoid', 'softmax', 'logSoftmax', 'linear']);
const INITS = new Set(['glorotUniform', 'heNormal', 'torchDefault', 'zeros']);

/** Result of {@link analyzeSpec}: every issue, and shapes/infos when there are none. */
export interface SpecAnalysis {
  readonly issues: Issue[];
  /** Per-sample output shape by node id (and `'input'`); complete only when `issues` is empty. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** One entry per node, in spec order; meaningful only when `issues` is empty. */
  readonly infos: NodeInfo[];
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isPair = (v: unknown): v is readonly [number, number] =>
  Array.isArray(v) && v.length === 2 && isPosInt(v[0]) && isPosInt(v[1]);

/** Output length of a conv/pool window along one axis (TensorFlow's rule). */
export function windowOut(
  size: number,
  k: number,
  stride: number,
  dilation: number,
  padding: string,
): number {
  if (padding === 'same') return Math.ceil(size / stride);
  const eff = (k - 1) * dilation + 1;
  return Math.floor((size - eff) / stride) + 1;
}

/**
 * Checks a spec completely and reports every problem: unknown ops, duplicate
 * or unknown ids, inputs that refer to later nodes (the node list must be in
 * topological order), bad hyper-parameters and shape mismatches. Returns an
 * empty array for a valid spec.
 */
export function validateSpec(spec: NetworkSpec): Issue[] {
  return analyzeSpec(spec).issues;
}

/** Validates `spec` and infers per-sample shapes, parameter counts and MACs of every node. */
export function analyzeSpec(spec: NetworkSpec): SpecAnalysis {
  const issues: Issue[] = [];
  const shapes = new Map<string, readonly number[]>();
  const infos: NodeInfo[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  if (typeof spec !== 'object' || spec === null) {
    add('', 'spec must be an object');
    return { issues, shapes, infos };
  }
  if (typeof spec.name !== 'string' || spec.name === '') add('name', 'must be a non-empty string');
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length === 0 || !spec.inputShape.every(isPosInt)) {
    add(
      'inputShape',
      `must be a non-empty array of positive integers, got ${JSON.stringify(spec.inputShape)}`,
    );
  } else {
    shapes.set(INPUT_ID, [...spec.inputShape]);
  }
  if (!Array.isArray(spec.nodes) || spec.nodes.length === 0) {
    add('nodes', 'must be a non-empty array');
    return { issues, shapes, infos };
  }

  const allIds = new Set<string>();
  for (const n of spec.nodes) if (n && typeof n.id === 'string') allIds.add(n.id);
  const seen = new Set<string>([INPUT_ID]);

  spec.nodes.forEach((node: NodeSpec, i) => {
    const p = `nodes[${i}]`;
    if (typeof node !== 'object' || node === null) {
      add(p, 'must be an object');
      return;
    }
    const id = node.id;
    let ok = true;
    if (typeof id !== 'string' || id === '') {
      add(`${p}.id`, 'must be a non-empty string');
      ok = false;
    } else if (id === INPUT_ID) {
      add(`${p}.id`, `'${INPUT_ID}' is reserved for the network input`);
      ok = false;
    } else if (seen.has(id)) {
      add(`${p}.id`, `duplicate id '${id}'`);
      ok = false;
    }
    if (!OPS.has((node as { op: string }).op)) {
      add(`${p}.op`, `unknown op '${String((node as { op: unknown }).op)}'`);
      ok = false;
    }
    const inputShapes: (readonly number[])[] = [];
    if (!Array.isArray(node.inputs) || node.inputs.length === 0) {
      add(`${p}.inputs`, 'must be a non-empty array of node ids');
      ok = false;
    } else {
      node.inputs.forEach((inp, j) => {
        if (seen.has(inp)) {
          const s = shapes.get(inp);
          if (s) inputShapes.push(s);
          else ok = false; // upstream already reported
        } else {
          ok = false;
          add(
            `${p}.inputs[${j}]`,
            inp === id
              ? 'a node cannot read its own output'
              : allIds.has(inp)
                ? `'${inp}' comes later in the node list; nodes must be in topological order`
                : `unknown node id '${inp}'`,
          );
        }
      });
    }
    // Flags of several ops: a string or number would be read as truthy or ignored.
    const flags = node as { useBias?: unknown; gated?: unknown };
    for (const key of ['useBias', 'gated'] as const) {
      const v = flags[key];
      if (v !== undefined && typeof v !== 'boolean') {
        add(`${p}.${key}`, 'must be true or false');
        ok = false;
      }
    }
    if (typeof id === 'string') seen.add(id);
    if (!ok) return;
    const out = inferNode(node, inputShapes, p, add);
    if (!out) return;
    shapes.set(id, out.shape);
    infos.push({ id, op: node.op, inputShapes, outputShape: out.shape, params: out.params, macs: out.macs });
  });

  if (!Array.isArray(spec.outputs) || spec.outputs.length === 0) {
    add('outputs', 'must be a non-empty array of node ids');
  } else {
    const outSeen = new Set<string>();
    spec.outputs.forEach((o, j) => {
      if (o === INPUT_ID) add(`outputs[${j}]`, `'${INPUT_ID}' is the network input, not a node`);
      else if (!allIds.has(o)) add(`outputs[${j}]`, `unknown node id '${o}'`);
      else if (outSeen.has(o)) add(`outputs[${j}]`, `duplicate output '${o}'`);
      outSeen.add(o);
    });
  }
  return { issues, shapes, infos };
}

interface Inferred {
  shape: readonly number[];
  params: number;
  macs: number;
}

function arity(
  node: NodeSpec,
  ins: readonly (readonly number[])[],
  p: string,
  add: (p: string, m: string) => void,
) {
  const want = node.op === 'add' ? 2 : node.op === 'mix' ? -1 : 1;
  if (want === -1) {
    if (ins.length < 2) add(`${p}.inputs`, `mix needs at least 2 inputs, got ${ins.length}`);
    return ins.length >= 2;
  }
  if (ins.length !== want) add(`${p}.inputs`, `${node.op} takes ${want} input(s), got ${ins.length}`);
  return ins.length === want;
}

function inferNode(
  node: NodeSpec,
  ins: readonly (readonly number[])[],
  p: string,
  add: (p: string, m: string) => void,
): Inferred | undefined {
  if (!arity(node, ins, p, add)) return undefined;
  const x = ins[0]!;
  const needRank = (r: number) => {
    if (x.length !== r) {
      add(`${p}.inputs`, `${node.op} needs a rank-${r} per-sample input, got shape [${x.join(',')}]`);
      return false;
    }
    return true;
  };
  const checkInit = (init: unknown) => {
    if (init !== undefined && !INITS.has(init as string)) {
      add(`${p}.init`, `unknown initializer '${String(init)}'`);
      return false;
    }
    return true;
  };
  switch (node.op) {
    case 'dense': {
      let ok = true;
      if (x.length !== 1 && x.length !== 2) {
        add(
          `${p}.inputs`,
          `dense needs a per-sample input [in] or a sequence [T, in], got shape [${x.join(',')}]`,
        );
        ok = false;
      }
      if (!isPosInt(node.units)) {
        add(`${p}.units`, `must be a positive integer, got ${String(node.units)}`);
        ok = false;
      }
      if (!checkInit(node.init) || !ok) return undefined;
      const inN = x[x.length - 1]!;
      const positions = x.length === 2 ? x[0]! : 1;
      return {
        shape: [...x.slice(0, -1), node.units],
        params: inN * node.units + (node.useBias === false ? 0 : node.units),
        macs: positions * inN * node.units,
      };
    }
    case 'conv2d': {
      let ok = needRank(3);
      if (!isPosInt(node.filters)) {
        add(`${p}.filters`, `must be a positive integer, got ${String(node.filters)}`);
        ok = false;
      }
      if (!isPair(node.kernelSize)) {
        add(`${p}.kernelSize`, 'must be a pair of positive integers');
        ok = false;
      }
      const strides = node.strides ?? [1, 1];
      const dil = node.dilation ?? [1, 1];
      const padding = node.padding ?? 'valid';
      if (!isPair(strides)) {
        add(`${p}.strides`, 'must be a pair of positive integers');
        ok = false;
      }
      if (!isPair(dil)) {
        add(`${p}.dilation`, 'must be a pair of positive integers');
        ok = false;
      }
      if (padding !== 'same' && padding !== 'valid') {
        add(`${p}.padding`, `must be 'same' or 'valid', got '${String(padding)}'`);
        ok = false;
      }
      if (ok && (strides[0] > 1 || strides[1] > 1) && (dil[0] > 1 || dil[1] > 1)) {
        // TensorFlow.js's conv2d rejects this combination at run time.
        add(`${p}.dilation`, 'strides and dilation cannot both exceed 1');
        ok = false;
      }
      if (!checkInit(node.init) || !ok) return undefined;
      const [kh, kw] = node.kernelSize;
      const oh = windowOut(x[0]!, kh, strides[0], dil[0], padding);
      const ow = windowOut(x[1]!, kw, strides[1], dil[1], padding);
      if (oh < 1 || ow < 1) {
        add(`${p}.kernelSize`, `kernel does not fit the input [${x.join(',')}] with 'valid' padding`);
        return undefined;
      }
      const inC = x[2]!;
      return {
        shape: [oh, ow, node.filters],
        params: kh * kw * inC * node.filters + (node.useBias === false ? 0 : node.filters),
        macs: oh * ow * kh * kw * inC * node.filters,
      };
    }
    case 'maxPool':
    case 'avgPool': {
      let ok = needRank(3);
      if (!isPair(node.poolSize)) {
        add(`${p}.poolSize`, 'must be a pair of positive integers');
        ok = false;
      }
      // Strides default to the pool size: a bad pool size is reported once, as itself.
      const strides = node.strides ?? node.poolSize;
      if (node.strides !== undefined && !isPair(strides)) {
        add(`${p}.strides`, 'must be a pair of positive integers');
        ok = false;
      }
      const padding = node.padding ?? 'valid';
      if (padding !== 'same' && padding !== 'valid') {
        add(`${p}.padding`, `must be 'same' or 'valid', got '${String(padding)}'`);
        ok = false;
      }
      if (!ok) return undefined;
      const oh = windowOut(x[0]!, node.poolSize[0], strides[0], 1, padding);
      const ow = windowOut(x[1]!, node.poolSize[1], strides[1], 1, padding);
      if (oh < 1 || ow < 1) {
        add(`${p}.poolSize`, `pool window does not fit the input [${x.join(',')}]`);
        return undefined;
      }
      return { shape: [oh, ow, x[2]!], params: 0, macs: 0 };
    }
    case 'globalAvgPool':
      if (x.length !== 2 && x.length !== 3) {
        add(
          `${p}.inputs`,
          `globalAvgPool needs an image [H, W, C] or a sequence [T, C], got shape [${x.join(',')}]`,
        );
        return undefined;
      }
      return { shape: [x[x.length - 1]!], params: 0, macs: 0 };
    case 'flatten':
      return { shape: [x.reduce((a, b) => a * b, 1)], params: 0, macs: 0 };
    case 'select': {
      const last = x[x.length - 1]!;
      const idx = node.indices as unknown;
      if (
        !Array.isArray(idx) ||
        idx.length === 0 ||
        idx.some((v, i) => !Number.isInteger(v) || v < 0 || v >= last || (i > 0 && v <= idx[i - 1]))
      ) {
        add(`${p}.indices`, `must be strictly increasing integers in [0, ${last}), at least one`);
        return undefined;
      }
      return { shape: [...x.slice(0, -1), idx.length], params: 0, macs: 0 };
    }
    case 'activation':
      if (!ACTIVATIONS.has(node.fn)) {
        add(`${p}.fn`, `unknown activation '${String(node.fn)}'`);
        return undefined;
      }
      return { shape: x, params: 0, macs: 0 };
    case 'batchNorm': {
      let ok = true;
      if (node.epsilon !== undefined && !(typeof node.epsilon === 'number' && node.epsilon > 0)) {
        add(`${p}.epsilon`, 'must be > 0');
        ok = false;
      }
      if (
        node.momentum !== undefined &&
        !(typeof node.momentum === 'number' && node.momentum >= 0 && node.momentum <= 1)
      ) {
        add(`${p}.momentum`, 'must be in [0, 1]');
        ok = false;
      }
      if (!ok) return undefined;
      return { shape: x, params: 2 * x[x.length - 1]!, macs: 0 };
    }
    case 'dropout':
      if (!(typeof node.rate === 'number' && node.rate >= 0 && node.rate < 1)) {
        add(`${p}.rate`, `must be in [0, 1), got ${String(node.rate)}`);
        return undefined;
      }
      return { shape: x, params: 0, macs: 0 };
    case 'gate':
      return { shape: x, params: 0, macs: 0 };
    case 'add':
    case 'mix': {
      const bad = ins.findIndex((s) => s.length !== x.length || s.some((d, k) => d !== x[k]));
      if (bad >= 0) {
        add(
          `${p}.inputs`,
          `${node.op} needs inputs of equal shape, got [${x.join(',')}] and [${ins[bad]!.join(',')}]`,
        );
        return undefined;
      }
      if (node.op === 'mix' && node.init !== undefined) {
        if (
          !Array.isArray(node.init) ||
          node.init.length !== ins.length ||
          !node.init.every((v) => Number.isFinite(v))
        ) {
          add(`${p}.init`, `must be ${ins.length} finite numbers (one per input)`);
          return undefined;
        }
      }
      return { shape: x, params: node.op === 'mix' ? ins.length : 0, macs: 0 };
    }
    case 'embedding': {
      let ok = needRank(1);
      if (!isPosInt(node.vocab) || node.vocab < 2) {
        add(`${p}.vocab`, `must be an integer ≥ 2, got ${String(node.vocab)}`);
        ok = false;
      }
      if (!isPosInt(node.dim)) {
        add(`${p}.dim`, `must be a positive integer, got ${String(node.dim)}`);
        ok = false;
      }
      if (node.positions !== undefined && typeof node.positions !== 'boolean') {
        add(`${p}.positions`, 'must be true or false');
        ok = false;
      }
      if (!checkInit(node.init) || !ok) return undefined;
      const t = x[0]!;
      // A lookup: no multiply–accumulates (the counting rule counts products with weights).
      return {
        shape: [t, node.dim],
        params: node.vocab * node.dim + (node.positions === false ? 0 : t * node.dim),
        macs: 0,
      };
    }
    case 'layerNorm': {
      if (node.epsilon !== undefined && !(typeof node.epsilon === 'number' && node.epsilon > 0)) {
        add(`${p}.epsilon`, 'must be > 0');
        return undefined;
      }
      return { shape: x, params: 2 * x[x.length - 1]!, macs: 0 };
    }
    case 'selfAttention': {
      let ok = needRank(2);
      if (!isPosInt(node.heads)) {
        add(`${p}.heads`, `must be a positive integer, got ${String(node.heads)}`);
        ok = false;
      }
      if (node.causal !== undefined && typeof node.causal !== 'boolean') {
        add(`${p}.causal`, 'must be true or false');
        ok = false;
      }
      if (!checkInit(node.init) || !ok) return undefined;
      const [t, d] = [x[0]!, x[1]!];
      if (d % node.heads !== 0) {
        add(`${p}.heads`, `${node.heads} heads do not divide the ${d} features of the input`);
        return undefined;
      }
      // Projections (T·d·3d) plus the two products with the attention matrix (2·T·T·d).
      return {
        shape: [t, d],
        params: 3 * d * d + (node.useBias === false ? 0 : 3 * d),
        macs: 3 * t * d * d + 2 * t * t * d,
      };
    }
    case 'padShortcut': {
      if (!needRank(3)) return undefined;
      let ok = true;
      if (!isPosInt(node.stride)) {
        add(`${p}.stride`, 'must be a positive integer');
        ok = false;
      }
      if (!isPosInt(node.channels) || node.channels < x[2]!) {
        add(`${p}.channels`, `must be an integer ≥ the input's ${x[2]} channels`);
        ok = false;
      }
      if (!ok) return undefined;
      return {
        shape: [Math.ceil(x[0]! / node.stride), Math.ceil(x[1]! / node.stride), node.channels],
        params: 0,
        macs: 0,
      };
    }
  }
}
