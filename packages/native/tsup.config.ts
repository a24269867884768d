import { packageConfig } from '../../tooling/tsup.js';

// `shims` gives the CommonJS build an `import.meta.url`, which locates build/Release/ next to dist/.
export default packageConfig({ index: 'src/index.ts' }, { shims: true });
