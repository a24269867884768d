import type { Issue } from '../errors.js';
import { throwIfIssues } from '../registry.js';
import { anyOf, integer, literal, number, object, oneOf, tagged } from '../schema.js';

/**
 * Whether a schedule counts optimizer steps (mini-batches, as Keras's `decay`
 * argument does) or completed epochs (the rate is then constant within an epoch).
 */
export type ScheduleUnit = 'step' | 'epoch';

/** lr(k) = lr₀. */
export interface ConstantSchedule {
  readonly type: 'constant';
}

/**
 * Step decay: lr(k) = lr₀·γ^⌊k/every⌋. With `unit: 'epoch'` and `every` = the
 * epochs of one outer iteration this is the per-outer-iteration multiplicative
 * decay of Hotegni et al. (2023): MultiMNIST γ = 0.5, Cifar10Mnist γ = 0.98,
 * every 3 epochs.
 */
export interface StepSchedule {
  readonly type: 'step';
  /** Decay interval, in `unit`s (a positive integer). */
  readonly every: number;
  /** Factor γ > 0 per interval (γ < 1 decays). */
  readonly gamma: number;
  /** @default 'epoch' */
  readonly unit?: ScheduleUnit;
}

/** Exponential decay: lr(k) = lr₀·γ^k. */
export interface ExponentialSchedule {
  readonly type: 'exponential';
  /** Factor γ > 0 per unit. */
  readonly gamma: number;
  /** @default 'epoch' */
  readonly unit?: ScheduleUnit;
}

/**
 * Keras-style inverse time decay: lr(k) = lr₀/(1 + decay·k). This is the
 * `decay` argument of Keras 2.x optimizers, which counts **steps** (the
 * optimizer's `iterations`); Reiners et al. (2020) set decay = lr₀/epochs for
 * SMGD. `decay: 'lrOverEpochs'` computes exactly that from the run's base rate
 * and epoch count, so the config stays correct when either changes.
 */
export interface InverseTimeSchedule {
  readonly type: 'inverseTime';
  /** The decay constant (≥ 0), or `'lrOverEpochs'` for lr₀/epochs. */
  readonly decay: number | 'lrOverEpochs';
  /** @default 'step' (Keras) */
  readonly unit?: ScheduleUnit;
}

/**
 * Cosine annealing (Loshchilov & Hutter 2017, no restarts):
 * lr(k) = lrMin + (lr₀ − lrMin)·(1 + cos(π·k/K))/2, K = total units of the run,
 * after an optional linear warm-up lr(k) = lr₀·(k+1)/(warmup+1) for k < warmup
 * (never exactly 0, so the first step moves), cosine then runs over K − warmup.
 */
export interface CosineSchedule {
  readonly type: 'cosine';
  /** Final rate. @default 0 */
  readonly minLr?: number;
  /** Linear warm-up length in `unit`s. @default 0 */
  readonly warmup?: number;
  /** @default 'step' */
  readonly unit?: ScheduleUnit;
}

/** A learning-rate schedule as JSON (`{type: …}`). */
export type LrScheduleConfig =
  | ConstantSchedule
  | StepSchedule
  | ExponentialSchedule
  | InverseTimeSchedule
  | CosineSchedule;

/** The schedule types {@link learningRateAt} knows. */
export const LR_SCHEDULE_TYPES = ['constant', 'step', 'exponential', 'inverseTime', 'cosine'] as const;

/** Where in the run the rate is asked for. */
export interface SchedulePosition {
  /** 0-based global optimizer step about to run. */
  readonly step: number;
  /** 0-based epoch the step belongs to. */
  readonly epoch: number;
  /** Total steps of the run (for cosine with `unit: 'step'`). */
  readonly totalSteps: number;
  /** Total epochs of the run (for cosine with `unit: 'epoch'` and `'lrOverEpochs'`). */
  readonly epochs: number;
}

const unit = () => oneOf(['step', 'epoch'] as const).optional();

/**
 * The schema of a learning-rate schedule config (`{ type: 'constant' | 'step' | … }`),
 * in the one schema vocabulary.
 */
export const lrScheduleSchema = tagged('type', {
  constant: object({}),
  step: object({ unit: unit(), every: integer({ min: 1 }), gamma: number({ gt: 0 }) }),
  exponential: object({ unit: unit(), gamma: number({ gt: 0 }) }),
  inverseTime: object({ unit: unit(), decay: anyOf(number({ min: 0 }), literal('lrOverEpochs')) }),
  cosine: object({
    unit: unit(),
    minLr: number({ min: 0 }).optional(),
    warmup: integer({ min: 0 }).optional(),
  }),
}).describe(`a learning-rate schedule { type: ${LR_SCHEDULE_TYPES.map((t) => `'${t}'`).join(' | ')}, … }`);

/** Every problem with a schedule config, paths prefixed by `path` (e.g. `training.lrSchedule`). */
export function validateLrSchedule(config: unknown, path = ''): Issue[] {
  return lrScheduleSchema.issues(config, path);
}

/**
 * The learning rate at a position of the run: a pure function of
 * (schedule, base rate, position), so a resumed run needs no schedule state.
 * @throws CoreError `INVALID_CONFIG` when the schedule is invalid.
 */
export function learningRateAt(schedule: LrScheduleConfig, baseLr: number, at: SchedulePosition): number {
  throwIfIssues('learning-rate schedule', validateLrSchedule(schedule));
  const unitOf = (fallback: ScheduleUnit) =>
    'unit' in schedule && schedule.unit !== undefined ? schedule.unit : fallback;
  switch (schedule.type) {
    case 'constant':
      return baseLr;
    case 'step': {
      const k = unitOf('epoch') === 'step' ? at.step : at.epoch;
      return baseLr * schedule.gamma ** Math.floor(k / schedule.every);
    }
    case 'exponential': {
      const k = unitOf('epoch') === 'step' ? at.step : at.epoch;
      return baseLr * schedule.gamma ** k;
    }
    case 'inverseTime': {
      const k = unitOf('step') === 'step' ? at.step : at.epoch;
      const decay = schedule.decay === 'lrOverEpochs' ? baseLr / Math.max(1, at.epochs) : schedule.decay;
      return baseLr / (1 + decay * k);
    }
    case 'cosine': {
      const byStep = unitOf('step') === 'step';
      const k = byStep ? at.step : at.epoch;
      const total = Math.max(1, byStep ? at.totalSteps : at.epochs);
      const warmup = schedule.warmup ?? 0;
      const minLr = schedule.minLr ?? 0;
      if (k < warmup) return (baseLr * (k + 1)) / (warmup + 1);
      const span = Math.max(1, total - warmup);
      const progress = Math.min(1, (k - warmup) / span);
      return minLr + ((baseLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}
