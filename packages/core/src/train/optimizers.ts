import * as tf from '@tensorflow/tfjs-core';
import { CoreError, type Issue } from '../errors.js';
import type { ComponentState } from '../interfaces.js';
import type { JsonObject } from '../json.js';
import { type AxisTake, takeAlong, takenShape } from '../network/compact.js';
import { throwIfIssues } from '../registry.js';
import { boolean, joinPath, number, object, oneOf, tagged } from '../schema.js';
import { requireStateArray, type StateArray, tensorToStateArray } from './component-state.js';

/**
 * Plain SGD, optionally with (Nesterov) momentum. Two momentum conventions exist
 * and differ as soon as the learning rate changes during training:
 * - `'pytorch'`: b ← μb + g; w ← w − lr·b (Nesterov: w ← w − lr·(g + μb)).
 * - `'keras'`: v ← μv − lr·g; w ← w + v (Nesterov: w ← w + μv − lr·g). This is
 *   the form Reiners et al. (2020) state for SMGD (the learning rate is folded
 *   into the velocity).
 */
export interface SgdConfig {
  readonly type: 'sgd';
  /** Learning rate (≥ 0). */
  readonly lr: number;
  /** Momentum μ ∈ [0, 1). @default 0 */
  readonly momentum?: number;
  /** Nesterov momentum (needs momentum > 0). @default false */
  readonly nesterov?: boolean;
  /** Momentum convention, see above. @default 'pytorch' */
  readonly momentumStyle?: 'pytorch' | 'keras';
}

/**
 * Adam (Kingma & Ba 2015) with bias correction. Moments: m ← β1·m + (1−β1)·g,
 * v ← β2·v + (1−β2)·g², t counted **per variable** (PyTorch's convention, so a
 * variable whose state was re-initialized after physical removal gets a fresh,
 * correctly bias-corrected start; with all variables trained from step 1 the
 * per-variable and the global count are the same). Two placements of ε:
 * - `'corrected'` (PyTorch, Algorithm 1 of the paper): w ← w − lr·m̂/(√v̂ + ε),
 *   m̂ = m/(1−β1^t), v̂ = v/(1−β2^t).
 * - `'raw'` (Keras / TensorFlow, the paper's "ε̂" variant): lr_t = lr·√(1−β2^t)/(1−β1^t),
 *   w ← w − lr_t·m/(√v + ε). Use it with ε = 1e-7 to reproduce Keras runs (Reiners 2020).
 */
export interface AdamConfig {
  readonly type: 'adam';
  /** Learning rate (≥ 0). */
  readonly lr: number;
  /** @default 0.9 */
  readonly beta1?: number;
  /** @default 0.999 */
  readonly beta2?: number;
  /** @default 1e-8 (PyTorch) */
  readonly epsilon?: number;
  /** Where ε enters, see above. @default 'corrected' */
  readonly epsilonPlacement?: 'corrected' | 'raw';
}

/**
 * RMSprop (Hinton's lecture 6e form, as PyTorch implements it):
 * s ← ρ·s + (1−ρ)·g²; centered: a ← ρ·a + (1−ρ)·g, d = √(s − a²) + ε, else d = √s + ε;
 * without momentum w ← w − lr·g/d, with momentum b ← μb + g/d, w ← w − lr·b.
 * Keras's RMSprop is the uncentered, momentum-free case (with ρ = 0.9, ε = 1e-7).
 */
export interface RmsPropConfig {
  readonly type: 'rmsprop';
  /** Learning rate (≥ 0). */
  readonly lr: number;
  /** Decay ρ of the squared-gradient average. @default 0.99 (PyTorch) */
  readonly rho?: number;
  /** @default 1e-8 (PyTorch) */
  readonly epsilon?: number;
  /** @default 0 */
  readonly momentum?: number;
  /** @default false */
  readonly centered?: boolean;
}

/** Any optimizer config (a JSON object with a `type`). */
export type OptimizerConfig = SgdConfig | AdamConfig | RmsPropConfig;

