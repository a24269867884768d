import { packageConfig } from '../../tooling/tsup.js';

// `node` imports the main entry by the package's own name, so both entries share one copy of
// core (its registries, error classes) at run time instead of bundling a second one.
export default packageConfig(
  { index: 'src/index.ts', node: 'src/node/index.ts' },
  { external: ['@moprune/core'] },
);
