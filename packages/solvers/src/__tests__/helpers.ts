import { expect } from 'vitest';
import { SolverError } from '../errors.js';

/** The SolverError `fn` throws (fails when it throws none, or anything else). */
export function thrown(fn: () => unknown): SolverError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SolverError);
    return e as SolverError;
  }
  throw new Error('expected a SolverError, none was thrown');
}
