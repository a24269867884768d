import {
  type ComponentState,
  definePruner,
  type JsonObject,
  type Network,
  type ParamSelector,
  type Pruner,
  type PrunerStepContext,
  type PrunerStepResult,
  schema as s,
  selectParams,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { PrunerError, throwIfIssues } from '../errors.js';
import { countZeros, setMaskValues } from '../internal/masks.js';
import { fromRows, rowLayout, toRows } from '../internal/rows.js';
import { affinityPropagation, type RowSimilarity, rowSimilarity } from './affinity.js';
import { type OwlWeights, owlWeights, proxOwl } from './owl.js';

/** Config of {@link createGrowlPruner}. */
export interface GrowlConfig {
  readonly type: 'growl';
  /**
   * Dense kernels whose rows (input neurons) and conv kernels whose input
   * channels form the groups.
   * @default every dense kernel except the output layers (task heads), as in Hotegni et al.
   */
  readonly params?: ParamSelector;
  /** GrOWL weights θ. @default { type: 'spike', beta1: 0.8, beta2: 0.2 } */
  readonly weights?: OwlWeights;
  /**
   * Prox step size: the prox uses t·θ. @default 1 — the full θ, as Hotegni et
   * al.'s reference code applies it; the per-layer cap (`maxZeroFraction`)
   * decides how many rows go per step.
   */
  readonly strength?: number;
  /**
   * Largest fraction of a layer's groups that may be zero, per prox step:
   * a number, or a ramp indexed by prox step (the last value holds after it),
   * e.g. [0.1, 0.2, 0.3]. @default 0.8
   */
  readonly maxZeroFraction?: number | readonly number[];
  /** Apply the prox step after every epoch (`'epoch'`) or every n steps. @default 'epoch' */
  readonly every?: 'epoch' | number;
  /**
   * Mask zero groups so they stay zero: the rows zero when training starts
   * (from the first step) and those the prox zeroes. The reference freezes zero
   * rows only in its retraining phase (set it there); in the search phase a
   * zeroed row may grow back. @default false
   */
  readonly freezeZeroGroups?: boolean;
  /**
   * Parameter tying (the retraining phase): after each prox step the rows of
   * each layer are set to their cluster's mean, the clusters found by affinity
   * propagation (see `tyingClusters`). @default false
   */
  readonly tying?: boolean;
  /**
   * When tying clusters: `'once'` — over all rows of the layer (zero rows
   * included; with the normalized inner product they only cluster with each
   * other), at the start of training when `proxDisabled` (the retraining
   * phase: the network it starts from is clustered, as Hotegni et al.'s
   * reference clusters between its two phases), else at the first tying step;
   * the clusters are then kept for every later step. `'everyStep'` — the live
   * rows re-clustered at every step. @default 'once'
   */
  readonly tyingClusters?: 'once' | 'everyStep';
  /** Skip the prox step (tying and freezing only), e.g. for the retraining phase. @default false */
  readonly proxDisabled?: boolean;
  /** Row similarity for tying. @default 'normalizedInnerProduct' (the reference's) */
  readonly tyingSimilarity?: RowSimilarity;
  /**
   * Affinity-propagation preference for tying. @default 0.7 with the normalized
   * inner product (the reference's MultiMNIST value; it uses 0.8 for
   * Cifar10Mnist), the median similarity with `'euclidean'`
   */
  readonly tyingPreference?: number;
}

const fraction = s.number({ min: 0, lt: 1 });

/** The schema of a GrOWL config (besides `type`). */
export const growlConfigSchema = s.object({
  params: s.paramSelector().optional(),
  weights: s
    .tagged('type', {
      spike: s.object({ beta1: s.number({ min: 0 }), beta2: s.number({ min: 0 }) }),
      linear: s.object({ beta1: s.number({ min: 0 }), beta2: s.number({ min: 0 }) }),
    })
    .optional(),
  strength: s.number({ min: 0 }).optional(),
  maxZeroFraction: s.anyOf(fraction, s.array(fraction, { minLength: 1 })).optional(),
  every: s.anyOf(s.literal('epoch'), s.integer({ min: 1 })).optional(),
  freezeZeroGroups: s.boolean().optional(),
  tying: s.boolean().optional(),
  proxDisabled: s.boolean().optional(),
  tyingSimilarity: s.oneOf(['euclidean', 'normalizedInnerProduct']).optional(),
  tyingPreference: s.number().optional(),
  tyingClusters: s.oneOf(['once', 'everyStep']).optional(),
});

/** Dense nodes whose output reaches a network output without passing another dense or conv node. */
function headNodes(net: Network): Set<string> {
  const byId = new Map(net.spec.nodes.map((n) => [n.id, n]));
  const heads = new Set<string>();
  const walk = (id: string): void => {
    const node = byId.get(id);
    if (!node) return;
    if (node.op === 'dense' || node.op === 'conv2d') {
      heads.add(id);
      return;
    }
    for (const input of node.inputs) walk(input);
  };
  for (const out of net.spec.outputs) walk(out);
  return heads;
}

/** Whether row r of a `rows × cols` layout is all zero. */
function zeroRow(w: Float32Array, cols: number, r: number): boolean {
  for (let j = 0; j < cols; j++) if (w[r * cols + j] !== 0) return false;
  return true;
}

/** Zeroes the mask of every all-zero row of `w` (same layout); returns how many rows that is. */
function maskZeroRows(w: Float32Array, mask: Float32Array, rows: number, cols: number): number {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    if (!zeroRow(w, cols, r)) continue;
    n++;
    mask.fill(0, r * cols, (r + 1) * cols);
  }
  return n;
}

