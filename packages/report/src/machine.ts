import { cpus } from 'node:os';

/**
 * This machine as reports print it: core count, CPU model and the native backend's thread
 * setting (`MOPRUNE_NATIVE_THREADS`, or `default` when unset).
 *
 * Record it in a summary when the runs train, and print the recorded value: a report written
 * later, or on another machine, would otherwise describe the machine that wrote it.
 *
 * @param env - where the thread setting is read (default `process.env`)
 * @returns e.g. `2 × AMD EPYC 9B14, MOPRUNE_NATIVE_THREADS=1`
 */
export function machineDescription(env: NodeJS.ProcessEnv = process.env): string {
  const cpu = cpus();
  const threads = env.MOPRUNE_NATIVE_THREADS;
  return `${cpu.length} × ${cpu[0]?.model.trim() || 'unknown CPU'}, MOPRUNE_NATIVE_THREADS=${threads === undefined || threads === '' ? 'default' : threads}`;
}

/**
 * The machines of several summaries in one phrase: each distinct recorded description once, in
 * first-seen order, `not recorded` for a summary without one.
 *
 * @param recorded - each summary's recorded description (`undefined` when it has none)
 */
export function machinesOf(recorded: readonly (string | undefined)[]): string {
  const seen = [...new Set(recorded.map((m) => m ?? 'not recorded'))];
  return seen.length === 0 ? 'not recorded' : seen.join('; ');
}
