import { packageConfig } from '../../tooling/tsup.js';

// `shims` gives the CommonJS build an import.meta.url (version lookup, module resolution).
export default packageConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }, { shims: true });
