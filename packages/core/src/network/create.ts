import * as tf from '@tensorflow/tfjs-core';
import { assertBackend } from '../backend-check.js';
import { CoreError, formatIssues } from '../errors.js';
import type {
  ApplyOptions,
  GateSite,
  Network,
  NodeInfo,
  ParamInfo,
  ParamRole,
  StateUpdate,
  StructureGroup,
} from '../network-types.js';
import { Rng } from '../rng.js';
import type { NetworkSpec, NodeSpec } from '../spec.js';
import { batchNormTraining } from './batch-norm.js';
import { biasAddRelu } from './bias-relu.js';
import { initBias, initKernel } from './init.js';
import { nodeParams } from './params.js';
import { selectLastAxis } from './select.js';
import { embed, layerNorm, selfAttention } from './sequence.js';
import { deriveStructure } from './structure.js';
import { analyzeSpec, INPUT_ID } from './validate.js';

/** Options of {@link createNetwork}: a seed, or a generator to draw one from. */
export type CreateNetworkOptions =
  | {
      /** Seed of every initializer. */
      readonly seed: number;
    }
  | {
      /** Generator to draw the initializers' seed from (advanced by one draw). */
      readonly rng: Rng;
    };

/** One parameter/state tensor with its mask. */
interface Slot {
  readonly info: ParamInfo;
  readonly variable: tf.Variable;
  mask: tf.Tensor | undefined;
}

/** Per-call state of a forward pass. */
interface Ctx {
  readonly training: boolean;
  readonly gates: Readonly<Record<string, tf.Tensor>> | undefined;
  readonly rng: Rng | undefined;
  readonly stateUpdates: StateUpdate[] | undefined;
}

/** One compiled node: reads its inputs from the value array by index. */
type Step = (vals: readonly tf.Tensor[], ctx: Ctx) => tf.Tensor;

/** Every live network gets a distinct prefix: tfjs requires globally unique variable names. */
let networkCounter = 0;

function initialValues(
  node: NodeSpec,
  info: ParamInfo,
  kernelShape: readonly number[],
  rng: Rng,
): Float32Array {
  const n = info.shape.reduce((a, b) => a * b, 1);
  const init =
    node.op === 'dense' || node.op === 'conv2d' || node.op === 'embedding' || node.op === 'selfAttention'
      ? (node.init ?? 'glorotUniform')
      : 'zeros';
  switch (info.role) {
    case 'kernel':
      return initKernel(init, info.shape, rng);
    case 'bias':
      // An embedding's bias is its positional table, drawn like the token table.
      return node.op === 'embedding' ? initKernel(init, info.shape, rng) : initBias(init, kernelShape, rng);
    case 'gamma':
    case 'movingVariance':
      return new Float32Array(n).fill(1);
    case 'alpha': {
      const alpha = (node as { init?: readonly number[] }).init;
      const v = new Float32Array(n);
      if (alpha) v.set(alpha);
      else v[0] = 1;
      return v;
    }
    default:
      return new Float32Array(n);
  }
}

/**
 * Builds a {@link Network} from a spec: validates it (every problem is listed
 * in the thrown `CoreError('INVALID_SPEC')`'s `issues`), infers shapes,
 * and creates seeded variables. The same seed gives the same weights; a
 * parameter's initial value depends only on the seed and its name.
 */
export function createNetwork(spec: NetworkSpec, options: CreateNetworkOptions): Network {
  const analysis = checkedAnalysis(spec);
  assertBackend('createNetwork');
  const root = 'rng' in options ? Rng.fromSeed(options.rng.nextU32()) : Rng.fromSeed(options.seed);
  const values = new Map<string, tf.Tensor>();
  for (let i = 0; i < spec.nodes.length; i++) {
    const node = spec.nodes[i]!;
    const ins = analysis.infos[i]!.inputShapes;
    const infos = nodeParams(node, ins);
    const kernelShape = infos[0]?.shape ?? [];
    for (const info of infos) {
      const data = initialValues(node, info, kernelShape, root.fork(info.name));
      values.set(info.name, tf.tensor(data, [...info.shape], 'float32'));
    }
  }
  try {
    return networkFromValues(spec, values);
  } finally {
    for (const t of values.values()) t.dispose();
  }
}

