/**
 * The trial runner of this experiment's sweeps: an experiment config trained
 * by core's `runExperiment` with {@link reinersMetrics} (the dense-kernel
 * counts and the ℓ1/ℓ2 terms the knee search reads), registered with
 * `@moprune/sweep` when this module loads — in the coordinator and in every
 * trial process, which import {@link RUNNER_MODULE} first.
 */
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTrialRunner, experimentRunner, getTrialRunner, type TrialRunner } from '@moprune/sweep';
import { reinersMetrics } from './metrics.js';

/** The name the knee-search trials give as their `runner`. */
export const RUNNER_NAME = 'reiners2020';

function register(): TrialRunner {
  try {
    // Already there: this module loaded twice (a project module and a sweep's module), or another copy registered it.
    return getTrialRunner(RUNNER_NAME);
  } catch {
    return defineTrialRunner(
      experimentRunner({
        name: RUNNER_NAME,
        description:
          "a Reiners et al. (2020) run config trained by core's runExperiment with the experiment's dense-kernel metrics",
        metrics: reinersMetrics,
      }),
    );
  }
}

/** The registered runner. */
export const reinersRunner: TrialRunner = register();

/**
 * The module a trial process imports to find {@link reinersRunner}: this
 * package's entry point as an absolute path (a worker on another machine needs
 * the same checkout at the same path, or the package installed: see the sweep README).
 */
export const RUNNER_MODULE: string = (() => {
  const self = fileURLToPath(import.meta.url);
  return join(dirname(self), `index${extname(self)}`);
})();
