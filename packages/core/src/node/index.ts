/**
 * `@moprune/core/node`: everything of `@moprune/core` plus the parts that need
 * Node's file system — run directories (`runExperiment`, `resumeExperiment`,
 * `nodeRunStore` for `train`), checkpoints, the run lock, atomic writes,
 * network snapshots and TensorFlow.js model files. `@moprune/core` itself
 * imports nothing from Node and bundles for the browser.
 */
export * from '@moprune/core';
export { fsyncDir, writeFileAtomic, writeJsonAtomic } from './atomic.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointArrayEntry,
  type CheckpointManifest,
  checkpointDirName,
  listCheckpoints,
  loadLatestCheckpoint,
  QUARANTINE_PREFIX,
  quarantineCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint.js';
export {
  type ExperimentRun,
  type ExperimentSummary,
  type RunExperimentOptions,
  resumeExperiment,
  runExperiment,
} from './experiment.js';
export { loadLayersModelFromDir, saveLayersModel } from './layers-model.js';
export {
  type LockRunDirOptions,
  lockRunDir,
  RUN_LOCK_FILE,
  type RunLock,
  type RunLockHolder,
} from './run-lock.js';
export { loadNetworkSnapshot, saveNetworkSnapshot } from './snapshot.js';
export { nodeRunStore } from './store.js';