/** Validates and analyzes, throwing `INVALID_SPEC` with every issue. */
export function checkedAnalysis(spec: NetworkSpec) {
  const analysis = analyzeSpec(spec);
  if (analysis.issues.length > 0) {
    throw new CoreError(
      'INVALID_SPEC',
      `network spec '${String(spec?.name)}' is invalid:\n${formatIssues(analysis.issues)}`,
      { issues: analysis.issues },
    );
  }
  return analysis;
}

/**
 * A network over `spec` whose variables start as copies of `values` (keyed
 * `${node}/${role}`; every parameter of the spec must be present with its
 * shape). The caller keeps ownership of `values`. Used by createNetwork,
 * compaction and checkpoint restore.
 */
export function networkFromValues(spec: NetworkSpec, values: ReadonlyMap<string, tf.Tensor>): Network {
  return new NetworkImpl(spec, checkedAnalysis(spec).infos, values);
}

class NetworkImpl implements Network {
  readonly spec: NetworkSpec;
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly paramInfo: ReadonlyMap<string, ParamInfo>;
  readonly groups: readonly StructureGroup[];
  readonly gateSites: readonly GateSite[];
  readonly nodes: readonly NodeInfo[];
  private readonly slots: ReadonlyMap<string, Slot>;
  private readonly slotList: readonly Slot[];
  private readonly trainables: readonly tf.Variable[];
  private readonly steps: readonly Step[];
  /** Index into the value array of each spec output. */
  private readonly outputIndex: readonly number[];
  private readonly inputShape: readonly number[];
  private readonly inputSize: number;
  private disposed = false;

  constructor(spec: NetworkSpec, infos: readonly NodeInfo[], values: ReadonlyMap<string, tf.Tensor>) {
    this.spec = spec;
    this.nodes = infos;
    this.inputShape = [...spec.inputShape];
    this.inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
    const prefix = `net${networkCounter++}`;
    const slots = new Map<string, Slot>();
    const params = new Map<string, tf.Variable>();
    const paramInfo = new Map<string, ParamInfo>();
    const nodeInfos = spec.nodes.map((n, i) => nodeParams(n, infos[i]!.inputShapes));
    for (const info of nodeInfos.flat()) {
      const v = values.get(info.name);
      if (!v) throw new CoreError('UNKNOWN_PARAMETER', `no value given for parameter '${info.name}'`);
      if (!sameShape(v.shape, info.shape)) {
        throw new CoreError(
          'SHAPE_MISMATCH',
          `parameter '${info.name}' needs shape [${info.shape.join(',')}], got [${v.shape.join(',')}]`,
        );
      }
      const init = tf.cast(v, 'float32');
      const variable = tf.variable(init, info.trainable, `${prefix}/${info.name}`, 'float32');
      init.dispose();
      slots.set(info.name, { info, variable, mask: undefined });
      params.set(info.name, variable);
      paramInfo.set(info.name, info);
    }
    this.slots = slots;
    this.slotList = [...slots.values()];
    this.params = params;
    this.paramInfo = paramInfo;
    this.trainables = this.slotList.filter((s) => s.info.trainable).map((s) => s.variable);
    const index = new Map<string, number>([[INPUT_ID, 0]]);
    spec.nodes.forEach((n, i) => {
      index.set(n.id, i + 1);
    });
    const fused = fusedRelus(spec);
    this.steps = spec.nodes.map((n) =>
      fused.relus.has(n.id)
        ? passThrough(index.get(n.inputs[0]!)!)
        : compileNode(
            n,
            n.inputs.map((id) => index.get(id)!),
            slots,
            fused.producers.has(n.id),
          ),
    );
    this.outputIndex = spec.outputs.map((id) => index.get(id)!);
    const structure = deriveStructure(spec, infos);
    this.groups = structure.groups;
    this.gateSites = structure.gateSites;
  }

