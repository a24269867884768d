/**
 * A network is data: a {@link NetworkSpec} is a JSON graph of nodes that
 * `createNetwork` interprets. Models build specs; compaction rewrites a spec
 * and slices parameters; export maps a spec onto tf.layers. Nothing else
 * hard-codes architecture.
 *
 * Layouts follow TensorFlow.js: activations are NHWC, dense kernels are
 * `[in, out]`, conv kernels are `[kh, kw, in, out]`.
 */

/** Weight initializers. All are seeded through core's Rng. */
export type InitializerName =
  /** Keras default: U(±sqrt(6/(fanIn+fanOut))). */
  | 'glorotUniform'
  /** He et al.: N(0, 2/fanIn) truncated at 2σ. */
  | 'heNormal'
  /** PyTorch's Linear/Conv default: kaiming-uniform with a=√5, i.e. U(±1/sqrt(fanIn)); biases U(±1/sqrt(fanIn)). */
  | 'torchDefault'
  /** All zeros. */
  | 'zeros';

/** Fields every node has. */
export interface NodeBase {
  /** Unique node id; parameter names are `${id}/${role}`. */
  readonly id: string;
  /** Ids of the nodes feeding this one; `'input'` is the network input. */
  readonly inputs: readonly string[];
}

/**
 * Fully connected layer on the last axis: per-sample input `[in]` gives
 * `[units]`; a sequence `[T, in]` gives `[T, units]` (the same kernel at every
 * position, as Keras' Dense on rank-3 input).
 */
export interface DenseNode extends NodeBase {
  readonly op: 'dense';
  readonly units: number;
  /** @default true */
  readonly useBias?: boolean;
  /** @default 'glorotUniform' */
  readonly init?: InitializerName;
}

/** 2-D convolution on NHWC input. */
export interface Conv2dNode extends NodeBase {
  readonly op: 'conv2d';
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  /** @default [1, 1] */
  readonly strides?: readonly [number, number];
  /** @default 'valid' */
  readonly padding?: 'same' | 'valid';
  /** @default [1, 1] */
  readonly dilation?: readonly [number, number];
  /** @default true */
  readonly useBias?: boolean;
  /** @default 'glorotUniform' */
  readonly init?: InitializerName;
}

/** Max or average pooling on NHWC input. */
export interface Pool2dNode extends NodeBase {
  readonly op: 'maxPool' | 'avgPool';
  readonly poolSize: readonly [number, number];
  /** @default poolSize */
  readonly strides?: readonly [number, number];
  /** @default 'valid' */
  readonly padding?: 'same' | 'valid';
}

/** Global average pooling: NHWC → `[batch, C]`, or a sequence `[batch, T, C]` → `[batch, C]` (mean over positions). */
export interface GlobalAvgPoolNode extends NodeBase {
  readonly op: 'globalAvgPool';
}

/** Flattens NHWC to `[batch, H·W·C]` in HWC order (channel fastest). */
export interface FlattenNode extends NodeBase {
  readonly op: 'flatten';
}

/**
 * Keeps the entries `indices` of the last axis, in that order — what compaction puts after the
 * network input when input features are removed (the data keeps its shape; the network reads only
 * the features it kept). No parameters, no MACs.
 */
export interface SelectNode extends NodeBase {
  readonly op: 'select';
  /** Strictly increasing indices into the input's last axis; at least one. */
  readonly indices: readonly number[];
}

/** Element-wise activation. */
export interface ActivationNode extends NodeBase {
  readonly op: 'activation';
  readonly fn: 'relu' | 'elu' | 'tanh' | 'sigmoid' | 'softmax' | 'logSoftmax' | 'linear';
}

/** Batch normalization over the last axis (parameters gamma, beta; state movingMean, movingVariance). */
export interface BatchNormNode extends NodeBase {
  readonly op: 'batchNorm';
  /** @default 1e-3 */
  readonly epsilon?: number;
  /** Moving-average momentum (Keras convention: new = m·old + (1−m)·batch). @default 0.99 */
  readonly momentum?: number;
}

/** Inverted dropout; identity unless `training`. Masks are drawn from the apply call's Rng. */
export interface DropoutNode extends NodeBase {
  readonly op: 'dropout';
  readonly rate: number;
}

/**
 * Unit/filter gate site: multiplies the last axis by `gates[id]` when the
 * apply call provides it (a `[C]` or `[batch, C]` tensor of 0/1 or
 * probabilities); identity otherwise. Models place these where
 * structured pruners may switch units off (e.g. after each BatchNorm).
 */