/**
 * GrOWL as a proximal step (Hotegni, Peitz & Berkemeier 2023): the groups are
 * the rows of dense kernels (`[in, out]` layout: one row per input neuron).
 * At each prox step, every layer's row norms go through the OWL prox with
 * weights t·θ; rows whose norm becomes zero are zeroed (and masked, when
 * `freezeZeroGroups`), others are rescaled. At most `maxZeroFraction` of a
 * layer's rows may be zero: when the prox would zero more, only the rows of
 * smallest original norm are zeroed and the others keep their values this
 * step. (The reference instead restores a random selection of n − cap·n of
 * the zeroed rows, which is not seeded and can restore more rows than needed;
 * ours is deterministic and zeroes exactly up to the cap.) With `tying`, live
 * rows are then clustered by affinity propagation and set to their cluster mean.
 *
 * Conv kernels `[kh, kw, in, out]` are grouped by input channel (every
 * weight reading channel c is group c), selected with
 * `params: { ops: ['dense', 'conv2d'], roles: ['kernel'], … }`. (The
 * reference reshapes a PyTorch conv kernel `[out, in, kh, kw]` with a plain
 * `view(in, −1)`, whose "rows" are blocks of whole output filters, not input
 * channels; the counts agree, the groups do not.)
 */
export function createGrowlPruner(config: Omit<GrowlConfig, 'type'> & { type?: 'growl' } = {}): Pruner {
  const json: JsonObject = { type: 'growl', ...(config as unknown as JsonObject) };
  throwIfIssues('growl pruner', growlPruner.validate(json));
  const weightSpec: OwlWeights = config.weights ?? { type: 'spike', beta1: 0.8, beta2: 0.2 };
  const strength = config.strength ?? 1;
  const freeze = config.freezeZeroGroups ?? false;
  const every = config.every ?? 'epoch';
  let net: Network | undefined;
  let targets: string[] = [];
  let proxSteps = 0;
  let clusters = 0;
  /** With `tyingClusters: 'once'`: the cluster label of every row, per target, fixed at the first tying step. */
  let tyingLabels: Record<string, number[]> = {};
  const similarity = config.tyingSimilarity ?? 'normalizedInnerProduct';
  const preference = config.tyingPreference ?? (similarity === 'normalizedInnerProduct' ? 0.7 : undefined);
  const once = (config.tyingClusters ?? 'once') === 'once';

  /** Affinity-propagation labels of `rows` (one exemplar index per row). */
  const clusterRows = (rows: readonly Float32Array[]): Int32Array =>
    affinityPropagation(
      rowSimilarity(rows, similarity),
      rows.length,
      preference === undefined ? {} : { preference },
    );

  /**
   * At the start of training: rows already zero are masked (with
   * `freezeZeroGroups`), and with tying once and the prox disabled (the
   * retraining phase) the clusters are found on the starting network — the
   * reference clusters between its two phases and re-zeroes the search's zero
   * rows from the first retraining epoch on.
   */
  const atStart = (n: Network): void => {
    const clusterNow = config.tying === true && once && config.proxDisabled === true;
    if (!freeze && !clusterNow) return;
    for (const name of targets) {
      const v = n.params.get(name)!;
      const layout = rowLayout(v.shape);
      const { rows, cols } = layout;
      const w = toRows(v.dataSync() as Float32Array, layout);
      if (clusterNow) {
        tyingLabels[name] = Array.from(
          clusterRows(Array.from({ length: rows }, (_, r) => w.subarray(r * cols, (r + 1) * cols))),
        );
      }
      if (!freeze) continue;
      const old = n.getMask(name);
      const mask = old ? toRows(old.dataSync() as Float32Array, layout) : new Float32Array(w.length).fill(1);
      const zeroRows = maskZeroRows(w, mask, rows, cols);
      if (zeroRows > 0 || old) setMaskValues(n, name, fromRows(mask, layout));
    }
  };

  const capAt = (k: number): number => {
    const cap = config.maxZeroFraction ?? 0.8;
    return typeof cap === 'number' ? cap : cap[Math.min(k, cap.length - 1)]!;
  };

  const step = async (n: Network): Promise<void> => {
    const cap = capAt(proxSteps);
    for (const name of targets) {
      const v = n.params.get(name)!;
      const layout = rowLayout(v.shape);
      const { rows, cols } = layout;
      const w = toRows((await v.data()) as Float32Array, layout);
      const oldMask = n.getMask(name);
      const mask = oldMask
        ? toRows((await oldMask.data()) as Float32Array, layout)
        : new Float32Array(w.length).fill(1);
      // The optimizer step may have moved masked entries; they are zero by definition.
      for (let i = 0; i < w.length; i++) w[i]! *= mask[i]!;
      const norms = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let j = 0; j < cols; j++) s += w[r * cols + j]! ** 2;
        norms[r] = Math.sqrt(s);
      }
      if (!config.proxDisabled) {
        const theta = owlWeights(weightSpec, rows).map((x) => x * strength);
        const shrunk = proxOwl(norms, theta);
        const alreadyZero = Array.from(norms, (x) => x === 0).filter(Boolean).length;
        const allowed = Math.max(alreadyZero, Math.floor(cap * rows));
        const newlyZero = Array.from({ length: rows }, (_, r) => r).filter(
          (r) => shrunk[r] === 0 && norms[r]! > 0,
        );
        newlyZero.sort((a, b) => norms[a]! - norms[b]! || a - b);
        const room = Math.max(0, allowed - alreadyZero);
        const keepUnshrunk = new Set(newlyZero.slice(room));
        for (let r = 0; r < rows; r++) {
          const scale = keepUnshrunk.has(r) ? 1 : norms[r]! === 0 ? 0 : shrunk[r]! / norms[r]!;
          for (let j = 0; j < cols; j++) w[r * cols + j]! *= scale;
        }
      }
      if (config.tying) {
        const rowOf = (r: number) => w.subarray(r * cols, (r + 1) * cols);
        const cluster = (members: readonly number[]) => clusterRows(members.map(rowOf));
        const groups = new Map<number, number[]>();
        const add = (label: number, r: number) => {
          if (!groups.has(label)) groups.set(label, []);
          groups.get(label)!.push(r);
        };
        const fixed = tyingLabels[name];
        if (once && fixed !== undefined && fixed.length === rows) {
          fixed.forEach((label, r) => {
            add(label, r);
          });
        } else if (once) {
          const all = Array.from({ length: rows }, (_, r) => r);
          const labels = cluster(all);
          tyingLabels[name] = Array.from(labels);
          all.forEach((r) => {
            add(labels[r]!, r);
          });
        } else {
          const live: number[] = [];
          for (let r = 0; r < rows; r++) if (rowOf(r).some((x) => x !== 0)) live.push(r);
          const labels = cluster(live);
          live.forEach((r, i) => {
            add(labels[i]!, r);
          });
        }
        clusters = groups.size;
        for (const members of groups.values()) {
          if (members.length < 2) continue;
          for (let j = 0; j < cols; j++) {
            let sum = 0;
            for (const r of members) sum += w[r * cols + j]!;
            for (const r of members) w[r * cols + j] = sum / members.length;
          }
        }
      }
      const t = tf.tensor(fromRows(w, layout), v.shape, 'float32');
      v.assign(t);
      t.dispose();
      if (freeze) {
        maskZeroRows(w, mask, rows, cols);
        setMaskValues(n, name, fromRows(mask, layout));
      }
    }
    proxSteps++;
    n.applyMasks();
  };

  const maybe = async (
    ctx: PrunerStepContext,
    atEpochEnd: boolean,
  ): Promise<PrunerStepResult | undefined> => {
    net = ctx.net;
    const due = every === 'epoch' ? atEpochEnd : !atEpochEnd && (ctx.step + 1) % every === 0;
    if (due) await step(ctx.net);
    else if (ctx.net.maskedParams().length > 0) ctx.net.applyMasks();
    return undefined;
  };

  return {
    name: 'growl',
    config: json,
    init(ctx) {
      net = ctx.net;
      const heads = headNodes(ctx.net);
      const selector = config.params ?? { ops: ['dense'], roles: ['kernel'], exclude: [...heads] };
      targets = selectParams(ctx.net, selector);
      const notKernel = targets.filter((t) => {
        const info = ctx.net.paramInfo.get(t)!;
        return !(
          (info.op === 'dense' && info.shape.length === 2) ||
          (info.op === 'conv2d' && info.shape.length === 4)
        );
      });
      if (targets.length === 0 || notKernel.length > 0) {
        throw new PrunerError(
          'NO_STRUCTURE_GROUP',
          targets.length === 0
            ? 'growl pruner: the selector matches no dense or conv kernel'
            : `growl pruner: groups are input neurons of dense kernels and input channels of conv kernels; not such a kernel: ${notKernel.join(', ')}`,
          {
            issues: [
              {
                path: 'params',
                message: 'must select dense ([in, out]) or conv2d ([kh, kw, in, out]) kernels only',
              },
            ],
          },
        );
      }
      atStart(ctx.net);
    },
    afterStep: (ctx) => maybe(ctx, false),
    afterEpoch: (ctx) => maybe(ctx, true),
    targets: () => targets,
    metrics() {
      if (!net) return {};
      let zeros = 0;
      let total = 0;
      let zeroRows = 0;
      let rowsTotal = 0;
      for (const name of targets) {
        const v = net.params.get(name)!;
        const layout = rowLayout(v.shape);
        const w = toRows(v.dataSync() as Float32Array, layout);
        const { rows, cols } = layout;
        total += w.length;
        zeros += countZeros(w);
        rowsTotal += rows;
        for (let r = 0; r < rows; r++) if (zeroRow(w, cols, r)) zeroRows++;
      }
      return {
        sparsity: total ? zeros / total : 0,
        zeros,
        total,
        zeroGroups: zeroRows,
        groups: rowsTotal,
        zeroGroupFraction: rowsTotal ? zeroRows / rowsTotal : 0,
        proxSteps,
        clusters,
      };
    },
    state(): ComponentState {
      return { json: { targets, proxSteps, clusters, tyingLabels }, arrays: {} };
    },
    load(state) {
      const s = state.json;
      if (!Array.isArray(s.targets) || typeof s.proxSteps !== 'number') {
        throw new PrunerError('STATE_MISMATCH', 'growl pruner: state lacks targets/proxSteps');
      }
      targets = s.targets as string[];
      proxSteps = s.proxSteps;
      clusters = typeof s.clusters === 'number' ? s.clusters : 0;
      tyingLabels =
        s.tyingLabels !== null && typeof s.tyingLabels === 'object' && !Array.isArray(s.tyingLabels)
          ? (s.tyingLabels as Record<string, number[]>)
          : {};
    },
  };
}

/** The `growl` pruner, registered: configs `{ "type": "growl", … }` build it. */
export const growlPruner = definePruner({
  name: 'growl',
  description:
    'GrOWL proximal step on dense-kernel rows with a per-layer zero-group cap and parameter tying (Hotegni et al. 2023)',
  configSchema: growlConfigSchema,
  create: (c) => createGrowlPruner(c),
});