/** An optimizer config with every default filled in (what a run's config.json records). */
export type ResolvedOptimizerConfig = Required<SgdConfig> | Required<AdamConfig> | Required<RmsPropConfig>;

/** The optimizer types {@link createOptimizer} knows. */
export const OPTIMIZER_TYPES = ['sgd', 'adam', 'rmsprop'] as const;

const rate = () => number({ min: 0, lt: 1 });

/**
 * The schema of an optimizer config (`{ type: 'sgd' | 'adam' | 'rmsprop', lr, … }`),
 * in the one schema vocabulary: each type's fields, bounds and the Nesterov rule.
 */
export const optimizerSchema = tagged('type', {
  sgd: object({
    lr: number({ min: 0 }),
    momentum: rate().optional(),
    nesterov: boolean().optional(),
    momentumStyle: oneOf(['pytorch', 'keras'] as const).optional(),
  }).refine((c, path) =>
    c.nesterov === true && !((c.momentum ?? 0) > 0)
      ? [{ path: joinPath(path, 'nesterov'), message: 'Nesterov momentum needs momentum > 0' }]
      : undefined,
  ),
  adam: object({
    lr: number({ min: 0 }),
    beta1: rate().optional(),
    beta2: rate().optional(),
    epsilon: number({ gt: 0 }).optional(),
    epsilonPlacement: oneOf(['corrected', 'raw'] as const).optional(),
  }),
  rmsprop: object({
    lr: number({ min: 0 }),
    rho: rate().optional(),
    epsilon: number({ gt: 0 }).optional(),
    momentum: rate().optional(),
    centered: boolean().optional(),
  }),
}).describe(`an optimizer config { type: ${OPTIMIZER_TYPES.map((t) => `'${t}'`).join(' | ')}, lr, … }`);

/**
 * Every problem with an optimizer config, with paths prefixed by `path`
 * (e.g. `solver.optimizer.lr`). Empty when the config is valid.
 */
export function validateOptimizerConfig(config: unknown, path = ''): Issue[] {
  return optimizerSchema.issues(config, path);
}

/**
 * The config with every default filled in.
 * @throws CoreError `INVALID_CONFIG` listing every problem.
 */
export function resolveOptimizerConfig(config: OptimizerConfig): ResolvedOptimizerConfig {
  throwIfIssues('optimizer config', validateOptimizerConfig(config));
  switch (config.type) {
    case 'sgd':
      return {
        type: 'sgd',
        lr: config.lr,
        momentum: config.momentum ?? 0,
        nesterov: config.nesterov ?? false,
        momentumStyle: config.momentumStyle ?? 'pytorch',
      };
    case 'adam':
      return {
        type: 'adam',
        lr: config.lr,
        beta1: config.beta1 ?? 0.9,
        beta2: config.beta2 ?? 0.999,
        epsilon: config.epsilon ?? 1e-8,
        epsilonPlacement: config.epsilonPlacement ?? 'corrected',
      };
    case 'rmsprop':
      return {
        type: 'rmsprop',
        lr: config.lr,
        rho: config.rho ?? 0.99,
        epsilon: config.epsilon ?? 1e-8,
        momentum: config.momentum ?? 0,
        centered: config.centered ?? false,
      };
  }
}

/** Gradients (or any update directions) per variable: by object, or by `variable.name` as `tf.variableGrads` returns them. */
export type GradientMap = ReadonlyMap<tf.Variable, tf.Tensor> | Readonly<tf.NamedTensorMap>;

/**
 * A first-order optimizer with explicit, serializable state. State is kept
 * per variable (slot tensors such as Adam's m and v, and a step count t) in
 * the order variables were first seen or last given to
 * {@link Optimizer.resetVariables}; {@link Optimizer.state} records that
 * order by index, so a state saved in one process loads into a freshly built
 * network in another.
 */