  apply(x: tf.Tensor, options: ApplyOptions = {}): tf.Tensor[] {
    this.assertLive();
    const ctx: Ctx = {
      training: options.training ?? false,
      gates: options.gates,
      rng: options.rng,
      stateUpdates: options.stateUpdates,
    };
    const perSample = x.shape.slice(1);
    const reshape = !sameShape(perSample, this.inputShape);
    if (reshape && perSample.reduce((a, b) => a * b, 1) !== this.inputSize) {
      throw new CoreError(
        'SHAPE_MISMATCH',
        `network '${this.spec.name}' takes per-sample input [${this.inputShape.join(',')}] (or ${this.inputSize} flat values), got [${perSample.join(',')}]`,
        { details: { expected: this.inputShape, got: x.shape } },
      );
    }
    return tf.tidy(() => {
      const vals: tf.Tensor[] = new Array(this.steps.length + 1);
      vals[0] = reshape ? tf.reshape(x, [x.shape[0]!, ...this.inputShape]) : x;
      const steps = this.steps;
      for (let i = 0; i < steps.length; i++) vals[i + 1] = steps[i]!(vals, ctx);
      // Identity nodes pass tensors through: never hand the caller its own input
      // or the same tensor twice, so every output can be disposed independently.
      const seen = new Set<tf.Tensor>([x]);
      return this.outputIndex.map((i) => {
        const t = vals[i]!;
        if (seen.has(t)) return tf.clone(t);
        seen.add(t);
        return t;
      });
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.trainables];
  }

  getMask(param: string): tf.Tensor | undefined {
    return this.slot(param).mask;
  }

  setMask(param: string, mask: tf.Tensor | null): void {
    const slot = this.slot(param);
    if (mask !== null && !sameShape(mask.shape, slot.info.shape)) {
      throw new CoreError(
        'SHAPE_MISMATCH',
        `mask of '${param}' needs shape [${slot.info.shape.join(',')}], got [${mask.shape.join(',')}]`,
      );
    }
    const next = mask === null ? undefined : tf.keep(tf.tidy(() => tf.cast(mask, 'float32').clone()));
    slot.mask?.dispose();
    slot.mask = next;
  }

  maskedParams(): string[] {
    return this.slotList.filter((s) => s.mask !== undefined).map((s) => s.info.name);
  }

  applyMasks(): void {
    for (const s of this.slotList) {
      const m = s.mask;
      if (m) tf.tidy(() => s.variable.assign(tf.mul(s.variable, m)));
    }
  }

  assignStateUpdates(updates: readonly StateUpdate[]): void {
    for (const u of updates) {
      const slot = this.slot(u.param);
      slot.variable.assign(u.value);
      u.value.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slotList) {
      s.variable.dispose();
      s.mask?.dispose();
      s.mask = undefined;
    }
  }

  private slot(param: string): Slot {
    const s = this.slots.get(param);
    if (!s) {
      throw new CoreError('UNKNOWN_PARAMETER', `network '${this.spec.name}' has no parameter '${param}'`, {
        details: { param },
      });
    }
    return s;
  }

  private assertLive(): void {
    if (this.disposed) throw new CoreError('INVALID_ARGUMENT', `network '${this.spec.name}' was disposed`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The masked value of a parameter slot (the variable itself when unmasked). */
function eff(s: Slot): tf.Tensor {
  return s.mask ? tf.mul(s.variable, s.mask) : s.variable;
}

/** Broadcastable form of a `[C]` or `[batch, C]` gate for an activation of rank `rank`. */
function unitGate(g: tf.Tensor, rank: number): tf.Tensor {
  if (g.rank <= 1 || rank === 2) return g;
  return tf.reshape(g, [g.shape[0]!, ...new Array<number>(rank - 2).fill(1), g.shape[g.rank - 1]!]);
}

/** Broadcastable form of a scalar, `[1]` or `[batch]` layer gate. */
function layerGate(g: tf.Tensor, rank: number): tf.Tensor {
  if (g.size === 1) return g.rank === 0 ? g : tf.reshape(g, []);
  return tf.reshape(g, [g.shape[0]!, ...new Array<number>(rank - 1).fill(1)]);
}

/**
 * The producer → relu pairs that run as one fused op: a relu activation whose
 * input is a batchNorm, or a dense/conv2d node with a bias, that has no other
 * consumer and is not an output. The producer applies the ReLU itself —
 * `batchNormTraining`'s `relu`, or {@link biasAddRelu} for the bias — one pass
 * over the activation fewer each way on backends with the kernels, the same
 * values as the two nodes — and the relu node passes its input through.
 */
function fusedRelus(spec: NetworkSpec): { producers: Set<string>; relus: Set<string> } {
  const consumers = new Map<string, number>();
  for (const n of spec.nodes) for (const id of n.inputs) consumers.set(id, (consumers.get(id) ?? 0) + 1);
  const outputs = new Set(spec.outputs);
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  const producers = new Set<string>();
  const relus = new Set<string>();
  for (const n of spec.nodes) {
    if (n.op !== 'activation' || n.fn !== 'relu' || n.inputs.length !== 1) continue;
    const source = byId.get(n.inputs[0]!);
    if (!source || consumers.get(source.id) !== 1 || outputs.has(source.id)) continue;
    const fusable =
      source.op === 'batchNorm' ||
      ((source.op === 'dense' || source.op === 'conv2d') && source.useBias !== false);
    if (fusable) {
      producers.add(source.id);
      relus.add(n.id);
    }
  }
  return { producers, relus };
}

/** A node whose value is its input's (a relu folded into the node before it). */
function passThrough(input: number): Step {
  return (v) => v[input]!;
}

/** A dense/conv2d output plus its bias (if any), followed by the fused ReLU when `relu`. */
function withBias(y: tf.Tensor, bias: Slot | undefined, relu: boolean): tf.Tensor {
  if (!bias) return relu ? tf.relu(y) : y;
  return relu ? biasAddRelu(y, eff(bias)) : tf.add(y, eff(bias));
}

function compileNode(
  node: NodeSpec,
  ins: readonly number[],
  slots: ReadonlyMap<string, Slot>,
  fuseRelu = false,
): Step {
  const a = ins[0]!;
  const slot = (role: ParamRole) => slots.get(`${node.id}/${role}`);
  switch (node.op) {
    case 'dense': {
      const k = slot('kernel')!;
      const b = slot('bias');
      return (v) => {
        const x = v[a]!;
        if (x.rank === 2) return withBias(tf.matMul(x, eff(k)), b, fuseRelu);
        // A sequence: one 2-D product over every position (the fast matmul path on every backend).
        const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]!]);
        const y = withBias(tf.matMul(flat, eff(k)), b, fuseRelu);
        return tf.reshape(y, [...x.shape.slice(0, -1), y.shape[1]!]);
      };
    }
    case 'conv2d': {
      const k = slot('kernel')!;
      const b = slot('bias');
      const strides = node.strides ?? [1, 1];
      const dil = node.dilation ?? [1, 1];
      const pad = node.padding ?? 'valid';
      return (v) => {
        const y = tf.conv2d(
          v[a] as tf.Tensor4D,
          eff(k) as tf.Tensor4D,
          [strides[0], strides[1]],
          pad,
          'NHWC',
          [dil[0], dil[1]],
        );
        return withBias(y, b, fuseRelu);
      };
    }
    case 'maxPool':
    case 'avgPool': {
      const size: [number, number] = [node.poolSize[0], node.poolSize[1]];
      const st = node.strides ?? node.poolSize;
      const strides: [number, number] = [st[0], st[1]];
      const pad = node.padding ?? 'valid';
      const pool = node.op === 'maxPool' ? tf.maxPool : tf.avgPool;
      return (v) => pool(v[a] as tf.Tensor4D, size, strides, pad);
    }
    case 'globalAvgPool':
      return (v) => {
        const x = v[a]!;
        return tf.mean(x, x.rank === 3 ? [1] : [1, 2]);
      };
    case 'select': {
      const indices = Int32Array.from(node.indices);
      return (v) => selectLastAxis(v[a]!, indices);
    }
    case 'flatten':
      return (v) => {
        const x = v[a]!;
        return x.rank === 2 ? x : tf.reshape(x, [x.shape[0]!, -1]);
      };
    case 'activation':
      switch (node.fn) {
        case 'relu':
          return (v) => tf.relu(v[a]!);
        case 'elu':
          return (v) => tf.elu(v[a]!);
        case 'tanh':
          return (v) => tf.tanh(v[a]!);
        case 'sigmoid':
          return (v) => tf.sigmoid(v[a]!);
        case 'softmax':
          return (v) => tf.softmax(v[a]!);
        case 'logSoftmax':
          return (v) => tf.logSoftmax(v[a]!);
        case 'linear':
          return (v) => v[a]!;
      }
      break;
    case 'batchNorm': {
      const gamma = slot('gamma')!;
      const beta = slot('beta')!;
      const mean = slot('movingMean')!;
      const variance = slot('movingVariance')!;
      const eps = node.epsilon ?? 1e-3;
      const momentum = node.momentum ?? 0.99;
      return (v, ctx) => {
        const x = v[a]!;
        if (!ctx.training) {
          const y = tf.batchNorm(x, mean.variable, variance.variable, eff(beta), eff(gamma), eps);
          return fuseRelu ? tf.relu(y) : y;
        }
        const m = batchNormTraining(x, eff(gamma), eff(beta), eps, { relu: fuseRelu });
        const y = m.y;
        const newMean = tf.add(tf.mul(mean.variable, momentum), tf.mul(m.mean, 1 - momentum));
        const newVar = tf.add(tf.mul(variance.variable, momentum), tf.mul(m.variance, 1 - momentum));
        if (ctx.stateUpdates) {
          ctx.stateUpdates.push(
            { param: mean.info.name, value: tf.keep(newMean) },
            { param: variance.info.name, value: tf.keep(newVar) },
          );
        } else {
          mean.variable.assign(newMean);
          variance.variable.assign(newVar);
        }
        return y;
      };
    }
    case 'dropout': {
      const rate = node.rate;
      const id = node.id;
      return (v, ctx) => {
        const x = v[a]!;
        if (!ctx.training || rate === 0) return x;
        if (!ctx.rng) {
          throw new CoreError('INVALID_ARGUMENT', `dropout node '${id}' needs options.rng in training mode`);
        }
        // tfjs's seeded uniform is deterministic per integer seed; the seed comes from the caller's Rng.
        const u = tf.randomUniform(x.shape, 0, 1, 'float32', ctx.rng.nextU32());
        const keep = tf.cast(tf.greaterEqual(u, rate), 'float32');
        return tf.mul(x, tf.mul(keep, 1 / (1 - rate)));
      };
    }
    case 'gate': {
      const id = node.id;
      return (v, ctx) => {
        const g = ctx.gates?.[id];
        const x = v[a]!;
        return g ? tf.mul(x, unitGate(g, x.rank)) : x;
      };
    }
    case 'add': {
      const b = ins[1]!;
      const id = node.id;
      const gated = node.gated === true;
      return (v, ctx) => {
        const g = gated ? ctx.gates?.[id] : undefined;
        const branch = v[b]!;
        return tf.add(v[a]!, g ? tf.mul(branch, layerGate(g, branch.rank)) : branch);
      };
    }
    case 'padShortcut': {
      const s = node.stride;
      const channels = node.channels;
      return (v) => {
        let x = v[a]!;
        // A 1×1 average pool with stride s and 'same' padding picks x[:, ::s, ::s, :]
        // and, unlike stridedSlice, has a gradient in tfjs.
        if (s > 1) x = tf.avgPool(x as tf.Tensor4D, [1, 1], [s, s], 'same');
        const c = x.shape[3]!;
        return c < channels
          ? tf.pad(x, [
              [0, 0],
              [0, 0],
              [0, 0],
              [0, channels - c],
            ])
          : x;
      };
    }
    case 'embedding': {
      const k = slot('kernel')!;
      const b = slot('bias');
      return (v) => embed(v[a]!, eff(k), b ? eff(b) : undefined);
    }
    case 'layerNorm': {
      const gamma = slot('gamma')!;
      const beta = slot('beta')!;
      const eps = node.epsilon ?? 1e-5;
      return (v) => layerNorm(v[a]!, eff(gamma), eff(beta), eps);
    }
    case 'selfAttention': {
      const k = slot('kernel')!;
      const b = slot('bias');
      const heads = node.heads;
      const causal = node.causal === true;
      return (v) => selfAttention(v[a]!, eff(k), b ? eff(b) : undefined, { heads, causal });
    }
    case 'mix': {
      const alpha = slot('alpha')!;
      return (v) => {
        const al = eff(alpha);
        let y = tf.mul(v[ins[0]!]!, tf.slice(al, [0], [1]));
        for (let i = 1; i < ins.length; i++) y = tf.add(y, tf.mul(v[ins[i]!]!, tf.slice(al, [i], [1])));
        return y;
      };
    }
  }
  throw new CoreError('INVALID_SPEC', `node '${(node as NodeSpec).id}' has an unknown op`);
}
