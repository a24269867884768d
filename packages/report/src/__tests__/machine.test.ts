import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { machineDescription, machinesOf } from '../index.js';

describe('machineDescription', () => {
  it('names the cores, the CPU model and the thread setting', () => {
    const cpu = cpus();
    const d = machineDescription({ MOPRUNE_NATIVE_THREADS: '1' });
    expect(d).toBe(`${cpu.length} × ${cpu[0]?.model.trim() || 'unknown CPU'}, MOPRUNE_NATIVE_THREADS=1`);
  });

  it('says default when the setting is unset or empty', () => {
    expect(machineDescription({})).toMatch(/, MOPRUNE_NATIVE_THREADS=default$/);
    expect(machineDescription({ MOPRUNE_NATIVE_THREADS: '' })).toMatch(/=default$/);
  });
});

describe('machinesOf', () => {
  it('lists each recorded machine once, in first-seen order, and names summaries without one', () => {
    expect(machinesOf(['a, T=1', 'b, T=2', 'a, T=1', undefined, undefined])).toBe(
      'a, T=1; b, T=2; not recorded',
    );
    expect(machinesOf(['x'])).toBe('x');
    expect(machinesOf([])).toBe('not recorded');
  });
});
