/**
 * The trial runner of this experiment's sweeps: a pruning run's config trained
 * by core's `runExperiment`, its final network saved as `<runDir>/final` (what
 * the reproduction measures afterwards: deployment, inference time), and its
 * deterministic figures as the trial's outcome. Registered with
 * `@moprune/sweep` when this module loads — in the coordinator and in every
 * trial process, which import {@link RUNNER_MODULE} first.
 */
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveNetworkSnapshot } from '@moprune/core/node';
import { defineTrialRunner, experimentRunner, getTrialRunner, type TrialRunner } from '@moprune/sweep';

/** The name the pruning trials give as their `runner`. */
export const RUNNER_NAME = 'bonetta2023';

/** The run's name as the reproduction's logs and snapshots give it: `<case>/<method>`. */
export function runName(runDir: string): string {
  return `${basename(dirname(runDir))}/${basename(runDir)}`;
}

const runner: TrialRunner = experimentRunner({
  name: RUNNER_NAME,
  description:
    "a Bonetta & Cancelliere (2023) pruning run trained by core's runExperiment; its final network is saved as final/",
  afterRun: (net, summary, ctx) => {
    saveNetworkSnapshot(join(ctx.runDir, 'final'), net, summary.steps, { run: runName(ctx.runDir) });
  },
});

function register(): TrialRunner {
  try {
    // Already there: this module loaded twice (a project module and a sweep's module).
    return getTrialRunner(RUNNER_NAME);
  } catch {
    return defineTrialRunner(runner);
  }
}

/** The registered runner. */
export const bonettaRunner: TrialRunner = register();

/**
 * The module a trial process imports to find {@link bonettaRunner}: this
 * package's entry point as an absolute path (a worker on another machine needs
 * the same checkout at the same path).
 */
export const RUNNER_MODULE: string = (() => {
  const self = fileURLToPath(import.meta.url);
  return join(dirname(self), `index${extname(self)}`);
})();
