export { assertBackend, NO_BACKEND_HELP } from './backend-check.js';
export {
  CoreError,
  type CoreErrorCode,
  formatIssues,
  type Issue,
  isMopruneError,
  MopruneError,
  type MopruneErrorOptions,
} from './errors.js';
export type {
  Batch,
  BatchOptions,
  ComponentState,
  Dataset,
  DatasetInfo,
  Objective,
  ObjectiveContext,
  PrepareContext,
  Pruner,
  PrunerInitContext,
  PrunerStepContext,
  PrunerStepResult,
  Solver,
  SolverStepResult,
  SplitName,
  StepProblem,
} from './interfaces.js';
export type { JsonObject, JsonValue } from './json.js';
export * from './network/index.js';
export type {
  ApplyOptions,
  GateSite,
  Network,
  NodeInfo,
  ParamInfo,
  ParamRole,
  ParamSlice,
  StateUpdate,
  StructureGroup,
} from './network-types.js';
export {
  type ComponentConfig,
  type DatasetContext,
  type ModelContext,
  type Registration,
  type Registries,
  Registry,
  registries,
} from './registry.js';
export { Rng, type RngState } from './rng.js';
export { type ParamSelector, selectParams, validateParamSelector } from './select.js';
export type {
  ActivationNode,
  AddNode,
  BatchNormNode,
  Conv2dNode,
  DenseNode,
  DropoutNode,
  FlattenNode,
  GateNode,
  GlobalAvgPoolNode,
  InitializerName,
  MixNode,
  NetworkSpec,
  NodeBase,
  NodeSpec,
  PadShortcutNode,
  Pool2dNode,
} from './spec.js';
export * from './train/index.js';
