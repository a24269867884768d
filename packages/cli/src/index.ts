// The `moprune` command as a library: main(), the experiment registry and progress reporting.
export { COMMANDS, type CommandSpec, commandUsage, mainUsage, type OptionSpec } from './cli-spec.js';
export { BACKEND_CHOICES, loadComponents, paretoTools, startBackend } from './components.js';
export { CliError, type CliErrorCode, isUsageError } from './errors.js';
export {
  EXPERIMENTS_ENV_VAR,
  type ExperimentDefinition,
  type ExperimentMode,
  type ExperimentOutcome,
  type ExperimentRunOptions,
  getExperiment,
  isExperimentDefinition,
  KNOWN_EXPERIMENT_MODULES,
  listExperiments,
  loadExperimentModules,
  registerExperiment,
  unregisterExperiment,
} from './experiments.js';
export { type CliIo, cliVersion, EXIT, main } from './main.js';
export {
  createProgress,
  formatEta,
  type ProgressOptions,
  type ProgressReporter,
  type ProgressStream,
  type ProgressTask,
  silentProgress,
  trainProgress,
} from './progress.js';