export interface Optimizer {
  /** The config with defaults filled in. */
  readonly config: ResolvedOptimizerConfig;
  /** The learning rate used by the next update; schedules set it. */
  learningRate: number;
  /** The variables the optimizer holds state for, in state order. */
  readonly variables: readonly tf.Variable[];
  /** Number of {@link Optimizer.applyGradients} calls so far. */
  readonly iterations: number;
  /**
   * One update step: w ← update(w, g) for every variable in `grads`. Variables
   * not seen before are appended to {@link Optimizer.variables} with fresh
   * state. Does not dispose `grads`; allocates no lasting tensors besides slots.
   * @throws CoreError `SHAPE_MISMATCH` when a gradient's shape differs from its variable's,
   *   `UNKNOWN_PARAMETER` when a name in a named map is not a registered variable.
   */
  applyGradients(grads: GradientMap): void;
  /**
   * Replaces the variable list (after physical removal or any network swap).
   * The state of new variable i is kept from `previous[i]` (default: the same
   * variable object, if it was known) when that old variable had exactly the
   * same shape, or — with `takes[i]` — when the old shape sliced by those takes
   * (in order) is the new one: every slot (momentum, Adam's m and v) is sliced
   * the same way and the step count t carries over, so the surviving entries
   * continue exactly as if nothing had been removed (these optimizers act entry
   * by entry). Otherwise the state is re-initialized (zero slots, t = 0). State
   * of variables no longer listed is disposed.
   */
  resetVariables(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void;
  /** The full state: config, iterations, per-variable t and slot arrays (`${i}/${slot}`). */
  state(): ComponentState;
  /**
   * Restores a state from {@link Optimizer.state}. Entry i binds to variable i of
   * the current list; entries beyond it bind when variables are appended later
   * (e.g. by the first `applyGradients` of a resumed run).
   * @throws CoreError `INVALID_ARGUMENT` for a state of another optimizer type,
   *   `SHAPE_MISMATCH` when a bound variable's shape differs.
   */
  load(state: ComponentState): void;
  /** Disposes every slot tensor. The optimizer must not be used afterwards. */
  dispose(): void;
}

interface VarState {
  t: number;
  slots: Map<string, tf.Variable>;
}

interface PendingEntry {
  t: number;
  shape: readonly number[];
  slots: Map<string, StateArray>;
}

type UpdateFn = (
  v: tf.Variable,
  g: tf.Tensor,
  s: VarState,
  lr: number,
) => { value: tf.Tensor; slots: Record<string, tf.Tensor> };

function slotNames(c: ResolvedOptimizerConfig): string[] {
  switch (c.type) {
    case 'sgd':
      return c.momentum > 0 ? ['momentum'] : [];
    case 'adam':
      return ['m', 'v'];
    case 'rmsprop':
      return ['s', ...(c.centered ? ['a'] : []), ...(c.momentum > 0 ? ['momentum'] : [])];
  }
}

/**
 * Kernel name of one Adam update of a variable in one pass. A backend that
 * registers it (`@moprune/native` does) runs {@link createOptimizer}'s Adam
 * as one kernel per variable instead of eleven elementwise tfjs ops, each a
 * pass over the parameters and a fresh tensor.
 *
 * Contract — inputs `{ value, grad, m, v }`, float32, all of one shape (the
 * variable, its gradient and its two moments). Attributes `beta1`, `beta2`,
 * `epsilon`, `lr` (numbers), `t` (the update's number, from 1) and `corrected`
 * (boolean: ε added to the bias-corrected √v̂, else to the raw √v as Keras
 * and tfjs do). Outputs `[value', m', v']` with, elementwise,
 * `m' = β1·m + (1 − β1)·g`, `v' = β2·v + (1 − β2)·g²`, and
 * `value' = value − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m'/(√v' + ε)` (raw), or
 * `value − lr · (m'/(1 − β1ᵗ)) / (√(v'/(1 − β2ᵗ)) + ε)` (corrected) — the
 * values the composed ops give, up to float32 rounding of the intermediates.
 */
export const ADAM_UPDATE_KERNEL = 'MopruneAdamUpdate';

/** True when the active backend runs {@link ADAM_UPDATE_KERNEL}. */
export function hasAdamUpdateKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(ADAM_UPDATE_KERNEL, backendName) !== undefined;
}

