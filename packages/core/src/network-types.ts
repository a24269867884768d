import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.js';
import type { NetworkSpec } from './spec.js';

/** What a parameter is, so objectives can select e.g. "dense kernels only". */
export type ParamRole = 'kernel' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance' | 'alpha';

/** Facts about one parameter or state tensor of a {@link Network}. */
export interface ParamInfo {
  /** `${nodeId}/${role}`. */
  readonly name: string;
  readonly node: string;
  /** The op of the owning node (`'dense'`, `'conv2d'`, `'batchNorm'`, `'mix'`). */
  readonly op: string;
  readonly role: ParamRole;
  readonly shape: readonly number[];
  /** False for BatchNorm moving statistics. */
  readonly trainable: boolean;
}

/** Entries of one parameter along one axis that belong to a structure group. */
export interface ParamSlice {
  readonly param: string;
  readonly axis: number;
  /** Indices along `axis` (sorted, unique). */
  readonly indices: readonly number[];
}

/**
 * A prunable structure and every parameter entry that belongs to it: a unit
 * (its kernel column, bias, BatchNorm entries, and its rows in the consumers'
 * kernels), a conv filter (same, per channel), or a whole residual block
 * (all of the branch's parameters). Removing a group removes all its slices.
 */
export interface StructureGroup {
  /** e.g. `fc1:unit:17`, `conv2:filter:3`, `stage1.block2:layer`, `flatten:input:412`. */
  readonly id: string;
  /**
   * `input`: one input feature, with its rows in the consuming kernels — only when a gate node
   * sits on the input features (input-feature gates); compaction then reads the kept features
   * through a `select` node.
   */
  readonly kind: 'unit' | 'filter' | 'layer' | 'input';
  /** The node whose output unit/filter this is, the gated `add` node of a block, or the input features' source. */
  readonly node: string;
  /** Unit/filter index in the node's output; 0 for layer groups. */
  readonly index: number;
  /** The gate site that switches this structure off, if the spec has one. */
  readonly gateSite?: string;
  /** Every parameter entry of the structure. */
  readonly slices: readonly ParamSlice[];
}

/** A place where the apply call may pass gates (see GateNode and gated AddNode). */
export interface GateSite {
  /** The gate/add node id; also the key in {@link ApplyOptions.gates}. */
  readonly id: string;
  readonly kind: 'unit' | 'layer';
  /** Number of gates: the channel count for unit sites, 1 for layer sites. */
  readonly size: number;
  /** The conv/dense node whose output channels a unit site gates. */
  readonly gatedNode?: string;
  /** Ids of the structure groups this site switches, in gate order. */
  readonly groups: readonly string[];
}

/** Static facts about one node, for metrics and complexity costs. */
export interface NodeInfo {
  readonly id: string;
  readonly op: string;
  /** Per-sample input shapes (one per input). */
  readonly inputShapes: readonly (readonly number[])[];
  /** Per-sample output shape. */
  readonly outputShape: readonly number[];
  /** Parameter count (trainable, excluding BN moving stats) of the dense network. */
  readonly params: number;
  /**
   * Multiply–accumulates per sample of the dense network. Counting rule:
   * dense = in·out; conv = outH·outW·kh·kw·inC·outC; everything else
   * (bias, BN, activations, pooling, adds) counts 0.
   */
  readonly macs: number;
}

/** Options of {@link Network.apply}. */
export interface ApplyOptions {
  /** Training mode: dropout active, BatchNorm uses batch statistics. @default false */
  readonly training?: boolean;
  /** Gate values keyed by gate site id (`[C]`, `[batch, C]`, or scalar for layer sites). */
  readonly gates?: Readonly<Record<string, tf.Tensor>>;
  /** Source of dropout masks; required when training a net with dropout. */
  readonly rng?: Rng;
  /**
   * When given in training mode, BatchNorm pushes its new moving statistics
   * here instead of assigning them, keeping `apply` pure; the caller assigns
   * them after the step (see {@link Network.assignStateUpdates}).
   */
  readonly stateUpdates?: StateUpdate[];
}

/** A new value for a non-trainable state tensor (BatchNorm moving statistics). */
export interface StateUpdate {
  readonly param: string;
  readonly value: tf.Tensor;
}

/**
 * A network: named parameters (tf.Variable), masks, structure groups, and a
 * pure `apply`. Built from a {@link NetworkSpec} by `createNetwork`.
 */
export interface Network {
  readonly spec: NetworkSpec;
  /** Every parameter and state variable by name (`${node}/${role}`), in spec order. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly paramInfo: ReadonlyMap<string, ParamInfo>;
  readonly groups: readonly StructureGroup[];
  readonly gateSites: readonly GateSite[];
  readonly nodes: readonly NodeInfo[];
  /**
   * Forward pass; returns one tensor per spec output. Parameters that have a
   * mask are multiplied by it, so a masked weight has zero gradient.
   */
  apply(x: tf.Tensor, options?: ApplyOptions): tf.Tensor[];
  /** The trainable variables, in spec order. */
  trainableVariables(): tf.Variable[];
  /** The mask of a parameter, or undefined when it has none (all ones). */
  getMask(param: string): tf.Tensor | undefined;
  /** Sets (a copy of) a 0/1 mask of the parameter's shape; `null` removes it. Throws on shape mismatch. */
  setMask(param: string, mask: tf.Tensor | null): void;
  /** Names of parameters that have a mask. */
  maskedParams(): string[];
  /** Re-applies every mask: w ← w ⊙ m, so masked weights are exactly 0. */
  applyMasks(): void;
  /** Assigns BatchNorm state updates collected by a training `apply`, and disposes them. */
  assignStateUpdates(updates: readonly StateUpdate[]): void;
  /** Disposes every variable and mask. */
  dispose(): void;
}
