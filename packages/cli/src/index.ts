// The `moprune` command as a library: main(), module loading and progress reporting.
export { COMMANDS, type CommandSpec, commandUsage, mainUsage, type OptionSpec } from './cli-spec.js';
export { BACKEND_CHOICES, loadComponents, paretoTools, startBackend } from './components.js';
export { CliError, type CliErrorCode, isUsageError } from './errors.js';
export { type CliIo, cliVersion, EXIT, main } from './main.js';
export {
  getExperiment,
  type LoadedModules,
  listExperiments,
  loadModules,
  MODULES_ENV_VAR,
  type ModuleRequest,
  PROJECT_MODULES_FIELD,
  projectModules,
} from './modules.js';
export {
  createProgress,
  formatEta,
  type ProgressOptions,
  type ProgressStream,
  silentProgress,
  trainProgress,
} from './progress.js';
