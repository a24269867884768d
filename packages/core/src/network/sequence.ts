/**
 * The sequence ops of a Transformer encoder block (`embedding`, `layerNorm`,
 * `selfAttention` nodes), composed from tfjs-core ops that have gradients
 * and kernels on every backend moprune runs on (cpu, wasm, native, tensorflow):
 * matMul, transpose, reshape, split, softmax, oneHot, mean, rsqrt. No
 * gather (its gradient, UnsortedSegmentSum, has no wasm kernel) and no
 * transposed matMul (10× slower than transpose + matMul on wasm).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Token embedding of `ids` (`[batch, T]`, integer ids as floats or int32):
 * one-hot × `table` (`[vocab, dim]`), plus `positions` (`[T, dim]`) when
 * given. Returns `[batch, T, dim]`. Ids outside `[0, vocab)` embed to zero.
 */
export function embed(ids: tf.Tensor, table: tf.Tensor, positions?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [batch, t] = [ids.shape[0]!, ids.shape[1]!];
    const [vocab, dim] = [table.shape[0]!, table.shape[1]!];
    const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(tf.round(ids), 'int32'), [-1]);
    const onehot = tf.cast(tf.oneHot(flat, vocab), 'float32');
    const y = tf.reshape(tf.matMul(onehot, table), [batch, t, dim]);
    return positions ? tf.add(y, positions) : y;
  });
}

/** Layer normalization of `x` over its last axis with per-feature `gamma` and `beta`. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon)));
    return tf.add(tf.mul(normalized, gamma), beta);
  });
}

/** Options of {@link selfAttention}. */
export interface SelfAttentionOptions {
  /** Number of heads; must divide the feature count. */
  readonly heads: number;
  /** Mask out attention to later positions. @default false */
  readonly causal?: boolean;
}

/** `[batch·T, d]` → `[batch·heads, T, d/heads]`. */
function splitHeads(x: tf.Tensor, batch: number, t: number, heads: number): tf.Tensor {
  const dh = x.shape[1]! / heads;
  return tf.reshape(tf.transpose(tf.reshape(x, [batch, t, heads, dh]), [0, 2, 1, 3]), [batch * heads, t, dh]);
}

/**
 * Multi-head scaled dot-product self-attention of `x` (`[batch, T, d]`) with
 * the projections `kernel` (`[d, 3d]`: query, key and value side by side) and
 * `bias` (`[3d]`). Returns the heads' outputs concatenated, `[batch, T, d]`
 * (no output projection: that is a `dense` node of the network).
 */
export function selfAttention(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  options: SelfAttentionOptions,
): tf.Tensor {
  return tf.tidy(() => {
    const [batch, t, d] = [x.shape[0]!, x.shape[1]!, x.shape[2]!];
    const heads = options.heads;
    const dh = d / heads;
    let qkv = tf.matMul(tf.reshape(x, [batch * t, d]), kernel);
    if (bias) qkv = tf.add(qkv, bias);
    const [q, k, v] = tf.split(qkv, 3, 1).map((p) => splitHeads(p, batch, t, heads)) as [
      tf.Tensor3D,
      tf.Tensor3D,
      tf.Tensor3D,
    ];
    let scores = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(dh));
    if (options.causal) {
      // −1e9 above the diagonal: exp underflows to exactly 0 in float32.
      const mask = tf.sub(tf.linalg.bandPart(tf.ones([t, t]), -1, 0), 1);
      scores = tf.add(scores, tf.mul(mask, 1e9));
    }
    const attended = tf.matMul(tf.softmax(scores), v);
    return tf.reshape(tf.transpose(tf.reshape(attended, [batch, heads, t, dh]), [0, 2, 1, 3]), [batch, t, d]);
  });
}
