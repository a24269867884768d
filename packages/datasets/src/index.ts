// Importing the package defines (and so registers) every dataset type.

export {
  ArrayDataset,
  type ArrayDatasetOptions,
  createArrayDataset,
  type Normalization,
  type NormalizationStats,
  type SplitSource,
} from './array-dataset.js';
export type { BuildSizes, BuiltSplit, BuiltSplits, CacheOptions, CacheOutcome } from './built.js';
export {
  CACHE_FORMAT_VERSION,
  type CacheKey,
  type CacheMiss,
  defaultCacheDir,
  readCache,
  writeCache,
} from './cache.js';
export {
  CIFAR_FORMATS,
  CIFAR_URL,
  type Cifar100Options,
  type CifarArrays,
  type CifarOptions,
  type CifarVariant,
  cifarHelp,
  loadCifar10,
  loadCifar100,
  readCifarDir,
  readCifarFiles,
} from './cifar.js';
export {
  buildCifar10Mnist,
  CIFAR10_MNIST_VERSION,
  type Cifar10MnistBuild,
  type Cifar10MnistOptions,
  cifar10MnistSplits,
  composeCifar10Mnist,
  loadCifar10Mnist,
} from './cifar10-mnist.js';
export { DatasetError, type DatasetErrorCode } from './errors.js';
export {
  FASHION_MNIST_TEST_PER_CLASS,
  type FashionMnistJsonArrays,
  type FashionMnistJsonReport,
  type FashionMnistOptions,
  loadFashionMnist,
  readFashionMnistJson,
} from './fashion-mnist.js';
export { encodeIdx, type IdxArray, type ReadIdxOptions, readIdx } from './idx.js';
export { type LabeledImages, readIdxPair } from './idx-pair.js';
export {
  loadMnist,
  MNIST_FILES,
  type MnistArrays,
  type MnistOptions,
  mnistFile,
  padImages,
  readMnistDir,
} from './mnist.js';
export {
  buildMultiMnist,
  composeMultiMnist,
  loadMultiMnist,
  MULTI_MNIST_CANVAS,
  MULTI_MNIST_SHIFT,
  MULTI_MNIST_VERSION,
  type MultiMnistBuild,
  type MultiMnistOptions,
  multiMnistSplits,
} from './multi-mnist.js';
export { epochOrder, type IndexSplit, splitIndices } from './order.js';
export { type QueryCountOptions, queryCount } from './query-count.js';
export {
  cifar10Dataset,
  cifar10MnistDataset,
  cifar100Dataset,
  datasetDefinitions,
  fashionMnistDataset,
  mnistDataset,
  multiMnistDataset,
  queryCountDataset,
} from './register.js';
export { type AxisWeights, axisWeights, resizeGray } from './resize.js';
