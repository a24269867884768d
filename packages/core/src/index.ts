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
  UpdateContext,
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
  EmbeddingNode,
  FlattenNode,
  GateNode,
  GlobalAvgPoolNode,
  InitializerName,
  LayerNormNode,
  MixNode,
  NetworkSpec,
  NodeBase,
  NodeSpec,
  PadShortcutNode,
  Pool2dNode,
  SelfAttentionNode,
} from './spec.js';
export * from './train/index.js';
