import type {
  Batch,
  GateSite,
  Network,
  NodeInfo,
  ObjectiveContext,
  ParamInfo,
  ParamRole,
  StructureGroup,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';

/** One parameter of a hand-written network. */
export interface FakeParam {
  readonly node: string;
  readonly op: string;
  readonly role: ParamRole;
  readonly shape: readonly number[];
  /** Row-major values; zeros when omitted. */
  readonly values?: readonly number[];
  readonly trainable?: boolean;
}

/**
 * A minimal hand-written {@link Network}: parameters, masks, groups, gate
 * sites and node infos, no forward pass. Lets objective tests state every
 * number by hand, independent of createNetwork.
 */
export function fakeNetwork(spec: {
  params: readonly FakeParam[];
  groups?: readonly StructureGroup[];
  gateSites?: readonly GateSite[];
  nodes?: readonly NodeInfo[];
}): Network {
  const params = new Map<string, tf.Variable>();
  const paramInfo = new Map<string, ParamInfo>();
  const masks = new Map<string, tf.Tensor>();
  for (const p of spec.params) {
    const name = `${p.node}/${p.role}`;
    const size = p.shape.reduce((a, b) => a * b, 1);
    const values = p.values ?? new Array<number>(size).fill(0);
    params.set(name, tf.variable(tf.tensor(values as number[], p.shape as number[]), p.trainable ?? true));
    paramInfo.set(name, {
      name,
      node: p.node,
      op: p.op,
      role: p.role,
      shape: p.shape,
      trainable: p.trainable ?? true,
    });
  }
  const net: Network = {
    spec: { name: 'fake', inputShape: [1], nodes: [], outputs: [] },
    params,
    paramInfo,
    groups: spec.groups ?? [],
    gateSites: spec.gateSites ?? [],
    nodes: spec.nodes ?? [],
    apply: () => {
      throw new Error('fake network has no forward pass');
    },
    trainableVariables: () => [...params.values()].filter((v) => v.trainable),
    getMask: (name) => masks.get(name),
    setMask(name, mask) {
      masks.get(name)?.dispose();
      if (mask === null) masks.delete(name);
      else masks.set(name, tf.keep(tf.clone(mask)));
    },
    maskedParams: () => [...masks.keys()],
    applyMasks() {
      for (const [name, m] of masks) params.get(name)!.assign(tf.tidy(() => tf.mul(params.get(name)!, m)));
    },
    assignStateUpdates() {},
    dispose() {
      for (const v of params.values()) v.dispose();
      for (const m of masks.values()) m.dispose();
    },
  };
  return net;
}

/** A batch holding the given labels (x is a dummy scalar). */
export function fakeBatch(y: tf.Tensor[]): Batch {
  const x = tf.zeros([y[0]?.shape[0] ?? 1, 1]);
  return { x, y, size: x.shape[0]!, dispose: () => tf.dispose([x, ...y]) };
}

/** A batch for objectives that must not read one. */
export const NO_BATCH: Batch = {
  get x(): tf.Tensor {
    throw new Error('this test provides no batch');
  },
  y: [],
  size: 0,
  dispose() {},
};

/** An ObjectiveContext with only the fields a test needs. */
export function context(
  net: Network,
  extra: { outputs?: tf.Tensor[]; batch?: Batch; gateProbabilities?: Record<string, tf.Tensor> } = {},
): ObjectiveContext {
  return {
    net,
    outputs: extra.outputs ?? [],
    batch: extra.batch ?? NO_BATCH,
    gateProbabilities: extra.gateProbabilities ?? {},
    training: true,
  };
}

/** Reads a scalar tensor and disposes it. */
export function read(t: tf.Tensor): number {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

/** Reads a tensor's values and disposes it. */
export function readAll(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