/**
 * Kernel name of one SGD update of a variable in one pass. A backend that
 * registers it (`@moprune/native` does) runs {@link createOptimizer}'s SGD as
 * one kernel per variable instead of two to six elementwise tfjs ops, each a
 * pass over the parameters and a fresh tensor.
 *
 * Contract — inputs `{ value, grad }` and, with momentum, `momentum` (the
 * slot), float32, all of one shape. Attributes `lr`, `momentum` (μ, 0 for
 * none), `style` (`'pytorch'` or `'keras'`, see {@link SgdConfig}) and
 * `nesterov` (boolean). Outputs `[value']` without momentum, else
 * `[value', momentum']`, elementwise in float32 with every product and sum
 * rounded to float32 in this order (the composed ops' arithmetic, so both
 * give the same bits):
 * - no momentum: `value' = value − g·lr`;
 * - `'pytorch'`: `b' = b·μ + g`, `d = nesterov ? g + b'·μ : b'`, `value' = value − d·lr`;
 * - `'keras'`: `v' = v·μ − g·lr`, `value' = nesterov ? (value + v'·μ) − g·lr : value + v'`.
 */
export const SGD_UPDATE_KERNEL = 'MopruneSgdUpdate';

/** True when the active backend runs {@link SGD_UPDATE_KERNEL}. */
export function hasSgdUpdateKernel(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(SGD_UPDATE_KERNEL, backendName) !== undefined;
}

/** SGD as composed elementwise tfjs ops: the fallback where no backend kernel runs the update. */
function sgdComposed(c: ResolvedOptimizerConfig & { type: 'sgd' }): UpdateFn {
  const mu = c.momentum;
  if (mu === 0) return (v, g, _s, lr) => ({ value: tf.sub(v, tf.mul(g, lr)), slots: {} });
  if (c.momentumStyle === 'pytorch') {
    return (v, g, s, lr) => {
      const b = tf.add(tf.mul(s.slots.get('momentum')!, mu), g);
      const d = c.nesterov ? tf.add(g, tf.mul(b, mu)) : b;
      return { value: tf.sub(v, tf.mul(d, lr)), slots: { momentum: b } };
    };
  }
  return (v, g, s, lr) => {
    const vel = tf.sub(tf.mul(s.slots.get('momentum')!, mu), tf.mul(g, lr));
    const value = c.nesterov ? tf.sub(tf.add(v, tf.mul(vel, mu)), tf.mul(g, lr)) : tf.add(v, vel);
    return { value, slots: { momentum: vel } };
  };
}