export interface GateNode extends NodeBase {
  readonly op: 'gate';
}

/**
 * Residual sum `inputs[0] + ξ·inputs[1]`. `inputs[0]` is the skip path,
 * `inputs[1]` the branch. With `gated: true` the branch is scaled by the
 * scalar `gates[id]` when given — a layer/block gate; ξ = 0 makes the block
 * its skip path.
 */
export interface AddNode extends NodeBase {
  readonly op: 'add';
  /** @default false */
  readonly gated?: boolean;
}

/**
 * Option-A ResNet shortcut: subsample by `stride` and zero-pad the channel
 * axis from the input's channels to `channels` (He et al. 2016, CIFAR nets).
 */
export interface PadShortcutNode extends NodeBase {
  readonly op: 'padShortcut';
  readonly stride: number;
  readonly channels: number;
}

/**
 * Trainable mix `α_0·inputs[0] + α_1·inputs[1] + …` (MDMTN's task
 * representation). Parameter `${id}/alpha` has shape `[inputs.length]`.
 */
export interface MixNode extends NodeBase {
  readonly op: 'mix';
  /** Initial α. @default [1, 0, …] */
  readonly init?: readonly number[];
}

/**
 * Token embedding: a per-sample input `[T]` of integer token ids (carried as
 * floats, as datasets yield them) becomes `[T, dim]`. Parameter
 * `${id}/kernel` `[vocab, dim]` is the table — an embedding is a dense layer
 * on one-hot tokens, and is computed that way (one-hot × table, whose
 * gradient is a plain matmul on every backend); with `positions` a learned
 * `${id}/bias` `[T, dim]` is added per position. Ids outside `[0, vocab)`
 * embed to the zero vector (tf.oneHot's rule).
 */
export interface EmbeddingNode extends NodeBase {
  readonly op: 'embedding';
  readonly vocab: number;
  readonly dim: number;
  /** Learned positional embedding (`bias` `[T, dim]`). @default true */
  readonly positions?: boolean;
  /** Initializer of the table and of the positional embedding. @default 'glorotUniform' */
  readonly init?: InitializerName;
}

/**
 * Layer normalization over the last axis (Ba et al. 2016): per position,
 * (x − mean)/sqrt(var + ε)·gamma + beta with the statistics of that
 * position's features (the same in training and inference). Parameters
 * `gamma`, `beta` `[C]`.
 */
export interface LayerNormNode extends NodeBase {
  readonly op: 'layerNorm';
  /** @default 1e-5 (PyTorch's LayerNorm) */
  readonly epsilon?: number;
}

/**
 * Multi-head scaled dot-product self-attention (Vaswani et al. 2017) on a
 * sequence `[T, d]`: q, k, v = x·kernel + bias with `kernel` `[d, 3d]` (the
 * three projections side by side, PyTorch's `in_proj_weight` transposed) and
 * `bias` `[3d]`, split into `heads` heads of d/heads features;
 * softmax(q·kᵀ/sqrt(d/heads))·v per head, heads concatenated back to `[T, d]`.
 * The output projection is an ordinary `dense` node after it, so it is
 * selected, regularized and pruned like any dense kernel.
 */
export interface SelfAttentionNode extends NodeBase {
  readonly op: 'selfAttention';
  /** Number of heads; must divide d. */
  readonly heads: number;
  /** Position i attends only to positions ≤ i. @default false */
  readonly causal?: boolean;
  /** @default true */
  readonly useBias?: boolean;
  /** Initializer of the projection kernel. @default 'glorotUniform' */
  readonly init?: InitializerName;
}

/** Every node kind. */
export type NodeSpec =
  | DenseNode
  | Conv2dNode
  | Pool2dNode
  | GlobalAvgPoolNode
  | FlattenNode
  | SelectNode
  | ActivationNode
  | BatchNormNode
  | DropoutNode
  | GateNode
  | AddNode
  | PadShortcutNode
  | MixNode
  | EmbeddingNode
  | LayerNormNode
  | SelfAttentionNode;

/** A whole network: nodes in topological order, and which nodes are outputs. */
export interface NetworkSpec {
  readonly name: string;
  /** Per-sample input shape, e.g. `[28, 28, 1]` or `[784]`. */
  readonly inputShape: readonly number[];
  readonly nodes: readonly NodeSpec[];
  /** Output node ids; multi-task networks have one per task. */
  readonly outputs: readonly string[];
}
