import { describe, expect, it } from 'vitest';
import { type CheckPoint, readBestOnTest, selectBestValidation, selectSparsest } from '../runs.js';

const check = (step: number, live: number, validationAccuracy: number, eligible = true): CheckPoint => ({
  step,
  epoch: 0,
  live,
  total: 1000,
  remaining: live / 1000,
  validationAccuracy,
  // Test figures that would choose differently: selection must never read them.
  testAccuracy: 1 - validationAccuracy,
  eligible,
  pruned: 0,
});

describe('check selection (validation only)', () => {
  const checks = [
    check(1, 900, 0.99),
    check(2, 500, 0.995),
    check(3, 400, 0.995),
    check(4, 400, 0.995),
    check(5, 100, 0.98),
    check(6, 50, 0.999, false),
  ];

  it('best validation: the highest validation accuracy, ties to the sparser, then the earlier check', () => {
    expect(selectBestValidation(checks, () => true)?.step).toBe(6);
    expect(selectBestValidation(checks, (c) => c.eligible)?.step).toBe(3);
    expect(selectBestValidation(checks, (c) => c.remaining <= 0.1)?.step).toBe(6);
    expect(selectBestValidation(checks, (c) => c.remaining <= 0.1 && c.eligible)?.step).toBe(5);
    expect(selectBestValidation(checks, (c) => c.remaining < 0.01)).toBeNull();
  });

  it('sparsest: the fewest live weights, ties to the better validation, then the earlier check', () => {
    expect(selectSparsest(checks, (c) => c.eligible)?.step).toBe(5);
    expect(selectSparsest(checks, (c) => c.validationAccuracy >= 0.995 && c.eligible)?.step).toBe(3);
    expect(selectSparsest(checks, () => true)?.step).toBe(6);
  });
});

describe('the test-set reading (a diagnostic of how the authors read MNIST, not a selection)', () => {
  it('reads the best test accuracy, ties to the sparser, then the earlier check; no test figure never qualifies', () => {
    const checks = [
      check(1, 900, 0.99),
      check(2, 500, 0.98),
      check(3, 400, 0.97, false),
      { ...check(4, 300, 0.5), testAccuracy: null },
      check(5, 200, 0.98),
      check(6, 200, 0.98),
    ];
    // Validation would choose check 1; the test figures (1 − validation here) choose check 3.
    expect(selectBestValidation(checks, () => true)?.step).toBe(1);
    expect(readBestOnTest(checks, () => true)?.step).toBe(3);
    expect(readBestOnTest(checks, (c) => c.eligible)?.step).toBe(5);
    expect(readBestOnTest(checks, (c) => c.remaining <= 0.3)?.step).toBe(5);
    expect(readBestOnTest(checks, (c) => c.remaining <= 0.3 && c.step !== 5)?.step).toBe(6);
    expect(readBestOnTest(checks, (c) => c.step === 4)).toBeNull();
  });
});
