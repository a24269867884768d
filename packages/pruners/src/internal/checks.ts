import {
  type ComponentState,
  type JsonObject,
  type Network,
  type PrunerStepContext,
  schema as s,
} from '@moprune/core';
import * as tf from '@tensorflow/tfjs-core';
import { PrunerError } from '../errors.js';

/**
 * Which validation check's network a validation-gated pruner hands back at
 * the end of the run (its weights and masks as they were at that check,
 * before the check's cut):
 * - `'sparsest'`: the eligible check with the fewest live targets (ties:
 *   higher validation accuracy, then the earlier check) — the smallest
 *   network that still meets the accuracy requirement;
 * - `'bestValidation'`: the eligible check with the highest validation
 *   accuracy (ties: fewer live targets, then the earlier check).
 */
export type KeepRule = 'sparsest' | 'bestValidation';

/** The `keep` option of the validation-gated pruners. */
export interface KeepConfig {
  /** @default 'sparsest' */
  readonly rule?: KeepRule;
  /**
   * Validation accuracy (0–1) a check needs, besides being above the
   * pruner's floor, to be eligible. @default the floor alone
   */
  readonly minAccuracy?: number;
}

/** The schema of a `keep` option. */
export const keepSchema = s.object({
  rule: s.oneOf(['sparsest', 'bestValidation']).optional(),
  minAccuracy: s.number({ min: 0, max: 1 }).optional(),
});

/** One validation check, as logged and kept in the pruner's state. */
export interface CheckRecord {
  readonly step: number;
  readonly epoch: number;
  readonly batch: number;
  /** Live (unmasked) target entries at the check, before its cut. */
  readonly live: number;
  readonly total: number;
  readonly validationAccuracy: number;
  readonly validationLoss: number;
  /** Test figures of the same network (with `evaluateTest`; reported only, never used to decide). */
  readonly testAccuracy?: number;
  readonly testLoss?: number;
  /** The check met the floor (and `keep.minAccuracy`): it may be kept. */
  readonly eligible: boolean;
  /** Target entries the check's cut removed. */
  readonly pruned: number;
}

/** A copy of every parameter and mask of a network. */
interface Copy {
  readonly values: Map<string, { shape: number[]; data: Float32Array }>;
  readonly masks: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Settings of a {@link CheckLedger}. */
export interface LedgerSettings {
  readonly pruner: string;
  /** Strictly above this validation accuracy a check meets the floor. */
  readonly floor: number;
  readonly evaluateTest: boolean;
  /** Undefined: nothing is kept, the run ends with its last network. */
  readonly keep: KeepConfig | undefined;
}

/**
 * What a validation-gated pruner records at its checks: every check is
 * logged to the run (`ctx.log`) with its live count and validation (and,
 * with `evaluateTest`, test) figures; with `keep`, a copy of the network (as evaluated: with the
 * run's `averaging`, its averages) at
 * the best eligible check (by the keep rule) is held — in memory and in the
 * pruner's checkpointed state — and put back into the network after the
 * run's last step, so the run ends with (and reports) that checkpoint.
 */
export class CheckLedger {
  private records: CheckRecord[] = [];
  private kept: { index: number; copy: Copy } | undefined;
  private restored = false;

  constructor(private readonly s: LedgerSettings) {}

  /** Evaluates the network for a check: validation always, test when configured. */
  async measure(
    ctx: PrunerStepContext,
  ): Promise<{ accuracy: number; loss: number; test?: { accuracy: number; loss: number } }> {
    const v = await ctx.evaluate('validation');
    if (!this.s.evaluateTest) return v;
    return { ...v, test: await ctx.evaluate('test') };
  }

  /** True when a validation accuracy meets the floor (strictly above it). */
  meetsFloor(accuracy: number): boolean {
    return accuracy > this.s.floor;
  }

  /**
   * Records a check made on the network as it is now (before any cut): keeps
   * a copy when it is the best eligible one so far. Call {@link settle} after
   * the cut to log it with the number pruned.
   */
  async record(
    ctx: PrunerStepContext,
    m: { accuracy: number; loss: number; test?: { accuracy: number; loss: number } },
    live: number,
    total: number,
  ): Promise<void> {
    const min = this.s.keep?.minAccuracy;
    const eligible = this.meetsFloor(m.accuracy) && (min === undefined || m.accuracy >= min);
    const record: CheckRecord = {
      step: ctx.step,
      epoch: ctx.epoch,
      batch: ctx.batch,
      live,
      total,
      validationAccuracy: m.accuracy,
      validationLoss: m.loss,
      ...(m.test === undefined ? {} : { testAccuracy: m.test.accuracy, testLoss: m.test.loss }),
      eligible,
      pruned: 0,
    };
    this.records.push(record);
    if (this.s.keep && eligible && this.better(record)) {
      // The network as evaluated (with the run's `averaging`, its averages): the one whose figures the check logs.
      const copy = ctx.withEvaluatedValues
        ? await ctx.withEvaluatedValues(() => copyNetwork(ctx.net))
        : await copyNetwork(ctx.net);
      this.kept = { index: this.records.length - 1, copy };
    }
  }