// Functional tf ops only: chained tensor methods exist only when an app imports
// the full @tensorflow/tfjs bundle, which a tfjs-core peer cannot assume.
function updateFn(c: ResolvedOptimizerConfig): UpdateFn {
  switch (c.type) {
    case 'sgd': {
      const mu = c.momentum;
      const composed = sgdComposed(c);
      return (v, g, s, lr) => {
        if (g.dtype !== 'float32' || !hasSgdUpdateKernel()) return composed(v, g, s, lr);
        const inputs: Record<string, tf.Tensor> = { value: v, grad: g };
        if (mu > 0) inputs.momentum = s.slots.get('momentum')!;
        const out = tf.engine().runKernel(SGD_UPDATE_KERNEL, inputs as unknown as tf.NamedTensorMap, {
          lr,
          momentum: mu,
          style: c.momentumStyle,
          nesterov: c.nesterov,
        }) as tf.Tensor[];
        return { value: out[0]!, slots: mu > 0 ? { momentum: out[1]! } : {} };
      };
    }
    case 'adam': {
      const { beta1: b1, beta2: b2, epsilon: eps } = c;
      return (v, g, s, lr) => {
        if (g.dtype === 'float32' && hasAdamUpdateKernel()) {
          const [value, m, sq] = tf.engine().runKernel(
            ADAM_UPDATE_KERNEL,
            {
              value: v,
              grad: g,
              m: s.slots.get('m')!,
              v: s.slots.get('v')!,
            } as unknown as tf.NamedTensorMap,
            {
              beta1: b1,
              beta2: b2,
              epsilon: eps,
              lr,
              t: s.t,
              corrected: c.epsilonPlacement === 'corrected',
            },
          ) as tf.Tensor[];
          return { value: value!, slots: { m: m!, v: sq! } };
        }
        const m = tf.add(tf.mul(s.slots.get('m')!, b1), tf.mul(g, 1 - b1));
        const sq = tf.add(tf.mul(s.slots.get('v')!, b2), tf.mul(tf.square(g), 1 - b2));
        const bc1 = 1 - b1 ** s.t;
        const bc2 = 1 - b2 ** s.t;
        const step =
          c.epsilonPlacement === 'corrected'
            ? tf.mul(tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(sq, bc2)), eps)), lr)
            : tf.mul(tf.div(m, tf.add(tf.sqrt(sq), eps)), (lr * Math.sqrt(bc2)) / bc1);
        return { value: tf.sub(v, step), slots: { m, v: sq } };
      };
    }
    case 'rmsprop': {
      const { rho, epsilon: eps, momentum: mu, centered } = c;
      return (v, g, st, lr) => {
        const s = tf.add(tf.mul(st.slots.get('s')!, rho), tf.mul(tf.square(g), 1 - rho));
        const slots: Record<string, tf.Tensor> = { s };
        let denom: tf.Tensor;
        if (centered) {
          const a = tf.add(tf.mul(st.slots.get('a')!, rho), tf.mul(g, 1 - rho));
          slots.a = a;
          denom = tf.add(tf.sqrt(tf.sub(s, tf.square(a))), eps);
        } else {
          denom = tf.add(tf.sqrt(s), eps);
        }
        const step = tf.div(g, denom);
        if (mu > 0) {
          const b = tf.add(tf.mul(st.slots.get('momentum')!, mu), step);
          slots.momentum = b;
          return { value: tf.sub(v, tf.mul(b, lr)), slots };
        }
        return { value: tf.sub(v, tf.mul(step, lr)), slots };
      };
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

class SlotOptimizer implements Optimizer {
  readonly config: ResolvedOptimizerConfig;
  learningRate: number;
  private order: tf.Variable[] = [];
  private readonly states = new Map<tf.Variable, VarState>();
  private pending = new Map<number, PendingEntry>();
  private iterationCount = 0;
  private readonly slotKeys: string[];
  private readonly update: UpdateFn;
  private disposed = false;

  constructor(config: ResolvedOptimizerConfig) {
    this.config = config;
    this.learningRate = config.lr;
    this.slotKeys = slotNames(config);
    this.update = updateFn(config);
  }

  get variables(): readonly tf.Variable[] {
    return this.order;
  }

  get iterations(): number {
    return this.iterationCount;
  }

  private freshState(v: tf.Variable): VarState {
    const slots = new Map<string, tf.Variable>();
    // tidy disposes the zeros but not the variables built from them.
    for (const k of this.slotKeys)
      slots.set(
        k,
        tf.tidy(() => tf.variable(tf.zerosLike(v), false)),
      );
    return { t: 0, slots };
  }

  /** New slots holding `s`'s slots sliced by the takes (in order); the same step count. */
  private slicedState(s: VarState, takes: readonly AxisTake[]): VarState {
    const slots = new Map<string, tf.Variable>();
    for (const [k, slot] of s.slots) {
      slots.set(
        k,
        tf.tidy(() => tf.variable(takeAlong(slot, takes), false)),
      );
    }
    return { t: s.t, slots };
  }

  private disposeState(s: VarState): void {
    for (const slot of s.slots.values()) slot.dispose();
  }

  /** Appends `v` to the order with fresh state, or with the pending loaded state of its index. */
  private append(v: tf.Variable): VarState {
    const index = this.order.length;
    this.order.push(v);
    const s = this.freshState(v);
    const p = this.pending.get(index);
    if (p !== undefined) {
      this.pending.delete(index);
      this.bind(v, s, p, index);
    }
    this.states.set(v, s);
    return s;
  }

  private bind(v: tf.Variable, s: VarState, p: PendingEntry, index: number): void {
    if (!sameShape(v.shape, p.shape)) {
      throw new CoreError(
        'SHAPE_MISMATCH',
        `optimizer state entry ${index} has shape [${p.shape.join(',')}] but variable '${v.name}' has [${v.shape.join(',')}]`,
        { details: { index, variable: v.name } },
      );
    }
    s.t = p.t;
    for (const [k, slot] of s.slots) {
      const a = p.slots.get(k)!;
      tf.tidy(() => slot.assign(tf.tensor(a.data, [...a.shape], 'float32')));
    }
  }

  private resolve(grads: GradientMap): [tf.Variable, tf.Tensor][] {
    if (grads instanceof Map) return [...(grads as ReadonlyMap<tf.Variable, tf.Tensor>).entries()];
    const registered = tf.engine().registeredVariables;
    const byName = new Map(this.order.map((v) => [v.name, v]));
    return Object.entries(grads as tf.NamedTensorMap).map(([name, g]) => {
      const v = byName.get(name) ?? registered[name];
      if (v === undefined) {
        throw new CoreError('UNKNOWN_PARAMETER', `no variable named '${name}' for this gradient`, {
          details: { name },
        });
      }
      return [v, g];
    });
  }

  applyGradients(grads: GradientMap): void {
    this.assertLive();
    const entries = this.resolve(grads);
    for (const [v, g] of entries) {
      if (!sameShape(v.shape, g.shape)) {
        throw new CoreError(
          'SHAPE_MISMATCH',
          `gradient of '${v.name}' has shape [${g.shape.join(',')}], variable has [${v.shape.join(',')}]`,
          { details: { variable: v.name } },
        );
      }
    }
    const lr = this.learningRate;
    for (const [v, g] of entries) {
      const s = this.states.get(v) ?? this.append(v);
      s.t += 1;
      tf.tidy(() => {
        const out = this.update(v, g, s, lr);
        v.assign(out.value);
        for (const [k, t] of Object.entries(out.slots)) s.slots.get(k)!.assign(t);
      });
    }
    this.iterationCount += 1;
  }

  resetVariables(
    variables: readonly tf.Variable[],
    previous?: readonly (tf.Variable | undefined)[],
    takes?: readonly (readonly AxisTake[] | undefined)[],
  ): void {
    this.assertLive();
    const next = new Map<tf.Variable, VarState>();
    const reused = new Set<VarState>();
    variables.forEach((v, i) => {
      const prevVar = previous ? previous[i] : v;
      const old = prevVar === undefined ? undefined : this.states.get(prevVar);
      const take = takes?.[i];
      if (old !== undefined && !reused.has(old) && sameShape(prevVar!.shape, v.shape)) {
        next.set(v, old);
        reused.add(old);
      } else if (
        old !== undefined &&
        take !== undefined &&
        take.length > 0 &&
        sameShape(takenShape(prevVar!.shape, take), v.shape)
      ) {
        next.set(v, this.slicedState(old, take));
      } else {
        next.set(v, this.freshState(v));
      }
    });
    for (const s of this.states.values()) if (!reused.has(s)) this.disposeState(s);
    this.states.clear();
    for (const [v, s] of next) this.states.set(v, s);
    this.order = [...variables];
    this.pending.clear();
  }

  state(): ComponentState {
    this.assertLive();
    const arrays: Record<string, StateArray> = {};
    const entries = this.order.map((v, i) => {
      const s = this.states.get(v)!;
      for (const [k, slot] of s.slots) arrays[`${i}/${k}`] = tensorToStateArray(slot);
      return { t: s.t, shape: [...v.shape], name: v.name };
    });
    // Loaded entries not yet bound to a variable are part of the state too.
    for (const [i, p] of this.pending) {
      for (const [k, a] of p.slots) arrays[`${i}/${k}`] = { shape: [...a.shape], data: a.data.slice() };
    }
    const pendingJson = [...this.pending].map(([i, p]) => ({ index: i, t: p.t, shape: [...p.shape] }));
    const json: JsonObject = {
      type: this.config.type,
      config: { ...this.config },
      learningRate: this.learningRate,
      iterations: this.iterationCount,
      entries,
      pending: pendingJson,
    };
    return { json, arrays };
  }

  load(state: ComponentState): void {
    this.assertLive();
    const json = state.json as {
      type?: unknown;
      learningRate?: unknown;
      iterations?: unknown;
      entries?: { t: number; shape: number[] }[];
      pending?: { index: number; t: number; shape: number[] }[];
    };
    if (json.type !== this.config.type || !Array.isArray(json.entries)) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `cannot load a ${JSON.stringify(json.type)} optimizer state into a '${this.config.type}' optimizer`,
      );
    }
    const all = [
      ...json.entries.map((e, index) => ({ index, t: e.t, shape: e.shape })),
      ...(json.pending ?? []),
    ];
    const pending = new Map<number, PendingEntry>();
    for (const e of all) {
      const slots = new Map<string, StateArray>();
      for (const k of this.slotKeys) {
        const a = requireStateArray(state, `${e.index}/${k}`, e.shape, 'optimizer');
        // Copies: entries not yet bound are held until a variable appears, and the caller's state may change meanwhile.
        slots.set(k, { shape: [...a.shape], data: a.data.slice() });
      }
      pending.set(e.index, { t: e.t, shape: [...e.shape], slots });
    }
    // Check every shape before changing anything, so a failed load leaves the optimizer as it was.
    this.order.forEach((v, i) => {
      const p = pending.get(i);
      if (p !== undefined && !sameShape(v.shape, p.shape)) {
        throw new CoreError(
          'SHAPE_MISMATCH',
          `optimizer state entry ${i} has shape [${p.shape.join(',')}] but variable '${v.name}' has [${v.shape.join(',')}]`,
          { details: { index: i, variable: v.name } },
        );
      }
    });
    this.order.forEach((v, i) => {
      const s = this.states.get(v)!;
      const p = pending.get(i);
      if (p === undefined) {
        this.disposeState(s);
        this.states.set(v, this.freshState(v));
      } else {
        this.bind(v, s, p, i);
        pending.delete(i);
      }
    });
    this.pending = pending;
    if (typeof json.learningRate === 'number') this.learningRate = json.learningRate;
    if (typeof json.iterations === 'number') this.iterationCount = json.iterations;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const s of this.states.values()) this.disposeState(s);
    this.states.clear();
    this.order = [];
    this.pending.clear();
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new CoreError('INVALID_ARGUMENT', 'this optimizer has been disposed');
  }
}

/**
 * Builds an optimizer from a JSON config (`{type: 'sgd' | 'adam' | 'rmsprop', lr, …}`).
 * @throws CoreError `INVALID_CONFIG` listing every problem with the config.
 */
export function createOptimizer(config: OptimizerConfig | JsonObject): Optimizer {
  return new SlotOptimizer(resolveOptimizerConfig(config as OptimizerConfig));
}

/** Type guard: true when `config` is a valid optimizer config. */
export function isOptimizerConfig(config: unknown): config is OptimizerConfig {
  return validateOptimizerConfig(config).length === 0;
}
