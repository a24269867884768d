#!/usr/bin/env node
// Scaffolds packages/<name> with the house package shape: ESM+CJS exports map
// with types, files, sideEffects, publishConfig, shared tsup factory, strict tsconfig.
// Usage: node tooling/new-package.mjs <name> "<description>" [subpath ...]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [name, description, ...subpaths] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: node tooling/new-package.mjs <name> "<description>" [subpath ...]');
  process.exit(2);
}
const dir = join('packages', name);
if (existsSync(dir)) {
  console.error(`${dir} exists`);
  process.exit(1);
}
mkdirSync(join(dir, 'src', '__tests__'), { recursive: true });
const entries = { index: 'src/index.ts' };
const sources = { '.': './src/index.ts' };
const exportsMap = {
  '.': {
    import: { types: './dist/index.d.ts', default: './dist/index.js' },
    require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
  },
};
for (const sub of subpaths) {
  entries[sub] = `src/${sub}/index.ts`;
  sources[`./${sub}`] = `./src/${sub}/index.ts`;
  exportsMap[`./${sub}`] = {
    import: { types: `./dist/${sub}.d.ts`, default: `./dist/${sub}.js` },
    require: { types: `./dist/${sub}.d.cts`, default: `./dist/${sub}.cjs` },
  };
  mkdirSync(join(dir, 'src', sub), { recursive: true });
}
exportsMap['./package.json'] = './package.json';
const pkg = {
  name: `@moprune/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.ts',
  exports: exportsMap,
  files: ['dist', 'README.md'],
  scripts: {
    build: 'tsup',
    typecheck: 'tsc --noEmit -p tsconfig.json',
    'check:package': 'publint --strict && attw --pack --profile node16',
  },
  dependencies: name === 'core' ? {} : { '@moprune/core': 'workspace:^' },
  peerDependencies: { '@tensorflow/tfjs-core': '^4.22.0' },
  publishConfig: { access: 'public' },
  engines: { node: '>=20' },
  moprune: { sources },
};
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'tsup.config.ts'),
  `import { packageConfig } from '../../tooling/tsup.js';\n\nexport default packageConfig(${JSON.stringify(entries)});\n`,
);
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: '../..', noEmit: true }, include: ['src', 'tsup.config.ts'] }, null, 2)}\n`,
);
console.log(`created ${dir}`);
