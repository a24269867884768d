import type { ProgressInfo, ProgressReporter, ProgressTask, TrainCallback } from '@moprune/core';

/** The output a progress line is drawn on (process.stderr or a test double). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** Draw the line. @default stream.isTTY === true (quiet when output is a file or pipe) */
  readonly enabled?: boolean;
  /** Clock (ms). @default performance.now */
  readonly now?: () => number;
  /** Least time between redraws (ms). @default 100 */
  readonly minIntervalMs?: number;
}

/** `83000` ms → `1m23s`; `undefined`/non-finite → `?`. */
export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

interface TaskState {
  readonly label: string;
  readonly unit: string;
  total: number;
  done: number;
  eta: number | undefined;
  readonly start: number;
  readonly startDone: number;
}

/**
 * A terminal progress line. With `enabled` false (the default when the
 * stream is not a TTY) tasks draw nothing and `log` writes plain lines, so
 * piped output and CI logs stay clean.
 */
export function createProgress(options: ProgressOptions): ProgressReporter & { close(): void } {
  const { stream } = options;
  const enabled = options.enabled ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const minInterval = options.minIntervalMs ?? 100;
  const tasks: TaskState[] = [];
  let shown = false;
  let lastDraw = Number.NEGATIVE_INFINITY;

  const clear = () => {
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  const line = (): string => {
    const t = now();
    const parts = tasks.slice(0, -1).map((s) => {
      const eta = s.eta === undefined ? '' : ` ETA ${formatEta(s.eta)}`;
      return `${s.label} ${s.done}/${s.total}${eta}`;
    });
    const s = tasks[tasks.length - 1]!;
    const frac = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
    const width = 20;
    const fill = Math.round(frac * width);
    const seconds = (t - s.start) / 1000;
    const rate = seconds > 0 ? (s.done - s.startDone) / seconds : 0;
    const eta = s.eta ?? (rate > 0 ? ((s.total - s.done) / rate) * 1000 : undefined);
    parts.push(
      `${s.label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${Math.floor(100 * frac)}% ${s.done}/${s.total}` +
        `${rate > 0 ? ` ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} ${s.unit}/s` : ''} ETA ${formatEta(eta)}`,
    );
    const text = parts.join(' › ');
    // A pty without a size reports 0 columns: treat as unknown.
    const cols = Math.max(20, (stream.columns || 100) - 1);
    return text.length > cols ? `${text.slice(0, cols - 1)}…` : text;
  };
  const draw = (force: boolean) => {
    if (!enabled) return;
    const t = now();
    if (!force && t - lastDraw < minInterval) return;
    lastDraw = t;
    clear();
    if (tasks.length === 0) return;
    stream.write(line());
    shown = true;
  };

  return {
    task(label, total, o = {}) {
      const s: TaskState = {
        label,
        unit: o.unit ?? 'it',
        total,
        done: 0,
        eta: undefined,
        start: now(),
        startDone: 0,
      };
      tasks.push(s);
      draw(true);
      return {
        label,
        update(done, newTotal) {
          s.done = done;
          if (newTotal !== undefined) s.total = newTotal;
          draw(false);
        },
        tick(n = 1) {
          s.done += n;
          draw(false);
        },
        setEta(ms) {
          s.eta = ms;
        },
        done() {
          const i = tasks.indexOf(s);
          if (i >= 0) tasks.splice(i, 1);
          draw(true);
        },
      };
    },
    log(text) {
      clear();
      stream.write(`${text}\n`);
      draw(true);
    },
    close() {
      tasks.length = 0;
      clear();
    },
  };
}

/** A reporter that shows nothing (library use, tests). */
export const silentProgress: ProgressReporter = {
  task: (label) => ({ label, update() {}, tick() {}, setEta() {}, done() {} }),
  log() {},
};

/**
 * A training callback that drives two nested tasks on `reporter`: epochs
 * (with the training loop's own ETA for the whole run) and the batches of
 * the current epoch. Call `finish()` when training returns.
 *
 * It does not yield to the event loop itself: core's loop gives Node a turn
 * between steps whenever `train` has a `signal` (which the CLI always passes),
 * so a SIGINT handler that aborts it stops the run at the next step. A second
 * turn here cost about 0.1 ms per step.
 */
export function trainProgress(
  reporter: ProgressReporter,
  label = 'epoch',
): TrainCallback & { finish(): void } {
  let epochs: ProgressTask | undefined;
  let batches: ProgressTask | undefined;
  let epochShown = -1;
  return {
    name: 'moprune-cli-progress',
    onProgress(info: ProgressInfo) {
      epochs ??= reporter.task(label, info.epochs, { unit: 'epochs' });
      epochs.setEta(info.etaMs);
      epochs.update(info.epoch + (info.batch >= info.batchesPerEpoch ? 1 : 0), info.epochs);
      if (info.epoch !== epochShown) {
        batches?.done();
        batches = reporter.task('batch', info.batchesPerEpoch, { unit: 'batches' });
        epochShown = info.epoch;
      }
      batches?.update(info.batch, info.batchesPerEpoch);
    },
    finish() {
      batches?.done();
      epochs?.done();
      batches = undefined;
      epochs = undefined;
      epochShown = -1;
    },
  };
}
