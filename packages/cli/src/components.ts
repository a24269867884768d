import type { ParetoTools } from '@moprune/report';

/**
 * Imports every moprune component package for its registrations (datasets,
 * models, objectives, solvers, pruners). Lazy, so `--help` and usage errors
 * answer without loading TensorFlow.js.
 */
export async function loadComponents(): Promise<void> {
  await Promise.all([
    import('@moprune/datasets/register'),
    import('@moprune/models'),
    import('@moprune/objectives/register'),
    import('@moprune/solvers'),
    import('@moprune/pruners'),
  ]);
}

/** The backends `--backend` accepts. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;

/**
 * Loads TensorFlow.js with its stock gradients (tfjs-layers registers them),
 * then lets @moprune/backend pick and prepare the backend
 * (`--backend`, else `MOPRUNE_BACKEND`, else the fastest present).
 * @returns the line saying which backend was chosen.
 */
export async function startBackend(
  backend: (typeof BACKEND_CHOICES)[number] | undefined,
  env: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void,
): Promise<void> {
  await import('@tensorflow/tfjs-layers');
  const { initBackend } = await import('@moprune/backend');
  await initBackend({
    ...(backend === undefined ? {} : { backend, requestedBy: `--backend ${backend}` }),
    env,
    logger: log,
  });
}

/** Non-dominated filter and knee rule from @moprune/solvers, for sweep reports. */
export async function paretoTools(): Promise<ParetoTools> {
  const { kneeByDistance, nonDominatedIndices } = await import('@moprune/solvers');
  return {
    nonDominatedIndices: (p) => nonDominatedIndices(p),
    knee: (p) => kneeByDistance(p),
    kneeRule:
      'the non-dominated point farthest from the line through the front’s extremes, objectives normalized to [0, 1] (kneeByDistance)',
  };
}
