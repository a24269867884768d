export {
  ANCHORS,
  DATASETS,
  type Distill,
  datasetConfig,
  type Factor,
  FULL,
  type ImageDataset,
  LOBSTER,
  METHODS,
  type Method,
  modelConfig,
  NETS,
  type Net,
  PAPER_DENSE,
  PROTOCOL,
  pretrainConfig,
  pruneConfig,
  QUICK,
  type Ranking,
  retrainConfig,
  type Scale,
  stepsPerEpoch,
  TARGETS,
  TARTAGLIONE,
  TINY,
  type TransformerScale,
  transformerPretrainConfig,
  transformerPruneConfig,
} from './configs.js';
export { experiment, experiment as default, headline, optionsFromArgs } from './definition.js';
export { DISTILLATION, distillation, distillationLoss } from './distill.js';
export { type Deployment, measureDeployment, measureSecondPass, type SecondPassCost } from './measure.js';
export {
  Bonetta2023Error,
  type Bonetta2023ErrorCode,
  DISTILL_WEIGHT,
  headlineOf,
  type ImageCase,
  type Mode,
  type PruneFigures,
  type ReproduceOptions,
  type ReproduceSummary,
  type RetrainFigures,
  reproduce,
  retrainedIsChosen,
  SCALES,
  validateReproduceOptions,
} from './reproduce.js';
export { bonettaRunner, RUNNER_MODULE, RUNNER_NAME, runName } from './runner.js';
export {
  type CheckPoint,
  readBestOnTest,
  readChecks,
  type Selection,
  selectBestValidation,
  selectSparsest,
} from './runs.js';
export { readSummaries, type SeedRow, type Spread, seedRows, spread } from './seeds.js';
export { writeSummary } from './summary.js';
