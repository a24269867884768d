export {
  type BullmqExecutorOptions,
  bullmqExecutor,
  checkRedis,
  DEFAULT_QUEUE,
  type RedisTarget,
  redactRedisUrl,
  type SweepWorker,
  type SweepWorkerOptions,
  startSweepWorker,
  trialJobId,
  type WorkerEvent,
} from './bullmq.js';
export { canonicalJson, jsonSha256 } from './canonical.js';
export {
  type AdaptivePlanOptions,
  adaptivePlan,
  checkStoreWritable,
  planSweep,
  type RunSweepOptions,
  runSweep,
  type SweepCounts,
  type SweepEvent,
  type SweepPlan,
  type SweepResult,
  validateTrials,
} from './coordinator.js';
export {
  expandTrials,
  type GridAxis,
  type SimplexAxis,
  SWEEP_ID_RE,
  type SweepDefinition,
  sweepDefinitionSchema,
  TRIAL_ID_RE,
  type TrialEntry,
  type TrialSpec,
  trialConfigSha256,
  trialsSha256,
  validateSweepDefinition,
} from './definition.js';
export { SweepError, type SweepErrorCode } from './errors.js';
export type { ExecutorContext, ExecutorEvents, SweepExecutor } from './executor.js';
export { type PreferenceGridOptions, preferenceGrid } from './grid.js';
export { type SweepHook, sweepHookOf, withSweepHook } from './hook.js';
export { type HostCommand, serveTrialHost, type TrialHostOptions } from './host.js';
export { fitsLocalPool, type LocalExecutorOptions, localExecutor } from './local.js';
export type { LockHolder, SweepLock } from './lock.js';
export {
  defineTrialRunner,
  deterministicSummary,
  EXPERIMENT_RUNNER,
  type ExperimentRunnerOptions,
  experimentRunner,
  getTrialRunner,
  listTrialRunners,
  networkSha256,
  type TrialProgress,
  type TrialRunContext,
  type TrialRunner,
  type TrialRunResult,
} from './runner.js';
export {
  readSweepState,
  STATE_FILE,
  type SweepState,
  statePath,
  type TrialRecord,
  type TrialStatus,
} from './state.js';
export { type FinishedTrial, type SweepStrategy, staticStrategy } from './strategy.js';
export {
  type ExecuteTrialContext,
  executeTrial,
  isPermanentTrialError,
  OUTCOME_FILE,
  PERMANENT_ERROR_CODES,
  readOutcome,
  type TrialJob,
  type TrialOutcome,
  trialRunDir,
} from './trial.js';