  /** Completes the last check with its cut and logs it. */
  settle(ctx: PrunerStepContext, pruned: number): void {
    const last = this.records.length - 1;
    const record = { ...this.records[last]!, pruned };
    this.records[last] = record;
    ctx.log({ event: 'check', ...(record as unknown as JsonObject) });
  }

  private better(r: CheckRecord): boolean {
    if (this.kept === undefined) return true;
    const k = this.records[this.kept.index]!;
    if ((this.s.keep?.rule ?? 'sparsest') === 'sparsest') {
      return r.live < k.live || (r.live === k.live && r.validationAccuracy > k.validationAccuracy);
    }
    return (
      r.validationAccuracy > k.validationAccuracy ||
      (r.validationAccuracy === k.validationAccuracy && r.live < k.live)
    );
  }

  /** After the run's last step: puts the kept network back (once). Returns true when it did. */
  restoreIfLast(ctx: PrunerStepContext, totalSteps: number): boolean {
    if (this.restored || ctx.step + 1 < totalSteps || this.kept === undefined) return false;
    restoreNetwork(ctx.net, this.kept.copy);
    ctx.valuesWritten?.();
    this.restored = true;
    const r = this.records[this.kept.index]!;
    ctx.log({ event: 'restore', keptStep: r.step, live: r.live, validationAccuracy: r.validationAccuracy });
    return true;
  }

  /** Every check so far. */
  checks(): readonly CheckRecord[] {
    return this.records;
  }

  /** The kept check, if any. */
  keptCheck(): CheckRecord | undefined {
    return this.kept === undefined ? undefined : this.records[this.kept.index];
  }

  /** Figures for the pruner's `metrics()`. */
  metrics(): Record<string, number> {
    const out: Record<string, number> = { checks: this.records.length };
    const k = this.keptCheck();
    if (k !== undefined) {
      out.keptStep = k.step;
      out.keptLive = k.live;
      out.keptValidationAccuracy = k.validationAccuracy;
    }
    return out;
  }

  /** The ledger's part of the pruner's state (JSON under `checks`, arrays under `kept/`). */
  state(): ComponentState {
    const arrays: Record<string, { shape: number[]; data: Float32Array }> = {};
    if (this.kept) {
      for (const [name, a] of this.kept.copy.values) arrays[`kept/param/${name}`] = a;
      for (const [name, a] of this.kept.copy.masks) arrays[`kept/mask/${name}`] = a;
    }
    return {
      json: {
        records: this.records as unknown as JsonObject[],
        keptIndex: this.kept?.index ?? null,
        restored: this.restored,
      },
      arrays,
    };
  }

  /** Restores {@link state}. */
  load(state: ComponentState): void {
    const j = state.json;
    if (!Array.isArray(j.records)) {
      throw new PrunerError('STATE_MISMATCH', `${this.s.pruner} pruner: state lacks its check records`);
    }
    this.records = j.records as unknown as CheckRecord[];
    this.restored = j.restored === true;
    this.kept = undefined;
    if (typeof j.keptIndex === 'number') {
      const copy: Copy = { values: new Map(), masks: new Map() };
      for (const [key, a] of Object.entries(state.arrays)) {
        const entry = { shape: [...a.shape], data: Float32Array.from(a.data) };
        if (key.startsWith('kept/param/')) copy.values.set(key.slice('kept/param/'.length), entry);
        else if (key.startsWith('kept/mask/')) copy.masks.set(key.slice('kept/mask/'.length), entry);
      }
      this.kept = { index: j.keptIndex, copy };
    }
  }
}

async function copyNetwork(net: Network): Promise<Copy> {
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  const masks = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of net.params) {
    values.set(name, { shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
  }
  for (const name of net.maskedParams()) {
    const m = net.getMask(name)!;
    masks.set(name, { shape: [...m.shape], data: Float32Array.from((await m.data()) as Float32Array) });
  }
  return { values, masks };
}

function restoreNetwork(net: Network, copy: Copy): void {
  for (const [name, a] of copy.values) {
    const v = net.params.get(name);
    if (v === undefined || v.size !== a.data.length) {
      throw new PrunerError(
        'STATE_MISMATCH',
        `cannot restore the kept checkpoint: the network's parameter '${name}' changed (compaction during the run?)`,
      );
    }
    tf.tidy(() => v.assign(tf.tensor(a.data, a.shape, 'float32')));
  }
  for (const name of net.maskedParams()) if (!copy.masks.has(name)) net.setMask(name, null);
  for (const [name, a] of copy.masks) {
    const t = tf.tensor(a.data, a.shape, 'float32');
    net.setMask(name, t);
    t.dispose();
  }
  net.applyMasks();
}
