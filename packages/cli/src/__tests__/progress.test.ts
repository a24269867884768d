import { describe, expect, it } from 'vitest';
import { createProgress, formatEta, trainProgress } from '../index.js';

function fakeTty(columns = 200) {
  const chunks: string[] = [];
  return { stream: { write: (s: string) => chunks.push(s), isTTY: true, columns }, chunks };
}

/** The text currently on the terminal line: what follows the last clear or newline. */
const current = (chunks: readonly string[]) =>
  (chunks.join('').split('\r\x1b[2K').pop() ?? '').split('\n').pop() ?? '';

describe('progress line', () => {
  it('draws the innermost task as a bar with rate and ETA, outer tasks as counts (hand-computed)', () => {
    const { stream, chunks } = fakeTty();
    let t = 0;
    const p = createProgress({ stream, now: () => t, minIntervalMs: 0 });
    const sweep = p.task('candidate', 26, { unit: 'runs' });
    sweep.update(3);
    const batches = p.task('batch', 10, { unit: 'batches' });
    t = 2000;
    batches.update(5);
    // 5 batches in 2 s = 2.5/s; 5 left → 2 s.
    expect(current(chunks)).toBe(
      'candidate 3/26 › batch [##########----------] 50% 5/10 2.5 batches/s ETA 2s',
    );
    sweep.setEta(3_723_000);
    t = 2100;
    batches.update(6);
    expect(current(chunks)).toMatch(/^candidate 3\/26 ETA 1h02m › batch \[#{12}-{8}\] 60% 6\/10/);
    batches.done();
    sweep.done();
    expect(current(chunks)).toBe('');
  });

  it('prints log lines above the bar and redraws it', () => {
    const { stream, chunks } = fakeTty();
    const p = createProgress({ stream, now: () => 0, minIntervalMs: 0 });
    p.task('epoch', 3);
    p.log('hello');
    expect(chunks.join('')).toContain('hello\n');
    expect(current(chunks)).toMatch(/^epoch \[/);
    p.close();
    expect(current(chunks)).toBe('');
  });

  it('is quiet when the stream is not a TTY, but still prints log lines', () => {
    const chunks: string[] = [];
    const p = createProgress({ stream: { write: (s: string) => chunks.push(s), isTTY: false } });
    const t = p.task('epoch', 3);
    t.update(2);
    p.log('a message');
    t.done();
    expect(chunks).toEqual(['a message\n']);
  });

  it('truncates to the terminal width', () => {
    const { stream, chunks } = fakeTty(30);
    const p = createProgress({ stream, now: () => 0, minIntervalMs: 0 });
    p.task('a-very-long-task-label-that-does-not-fit', 10);
    expect(current(chunks).length).toBeLessThanOrEqual(29);
    expect(current(chunks).endsWith('…')).toBe(true);
  });

  it('trainProgress follows the loop: epochs with the loop ETA, a new batch bar per epoch', () => {
    const { stream, chunks } = fakeTty();
    const p = createProgress({ stream, now: () => 0, minIntervalMs: 0 });
    const cb = trainProgress(p);
    const info = { totalSteps: 20, epochs: 2, batchesPerEpoch: 10, elapsedMs: 0, stepsPerSecond: 5 };
    cb.onProgress!({ ...info, step: 4, epoch: 0, batch: 4, etaMs: 3200 });
    expect(current(chunks)).toMatch(/^epoch 0\/2 ETA 3s › batch \[#{8}-{12}\] 40% 4\/10/);
    cb.onProgress!({ ...info, step: 12, epoch: 1, batch: 2, etaMs: 1600 });
    expect(current(chunks)).toMatch(/^epoch 1\/2 ETA 2s › batch \[#{4}-{16}\] 20% 2\/10/);
    cb.finish();
    expect(current(chunks)).toBe('');
  });

  it('formats ETAs', () => {
    expect(formatEta(undefined)).toBe('?');
    expect(formatEta(59_400)).toBe('59s');
    expect(formatEta(83_000)).toBe('1m23s');
    expect(formatEta(7_380_000)).toBe('2h03m');
  });
});
