import { joinPath, schema as s } from '@moprune/core';
import type { CodedIssue } from '../errors.js';

/** The Frank–Wolfe min-norm solve's options (see `MinNormOptions`). */
export const frankWolfeSchema = s.object({
  maxIterations: s.integer({ min: 1 }).optional(),
  tolerance: s.number({ min: 0 }).optional(),
});

/**
 * A weight vector on the simplex, one weight per objective (finite, ≥ 0,
 * summing to 1 within 1e-6). Its issues carry the error code they stand for:
 * `EMPTY_OBJECTIVES` for an empty list, `WEIGHTS_OFF_SIMPLEX` otherwise.
 */
export const simplexSchema = s
  .array(s.number())
  .refine((w, path): CodedIssue[] | undefined => {
    if (w.length === 0) {
      return [
        { path, message: 'needs one weight per objective, got an empty list', code: 'EMPTY_OBJECTIVES' },
      ];
    }
    const negative = w.findIndex((x) => x < 0);
    if (negative >= 0) {
      return [
        {
          path: joinPath(path, negative),
          message: `weights must be ≥ 0 (on the simplex), got ${w[negative]}`,
          code: 'WEIGHTS_OFF_SIMPLEX',
        },
      ];
    }
    const sum = w.reduce((a, b) => a + b, 0);
    return Math.abs(sum - 1) > 1e-6
      ? [{ path, message: `weights must sum to 1 (on the simplex), got ${sum}`, code: 'WEIGHTS_OFF_SIMPLEX' }]
      : undefined;
  })
  .describe('weights on the simplex (≥ 0, summing to 1), one per objective');
