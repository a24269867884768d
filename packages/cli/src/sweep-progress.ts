import type { ProgressReporter, ProgressTask } from '@moprune/core';
import type { SweepCounts, SweepEvent, WorkerEvent } from '@moprune/sweep';
import { formatEta } from './progress.js';

/**
 * The ETA of the rest of a sweep from this session's pace: trials finished
 * since `startMs` plus the running trials' fractions, over the elapsed time.
 * Undefined until something has progressed.
 */
export function sweepEta(
  counts: SweepCounts,
  finishedThisSession: number,
  runningFractions: readonly number[],
  elapsedMs: number,
): number | undefined {
  const partial = runningFractions.reduce((a, b) => a + b, 0);
  const progressed = finishedThisSession + partial;
  if (progressed <= 0 || elapsedMs <= 0) return undefined;
  const remaining = Math.max(0, counts.proposed - counts.done - counts.failed - partial);
  return (remaining / progressed) * elapsedMs;
}

const describe = (c: SweepCounts) =>
  `${c.done} done, ${c.running} running, ${c.failed} failed, ${c.pending} queued`;

/** How a sweep is shown: a progress line (terminal), one line per trial event (file, pipe, CI), or failures only. */
export type SweepDisplayMode = 'tty' | 'lines' | 'quiet';

/**
 * Shows a sweep on `reporter`: on a terminal one line — a bar of finished
 * trials with done / running / failed and an ETA; otherwise (a file, a pipe,
 * CI) one plain line per trial event and per finished epoch of a trial;
 * `quiet` shows only failures and connection messages.
 */
export function sweepDisplay(
  reporter: ProgressReporter,
  mode: SweepDisplayMode,
  now: () => number = () => performance.now(),
): { onEvent(event: SweepEvent): void; finish(): void } {
  const start = now();
  const fractions = new Map<string, number>();
  let finished = 0;
  let counts: SweepCounts = { proposed: 0, done: 0, running: 0, failed: 0, pending: 0 };
  let task: ProgressTask | undefined;
  let label = '';
  let sweep = '';
  const tty = mode === 'tty';
  const redraw = () => {
    if (!tty) return;
    const next = `sweep ${sweep} (${counts.running} running, ${counts.failed} failed)`;
    if (next !== label) {
      task?.done();
      task = reporter.task(next, counts.proposed, { unit: 'trials' });
      label = next;
    }
    task!.setEta(sweepEta(counts, finished, [...fractions.values()], now() - start));
    task!.update(counts.done + counts.failed, counts.proposed);
  };
  return {
    onEvent(e) {
      if (e.type === 'log') {
        reporter.log(e.line);
        return;
      }
      if (e.type === 'start') {
        sweep = e.sweep;
        counts = e.counts;
        if (mode !== 'quiet')
          reporter.log(
            `moprune: sweep ${e.sweep} on the ${e.executor} executor${e.resumed ? ' (resumed from its state file)' : ''}: ${e.counts.proposed} trials proposed, ${describe(e.counts)}`,
          );
        redraw();
        return;
      }
      if (e.type === 'progress') {
        fractions.set(e.trial, e.progress.epochs > 0 ? e.progress.epoch / e.progress.epochs : 0);
        if (mode === 'lines')
          reporter.log(
            `moprune: trial ${e.trial}: epoch ${e.progress.epoch}/${e.progress.epochs} (step ${e.progress.step})`,
          );
        redraw();
        return;
      }
      counts = e.counts;
      if (e.status === 'done' || e.status === 'failed') {
        fractions.delete(e.trial);
        if (e.status === 'done') finished++;
      }
      if (e.status === 'retry') fractions.delete(e.trial);
      const tell = mode === 'lines' ? e.status !== 'queued' : e.status === 'failed' || e.status === 'retry';
      if (tell) {
        const what =
          e.status === 'started'
            ? `started on ${e.worker} (attempt ${e.attempt})`
            : e.status === 'reused'
              ? 'already finished (outcome in the store)'
              : e.status === 'done'
                ? 'done'
                : `${e.status === 'retry' ? 'failed, will retry' : 'failed'}: ${e.error?.code} ${e.error?.message}`;
        const eta = sweepEta(counts, finished, [...fractions.values()], now() - start);
        reporter.log(`moprune: trial ${e.trial} ${what} [${describe(counts)}; ETA ${formatEta(eta)}]`);
      }
      redraw();
    },
    finish() {
      task?.done();
    },
  };
}

/** One line per worker event (workers log to files and journals, not terminals). */
export function workerLine(e: WorkerEvent): string {
  if (e.type === 'log') return e.line;
  if (e.type === 'ready')
    return `moprune: worker ${e.name} ready on queue ${e.queue}, ${e.slots} trial${e.slots === 1 ? '' : 's'} at once`;
  return `moprune: ${e.sweep}/${e.trial} ${e.status} (attempt ${e.attempt})${e.message ? `: ${e.message}` : ''}`;
}
